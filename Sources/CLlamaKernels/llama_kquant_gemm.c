// See llama_kernels.h: Q4_K and Q6_K weights times many activation rows (prefill, large
// batches) with the lanes of a register holding eight weight rows, as the Q4_0/Q8_0 GEMM does.
//
// Each group of eight weight rows is unpacked once per call into a buffer laid out per
// super-block as: the values as unsigned bytes, 32 bytes per 4-value group with row r's four
// values at bytes 4r..4r+3 (2048 bytes); per sub-block the eight rows' scales as int16 pairs
// (lanes 2r and 2r+1); per pair of sub-blocks the rows' minimums (Q4_K) or scales (Q6_K, for
// the −32 offset) as int16 pairs, (m_2k, m_2k+1) in lanes 2r, 2r+1; then the rows' d (and
// dmin) as floats. An activation's broadcast four int8 values against one 32-byte load give the
// eight rows' partial products in the int16 lanes (maddubs); several of them sum exactly in
// int16 (Q4_K: a 32-value sub-block, at most 8·2·15·127 = 30480; Q6_K: eight values, at most
// 2·2·63·127 = 32004), and one madd with the scales takes the sum to int32 per row. Per 256
// multiply-adds that is one maddubs and an eighth (Q4_K) or a half (Q6_K) of a madd, where the
// one-row kernels need a madd per maddubs.
#include "llama_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "llama_simd.h"

#if defined(LLAMA_AVX2)
enum {
    VALUES_BYTES = 2048, SCALES_BYTES = 256, MINIMUMS_BYTES = 128, FACTORS_BYTES = 64,
    PACKED_BYTES = VALUES_BYTES + SCALES_BYTES + MINIMUMS_BYTES + FACTORS_BYTES,
    // Q6_K: sixteen sub-blocks of 16 values, scales per sub-block and per pair, d.
    Q6_SCALES_BYTES = 512, Q6_PAIRS_BYTES = 256, Q6_FACTORS_BYTES = 32,
    Q6_PACKED_BYTES = VALUES_BYTES + Q6_SCALES_BYTES + Q6_PAIRS_BYTES + Q6_FACTORS_BYTES,
};

// Row r's per-sub-block scales s[j] into int16 lanes 2r and 2r + 1 of vector j, and its
// coefficients c[j] in pairs (c_2k, c_2k+1) into lanes 2r, 2r + 1 of vector k, for j < count.
static void store_row_coefficients(int16_t *scales, int16_t *pairs, int r, const int16_t *s, const int16_t *c, int count) {
    for (int j = 0; j < count; j++) {
        scales[16 * j + 2 * r] = scales[16 * j + 2 * r + 1] = s[j];
        pairs[16 * (j / 2) + 2 * r + (j % 2)] = c[j];
    }
}

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
        store_row_coefficients(scales, minimums, r, s, m, 8);
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

// Super-block b of eight Q6_K rows into `packed`: value i = 128·half + 32·k + e of a row is
// its ql nibble (low for k < 2) with bits 2k, 2k + 1 of qh[e] above, in 0..63.
static void pack_superblock_q6(const uint8_t *w, size_t row_bytes, size_t b, uint8_t *packed) {
    int16_t *scales = (int16_t *)(packed + VALUES_BYTES), *pairs = (int16_t *)(packed + VALUES_BYTES + Q6_SCALES_BYTES);
    float *factors = (float *)(packed + VALUES_BYTES + Q6_SCALES_BYTES + Q6_PAIRS_BYTES);
    for (int r = 0; r < 8; r++) {
        const uint8_t *block = w + r * row_bytes + b * LLAMA_Q6_K_BYTES;
        factors[r] = half_to_float((uint16_t)(block[208] | block[209] << 8));
        int16_t s[16];
        for (int g = 0; g < 16; g++) s[g] = ((const int8_t *)(block + 192))[g];
        store_row_coefficients(scales, pairs, r, s, s, 16);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = block + 64 * half, *qh = block + 128 + 32 * half;
            for (int k = 0; k < 4; k++) {
                const uint8_t *low = ql + 32 * (k % 2);
                const int shift = k < 2 ? 0 : 4;
                uint8_t *to = packed + (32 * half + 8 * k) * 32 + 4 * r;
                for (int e = 0; e < 32; e++) {
                    to[(e / 4) * 32 + e % 4] = (uint8_t)(((low[e] >> shift) & 0xF) | (((qh[e] >> (2 * k)) & 3) << 4));
                }
            }
        }
    }
}

