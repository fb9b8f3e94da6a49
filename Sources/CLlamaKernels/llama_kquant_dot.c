// See llama_kernels.h: products of GGML's Q4_K and Q6_K weight rows with activation rows
// quantized to 256-value blocks (one float scale, int8 values and the sums of every 16, as
// ggml's Q8_K), on the super-blocks as they are stored (4.5 and 6.56 bits per weight).
//
// With one activation scale per super-block, a super-block's product is integer math and
// two float multiplies. Q4_K: sub-block j (32 nibbles n, 6-bit scale sc_j and minimum m_j)
// gives d·dx·Σ_j sc_j·Σ n·x − dmin·dx·Σ_j m_j·Σ x. Q6_K: values v − 32, v = 4 low bits |
// 2 high bits << 4 in 0..63, int8 scale s_g per 16 values: d·dx·(Σ_g s_g·Σ v·x −
// 32·Σ_g s_g·Σ x). Σ n·x and Σ v·x are maddubs of the unsigned values against the int8
// activations (exact in int16: at most 2·63·127), widened by madd with the scales.
#include "llama_kernels.h"

#include <math.h>
#include <string.h>

#include "llama_simd.h"

void llama_quantize_row_q8_k(const float *x, llama_block_q8_k *y, size_t count) {
    for (size_t b = 0; b < count / 256; b++, x += 256) {
        float amax = 0;
        for (int i = 0; i < 256; i++) amax = fmaxf(amax, fabsf(x[i]));
        const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = d;
        for (int i = 0; i < 256; i++) y[b].qs[i] = (int8_t)roundf(x[i] * id);
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * g + i];
            y[b].bsums[g] = (int16_t)sum;
        }
    }
}

#if defined(LLAMA_AVX2)
// One Q4_K super-block times the activation blocks x[0..n) of n tokens, added to acc[t]
// (d-scaled integer sums) and minimum_acc[t] (dmin-scaled minimum terms, subtracted at the
// end). The scales and nibbles are unpacked once for all n tokens.
__attribute__((always_inline)) static inline void superblock_q4_k(const uint8_t *w, const llama_block_q8_k *const *x, int n,
                                                                 __m256 *acc, __m256 *minimum_acc) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    const float d = half_to_float((uint16_t)(w[0] | w[1] << 8));
    const float dmin = half_to_float((uint16_t)(w[2] | w[3] << 8));
    // The 12 scale bytes rearranged so that bytes 0..7 hold the eight 6-bit scales and bytes
    // 8..15 the eight minimums, then widened to int16.
    uint32_t packed[4];
    memcpy(packed, w + 4, 12);
    const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    packed[3] = ((packed[2] >> 4) & low4) | (((packed[1] >> 6) & low2) << 4);
    const uint32_t minimums_low = packed[1] & low6;
    packed[1] = (packed[2] & low4) | (((packed[0] >> 6) & low2) << 4);
    packed[2] = minimums_low;
    packed[0] &= low6;
    const __m128i bytes = _mm_loadu_si128((const __m128i *)packed);
    const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(bytes));
    const __m128i minimums = _mm_cvtepu8_epi16(_mm_srli_si128(bytes, 8));
    __m256i sums[4];
    for (int t = 0; t < n; t++) {
        // Σ_j m_j · Σ x over sub-block j: the 16 sums of 16 paired up, times the minimums.
        const __m128i sums16 = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)x[t]->bsums),
                                              _mm_loadu_si128((const __m128i *)(x[t]->bsums + 8)));
        const __m128i minimum_products = _mm_madd_epi16(minimums, sums16);
        minimum_acc[t] = _mm256_fmadd_ps(_mm256_zextps128_ps256(_mm_cvtepi32_ps(minimum_products)),
                                         _mm256_set1_ps(dmin * x[t]->d), minimum_acc[t]);
        sums[t] = _mm256_setzero_si256();
    }
    const uint8_t *q = w + 16;
    for (int p = 0; p < 4; p++) {
        // int16 scale 2p, then 2p + 1, in every lane (bytes 4p..4p+1 and 4p+2..4p+3).
        const __m256i low_scale = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)((4 * p + 1) << 8 | 4 * p)));
        const __m256i high_scale = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)((4 * p + 3) << 8 | (4 * p + 2))));
        const __m256i v = _mm256_loadu_si256((const __m256i *)(q + 32 * p));
        const __m256i low = _mm256_and_si256(v, mask), high = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
        for (int t = 0; t < n; t++) {
            const __m256i a = _mm256_maddubs_epi16(low, _mm256_loadu_si256((const __m256i *)(x[t]->qs + 64 * p)));
            const __m256i b = _mm256_maddubs_epi16(high, _mm256_loadu_si256((const __m256i *)(x[t]->qs + 64 * p + 32)));
            sums[t] = _mm256_add_epi32(sums[t], _mm256_add_epi32(_mm256_madd_epi16(a, low_scale), _mm256_madd_epi16(b, high_scale)));
        }
    }
    for (int t = 0; t < n; t++) acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[t]), _mm256_set1_ps(d * x[t]->d), acc[t]);
}

