// See llama_kernels.h: GGML's K-quant super-blocks (256 values) unpacked to floats, with the
// operations in the order of ggml's dequantize_row_q4_K / _q6_K and of the gguf package's
// numpy version, so the floats are the same bit for bit. Used when loading llama.cpp files.
#include "llama_kernels.h"
#include "llama_simd.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

static float half_value(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return half_bits_to_float(h);
}

void llama_dequantize_row_q4_k(const void *x, float *y, size_t count) {
    const uint8_t *block = x;
    for (size_t b = 0; b < count / 256; b++, block += LLAMA_Q4_K_BYTES) {
        const float d = half_value(block), dmin = half_value(block + 2);
        const uint8_t *q = block + 16;
        int16_t scales[8], minimums[8];
        q4_k_scales_and_minimums(block + 4, scales, minimums);
        for (int j = 0; j < 256; j += 64, q += 32) {
            const float d1 = d * (float)scales[j / 32], m1 = dmin * (float)minimums[j / 32];
            const float d2 = d * (float)scales[j / 32 + 1], m2 = dmin * (float)minimums[j / 32 + 1];
#if defined(LLAMA_AVX2)
            // The same multiply, then subtract, eight values at a time (no fused multiply-add).
            const __m256 d1v = _mm256_set1_ps(d1), m1v = _mm256_set1_ps(m1), d2v = _mm256_set1_ps(d2), m2v = _mm256_set1_ps(m2);
            for (int l = 0; l < 32; l += 8) {
                const __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + l)));
                const __m256 low = _mm256_cvtepi32_ps(_mm256_and_si256(bytes, _mm256_set1_epi32(0xF)));
                const __m256 high = _mm256_cvtepi32_ps(_mm256_srli_epi32(bytes, 4));
                _mm256_storeu_ps(y + l, _mm256_sub_ps(_mm256_mul_ps(d1v, low), m1v));
                _mm256_storeu_ps(y + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d2v, high), m2v));
            }
            y += 64;
#else
            for (int l = 0; l < 32; l++) {
                const float product = d1 * (float)(q[l] & 0xF);
                *y++ = product - m1;
            }
            for (int l = 0; l < 32; l++) {
                const float product = d2 * (float)(q[l] >> 4);
                *y++ = product - m2;
            }
#endif
        }
    }
}

void llama_dequantize_row_q6_k(const void *x, float *y, size_t count) {
    const uint8_t *block = x;
    for (size_t b = 0; b < count / 256; b++, block += LLAMA_Q6_K_BYTES) {
        const uint8_t *ql = block, *qh = block + 128;
        const int8_t *scales = (const int8_t *)(block + 192);
        const float d = half_value(block + 208);
        for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, scales += 8) {
#if defined(LLAMA_AVX2)
            // (d · scale) · value, in that order, eight values at a time.
            for (int l = 0; l < 32; l += 8) {
                const __m256i low = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(ql + l)));
                const __m256i low2 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(ql + l + 32)));
                const __m256i high = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qh + l)));
                const __m256i three = _mm256_set1_epi32(3), fifteen = _mm256_set1_epi32(0xF), offset = _mm256_set1_epi32(32);
                const __m256i values[4] = {
                    _mm256_or_si256(_mm256_and_si256(low, fifteen), _mm256_slli_epi32(_mm256_and_si256(high, three), 4)),
                    _mm256_or_si256(_mm256_and_si256(low2, fifteen), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(high, 2), three), 4)),
                    _mm256_or_si256(_mm256_srli_epi32(low, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(high, 4), three), 4)),
                    _mm256_or_si256(_mm256_srli_epi32(low2, 4), _mm256_slli_epi32(_mm256_srli_epi32(high, 6), 4)),
                };
                const int is = l / 16;
                for (int k = 0; k < 4; k++) {
                    const __m256 scale = _mm256_set1_ps(d * (float)scales[is + 2 * k]);
                    const __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(values[k], offset));
                    _mm256_storeu_ps(y + l + 32 * k, _mm256_mul_ps(scale, v));
                }
            }
#else
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * (float)scales[is] * (float)q1;
                y[l + 32] = d * (float)scales[is + 2] * (float)q2;
                y[l + 64] = d * (float)scales[is + 4] * (float)q3;
                y[l + 96] = d * (float)scales[is + 6] * (float)q4;
            }
#endif
        }
    }
}
