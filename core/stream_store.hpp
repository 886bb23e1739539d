// attnviz core — copying finished rows to memory with non-temporal (streaming) stores.
//
// The forward passes keep matrices far larger than the caches (at n = 1024, 12 heads: 48 MB of
// scores, 48 MB of patterns, 36 MB of ΔE). Written the ordinary way, every cache line is first read
// from memory (read-for-ownership) and later written back: a third more traffic than the data,
// and the rows evict what the next block needs. The passes compute a block into a small scratch
// that stays in cache, use it there, then hand it to `stream_rows`, which writes each row with
// streaming stores (no read, no cache fill). The values are copied bit for bit.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace attnviz {

// dst[r * dst_stride + c] = src[r * src_stride + c] for r < rows, c < cols. Ends with a store
// fence, so the rows are visible to another thread once it has synchronised with this one.
inline void stream_rows(const float* src, std::int64_t src_stride, float* dst, std::int64_t dst_stride, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
#if defined(__AVX__)
    for (int r = 0; r < rows; ++r) {
        const float* s = src + r * src_stride;
        float* d = dst + r * dst_stride;
        int c = 0;
        // Plain stores up to the first 32-byte boundary of the destination, then 8 floats at a time.
        while (c < cols && (reinterpret_cast<std::uintptr_t>(d + c) & 31u) != 0) {
            d[c] = s[c];
            ++c;
        }
        if ((reinterpret_cast<std::uintptr_t>(d + c) & 3u) == 0) {  // float-aligned (always, in practice)
            for (; c + 8 <= cols; c += 8) _mm256_stream_ps(d + c, _mm256_loadu_ps(s + c));
        }
        for (; c < cols; ++c) d[c] = s[c];
    }
    _mm_sfence();
#else
    for (int r = 0; r < rows; ++r)
        std::memcpy(dst + r * dst_stride, src + r * src_stride, sizeof(float) * static_cast<std::size_t>(cols));
#endif
}

}  // namespace attnviz
