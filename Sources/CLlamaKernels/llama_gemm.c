// See llama_kernels.h: matrix-matrix products on Q8_0 / Q4_0 weight blocks against Q8_0
// activation rows with AVX2 integer dot products.
//
// Eight weight rows are repacked (into a small buffer, once per group and chunk of
// activation rows) so that the 32-bit lane k of register j holds elements 4j..4j+3 of row k;
// interleaved weights (llama_interleaved.c) have that order already and are read in place,
// four activation rows per pass. One activation block then multiplies all eight rows with
// eight maddubs against its broadcast 4-byte groups, and the lanes end up holding the eight
// rows' dot products: no horizontal sums, one scale multiply per eight products. Q4_0 nibbles (0..15) are
// maddubs's unsigned operand as they are, their int16 sums cannot overflow over a block, and
// 8·Σx is subtracted once; Q8_0 multiplies |w| by sign(w)·x. Without AVX2, dot products.
#include "llama_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "llama_simd.h"
#include "llama_vnni.h"

#define GROUP 8

static void store(float *out, float value, int accumulate) { *out = accumulate ? *out + value : value; }


static void dot_pairs(int q4, int interleaved, size_t blocks, const void *w, size_t first, size_t last,
                      const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    if (interleaved) {
        // Whole groups of eight rows (the only ranges interleaved weights are split into).
        for (size_t t = 0; t < tokens; t++) {
            if (q4) llama_gemv_q4_0x8_q8_0(blocks, w, first / GROUP, last / GROUP, x + t * blocks, out + t * ldo, accumulate);
            else llama_gemv_q8_0x8_q8_0(blocks, w, first / GROUP, last / GROUP, x + t * blocks, out + t * ldo, accumulate);
        }
        return;
    }
    for (size_t row = first; row < last; row++) {
        for (size_t t = 0; t < tokens; t++) {
            const float value = q4 ? llama_dot_q4_0_q8_0(blocks, (const llama_block_q4_0 *)w + row * blocks, x + t * blocks)
                                   : llama_dot_q8_0_q8_0(blocks, (const llama_block_q8_0 *)w + row * blocks, x + t * blocks);
            store(out + t * ldo + row, value, accumulate);
        }
    }
}

#if defined(LLAMA_AVX2)
// The 32 values of row k's block as bytes in element order (Q4_0: nibbles 0..15).
static inline __m256i block_bytes(int q4, const void *w, size_t index) {
    if (q4) {
        const llama_block_q4_0 *block = (const llama_block_q4_0 *)w + index;
        const __m256i bytes = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)block->qs));
        return _mm256_and_si256(_mm256_blend_epi32(bytes, _mm256_srli_epi16(bytes, 4), 0xF0), _mm256_set1_epi8(0x0F));
    }
    return _mm256_loadu_si256((const __m256i *)((const llama_block_q8_0 *)w + index)->qs);
}

// Packs blocks of rows row..row+7 (GGML row order): packed[i·8 + j] lane k = elements 4j..4j+3
// of row k's block i (Q8_0 also |w| at packed[(blocks + i)·8 + j]), scales[i·8 + k] = row k's
// scale.
static void pack(int q4, const void *w, size_t blocks, __m256i *packed, float *scales) {
    const size_t block_size = q4 ? sizeof(llama_block_q4_0) : sizeof(llama_block_q8_0);
    for (size_t i = 0; i < blocks; i++) {
        __m256i rows[GROUP];
        for (int k = 0; k < GROUP; k++) {
            rows[k] = block_bytes(q4, w, k * blocks + i);
            scales[i * GROUP + k] = _cvtsh_ss(*(const uint16_t *)((const unsigned char *)w + (k * blocks + i) * block_size));
        }
        // An 8×8 transpose of 32-bit elements.
        __m256i a[GROUP], b[GROUP];
        for (int k = 0; k < GROUP; k += 2) {
            a[k] = _mm256_unpacklo_epi32(rows[k], rows[k + 1]);
            a[k + 1] = _mm256_unpackhi_epi32(rows[k], rows[k + 1]);
        }
        for (int k = 0; k < GROUP; k += 4) {
            b[k] = _mm256_unpacklo_epi64(a[k], a[k + 2]);
            b[k + 1] = _mm256_unpackhi_epi64(a[k], a[k + 2]);
            b[k + 2] = _mm256_unpacklo_epi64(a[k + 1], a[k + 3]);
            b[k + 3] = _mm256_unpackhi_epi64(a[k + 1], a[k + 3]);
        }
        // b[j] holds group j of rows 0-3 in its low half and group j + 4 in its high half;
        // b[j + 4] the same for rows 4-7.
        for (int j = 0; j < 4; j++) {
            const __m256i low = _mm256_permute2x128_si256(b[j], b[j + 4], 0x20);
            const __m256i high = _mm256_permute2x128_si256(b[j], b[j + 4], 0x31);
            packed[i * GROUP + j] = low;
            packed[i * GROUP + j + 4] = high;
        }
        if (!q4) {
            for (int j = 0; j < GROUP; j++) packed[(blocks + i) * GROUP + j] = _mm256_abs_epi8(packed[i * GROUP + j]);
        }
    }
}

