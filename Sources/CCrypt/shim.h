#ifndef KATAPULSE_CCRYPT_SHIM_H
#define KATAPULSE_CCRYPT_SHIM_H
#include <crypt.h>
#endif
