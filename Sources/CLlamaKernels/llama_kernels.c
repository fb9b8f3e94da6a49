// See llama_kernels.h. The AVX2 formulation multiplies |x| (unsigned) by sign(x)·y (signed)
// with maddubs, which is exact here because quantized values never reach −128.
#include "llama_kernels.h"
#include <math.h>
#include <string.h>

#include "llama_simd.h"

static inline uint16_t float_to_half(float f) {
#if defined(LLAMA_AVX2)
    return _cvtss_sh(f, 0);
#else
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000;
    int32_t exponent = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t mantissa = x & 0x7FFFFF;
    if (((x >> 23) & 0xFF) == 0xFF) return (uint16_t)(sign | 0x7C00 | (mantissa ? 0x200 : 0));
    if (exponent >= 31) return (uint16_t)(sign | 0x7C00);
    if (exponent <= 0) {
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        const uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exponent << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
#endif
}

#if defined(LLAMA_AVX2)
static inline __m256i unpack_q4_0(const uint8_t *qs) {
    const __m128i bytes = _mm_loadu_si128((const __m128i *)qs);
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m128i low = _mm_and_si128(bytes, mask);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
    return _mm256_sub_epi8(_mm256_set_m128i(high, low), _mm256_set1_epi8(8));
}

static inline __m256 dot_bytes(__m256i x, __m256i y) {
    const __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(products, _mm256_set1_epi16(1)));
}

// d_r · d_y for four rows' block scales d_r and the activation block's d_y, with one
// half-to-float conversion for all five (the products equal the scalar ones exactly).
static inline __m128 four_scales(uint16_t d0, uint16_t d1, uint16_t d2, uint16_t d3, uint16_t dy) {
    const __m128i halves = _mm_setr_epi16((short)d0, (short)d1, (short)d2, (short)d3, (short)dy, 0, 0, 0);
    const __m256 floats = _mm256_cvtph_ps(halves);
    return _mm_mul_ps(_mm256_castps256_ps128(floats), _mm_broadcastss_ps(_mm256_extractf128_ps(floats, 1)));
}

#endif

#if defined(LLAMA_NEON)
// One block's integer dot product with SDOT (Q4_0: nibbles − 8 as signed bytes).
LLAMA_DOTPROD static inline int32x4_t block_dot_neon(int q4, const uint8_t *w, const int8_t *y) {
    int8x16_t first, second;
    if (q4) {
        const uint8x16_t v = vld1q_u8(w);
        first = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
        second = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), vdupq_n_s8(8));
    } else {
        first = vld1q_s8((const int8_t *)w);
        second = vld1q_s8((const int8_t *)w + 16);
    }
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), first, vld1q_s8(y)), second, vld1q_s8(y + 16));
}

LLAMA_DOTPROD static float dot_neon(int q4, size_t blocks, const void *x, const llama_block_q8_0 *y) {
    float32x4_t acc = vdupq_n_f32(0);
    for (size_t i = 0; i < blocks; i++) {
        const uint8_t *w = q4 ? ((const llama_block_q4_0 *)x)[i].qs : (const uint8_t *)((const llama_block_q8_0 *)x)[i].qs;
        const uint16_t d = q4 ? ((const llama_block_q4_0 *)x)[i].d : ((const llama_block_q8_0 *)x)[i].d;
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(block_dot_neon(q4, w, y[i].qs)), half_to_float(d) * half_to_float(y[i].d));
    }
    return vaddvq_f32(acc);
}
#endif

float llama_dot_q8_0_q8_0(size_t blocks, const llama_block_q8_0 *x, const llama_block_q8_0 *y) {
#if defined(LLAMA_NEON)
    if (llama_has_dotprod()) return dot_neon(0, blocks, x, y);
#endif
#if defined(LLAMA_AVX2)
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < blocks; i++) {
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 scale = _mm256_set1_ps(half_to_float(x[i].d) * half_to_float(y[i].d));
        acc = _mm256_fmadd_ps(scale, dot_bytes(qx, qy), acc);
    }
    return horizontal_sum(acc);
