#ifndef KATAPULSE_CMALLOC_SHIM_H
#define KATAPULSE_CMALLOC_SHIM_H
// glibc's malloc_trim, which the Glibc Swift module does not export.
#include <malloc.h>
#endif