// Interleaved records against activation rows, FEW_TILE tokens at a time: each record's values
// are loaded (and Q4_0 nibbles split) once for the tile, straight from the record (no packing
// buffer); lanes are the eight rows. One core, 2048×768: Q4_0 160–168 GFLOP/s from 2 to 128 rows,
// where packing the group first gave 101–147 (2 rows: 101, 128 rows: 147).
#define FEW_TILE 4
// dy and x_sums: the activation blocks' scales and sums of values, token by token.
__attribute__((always_inline)) static inline void tile(int q4, size_t blocks, const unsigned char *records,
                                                                  const llama_block_q8_0 *x, const float *dy,
                                                                  const int32_t *x_sums, const int n, float *out,
                                                                  size_t ldo, int accumulate) {
    const size_t record_size = q4 ? sizeof(llama_block_q4_0x8) : sizeof(llama_block_q8_0x8);
    const __m256i mask = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    __m256 acc[FEW_TILE];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (size_t i = 0; i < blocks; i++) {
        const unsigned char *record = records + i * record_size, *qs = record + GROUP * sizeof(uint16_t);
        __m256i sums[FEW_TILE];
        for (int t = 0; t < n; t++) sums[t] = _mm256_setzero_si256();
        for (int j = 0; j < (q4 ? 4 : GROUP); j++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
            if (q4) {
                const __m256i low = _mm256_and_si256(v, mask), high = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
                for (int t = 0; t < n; t++) {
                    const int8_t *qx = x[t * blocks + i].qs;
                    sums[t] = _mm256_add_epi16(sums[t], _mm256_add_epi16(_mm256_maddubs_epi16(low, broadcast_group(qx, j)),
                                                                         _mm256_maddubs_epi16(high, broadcast_group(qx, j + 4))));
                }
            } else {
                const __m256i magnitude = _mm256_abs_epi8(v);
                for (int t = 0; t < n; t++) {
                    const __m256i signed_x = _mm256_sign_epi8(broadcast_group(x[t * blocks + i].qs, j), v);
                    sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_x), ones));
                }
            }
        }
        const __m256 scales = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record));
        for (int t = 0; t < n; t++) {
            __m256i dot = sums[t];
            if (q4) dot = _mm256_sub_epi32(_mm256_madd_epi16(dot, ones), _mm256_set1_epi32(8 * x_sums[t * blocks + i]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(scales, _mm256_broadcast_ss(dy + t * blocks + i)), acc[t]);
        }
    }
    for (int t = 0; t < n; t++) {
        float *y = out + t * ldo;
        _mm256_storeu_ps(y, accumulate ? _mm256_add_ps(_mm256_loadu_ps(y), acc[t]) : acc[t]);
    }
}

// Whether interleaved_product took the product (0: a buffer could not be allocated).
static int interleaved_product(int q4, size_t blocks, const void *w, size_t first_group, size_t last_group,
                      const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    const size_t record_size = q4 ? sizeof(llama_block_q4_0x8) : sizeof(llama_block_q8_0x8);
    float *dy = malloc(sizeof(float) * tokens * blocks);
    int32_t *x_sums = malloc(sizeof(int32_t) * tokens * blocks);
    if (!dy || !x_sums) {
        free(dy); free(x_sums);
        return 0;
    }
    for (size_t b = 0; b < tokens * blocks; b++) {
        dy[b] = _cvtsh_ss(x[b].d);
        int32_t sum = 0;
        for (int e = 0; e < LLAMA_QK; e++) sum += x[b].qs[e];
        x_sums[b] = sum;
    }
    const int vnni = llama_vnni_available();
    // Activation rows in chunks that stay in L2 while the groups pass by.
    size_t chunk = (256 * 1024) / (blocks * sizeof(llama_block_q8_0));
    chunk = chunk < FEW_TILE ? FEW_TILE : chunk / FEW_TILE * FEW_TILE;
    for (size_t start = 0; start < tokens; start += chunk) {
        const size_t end = start + chunk < tokens ? start + chunk : tokens;
        for (size_t g = first_group; g < last_group; g++) {
            const unsigned char *records = (const unsigned char *)w + g * blocks * record_size;
            for (size_t t = start; t < end; t += FEW_TILE) {
                const size_t at = t * blocks;
                float *y = out + t * ldo + g * GROUP;
                const int n = end - t < FEW_TILE ? (int)(end - t) : FEW_TILE;
                if (vnni) {
                    llama_vnni_tile(q4, blocks, records, x + at, dy + at, x_sums + at, n, y, ldo, accumulate);
                    continue;
                }
                switch (n) {
                case 4: tile(q4, blocks, records, x + at, dy + at, x_sums + at, 4, y, ldo, accumulate); break;
                case 3: tile(q4, blocks, records, x + at, dy + at, x_sums + at, 3, y, ldo, accumulate); break;
                case 2: tile(q4, blocks, records, x + at, dy + at, x_sums + at, 2, y, ldo, accumulate); break;
                default: tile(q4, blocks, records, x + at, dy + at, x_sums + at, 1, y, ldo, accumulate); break;
                }
            }
        }
    }
    free(dy); free(x_sums);
    return 1;
}