#else
    float sum = 0;
    for (size_t i = 0; i < blocks; i++) {
        int32_t dot = 0;
        for (int j = 0; j < LLAMA_QK; j++) dot += (int32_t)x[i].qs[j] * (int32_t)y[i].qs[j];
        sum += (float)dot * half_to_float(x[i].d) * half_to_float(y[i].d);
    }
    return sum;
#endif
}

float llama_dot_q4_0_q8_0(size_t blocks, const llama_block_q4_0 *x, const llama_block_q8_0 *y) {
#if defined(LLAMA_NEON)
    if (llama_has_dotprod()) return dot_neon(1, blocks, x, y);
#endif
#if defined(LLAMA_AVX2)
    __m256 acc = _mm256_setzero_ps();
    for (size_t i = 0; i < blocks; i++) {
        const __m256i qx = unpack_q4_0(x[i].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256 scale = _mm256_set1_ps(half_to_float(x[i].d) * half_to_float(y[i].d));
        acc = _mm256_fmadd_ps(scale, dot_bytes(qx, qy), acc);
    }
    return horizontal_sum(acc);
#else
    float sum = 0;
    for (size_t i = 0; i < blocks; i++) {
        int32_t dot = 0;
        for (int j = 0; j < LLAMA_QK / 2; j++) {
            dot += ((int32_t)(x[i].qs[j] & 0x0F) - 8) * (int32_t)y[i].qs[j];
            dot += ((int32_t)(x[i].qs[j] >> 4) - 8) * (int32_t)y[i].qs[j + LLAMA_QK / 2];
        }
        sum += (float)dot * half_to_float(x[i].d) * half_to_float(y[i].d);
    }
    return sum;
#endif
}

void llama_dot4_q8_0_q8_0(size_t blocks, const llama_block_q8_0 *x, size_t row_stride,
                          const llama_block_q8_0 *y, float *out) {
#if defined(LLAMA_AVX2)
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const size_t s = row_stride;
    for (size_t i = 0; i < blocks; i++) {
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        float scale[4];
        _mm_storeu_ps(scale, four_scales(x[i].d, x[s + i].d, x[2 * s + i].d, x[3 * s + i].d, y[i].d));
        for (int r = 0; r < 4; r++) {
            const __m256i qx = _mm256_loadu_si256((const __m256i *)x[r * s + i].qs);
            acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(scale + r), dot_bytes(qx, qy), acc[r]);
        }
    }
    for (int r = 0; r < 4; r++) out[r] = horizontal_sum(acc[r]);
#else
    for (int r = 0; r < 4; r++) out[r] = llama_dot_q8_0_q8_0(blocks, x + r * row_stride, y);
#endif
}

void llama_prepare_q4_0_activation(size_t blocks, const llama_block_q8_0 *y, llama_q4_0_activation *prepared) {
    for (size_t i = 0; i < blocks; i++) {
        llama_q4_0_activation *p = prepared + i;
        int32_t sums[8] = {0};
        for (int j = 0; j < 16; j++) {
            p->low[j] = p->low[j + 16] = y[i].qs[j];
            p->high[j] = p->high[j + 16] = y[i].qs[j + 16];
            sums[j / 4] += y[i].qs[j] + y[i].qs[j + 16];
        }
        // Lane k of each 128-bit half pairs with bytes 4k..4k+3 of both halves' products.
        for (int k = 0; k < 4; k++) p->eight_sums[k] = p->eight_sums[k + 4] = 8 * sums[k];
        p->d = y[i].d;
        memset(p->padding, 0, sizeof(p->padding));
    }
}

