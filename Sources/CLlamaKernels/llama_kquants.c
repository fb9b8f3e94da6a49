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

// The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K block's 12 scale bytes.
static void scale_and_min(int j, const uint8_t *q, uint8_t *scale, uint8_t *minimum) {
    if (j < 4) {
        *scale = q[j] & 63;
        *minimum = q[j + 4] & 63;
    } else {
        *scale = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *minimum = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void llama_dequantize_row_q4_k(const void *x, float *y, size_t count) {
    const uint8_t *block = x;
    for (size_t b = 0; b < count / 256; b++, block += LLAMA_Q4_K_BYTES) {
        const float d = half_value(block), dmin = half_value(block + 2);
        const uint8_t *scales = block + 4, *q = block + 16;
        for (int j = 0; j < 256; j += 64, q += 32) {
            uint8_t scale, minimum;
            scale_and_min(j / 32, scales, &scale, &minimum);
            const float d1 = d * (float)scale, m1 = dmin * (float)minimum;
            scale_and_min(j / 32 + 1, scales, &scale, &minimum);
            const float d2 = d * (float)scale, m2 = dmin * (float)minimum;
            for (int l = 0; l < 32; l++) {
                const float product = d1 * (float)(q[l] & 0xF);
                *y++ = product - m1;
            }
            for (int l = 0; l < 32; l++) {
                const float product = d2 * (float)(q[l] >> 4);
                *y++ = product - m2;
            }
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
        }
    }
}
