// Private to the C kernels: what the interleaved K-quant layout (llama_kquant_x8.c) shares
// with its products (llama_kquant_x8_products.c).
#ifndef LLAMA_KQUANT_X8_H
#define LLAMA_KQUANT_X8_H

#include <stddef.h>
#include <stdint.h>

#include "llama_kernels.h"

/// Bytes of one super-block and of a record of eight (q6: Q6_K, else Q4_K).
static inline size_t block_bytes(int q6) { return q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES; }
static inline size_t record_bytes(int q6) { return 8 * block_bytes(q6); }

/// Row r of a group's records (`superblocks` of them) in GGML order, into `row`.
void llama_kquant_x8_gather_row(int q6, const uint8_t *group, size_t superblocks, size_t r, uint8_t *row);

#endif