// One Q6_K super-block times the activation blocks of n tokens, added to acc[t]; the values and
// group scales are unpacked once for all n tokens.
__attribute__((always_inline)) static inline void superblock_q6_k(const uint8_t *w, const llama_block_q8_k *const *x, int n,
                                                                 __m256 *acc) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(3);
    const float d = half_to_float((uint16_t)(w[208] | w[209] << 8));
    // 32·Σ_g s_g·Σ x over group g, subtracted lane-wise (only the lanes' total matters).
    const __m128i scale_bytes = _mm_loadu_si128((const __m128i *)(w + 192));
    const __m256i scale_words = _mm256_cvtepi8_epi16(scale_bytes);
    __m256i sums[4];
    for (int t = 0; t < n; t++) {
        sums[t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                   _mm256_slli_epi32(_mm256_madd_epi16(scale_words, _mm256_loadu_si256((const __m256i *)x[t]->bsums)), 5));
    }
    for (int half = 0; half < 2; half++) {
        const uint8_t *ql = w + 64 * half, *qh = w + 128 + 32 * half;
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
        const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
        for (int k = 0; k < 4; k++) {
            // Values 32k..32k+31 of this half: low nibbles of ql[0..31] (k = 0) or ql[32..63] (1),
            // their high nibbles (2, 3); bits 2k, 2k + 1 of qh; scale g in the low eight int16
            // lanes and g + 1 in the high eight.
            const __m256i bytes = k % 2 ? l1 : l0;
            const __m256i low = _mm256_and_si256(k < 2 ? bytes : _mm256_srli_epi16(bytes, 4), low4);
            const __m256i v = _mm256_or_si256(low, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * k), low2), 4));
            const int g = 8 * half + 2 * k;
            const __m128i pick = _mm_set_epi64x((long long)(0x0101010101010101ULL * (uint64_t)(g + 1)),
                                                (long long)(0x0101010101010101ULL * (uint64_t)g));
            const __m256i group_scales = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scale_bytes, pick));
            for (int t = 0; t < n; t++) {
                const __m256i products = _mm256_maddubs_epi16(v, _mm256_loadu_si256((const __m256i *)(x[t]->qs + 128 * half + 32 * k)));
                sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(products, group_scales));
            }
        }
    }
    for (int t = 0; t < n; t++) acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[t]), _mm256_set1_ps(d * x[t]->d), acc[t]);
}

// The row · token products of rows[0..rows) and tokens first_token..+n (n ≤ 4), all in
// registers, stored to y[t·ldy + row].
__attribute__((always_inline)) static inline void tile(int q6, size_t superblocks, const uint8_t *w, size_t row_bytes,
                                                      const size_t *rows, int row_count, const llama_block_q8_k *x,
                                                      size_t first_token, int n, float *y, size_t ldy, int accumulate) {
    const size_t block_bytes = q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES;
    __m256 acc[4][4], minimum_acc[4][4];
    for (int r = 0; r < row_count; r++) {
        for (int t = 0; t < n; t++) acc[r][t] = minimum_acc[r][t] = _mm256_setzero_ps();
    }
    for (size_t b = 0; b < superblocks; b++) {
        const llama_block_q8_k *blocks[4];
        for (int t = 0; t < n; t++) blocks[t] = x + (first_token + t) * superblocks + b;
        for (int r = 0; r < row_count; r++) {
            const uint8_t *block = w + rows[r] * row_bytes + b * block_bytes;
            if (q6) superblock_q6_k(block, blocks, n, acc[r]);
            else superblock_q4_k(block, blocks, n, acc[r], minimum_acc[r]);
        }
    }
    for (int r = 0; r < row_count; r++) {
        for (int t = 0; t < n; t++) {
            float *out = y + (first_token + t) * ldy + rows[r];
            const float value = horizontal_sum(acc[r][t]) - horizontal_sum(minimum_acc[r][t]);
            *out = accumulate ? *out + value : value;
        }
    }
}

