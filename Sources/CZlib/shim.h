// zlib for Swift. inflateInit2/deflateInit2 are macros Swift cannot call, so they are wrapped
// here as inline functions that select the gzip format (window bits 15 + 16).
#ifndef GRAFT_CZLIB_SHIM_H
#define GRAFT_CZLIB_SHIM_H

#include <zlib.h>

static inline int graft_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

static inline int graft_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

#endif