void llama_dot4_q4_0_q8_0(size_t blocks, const llama_block_q4_0 *x, size_t row_stride,
                          const llama_q4_0_activation *y, float *out) {
#if defined(LLAMA_AVX2)
    // Two rows per register: row a's 16 bytes in the low half, row b's in the high half.
    // Low nibbles (elements 0..15) multiply [x0..15 | x0..15] and high nibbles [x16..31 |
    // x16..31]; the nibbles 0..15 are maddubs's unsigned operand as they are, and
    // Σ (n − 8)·x = Σ n·x − 8·Σ x with 8·Σ x prepared once per activation row.
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i ones = _mm256_set1_epi16(1), mask = _mm256_set1_epi8(0x0F);
    const __m256i pair_index[2] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)};
    const size_t s = row_stride;
    for (size_t i = 0; i < blocks; i++) {
        const __m256i low_y = _mm256_loadu_si256((const __m256i *)y[i].low);
        const __m256i high_y = _mm256_loadu_si256((const __m256i *)y[i].high);
        const __m256i eight_sums = _mm256_loadu_si256((const __m256i *)y[i].eight_sums);
        const __m256 scales = _mm256_castps128_ps256(four_scales(x[i].d, x[s + i].d, x[2 * s + i].d, x[3 * s + i].d, y[i].d));
        for (int p = 0; p < 2; p++) {
            const __m256i bytes = _mm256_loadu2_m128i((const __m128i *)x[(2 * p + 1) * s + i].qs,
                                                      (const __m128i *)x[2 * p * s + i].qs);
            const __m256i low = _mm256_and_si256(bytes, mask), high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
            const __m256i products = _mm256_add_epi16(_mm256_maddubs_epi16(low, low_y), _mm256_maddubs_epi16(high, high_y));
            const __m256i sums = _mm256_sub_epi32(_mm256_madd_epi16(products, ones), eight_sums);
            acc[p] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales, pair_index[p]), _mm256_cvtepi32_ps(sums), acc[p]);
        }
    }
    for (int p = 0; p < 2; p++) {
        __m128 both = _mm_hadd_ps(_mm256_castps256_ps128(acc[p]), _mm256_extractf128_ps(acc[p], 1));
        both = _mm_hadd_ps(both, both);
        out[2 * p] = _mm_cvtss_f32(both);
        out[2 * p + 1] = _mm_cvtss_f32(_mm_movehdup_ps(both));
    }
#else
    for (int r = 0; r < 4; r++) {
        float sum = 0;
        for (size_t i = 0; i < blocks; i++) {
            const llama_block_q4_0 *block = x + r * row_stride + i;
            int32_t dot = 0;
            for (int j = 0; j < LLAMA_QK / 2; j++) {
                dot += ((int32_t)(block->qs[j] & 0x0F) - 8) * (int32_t)y[i].low[j];
                dot += ((int32_t)(block->qs[j] >> 4) - 8) * (int32_t)y[i].high[j];
            }
            sum += (float)dot * half_to_float(block->d) * half_to_float(y[i].d);
        }
        out[r] = sum;
    }
#endif
}

void llama_quantize_row_q8_0(const float *x, llama_block_q8_0 *y, size_t count) {
    const size_t blocks = count / LLAMA_QK;
    for (size_t i = 0; i < blocks; i++) {
        const float *block = x + i * LLAMA_QK;
#if defined(LLAMA_AVX2)
        const __m256 sign_bit = _mm256_set1_ps(-0.0f);
        __m256 v[4], amax = _mm256_setzero_ps();
        for (int j = 0; j < 4; j++) {
            v[j] = _mm256_loadu_ps(block + 8 * j);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[j]));
        }
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float d = _mm_cvtss_f32(m) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = float_to_half(d);
        // roundf (halves away from zero) exactly: truncate, then step one away from zero
        // where the dropped fraction is at least one half.
        const __m256 scale = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
        __m256i q[4];
        for (int j = 0; j < 4; j++) {
            const __m256 scaled = _mm256_mul_ps(v[j], scale);
            const __m256 truncated = _mm256_round_ps(scaled, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __m256 fraction = _mm256_andnot_ps(sign_bit, _mm256_sub_ps(scaled, truncated));
            const __m256 step = _mm256_and_ps(_mm256_cmp_ps(fraction, half, _CMP_GE_OQ),
                                              _mm256_or_ps(one, _mm256_and_ps(sign_bit, scaled)));
            q[j] = _mm256_cvttps_epi32(_mm256_add_ps(truncated, step));
        }
        const __m256i words = _mm256_packs_epi32(q[0], q[1]), words2 = _mm256_packs_epi32(q[2], q[3]);
        const __m256i bytes = _mm256_packs_epi16(words, words2);
        // The packs interleave 128-bit lanes: put the eight 4-byte groups back in order.
        const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, ordered);
