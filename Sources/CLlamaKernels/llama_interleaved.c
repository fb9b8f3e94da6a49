// See llama_kernels.h: Q4_0 / Q8_0 weights with eight rows interleaved block by block (the
// layout llama.cpp's CPU backend repacks to at load), and their single-row products.
//
// In a group of eight rows, block i of all eight rows is one record: the eight half scales,
// then the values in 4-byte chunks, chunk j holding bytes 4j..4j+3 of row 0, row 1, … row 7.
// Loaded as a 256-bit register, a chunk's 32-bit lane k belongs to row k, so one broadcast
// 4-byte group of the activation block multiplies all eight rows at once and the lanes end
// up holding the eight rows' dot products: no horizontal sums, and one half-to-float
// conversion of the eight scales per record instead of four scalar ones per four rows.
#include "llama_kernels.h"

#include <stdlib.h>

#include "llama_simd.h"
#include "llama_vnni.h"

#define ROWS 8

// Between GGML blocks of `block_bytes` (a half scale, then `chunks` 4-byte chunks of values)
// and records of eight rows; `to_records` picks the direction.
static void reorder(const unsigned char *blocks_in_rows, unsigned char *records, size_t rows, size_t blocks,
                    size_t block_bytes, int chunks, int to_records) {
    const size_t record_bytes = ROWS * block_bytes;
    for (size_t g = 0; g < rows / ROWS; g++) {
        for (size_t i = 0; i < blocks; i++) {
            unsigned char *record = records + (g * blocks + i) * record_bytes;
            for (int k = 0; k < ROWS; k++) {
                unsigned char *block = (unsigned char *)blocks_in_rows + ((g * ROWS + k) * blocks + i) * block_bytes;
                unsigned char *scale = record + 2 * k, *values = record + 2 * ROWS + 4 * k;
                if (to_records) memcpy(scale, block, 2); else memcpy(block, scale, 2);
                for (int j = 0; j < chunks; j++) {
                    if (to_records) memcpy(values + 32 * j, block + 2 + 4 * j, 4);
                    else memcpy(block + 2 + 4 * j, values + 32 * j, 4);
                }
            }
        }
    }
}

void llama_interleave_q4_0(const llama_block_q4_0 *x, llama_block_q4_0x8 *y, size_t rows, size_t blocks) {
    reorder((const unsigned char *)x, (unsigned char *)y, rows, blocks, sizeof(llama_block_q4_0), 4, 1);
}

void llama_deinterleave_q4_0(const llama_block_q4_0x8 *x, llama_block_q4_0 *y, size_t rows, size_t blocks) {
    reorder((const unsigned char *)y, (unsigned char *)x, rows, blocks, sizeof(llama_block_q4_0), 4, 0);
}

void llama_interleave_q8_0(const llama_block_q8_0 *x, llama_block_q8_0x8 *y, size_t rows, size_t blocks) {
    reorder((const unsigned char *)x, (unsigned char *)y, rows, blocks, sizeof(llama_block_q8_0), 8, 1);
}

void llama_deinterleave_q8_0(const llama_block_q8_0x8 *x, llama_block_q8_0 *y, size_t rows, size_t blocks) {
    reorder((const unsigned char *)y, (unsigned char *)x, rows, blocks, sizeof(llama_block_q8_0), 8, 0);
}

// The eight rows' sums of one group, in plain C (the fallback, and the leftover groups).
static void group_scalar(int q4, size_t blocks, const void *w, size_t group, const llama_block_q8_0 *x, float *sums) {
    for (int k = 0; k < ROWS; k++) sums[k] = 0;
    for (size_t i = 0; i < blocks; i++) {
        const float dy = half_to_float(x[i].d);
        for (int k = 0; k < ROWS; k++) {
            int32_t dot = 0;
            uint16_t d;
            if (q4) {
                const llama_block_q4_0x8 *b = (const llama_block_q4_0x8 *)w + group * blocks + i;
                for (int e = 0; e < 16; e++) {
                    const uint8_t byte = b->qs[32 * (e / 4) + 4 * k + e % 4];
                    dot += ((int32_t)(byte & 0x0F) - 8) * x[i].qs[e] + ((int32_t)(byte >> 4) - 8) * x[i].qs[e + 16];
                }
                d = b->d[k];
            } else {
                const llama_block_q8_0x8 *b = (const llama_block_q8_0x8 *)w + group * blocks + i;
                for (int e = 0; e < LLAMA_QK; e++) dot += (int32_t)b->qs[32 * (e / 4) + 4 * k + e % 4] * x[i].qs[e];
                d = b->d[k];
            }
            sums[k] += (float)dot * half_to_float(d) * dy;
        }
    }
}

static inline void store(float *y, const float *sums, int accumulate) {
    for (int k = 0; k < ROWS; k++) y[k] = accumulate ? y[k] + sums[k] : sums[k];
}

#if defined(LLAMA_AVX2)
// Streams: groups taken from this many far-apart parts of a thread's range at once, which
// keeps more DRAM pages open than one front-to-back stream (the F32 kernel does the same).
#define STREAMS 4

