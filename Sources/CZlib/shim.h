#ifndef KATAPULSE_CZLIB_SHIM_H
#define KATAPULSE_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 is a macro over deflateInit2_; Swift cannot call macros.
static inline int katapulse_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int katapulse_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
