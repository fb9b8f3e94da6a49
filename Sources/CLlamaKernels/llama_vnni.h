// Private to the C kernels: the AVX-512 VNNI products of interleaved Q4_0 / Q8_0 records
// (llama_vnni.c), which the AVX2 builds call instead of their own where the CPU has the
// instruction (llama_vnni_available).
#ifndef LLAMA_VNNI_H
#define LLAMA_VNNI_H

#include <stddef.h>
#include <stdint.h>

#include "llama_kernels.h"

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

#endif