// Lanes k: the record's dot product with row k, Q4_0 (before the 8·Σx correction). The
// nibbles 0..15 are maddubs's unsigned operand as they are; eight products of at most
// 2·15·127 each fit an int16 lane.
static inline __m256i record_q4(const llama_block_q4_0x8 *b, const int8_t *xq) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    __m256i sum = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));
        sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(_mm256_and_si256(v, mask), broadcast_group(xq, j)));
        sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), mask),
                                                         broadcast_group(xq, j + 4)));
    }
    return _mm256_madd_epi16(sum, _mm256_set1_epi16(1));
}

// Lanes k: the record's dot product with row k, Q8_0 (|w| times sign(w)·x, exact since
// neither side reaches −128).
static inline __m256i record_q8(const llama_block_q8_0x8 *b, const int8_t *xq) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i sum = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));
        const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(broadcast_group(xq, j), v));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, ones));
    }
    return sum;
}

// y[8g..8g+7] (=, or += when accumulate) for the `count` (≤ STREAMS) groups g in `groups`, read
// block by block side by side; dy and x_sums: the activation blocks' scales and sums of values.
__attribute__((always_inline)) static inline void group_products(int q4, size_t blocks, const void *w,
                                                                const size_t *groups, int count,
                                                                const llama_block_q8_0 *x, const float *dy,
                                                                const int32_t *x_sums, float *y, int accumulate) {
    const size_t record = q4 ? sizeof(llama_block_q4_0x8) : sizeof(llama_block_q8_0x8);
    __m256 acc[STREAMS];
    for (int k = 0; k < count; k++) acc[k] = _mm256_setzero_ps();
    for (size_t i = 0; i < blocks; i++) {
        const int8_t *xq = x[i].qs;
        const __m256 d = _mm256_broadcast_ss(dy + i);
        const __m256i correction = _mm256_set1_epi32(q4 ? 8 * x_sums[i] : 0);
        for (int k = 0; k < count; k++) {
            const unsigned char *b = (const unsigned char *)w + (groups[k] * blocks + i) * record;
            const __m256i dot = q4 ? _mm256_sub_epi32(record_q4((const llama_block_q4_0x8 *)b, xq), correction)
                                   : record_q8((const llama_block_q8_0x8 *)b, xq);
            const __m256 scales = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b)), d);
            acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scales, acc[k]);
        }
    }
    for (int k = 0; k < count; k++) {
        float *out = y + groups[k] * ROWS;
        _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), acc[k]) : acc[k]);
    }
}

__attribute__((always_inline)) static inline void gemv(int q4, size_t blocks, const void *w, size_t first,
                                                      size_t last, const llama_block_q8_0 *x, float *y,
                                                      int accumulate) {
    // Per activation block: its scale and the sum of its values, once for all groups.
    float small_scales[512];
    int32_t small_sums[512];
    float *dy = blocks <= 512 ? small_scales : malloc(blocks * sizeof(float));
    int32_t *x_sums = blocks <= 512 ? small_sums : malloc(blocks * sizeof(int32_t));
    if (!dy || !x_sums) {
        if (blocks > 512) { free(dy); free(x_sums); }
        float sums[ROWS];
        for (size_t g = first; g < last; g++) {
            group_scalar(q4, blocks, w, g, x, sums);
            store(y + g * ROWS, sums, accumulate);
        }
        return;
    }
    for (size_t i = 0; i < blocks; i++) {
        dy[i] = _cvtsh_ss(x[i].d);
        int32_t sum = 0;
        for (int e = 0; e < LLAMA_QK; e++) sum += x[i].qs[e];
        x_sums[i] = sum;
    }
    const int vnni = llama_vnni_available();
    const size_t per = (last - first) / STREAMS;
    for (size_t s = 0; s < per; s++) {
        size_t groups[STREAMS];
        for (int k = 0; k < STREAMS; k++) groups[k] = first + s + k * per;
        if (vnni) llama_vnni_group_products(q4, blocks, w, groups, STREAMS, x, dy, x_sums, y, accumulate);
        else group_products(q4, blocks, w, groups, STREAMS, x, dy, x_sums, y, accumulate);
    }
    // The groups left over after the four equal parts, one at a time.
    for (size_t g = first + STREAMS * per; g < last; g++) {
        if (vnni) llama_vnni_group_products(q4, blocks, w, &g, 1, x, dy, x_sums, y, accumulate);
        else group_products(q4, blocks, w, &g, 1, x, dy, x_sums, y, accumulate);
    }
    if (blocks > 512) { free(dy); free(x_sums); }
}
#else
#if defined(LLAMA_NEON)
// The eight rows' sums of one group with SDOT: the low 16 bytes of a 32-byte chunk are rows 0..3,
// the high 16 rows 4..7, so each dot product leaves four rows' partial sums in its lanes (Q4_0:
// nibbles − 8 as signed bytes, low nibbles against values 4j.., high against 16 + 4j..).
LLAMA_DOTPROD static void group_neon(int q4, size_t blocks, const void *w, size_t group, const llama_block_q8_0 *x,
                                     float *sums) {
    const size_t record = q4 ? sizeof(llama_block_q4_0x8) : sizeof(llama_block_q8_0x8);
    float32x4_t low_rows = vdupq_n_f32(0), high_rows = vdupq_n_f32(0);
    for (size_t i = 0; i < blocks; i++) {
        const uint8_t *b = (const uint8_t *)w + (group * blocks + i) * record;
        const uint8_t *values = b + 2 * ROWS;
        int32x4_t low = vdupq_n_s32(0), high = vdupq_n_s32(0);
        for (int j = 0; j < (q4 ? 4 : 8); j++) {
            const uint8x16_t v0 = vld1q_u8(values + 32 * j), v1 = vld1q_u8(values + 32 * j + 16);
            if (q4) {
                const uint8x16_t mask = vdupq_n_u8(0x0F);
                const int8x16_t eight = vdupq_n_s8(8);
                const int8x16_t first = broadcast_group_neon(x[i].qs, j), second = broadcast_group_neon(x[i].qs, j + 4);
                low = vdotq_s32(low, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v0, mask)), eight), first);
                high = vdotq_s32(high, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v1, mask)), eight), first);
                low = vdotq_s32(low, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)), eight), second);
                high = vdotq_s32(high, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), eight), second);
            } else {
                const int8x16_t group_values = broadcast_group_neon(x[i].qs, j);
                low = vdotq_s32(low, vreinterpretq_s8_u8(v0), group_values);
                high = vdotq_s32(high, vreinterpretq_s8_u8(v1), group_values);
            }
        }
        uint16_t halves[ROWS];
        memcpy(halves, b, sizeof(halves));
        float scales[ROWS];
        const float dy = half_to_float(x[i].d);
        for (int k = 0; k < ROWS; k++) scales[k] = half_to_float(halves[k]) * dy;
        low_rows = vmlaq_f32(low_rows, vcvtq_f32_s32(low), vld1q_f32(scales));
        high_rows = vmlaq_f32(high_rows, vcvtq_f32_s32(high), vld1q_f32(scales + 4));
    }
    vst1q_f32(sums, low_rows);
    vst1q_f32(sums + 4, high_rows);
}
#endif