#else
        float amax = 0.0f;
        for (int j = 0; j < LLAMA_QK; j++) {
            const float v = fabsf(block[j]);
            if (v > amax) amax = v;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = float_to_half(d);
        for (int j = 0; j < LLAMA_QK; j++) y[i].qs[j] = (int8_t)roundf(block[j] * id);
#endif
    }
}

void llama_quantize_row_q4_0(const float *x, llama_block_q4_0 *y, size_t count) {
    const size_t blocks = count / LLAMA_QK;
    for (size_t i = 0; i < blocks; i++) {
        const float *block = x + i * LLAMA_QK;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < LLAMA_QK; j++) {
            if (amax < fabsf(block[j])) { amax = fabsf(block[j]); max = block[j]; }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = float_to_half(d);
        for (int j = 0; j < LLAMA_QK / 2; j++) {
            const int8_t low = (int8_t)(block[j] * id + 8.5f), high = (int8_t)(block[j + LLAMA_QK / 2] * id + 8.5f);
            y[i].qs[j] = (uint8_t)((low < 15 ? low : 15) | ((high < 15 ? high : 15) << 4));
        }
    }
}

void llama_dequantize_row_q8_0(const llama_block_q8_0 *x, float *y, size_t count) {
    for (size_t i = 0; i < count / LLAMA_QK; i++) {
        const float d = half_to_float(x[i].d);
#if defined(LLAMA_AVX2)
        const __m256 scale = _mm256_set1_ps(d);
        for (int j = 0; j < LLAMA_QK; j += 8) {
            const __m256i bytes = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x[i].qs + j)));
            _mm256_storeu_ps(y + i * LLAMA_QK + j, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(bytes)));
        }
#else
        for (int j = 0; j < LLAMA_QK; j++) y[i * LLAMA_QK + j] = d * (float)x[i].qs[j];
#endif
    }
}

void llama_dequantize_row_q4_0(const llama_block_q4_0 *x, float *y, size_t count) {
    for (size_t i = 0; i < count / LLAMA_QK; i++) {
        const float d = half_to_float(x[i].d);
#if defined(LLAMA_AVX2)
        const __m256 scale = _mm256_set1_ps(d);
        const __m256i values = unpack_q4_0(x[i].qs);
        const __m128i low = _mm256_castsi256_si128(values), high = _mm256_extracti128_si256(values, 1);
        float *out = y + i * LLAMA_QK;
        _mm256_storeu_ps(out, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(low))));
        _mm256_storeu_ps(out + 8, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(low, 8)))));
        _mm256_storeu_ps(out + 16, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(high))));
        _mm256_storeu_ps(out + 24, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(high, 8)))));
#else
        for (int j = 0; j < LLAMA_QK / 2; j++) {
            y[i * LLAMA_QK + j] = d * (float)((int)(x[i].qs[j] & 0x0F) - 8);
            y[i * LLAMA_QK + j + LLAMA_QK / 2] = d * (float)((int)(x[i].qs[j] >> 4) - 8);
        }
#endif
    }
}