// Σ_k madd(pairs_k, (s_2k, s_2k+1)) over the four or eight int16 pair vectors at `pairs`: per row
// Σ_j c_j · sums_j for the row's coefficients c and the activation's sums of sub-blocks.
static inline __m256i paired_products(const uint8_t *pairs, const int32_t *words, int count) {
    __m256i total = _mm256_setzero_si256();
    for (int k = 0; k < count; k++) {
        total = _mm256_add_epi32(total, _mm256_madd_epi16(_mm256_load_si256((const __m256i *)(pairs + 32 * k)),
                                                          _mm256_set1_epi32(words[k])));
    }
    return total;
}

// The int16 maddubs of 32 packed bytes (eight rows × four values) with four broadcast int8 values.
static inline __m256i four_products(const uint8_t *packed, const int8_t *x) {
    int32_t four;
    memcpy(&four, x, 4);
    return _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)packed), _mm256_set1_epi32(four));
}

// One packed Q6_K super-block of eight rows times the activation blocks of n tokens, added to acc[t].
__attribute__((always_inline)) static inline void superblock_q6(const uint8_t *packed, const llama_block_q8_k *const *blocks,
                                                               const int n, __m256 *acc) {
    __m256i sums[4];
    for (int t = 0; t < n; t++) sums[t] = _mm256_setzero_si256();
    for (int g = 0; g < 16; g++) {
        const __m256i scale = _mm256_load_si256((const __m256i *)(packed + VALUES_BYTES + 32 * g));
        for (int h = 0; h < 2; h++) {
            const uint8_t *values = packed + (4 * g + 2 * h) * 32;
            for (int t = 0; t < n; t++) {
                const int8_t *xs = blocks[t]->qs + 16 * g + 8 * h;
                const __m256i partial = _mm256_add_epi16(four_products(values, xs), four_products(values + 32, xs + 4));
                sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(partial, scale));
            }
        }
    }
    const __m256 d = _mm256_load_ps((const float *)(packed + VALUES_BYTES + Q6_SCALES_BYTES + Q6_PAIRS_BYTES));
    for (int t = 0; t < n; t++) {
        // − 32 · Σ_g s_g · Σ x over the 16 values of g.
        int32_t words[8];
        _mm256_storeu_si256((__m256i *)words, _mm256_loadu_si256((const __m256i *)blocks[t]->bsums));
        const __m256i offset = paired_products(packed + VALUES_BYTES + Q6_SCALES_BYTES, words, 8);
        const __m256i total = _mm256_sub_epi32(sums[t], _mm256_slli_epi32(offset, 5));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(blocks[t]->d)), acc[t]);
    }
}

// One packed Q4_K super-block of eight rows times the activation blocks of n tokens, added to acc[t].
__attribute__((always_inline)) static inline void superblock_q4(const uint8_t *packed, const llama_block_q8_k *const *blocks,
                                                               const int n, __m256 *acc) {
    __m256i sums[4];
    for (int t = 0; t < n; t++) sums[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) {
        __m256i partial[4];
        for (int t = 0; t < n; t++) partial[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8; g++) {
            for (int t = 0; t < n; t++) {
                partial[t] = _mm256_add_epi16(partial[t], four_products(packed + (8 * j + g) * 32, blocks[t]->qs + 32 * j + 4 * g));
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
        const __m256i minimum = paired_products(packed + VALUES_BYTES + SCALES_BYTES, words, 4);
        const __m256 dx = _mm256_set1_ps(blocks[t]->d);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[t]), _mm256_mul_ps(d, dx), acc[t]);
        acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(minimum), _mm256_mul_ps(dmin, dx), acc[t]);
    }
}