static void gemv(int q4, size_t blocks, const void *w, size_t first, size_t last, const llama_block_q8_0 *x, float *y,
                 int accumulate) {
    float sums[ROWS];
#if defined(LLAMA_NEON)
    if (llama_has_dotprod()) {
        for (size_t g = first; g < last; g++) {
            group_neon(q4, blocks, w, g, x, sums);
            store(y + g * ROWS, sums, accumulate);
        }
        return;
    }
#endif
    for (size_t g = first; g < last; g++) {
        group_scalar(q4, blocks, w, g, x, sums);
        store(y + g * ROWS, sums, accumulate);
    }
}
#endif

void llama_gemv_q4_0x8_q8_0(size_t blocks, const llama_block_q4_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, float *y, int accumulate) {
    gemv(1, blocks, w, first_group, last_group, x, y, accumulate);
}

void llama_gemv_q8_0x8_q8_0(size_t blocks, const llama_block_q8_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, float *y, int accumulate) {
    gemv(0, blocks, w, first_group, last_group, x, y, accumulate);
}

// Rows of an interleaved matrix as floats: value e of row k's block is byte 32·(e/4) + 4k + e%4
// of the record's values (Q4_0: its low nibble for e < 16, the high one of e − 16 after).
static void dequantize_rows(int q4, const void *x, size_t blocks, size_t first_row, size_t last_row, float *y) {
    const size_t record_bytes = q4 ? sizeof(llama_block_q4_0x8) : sizeof(llama_block_q8_0x8);
    for (size_t row = first_row; row < last_row; row++) {
        const size_t group = row / ROWS, k = row % ROWS;
        float *out = y + (row - first_row) * blocks * LLAMA_QK;
        for (size_t i = 0; i < blocks; i++) {
            const unsigned char *record = (const unsigned char *)x + (group * blocks + i) * record_bytes;
            uint16_t bits;
            memcpy(&bits, record + 2 * k, 2);
            const float d = half_to_float(bits);
            const unsigned char *values = record + 2 * ROWS;
            for (int e = 0; e < (q4 ? 16 : LLAMA_QK); e++) {
                const unsigned char byte = values[32 * (e / 4) + 4 * k + e % 4];
                if (q4) {
                    out[i * LLAMA_QK + e] = d * (float)((int)(byte & 0x0F) - 8);
                    out[i * LLAMA_QK + e + 16] = d * (float)((int)(byte >> 4) - 8);
                } else {
                    out[i * LLAMA_QK + e] = d * (float)(int8_t)byte;
                }
            }
        }
    }
}

void llama_dequantize_q4_0x8_rows(const llama_block_q4_0x8 *x, size_t blocks, size_t first_row, size_t last_row,
                                  float *y) {
    dequantize_rows(1, x, blocks, first_row, last_row, y);
}

void llama_dequantize_q8_0x8_rows(const llama_block_q8_0x8 *x, size_t blocks, size_t first_row, size_t last_row,
                                  float *y) {
    dequantize_rows(0, x, blocks, first_row, last_row, y);
}