// One token (decode): weight rows four at a time from the four quarters of the range, four
// weight streams far apart in flight, as the other single-row kernels read them. Several
// tokens: one weight row at a time, its super-blocks unpacked once for four tokens at a time,
// the row staying in L1 for all of them, so a batch or a prompt reads the weights once.
static void gemm(int q6, size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                 size_t tokens, float *y, size_t ldy, int accumulate) {
    const size_t row_bytes = superblocks * (q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES);
    const uint8_t *weights = (const uint8_t *)w;
    if (tokens == 1) {
        const size_t quarter = (last - first) / 4;
        for (size_t j = 0; j < quarter; j++) {
            const size_t rows[4] = {first + j, first + j + quarter, first + j + 2 * quarter, first + j + 3 * quarter};
            tile(q6, superblocks, weights, row_bytes, rows, 4, x, 0, 1, y, ldy, accumulate);
        }
        for (size_t row = first + 4 * quarter; row < last; row++) {
            tile(q6, superblocks, weights, row_bytes, &row, 1, x, 0, 1, y, ldy, accumulate);
        }
        return;
    }
    for (size_t row = first; row < last; row++) {
        size_t t = 0;
        for (; t + 4 <= tokens; t += 4) tile(q6, superblocks, weights, row_bytes, &row, 1, x, t, 4, y, ldy, accumulate);
        for (; t < tokens; t++) tile(q6, superblocks, weights, row_bytes, &row, 1, x, t, 1, y, ldy, accumulate);
    }
}
#else
#if defined(LLAMA_NEON)
// The same products with SDOT: nibbles (Q4_K, 0..15) and 6-bit values (Q6_K, 0..63) are
// non-negative signed bytes as they are, so each 16 values take one dot product against the
// activations, and the sub-block's scale multiplies the four lanes before they are summed.
LLAMA_DOTPROD static float dot_q4_k_neon(size_t superblocks, const uint8_t *w, const llama_block_q8_k *x) {
    const uint8x16_t mask = vdupq_n_u8(0x0F);
    float total = 0;
    for (size_t b = 0; b < superblocks; b++, w += LLAMA_Q4_K_BYTES) {
        int16_t scales[8], minimums[8];
        q4_k_scales_and_minimums(w + 4, scales, minimums);
        int32x4_t sums = vdupq_n_s32(0);
        for (int p = 0; p < 4; p++) {
            // Bytes 32p..32p+31: low nibbles are sub-block 2p, high nibbles sub-block 2p + 1.
            const uint8x16_t v0 = vld1q_u8(w + 16 + 32 * p), v1 = vld1q_u8(w + 16 + 32 * p + 16);
            const int8_t *xq = x[b].qs + 64 * p;
            int32x4_t low = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(v0, mask)), vld1q_s8(xq));
            low = vdotq_s32(low, vreinterpretq_s8_u8(vandq_u8(v1, mask)), vld1q_s8(xq + 16));
            int32x4_t high = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)), vld1q_s8(xq + 32));
            high = vdotq_s32(high, vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), vld1q_s8(xq + 48));
            sums = vmlaq_n_s32(vmlaq_n_s32(sums, low, scales[2 * p]), high, scales[2 * p + 1]);
        }
        int32_t minimum_sum = 0;
        for (int j = 0; j < 8; j++) minimum_sum += minimums[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        const float d = half_to_float((uint16_t)(w[0] | w[1] << 8)) * x[b].d;
        const float dmin = half_to_float((uint16_t)(w[2] | w[3] << 8)) * x[b].d;
        total += d * (float)vaddvq_s32(sums) - dmin * (float)minimum_sum;
    }
    return total;
}

LLAMA_DOTPROD static float dot_q6_k_neon(size_t superblocks, const uint8_t *w, const llama_block_q8_k *x) {
    const uint8x16_t low4 = vdupq_n_u8(0x0F), low2 = vdupq_n_u8(3);
    float total = 0;
    for (size_t b = 0; b < superblocks; b++, w += LLAMA_Q6_K_BYTES) {
        const int8_t *scales = (const int8_t *)(w + 192);
        int32x4_t sums = vdupq_n_s32(0);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half, *qh = w + 128 + 32 * half;
            for (int k = 0; k < 4; k++) {
                // Values 32k..32k+31 of this half, 16 at a time (one scale each): low nibbles
                // of ql[0..31] (k = 0) or ql[32..63] (1), their high nibbles (2, 3), with bits
                // 2k, 2k + 1 of qh.
                for (int s = 0; s < 2; s++) {
                    const uint8x16_t bytes = vld1q_u8(ql + 32 * (k % 2) + 16 * s);
                    const uint8x16_t low = k < 2 ? vandq_u8(bytes, low4) : vshrq_n_u8(bytes, 4);
                    const uint8x16_t bits = vandq_u8(vshlq_u8(vld1q_u8(qh + 16 * s), vdupq_n_s8((int8_t)(-2 * k))), low2);
                    const int8x16_t v = vreinterpretq_s8_u8(vorrq_u8(low, vshlq_n_u8(bits, 4)));
                    const int32x4_t dot = vdotq_s32(vdupq_n_s32(0), v, vld1q_s8(x[b].qs + 128 * half + 32 * k + 16 * s));
                    sums = vmlaq_n_s32(sums, dot, scales[8 * half + 2 * k + s]);
                }
            }
        }
        int32_t offset = 0;
        for (int g = 0; g < 16; g++) offset += scales[g] * x[b].bsums[g];
        const float d = half_to_float((uint16_t)(w[208] | w[209] << 8)) * x[b].d;
        total += d * (float)(vaddvq_s32(sums) - 32 * offset);
    }
    return total;
}
#endif