// y[t·ldy + r] for eight packed rows and tokens t < n (n ≤ 4), added when accumulate.
__attribute__((always_inline)) static inline void group_tile(int q6, const uint8_t *packed, size_t superblocks,
                                                            const llama_block_q8_k *x, const int n, float *y,
                                                            size_t ldy, int accumulate) {
    const size_t packed_bytes = q6 ? Q6_PACKED_BYTES : PACKED_BYTES;
    __m256 acc[4];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (size_t b = 0; b < superblocks; b++, packed += packed_bytes) {
        const llama_block_q8_k *blocks[4];
        for (int t = 0; t < n; t++) blocks[t] = x + t * superblocks + b;
        if (q6) superblock_q6(packed, blocks, n, acc);
        else superblock_q4(packed, blocks, n, acc);
    }
    for (int t = 0; t < n; t++) {
        float *out = y + t * ldy;
        _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), acc[t]) : acc[t]);
    }
}
#endif

#if defined(LLAMA_AVX2)
// Rows first ..< first + 8·⌊(last − first)/8⌋ of a Q4_K or Q6_K matrix, group by group.
static size_t groups_product(int q6, size_t superblocks, const void *w, size_t first, size_t last,
                             const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate) {
    const size_t groups = (last - first) / 8;
    const size_t row_bytes = superblocks * (q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES);
    const size_t packed_bytes = q6 ? Q6_PACKED_BYTES : PACKED_BYTES;
    if (groups == 0 || superblocks == 0) return 0;
    uint8_t *packed = aligned_alloc(32, packed_bytes * superblocks);
    if (!packed) return 0;
    for (size_t group = 0; group < groups; group++) {
        const size_t row = first + 8 * group;
        const uint8_t *rows = (const uint8_t *)w + row * row_bytes;
        for (size_t b = 0; b < superblocks; b++) {
            if (q6) pack_superblock_q6(rows, row_bytes, b, packed + b * packed_bytes);
            else pack_superblock(rows, row_bytes, b, packed + b * packed_bytes);
        }
        for (size_t t = 0; t < tokens; t += 4) {
            const llama_block_q8_k *xt = x + t * superblocks;
            float *yt = y + t * ldy + row;
            // Constant flags and tile sizes, so each combination compiles to its own loop.
            if (tokens - t >= 4) {
                if (q6) group_tile(1, packed, superblocks, xt, 4, yt, ldy, accumulate);
                else group_tile(0, packed, superblocks, xt, 4, yt, ldy, accumulate);
            } else {
                for (size_t u = 0; u < tokens - t; u++) {
                    if (q6) group_tile(1, packed, superblocks, xt + u * superblocks, 1, yt + u * ldy, ldy, accumulate);
                    else group_tile(0, packed, superblocks, xt + u * superblocks, 1, yt + u * ldy, ldy, accumulate);
                }
            }
        }
    }
    free(packed);
    return 8 * groups;
}
#else
static size_t groups_product(int q6, size_t superblocks, const void *w, size_t first, size_t last,
                             const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate) {
    (void)q6; (void)superblocks; (void)w; (void)first; (void)last; (void)x; (void)tokens; (void)y; (void)ldy; (void)accumulate;
    return 0;
}
#endif

size_t llama_gemm_q4_k_x8_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                               size_t tokens, float *y, size_t ldy, int accumulate) {
    return groups_product(0, superblocks, w, first, last, x, tokens, y, ldy, accumulate);
}

size_t llama_gemm_q6_k_x8_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                               size_t tokens, float *y, size_t ldy, int accumulate) {
    return groups_product(1, superblocks, w, first, last, x, tokens, y, ldy, accumulate);
}
