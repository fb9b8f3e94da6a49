// See llama_vnni.h: interleaved Q4_0 / Q8_0 records (llama_interleaved.c) against Q8_0
// activations with AVX-512 VNNI, for x86 CPUs that have it (Intel Ice Lake and later, AMD
// Zen 4 and later). The AVX2 builds compile these functions for that instruction set by
// attribute and call them when llama_vnni_available() says the CPU runs them.
//
// A 512-bit register holds two 32-byte chunks of a record, chunk j in its low half and
// j + 1 in its high half, so lane k and lane k + 8 both belong to row k. VPDPBUSD multiplies
// four unsigned weight bytes by four signed activation bytes and adds the four products to
// a 32-bit lane in one instruction, where AVX2 needs maddubs, an int16 add and madd. The
// weights are made unsigned and the difference is subtracted once per block:
//   Q4_0: nibbles 0..15 as they are: Σ (n − 8)·x = Σ n·x − 8·Σx;
//   Q8_0: w XOR 0x80 = w + 128 as an unsigned byte: Σ w·x = Σ (w + 128)·x − 128·Σx.
// The activation's groups 2p and 2p + 1 (bytes 8p..8p+7) are broadcast to the two halves
// by one permute. The two halves are added before the scales are applied, so the float
// work per record is that of the AVX2 kernels.
//
// scripts/check-kernels.sh runs these functions against float64 sums with the instructions
// emulated by SIMDe (LLAMA_AVX512_EMULATION), and checks that the native build emits VPDPBUSD.
#include "llama_vnni.h"

#include "llama_simd.h"

#if defined(LLAMA_AVX2)
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if !defined(LLAMA_AVX512_EMULATION)
#include <cpuid.h>
#endif
#define VNNI LLAMA_VNNI_TARGET

#define ROWS 8

int llama_vnni_available(void) {
    static _Atomic int known = -1;
    int value = atomic_load_explicit(&known, memory_order_relaxed);
    if (value >= 0) return value;
#if defined(LLAMA_AVX512_EMULATION)
    value = 1;
#else
    unsigned a, b, c, d;
    value = 0;
    // The OS saves the opmask and all 512-bit registers (XCR0 bits 1, 2, 5, 6, 7), and the
    // CPU has AVX-512 F (leaf 7 EBX bit 16), BW (30), VL (31) and VNNI (ECX bit 11).
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27))) {
        unsigned low, high;
        __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
        if ((low & 0xE6) == 0xE6 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            value = (b & (1u << 16)) && (b & (1u << 30)) && (b & (1u << 31)) && (c & (1u << 11));
        }
    }
#endif
    const char *setting = getenv("LLAMA_AVX512");
    if (setting && strcmp(setting, "0") == 0) value = 0;
    atomic_store_explicit(&known, value, memory_order_relaxed);
    return value;
}

// Bytes 8p..8p+7 of an activation block: group 2p in every lane of the low half, 2p + 1 in
// every lane of the high half.
VNNI static inline __m512i activation_pair(const int8_t *qs, int p) {
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_epi32(halves, _mm512_castsi128_si512(_mm_loadl_epi64((const __m128i *)(qs + 8 * p))));
}

// A record's values as four unsigned registers, register p to be multiplied by activation pair p.
VNNI static inline void record_values(int q4, const unsigned char *values, __m512i *u) {
    if (q4) {
        const __m512i mask = _mm512_set1_epi8(0x0F);
        const __m512i v0 = _mm512_loadu_si512(values), v1 = _mm512_loadu_si512(values + 64);
        u[0] = _mm512_and_si512(v0, mask);
        u[1] = _mm512_and_si512(v1, mask);
        u[2] = _mm512_and_si512(_mm512_srli_epi16(v0, 4), mask);
        u[3] = _mm512_and_si512(_mm512_srli_epi16(v1, 4), mask);
    } else {
        const __m512i offset = _mm512_set1_epi8((char)0x80);
        for (int p = 0; p < 4; p++) u[p] = _mm512_xor_si512(_mm512_loadu_si512(values + 64 * p), offset);
    }
}

// Lanes k: the eight rows' integer dot products with one activation block, corrected.
VNNI static inline __m256i row_sums(const __m512i *u, const __m512i *x, int32_t correction) {
    __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[0], x[0]);
    for (int p = 1; p < 4; p++) sum = _mm512_dpbusd_epi32(sum, u[p], x[p]);
    const __m256i rows = _mm256_add_epi32(_mm512_castsi512_si256(sum), _mm512_extracti64x4_epi64(sum, 1));
    return _mm256_sub_epi32(rows, _mm256_set1_epi32(correction));
}

