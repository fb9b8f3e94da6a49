// See llama_kernels.h: Q4_K weights times many activation rows (prefill, large batches) with
// the lanes of a register holding eight weight rows, as the Q4_0/Q8_0 GEMM does.
//
// Each group of eight weight rows is unpacked once per call into a buffer laid out per
// super-block as: the values as bytes, 32 bytes per (sub-block j, 4-value group g) with row r's
// four values at bytes 4r..4r+3 (2048 bytes); per sub-block the eight rows' 6-bit scales as
// int16 pairs (lanes 2r and 2r+1: 256 bytes); per pair of sub-blocks the rows' minimums as int16
// pairs (128 bytes); then the rows' d and dmin as floats (64 bytes). An activation's broadcast
// four int8 values against one 32-byte load give the eight rows' partial products in the int16
// lanes (maddubs); eight of them sum a sub-block exactly in int16 (at most 8·2·15·127 = 30480),
// and one madd with the scales takes it to int32 per row: per 256 multiply-adds one maddubs
// and an eighth of a madd, where the one-row kernel needs a madd per maddubs.
#include "llama_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "llama_simd.h"

#if defined(LLAMA_AVX2)
enum {
    VALUES_BYTES = 2048, SCALES_BYTES = 256, MINIMUMS_BYTES = 128, FACTORS_BYTES = 64,
    PACKED_BYTES = VALUES_BYTES + SCALES_BYTES + MINIMUMS_BYTES + FACTORS_BYTES,
};

// Super-block b of eight rows (each `row_bytes` apart from `w`) into `packed`, as described above.
static void pack_superblock(const uint8_t *w, size_t row_bytes, size_t b, uint8_t *packed) {
    int16_t *scales = (int16_t *)(packed + VALUES_BYTES), *minimums = (int16_t *)(packed + VALUES_BYTES + SCALES_BYTES);
    float *factors = (float *)(packed + VALUES_BYTES + SCALES_BYTES + MINIMUMS_BYTES);
    for (int r = 0; r < 8; r++) {
        const uint8_t *block = w + r * row_bytes + b * LLAMA_Q4_K_BYTES;
        factors[r] = half_to_float((uint16_t)(block[0] | block[1] << 8));
        factors[8 + r] = half_to_float((uint16_t)(block[2] | block[3] << 8));
        int16_t s[8], m[8];
        q4_k_scales_and_minimums(block + 4, s, m);
        for (int j = 0; j < 8; j++) {
            scales[16 * j + 2 * r] = scales[16 * j + 2 * r + 1] = s[j];
            minimums[16 * (j / 2) + 2 * r + (j % 2)] = m[j];
        }
        // Sub-block 2p holds the low nibbles of bytes 32p..32p+31, sub-block 2p + 1 the high ones.
        const uint8_t *q = block + 16;
        for (int j = 0; j < 8; j++) {
            const uint8_t *bytes = q + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            for (int g = 0; g < 8; g++) {
                uint8_t *to = packed + (8 * j + g) * 32 + 4 * r;
                for (int i = 0; i < 4; i++) to[i] = (uint8_t)((bytes[4 * g + i] >> shift) & 0xF);
            }
        }
    }
}

// y[t·ldy + r] for the eight packed rows and tokens t < n (n ≤ 4), added when accumulate.
__attribute__((always_inline)) static inline void group_tile(const uint8_t *packed, size_t superblocks,
                                                            const llama_block_q8_k *x, const int n, float *y,
                                                            size_t ldy, int accumulate) {
    __m256 acc[4];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (size_t b = 0; b < superblocks; b++, packed += PACKED_BYTES) {
        const llama_block_q8_k *blocks[4];
        for (int t = 0; t < n; t++) blocks[t] = x + t * superblocks + b;
        __m256i sums[4];
        for (int t = 0; t < n; t++) sums[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++) {
            __m256i partial[4];
            for (int t = 0; t < n; t++) partial[t] = _mm256_setzero_si256();
            for (int g = 0; g < 8; g++) {
                const __m256i v = _mm256_load_si256((const __m256i *)(packed + (8 * j + g) * 32));
                for (int t = 0; t < n; t++) {
                    int32_t four;
                    memcpy(&four, blocks[t]->qs + 32 * j + 4 * g, 4);
                    partial[t] = _mm256_add_epi16(partial[t], _mm256_maddubs_epi16(v, _mm256_set1_epi32(four)));
                }
            }
            const __m256i scale = _mm256_load_si256((const __m256i *)(packed + VALUES_BYTES + 32 * j));
            for (int t = 0; t < n; t++) sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(partial[t], scale));
        }
        const float *factors = (const float *)(packed + VALUES_BYTES + SCALES_BYTES + MINIMUMS_BYTES);
        const __m256 d = _mm256_load_ps(factors), dmin = _mm256_load_ps(factors + 8);
        for (int t = 0; t < n; t++) {
            // Σ_j m_j · Σ x over sub-block j: the sixteen sums of 16 paired into eight, two per madd.
            const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)blocks[t]->bsums),
                                                 _mm_loadu_si128((const __m128i *)(blocks[t]->bsums + 8)));
            int32_t words[4];
            _mm_storeu_si128((__m128i *)words, pairs);
            __m256i minimum = _mm256_setzero_si256();
            for (int k = 0; k < 4; k++) {
                const __m256i m = _mm256_load_si256((const __m256i *)(packed + VALUES_BYTES + SCALES_BYTES + 32 * k));
                minimum = _mm256_add_epi32(minimum, _mm256_madd_epi16(m, _mm256_set1_epi32(words[k])));
            }
            const __m256 dx = _mm256_set1_ps(blocks[t]->d);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[t]), _mm256_mul_ps(d, dx), acc[t]);
            acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(minimum), _mm256_mul_ps(dmin, dx), acc[t]);
        }
    }
    for (int t = 0; t < n; t++) {
        float *out = y + t * ldy;
        _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), acc[t]) : acc[t]);
    }
}
#endif

size_t llama_gemm_q4_k_x8_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                               size_t tokens, float *y, size_t ldy, int accumulate) {
#if defined(LLAMA_AVX2)
    const size_t groups = (last - first) / 8, row_bytes = superblocks * LLAMA_Q4_K_BYTES;
    if (groups == 0 || superblocks == 0) return 0;
    uint8_t *packed = aligned_alloc(32, PACKED_BYTES * superblocks);
    if (!packed) return 0;
    for (size_t group = 0; group < groups; group++) {
        const size_t row = first + 8 * group;
        for (size_t b = 0; b < superblocks; b++) {
            pack_superblock((const uint8_t *)w + row * row_bytes, row_bytes, b, packed + b * PACKED_BYTES);
        }
        size_t t = 0;
        for (; t + 4 <= tokens; t += 4) group_tile(packed, superblocks, x + t * superblocks, 4, y + t * ldy + row, ldy, accumulate);
        for (; t < tokens; t++) group_tile(packed, superblocks, x + t * superblocks, 1, y + t * ldy + row, ldy, accumulate);
    }
    free(packed);
    return 8 * groups;
#else
    (void)superblocks; (void)w; (void)first; (void)last; (void)x; (void)tokens; (void)y; (void)ldy; (void)accumulate;
    return 0;
#endif
}
