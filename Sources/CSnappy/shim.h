#ifndef KATAPULSE_CSNAPPY_SHIM_H
#define KATAPULSE_CSNAPPY_SHIM_H
// libsnappy's C interface: block compression, as Prometheus remote write's Content-Encoding: snappy is.
#include <snappy-c.h>
#endif