static inline size_t record_size(int q4) { return q4 ? sizeof(llama_block_q4_0x8) : sizeof(llama_block_q8_0x8); }

static inline void store_rows(float *y, __m256 sums, int accumulate) {
    _mm256_storeu_ps(y, accumulate ? _mm256_add_ps(_mm256_loadu_ps(y), sums) : sums);
}

VNNI __attribute__((always_inline)) static inline void group_products(int q4, size_t blocks, const void *w,
                                                                     const size_t *groups, int count,
                                                                     const llama_block_q8_0 *x, const float *dy,
                                                                     const int32_t *x_sums, float *y, int accumulate) {
    const size_t record = record_size(q4);
    __m256 acc[4];
    for (int k = 0; k < count; k++) acc[k] = _mm256_setzero_ps();
    for (size_t i = 0; i < blocks; i++) {
        __m512i xs[4];
        for (int p = 0; p < 4; p++) xs[p] = activation_pair(x[i].qs, p);
        const __m256 d = _mm256_broadcast_ss(dy + i);
        const int32_t correction = (q4 ? 8 : 128) * x_sums[i];
        for (int k = 0; k < count; k++) {
            const unsigned char *b = (const unsigned char *)w + (groups[k] * blocks + i) * record;
            __m512i u[4];
            record_values(q4, b + 2 * ROWS, u);
            const __m256 scales = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b)), d);
            acc[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(row_sums(u, xs, correction)), scales, acc[k]);
        }
    }
    for (int k = 0; k < count; k++) store_rows(y + groups[k] * ROWS, acc[k], accumulate);
}

VNNI void llama_vnni_group_products(int q4, size_t blocks, const void *w, const size_t *groups, int count,
                                    const llama_block_q8_0 *x, const float *dy, const int32_t *x_sums, float *y,
                                    int accumulate) {
    for (int start = 0; start < count; start += 4) {
        const int n = count - start < 4 ? count - start : 4;
        if (q4) group_products(1, blocks, w, groups + start, n, x, dy, x_sums, y, accumulate);
        else group_products(0, blocks, w, groups + start, n, x, dy, x_sums, y, accumulate);
    }
}

// Each record's values are loaded (and Q4_0 nibbles split) once for the n tokens.
VNNI __attribute__((always_inline)) static inline void tile(int q4, size_t blocks, const unsigned char *records,
                                                           const llama_block_q8_0 *x, const float *dy,
                                                           const int32_t *x_sums, int n, float *out, size_t ldo,
                                                           int accumulate) {
    const size_t record = record_size(q4);
    __m256 acc[4];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (size_t i = 0; i < blocks; i++) {
        const unsigned char *b = records + i * record;
        __m512i u[4];
        record_values(q4, b + 2 * ROWS, u);
        const __m256 scales = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b));
        for (int t = 0; t < n; t++) {
            const size_t at = t * blocks + i;
            __m512i xs[4];
            for (int p = 0; p < 4; p++) xs[p] = activation_pair(x[at].qs, p);
            const __m256i dot = row_sums(u, xs, (q4 ? 8 : 128) * x_sums[at]);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(scales, _mm256_broadcast_ss(dy + at)), acc[t]);
        }
    }
    for (int t = 0; t < n; t++) store_rows(out + t * ldo, acc[t], accumulate);
}

VNNI void llama_vnni_tile(int q4, size_t blocks, const unsigned char *records, const llama_block_q8_0 *x,
                          const float *dy, const int32_t *x_sums, int n, float *out, size_t ldo, int accumulate) {
    // Specialized for the type and the tile height, as the AVX2 tile is.
    switch ((q4 ? 4 : 0) + (n > 4 ? 4 : n < 1 ? 1 : n) - 1) {
    case 0: tile(0, blocks, records, x, dy, x_sums, 1, out, ldo, accumulate); break;
    case 1: tile(0, blocks, records, x, dy, x_sums, 2, out, ldo, accumulate); break;
    case 2: tile(0, blocks, records, x, dy, x_sums, 3, out, ldo, accumulate); break;
    case 3: tile(0, blocks, records, x, dy, x_sums, 4, out, ldo, accumulate); break;
    case 4: tile(1, blocks, records, x, dy, x_sums, 1, out, ldo, accumulate); break;
    case 5: tile(1, blocks, records, x, dy, x_sums, 2, out, ldo, accumulate); break;
    case 6: tile(1, blocks, records, x, dy, x_sums, 3, out, ldo, accumulate); break;
    default: tile(1, blocks, records, x, dy, x_sums, 4, out, ldo, accumulate); break;
    }
}
#else
int llama_vnni_available(void) { return 0; }
#endif
