// Private to the C kernels: what the interleaved K-quant layout (llama_kquant_x8.c) shares
// with its products (llama_kquant_x8_products.c, and llama_vnni_kquant.c for AVX-512 VNNI).
#ifndef LLAMA_KQUANT_X8_H
#define LLAMA_KQUANT_X8_H

#include <stddef.h>
#include <stdint.h>

#include "llama_kernels.h"
#include "llama_simd.h"

/// Bytes of one super-block and of a record of eight (q6: Q6_K, else Q4_K).
static inline size_t block_bytes(int q6) { return q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES; }
static inline size_t record_bytes(int q6) { return 8 * block_bytes(q6); }

/// Row r of a group's records (`superblocks` of them) in GGML order, into `row`.
void llama_kquant_x8_gather_row(int q6, const uint8_t *group, size_t superblocks, size_t r, uint8_t *row);

#if defined(LLAMA_AVX2)
/// Q6_K: the values 0..63 of step `step` (32 bytes: four of each row) in class k of a record's
/// steps (record + 144): class 0 the low nibbles of the step's first chunk with bits 0-1 of its
/// third, class 1 those of the second chunk with bits 2-3, classes 2 and 3 the high nibbles with
/// bits 4-5 and 6-7.
static inline __attribute__((always_inline)) __m256i q6_step_values(const uint8_t *steps, int step, int k) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), bit_pair = _mm256_set1_epi8(0x30);
    const uint8_t *at = steps + 96 * step;
    const __m256i bytes = _mm256_loadu_si256((const __m256i *)(at + 32 * (k & 1)));
    const __m256i h = _mm256_loadu_si256((const __m256i *)(at + 64));
    const __m256i high = k == 0 ? _mm256_slli_epi16(h, 4) : k == 1 ? _mm256_slli_epi16(h, 2) : k == 2 ? h : _mm256_srli_epi16(h, 2);
    return _mm256_or_si256(_mm256_and_si256(k < 2 ? bytes : _mm256_srli_epi16(bytes, 4), low4), _mm256_and_si256(high, bit_pair));
}
#endif

#endif
