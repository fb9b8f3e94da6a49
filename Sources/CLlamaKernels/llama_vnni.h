// Private to the C kernels: the AVX-512 VNNI products of interleaved Q4_0 / Q8_0 records
// (llama_vnni.c) and of the integer part of Q4_K / Q6_K records (llama_vnni_kquant.c), which the
// AVX2 builds call instead of their own where the CPU has the instruction (llama_vnni_available).
#ifndef LLAMA_VNNI_H
#define LLAMA_VNNI_H

#include <stddef.h>
#include <stdint.h>

#include "llama_kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
// The attribute of functions that use AVX-512 (compiled into the AVX2 build, run only where
// llama_vnni_available()); none where SIMDe emulates the instructions (check-kernels).
#if defined(LLAMA_AVX512_EMULATION)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define LLAMA_VNNI_TARGET
#else
#include <immintrin.h>
#define LLAMA_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#endif
#endif

/// Whether this CPU and OS run AVX-512 F/BW/VL and VNNI (CPUID and XCR0, asked once), and
/// LLAMA_AVX512 is not "0". Always 0 in builds without AVX2, where llama_vnni.c is empty.
int llama_vnni_available(void);

/// y[8g..8g+7] (=, or += when accumulate) for the `count` (1...4) groups g in `groups` of an
/// interleaved matrix (q4: Q4_0 records, else Q8_0) times one activation row x, read block by
/// block side by side. dy[i] and x_sums[i]: activation block i's scale and the sum of its values.
void llama_vnni_group_products(int q4, size_t blocks, const void *w, const size_t *groups, int count,
                               const llama_block_q8_0 *x, const float *dy, const int32_t *x_sums, float *y,
                               int accumulate);

/// out[t·ldo + 0..7] (=, or +=) for tokens t < n (1...4) = the eight rows of the group whose
/// records start at `records` times activation row t (x, dy, x_sums: blocks·t + i).
void llama_vnni_tile(int q4, size_t blocks, const unsigned char *records, const llama_block_q8_0 *x,
                     const float *dy, const int32_t *x_sums, int n, float *out, size_t ldo, int accumulate);

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
/// Quarter q (0...3) of an interleaved Q4_K (q6 = 0: its scales unpacked to `scales`, byte 8j + r
/// for sub-block j of row r) or Q6_K record against the Q8_K activation blocks x[0..<n] (n ≤ 4):
/// sums[t] (lane r: row r) += the quarter's scaled integer dot products, as the AVX2 quarter of
/// llama_kquant_x8_products.c adds them, with VPDPBUSD on 256-bit registers (AVX-512 VL).
void llama_vnni_kquant_quarter(int q6, const uint8_t *record, const uint8_t *scales, int q,
                               const llama_block_q8_k *const *x, int n, __m256i *sums);
#endif

#endif
