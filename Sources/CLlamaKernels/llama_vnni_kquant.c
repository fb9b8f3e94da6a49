// See llama_vnni.h: the integer part of interleaved Q4_K / Q6_K records (llama_kquant_x8.c)
// against Q8_K activations with AVX-512 VNNI, called by llama_kquant_x8_products.c a quarter
// record at a time (so that decode keeps its four weight streams interleaved) where
// llama_vnni_available().
//
// A chunk's 32-bit lane r holds four values of row r, as in the AVX2 quarters. There, maddubs
// leaves int16 pairs that are added across a sub-block and widened by one madd with the row's
// scale; here VPDPBUSD adds the four products of each lane straight into an int32 per row,
// and one multiply applies the scale. Both sums are exact (the values are unsigned: Q4_K
// nibbles 0..15, Q6_K 0..63; the activations signed), so both paths give the same integers.
// The registers stay 256 bits wide: lanes are rows without a fold, and Zen 4 splits 512-bit
// operations in two anyway.
#include "llama_kquant_x8.h"
#include "llama_vnni.h"

#if defined(LLAMA_AVX2)
// Q4_K quarter p: sub-blocks 2p (low nibbles) and 2p + 1 (high nibbles) of the eight rows.
LLAMA_VNNI_TARGET __attribute__((always_inline)) static inline void q4_quarter(const uint8_t *record, const uint8_t *scales,
                                                                              int p, const llama_block_q8_k *const *x,
                                                                              int n, __m256i *sums) {
    const __m256i mask4 = _mm256_set1_epi8(0x0F);
    const uint8_t *values = record + 128 + 256 * p;
    for (int nibble = 0; nibble < 2; nibble++) {
        __m256i part[4];
        for (int t = 0; t < n; t++) part[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(values + 32 * g));
            const __m256i q = _mm256_and_si256(nibble ? _mm256_srli_epi16(v, 4) : v, mask4);
            for (int t = 0; t < n; t++) {
                part[t] = _mm256_dpbusd_epi32(part[t], q, broadcast_group(x[t]->qs + 64 * p + 32 * nibble, g));
            }
        }
        const __m256i scale = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(scales + 16 * p + 8 * nibble)));
        for (int t = 0; t < n; t++) sums[t] = _mm256_add_epi32(sums[t], _mm256_mullo_epi32(part[t], scale));
    }
}

// Q6_K quarter q: half q/2, steps 4·(q%2) .. + 3, one sub-block of 16 values per class k.
LLAMA_VNNI_TARGET __attribute__((always_inline)) static inline void q6_quarter(const uint8_t *record, int q,
                                                                              const llama_block_q8_k *const *x, int n,
                                                                              __m256i *sums) {
    const int half = q / 2, part = q % 2;
    const uint8_t *planes = record + 16, *steps = record + 144;
    for (int k = 0; k < 4; k++) {
        __m256i total[4];
        for (int t = 0; t < n; t++) total[t] = _mm256_setzero_si256();
        for (int s = 0; s < 4; s++) {
            const int g = 4 * part + s;
            const __m256i v = q6_step_values(steps, 8 * half + g, k);
            for (int t = 0; t < n; t++) {
                total[t] = _mm256_dpbusd_epi32(total[t], v, broadcast_group(x[t]->qs + 128 * half + 32 * k, g));
            }
        }
        const __m256i scale = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(planes + 8 * (8 * half + 2 * k + part))));
        for (int t = 0; t < n; t++) sums[t] = _mm256_add_epi32(sums[t], _mm256_mullo_epi32(total[t], scale));
    }
}

LLAMA_VNNI_TARGET void llama_vnni_kquant_quarter(int q6, const uint8_t *record, const uint8_t *scales, int q,
                                                 const llama_block_q8_k *const *x, int n, __m256i *sums) {
    // Specialized for the tile height (decode: 1).
    switch (n) {
    case 1: if (q6) q6_quarter(record, q, x, 1, sums); else q4_quarter(record, scales, q, x, 1, sums); break;
    case 2: if (q6) q6_quarter(record, q, x, 2, sums); else q4_quarter(record, scales, q, x, 2, sums); break;
    case 3: if (q6) q6_quarter(record, q, x, 3, sums); else q4_quarter(record, scales, q, x, 3, sums); break;
    default: if (q6) q6_quarter(record, q, x, 4, sums); else q4_quarter(record, scales, q, x, 4, sums); break;
    }
}
#endif