static float dot_q4_k(size_t superblocks, const uint8_t *w, const llama_block_q8_k *x) {
#if defined(LLAMA_NEON)
    if (llama_has_dotprod()) return dot_q4_k_neon(superblocks, w, x);
#endif
    float total = 0;
    for (size_t b = 0; b < superblocks; b++, w += LLAMA_Q4_K_BYTES) {
        const float d = half_to_float((uint16_t)(w[0] | w[1] << 8)) * x[b].d;
        const float dmin = half_to_float((uint16_t)(w[2] | w[3] << 8)) * x[b].d;
        int16_t scales[8], minimums[8];
        q4_k_scales_and_minimums(w + 4, scales, minimums);
        const uint8_t *q = w + 16;
        int32_t minimum_sum = 0, sum = 0;
        for (int j = 0; j < 8; j++) {
            minimum_sum += minimums[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
            int32_t dot = 0;
            for (int e = 0; e < 32; e++) {
                const uint8_t byte = q[32 * (j / 2) + e];
                dot += (j % 2 ? byte >> 4 : byte & 0xF) * x[b].qs[32 * j + e];
            }
            sum += scales[j] * dot;
        }
        total += d * (float)sum - dmin * (float)minimum_sum;
    }
    return total;
}

static float dot_q6_k(size_t superblocks, const uint8_t *w, const llama_block_q8_k *x) {
#if defined(LLAMA_NEON)
    if (llama_has_dotprod()) return dot_q6_k_neon(superblocks, w, x);
#endif
    float total = 0;
    for (size_t b = 0; b < superblocks; b++, w += LLAMA_Q6_K_BYTES) {
        const float d = half_to_float((uint16_t)(w[208] | w[209] << 8)) * x[b].d;
        const int8_t *scales = (const int8_t *)(w + 192);
        int32_t offset = 0, sum = 0;
        for (int g = 0; g < 16; g++) offset += scales[g] * x[b].bsums[g];
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half, *qh = w + 128 + 32 * half;
            for (int k = 0; k < 4; k++) {
                for (int e = 0; e < 32; e++) {
                    const uint8_t byte = ql[32 * (k % 2) + e];
                    const int v = (k < 2 ? byte & 0xF : byte >> 4) | (((qh[e] >> (2 * k)) & 3) << 4);
                    sum += scales[8 * half + 2 * k + e / 16] * v * x[b].qs[128 * half + 32 * k + e];
                }
            }
        }
        total += d * (float)(sum - 32 * offset);
    }
    return total;
}

static void gemm(int q6, size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                 size_t tokens, float *y, size_t ldy, int accumulate) {
    const size_t row_bytes = superblocks * (q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES);
    for (size_t row = first; row < last; row++) {
        const uint8_t *wr = (const uint8_t *)w + row * row_bytes;
        for (size_t t = 0; t < tokens; t++) {
            const llama_block_q8_k *xt = x + t * superblocks;
            const float value = q6 ? dot_q6_k(superblocks, wr, xt) : dot_q4_k(superblocks, wr, xt);
            float *out = y + t * ldy + row;
            *out = accumulate ? *out + value : value;
        }
    }
}
#endif

void llama_gemm_q4_k_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                          size_t tokens, float *y, size_t ldy, int accumulate) {
    gemm(0, superblocks, w, first, last, x, tokens, y, ldy, accumulate);
}

void llama_gemm_q6_k_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                          size_t tokens, float *y, size_t ldy, int accumulate) {
    gemm(1, superblocks, w, first, last, x, tokens, y, ldy, accumulate);
}