__attribute__((always_inline)) static inline void gemm(int q4, int interleaved, size_t blocks, const void *w, size_t first,
                                                      size_t last, const llama_block_q8_0 *x, size_t tokens, float *out,
                                                      size_t ldo, int accumulate) {
    const size_t block_size = q4 ? sizeof(llama_block_q4_0) : sizeof(llama_block_q8_0);
    if (interleaved) {
        if (!interleaved_product(q4, blocks, w, first / GROUP, last / GROUP, x, tokens, out, ldo, accumulate)) {
            dot_pairs(q4, 1, blocks, w, first, last, x, tokens, out, ldo, accumulate);
        }
        return;
    }
    const size_t whole = first + (last - first) / GROUP * GROUP;
    __m256i *packed = aligned_alloc(32, sizeof(__m256i) * GROUP * blocks * 2);
    float *scales = malloc(sizeof(float) * (GROUP + tokens) * blocks);
    int32_t *eight_sums = q4 ? malloc(sizeof(int32_t) * tokens * blocks) : NULL;
    if (!packed || !scales || (q4 && !eight_sums)) {
        free(packed); free(scales); free(eight_sums);
        dot_pairs(q4, 0, blocks, w, first, last, x, tokens, out, ldo, accumulate);
        return;
    }
    float *dy = scales + GROUP * blocks;
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t t = 0; t < tokens * blocks; t++) {
        dy[t] = _cvtsh_ss(x[t].d);
        if (!q4) continue;
        int32_t sum = 0;
        for (int e = 0; e < LLAMA_QK; e++) sum += x[t].qs[e];
        eight_sums[t] = 8 * sum;
    }
    // Activation rows in chunks that stay in L2 while the groups of weight rows pass by.
    size_t chunk = (256 * 1024) / (blocks * sizeof(llama_block_q8_0));
    if (chunk < 1) chunk = 1;
    for (size_t start = 0; start < tokens; start += chunk) {
        const size_t end = start + chunk < tokens ? start + chunk : tokens;
        for (size_t row = first; row < whole; row += GROUP) {
            pack(q4, (const unsigned char *)w + row * blocks * block_size, blocks, packed, scales);
            for (size_t t = start; t < end; t++) {
                const llama_block_q8_0 *xt = x + t * blocks;
                __m256 acc = _mm256_setzero_ps();
                for (size_t i = 0; i < blocks; i++) {
                    const int8_t *groups = xt[i].qs;
                    const __m256i *p = packed + i * GROUP;
                    __m256i dot;
                    if (q4) {
                        __m256i sum16 = _mm256_setzero_si256();
                        for (int j = 0; j < GROUP; j++)
                            sum16 = _mm256_add_epi16(sum16, _mm256_maddubs_epi16(p[j], broadcast_group(groups, j)));
                        dot = _mm256_sub_epi32(_mm256_madd_epi16(sum16, ones), _mm256_set1_epi32(eight_sums[t * blocks + i]));
                    } else {
                        const __m256i *magnitude = packed + (blocks + i) * GROUP;
                        dot = _mm256_setzero_si256();
                        for (int j = 0; j < GROUP; j++) {
                            const __m256i signed_x = _mm256_sign_epi8(broadcast_group(groups, j), p[j]);
                            dot = _mm256_add_epi32(dot, _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude[j], signed_x), ones));
                        }
                    }
                    const __m256 scale = _mm256_mul_ps(_mm256_loadu_ps(scales + i * GROUP), _mm256_broadcast_ss(dy + t * blocks + i));
                    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc);
                }
                float *y = out + t * ldo + row;
                _mm256_storeu_ps(y, accumulate ? _mm256_add_ps(_mm256_loadu_ps(y), acc) : acc);
            }
        }
    }
    free(packed); free(scales); free(eight_sums);
    dot_pairs(q4, 0, blocks, w, whole, last, x, tokens, out, ldo, accumulate);
}
#else
static void gemm(int q4, int interleaved, size_t blocks, const void *w, size_t first, size_t last,
                 const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    dot_pairs(q4, interleaved, blocks, w, first, last, x, tokens, out, ldo, accumulate);
}
#endif

void llama_gemm_q8_0_q8_0(size_t blocks, const llama_block_q8_0 *w, size_t first, size_t last,
                          const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    gemm(0, 0, blocks, w, first, last, x, tokens, out, ldo, accumulate);
}

void llama_gemm_q4_0_q8_0(size_t blocks, const llama_block_q4_0 *w, size_t first, size_t last,
                          const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    gemm(1, 0, blocks, w, first, last, x, tokens, out, ldo, accumulate);
}

void llama_gemm_q8_0x8_q8_0(size_t blocks, const llama_block_q8_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    gemm(0, 1, blocks, w, first_group * GROUP, last_group * GROUP, x, tokens, out, ldo, accumulate);
}

void llama_gemm_q4_0x8_q8_0(size_t blocks, const llama_block_q4_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate) {
    gemm(1, 1, blocks, w, first_group * GROUP, last_group * GROUP, x, tokens, out, ldo, accumulate);
}
