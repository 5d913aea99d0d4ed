#ifndef KATAPULSE_CYAML_SHIM_H
#define KATAPULSE_CYAML_SHIM_H
#include <yaml.h>
#endif
