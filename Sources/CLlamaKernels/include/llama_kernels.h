// Integer dot-product kernels on GGML's quantized block layouts, where Swift SIMD cannot
// express the instructions (AVX2 maddubs and AVX-512 VNNI vpdpbusd on x86, SDOT on ARM).
// Scalar code elsewhere.
#ifndef LLAMA_KERNELS_H
#define LLAMA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "llama_pool.h"

#define LLAMA_QK 32

/// GGML's Q8_0 block: 32 weights = d · qs[i], d stored as IEEE half (34 bytes).
typedef struct {
    uint16_t d;
    int8_t qs[LLAMA_QK];
} llama_block_q8_0;

/// GGML's Q4_0 block: 32 weights = d · (nibble − 8); byte j holds element j in its low
/// nibble and element j + 16 in its high nibble (18 bytes).
typedef struct {
    uint16_t d;
    uint8_t qs[LLAMA_QK / 2];
} llama_block_q4_0;

/// Block i of eight consecutive rows of a Q4_0 / Q8_0 matrix as one record (the layout
/// llama.cpp's CPU backend repacks to): the eight rows' scales, then the values in 4-byte
/// chunks, chunk j holding bytes 4j..4j+3 of row 0, row 1, …, row 7 of the GGML block.
typedef struct {
    uint16_t d[8];
    uint8_t qs[8 * LLAMA_QK / 2];
} llama_block_q4_0x8;

typedef struct {
    uint16_t d[8];
    int8_t qs[8 * LLAMA_QK];
} llama_block_q8_0x8;

/// A (rows, blocks·32) matrix (rows a multiple of 8) to the interleaved layout: record
/// g·blocks + i holds block i of rows 8g..8g+7; and back.
void llama_interleave_q4_0(const llama_block_q4_0 *x, llama_block_q4_0x8 *y, size_t rows, size_t blocks);
void llama_deinterleave_q4_0(const llama_block_q4_0x8 *x, llama_block_q4_0 *y, size_t rows, size_t blocks);
void llama_interleave_q8_0(const llama_block_q8_0 *x, llama_block_q8_0x8 *y, size_t rows, size_t blocks);
void llama_deinterleave_q8_0(const llama_block_q8_0x8 *x, llama_block_q8_0 *y, size_t rows, size_t blocks);

/// Rows first_row..<last_row (any range) of an interleaved matrix as floats, row after row
/// (equal to dequantizing the GGML blocks they came from).
void llama_dequantize_q4_0x8_rows(const llama_block_q4_0x8 *x, size_t blocks, size_t first_row, size_t last_row,
                                  float *y);
void llama_dequantize_q8_0x8_rows(const llama_block_q8_0x8 *x, size_t blocks, size_t first_row, size_t last_row,
                                  float *y);

/// y[8g..8g+7] (+= when accumulate) = the eight rows of group g times one Q8_0 activation
/// row, for groups first_group..<last_group of an interleaved matrix: lanes = rows, four
/// groups from far-apart parts of the range at a time (see llama_interleaved.c).
void llama_gemv_q4_0x8_q8_0(size_t blocks, const llama_block_q4_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, float *y, int accumulate);
void llama_gemv_q8_0x8_q8_0(size_t blocks, const llama_block_q8_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, float *y, int accumulate);

/// Σ over `blocks` blocks of x·y, both Q8_0.
float llama_dot_q8_0_q8_0(size_t blocks, const llama_block_q8_0 *x, const llama_block_q8_0 *y);

/// Σ over `blocks` blocks of x·y, x Q4_0 and y Q8_0.
float llama_dot_q4_0_q8_0(size_t blocks, const llama_block_q4_0 *x, const llama_block_q8_0 *y);

/// Four rows of x at once (row stride `row_stride` blocks) against one y: out[0..3].
void llama_dot4_q8_0_q8_0(size_t blocks, const llama_block_q8_0 *x, size_t row_stride,
                          const llama_block_q8_0 *y, float *out);

/// One Q8_0 activation block laid out for llama_dot4_q4_0_q8_0 (128 bytes): its values 0..15
/// twice, its values 16..31 twice, 8·Σ values as eight partial sums, and its scale.
typedef struct {
    int8_t low[32];
    int8_t high[32];
    int32_t eight_sums[8];
    uint16_t d;
    uint16_t padding[15];
} llama_q4_0_activation;

/// Lays out `blocks` activation blocks for the Q4_0 four-row product (once per row of input,
/// shared by every group of four weight rows).
void llama_prepare_q4_0_activation(size_t blocks, const llama_block_q8_0 *y, llama_q4_0_activation *prepared);
void llama_dot4_q4_0_q8_0(size_t blocks, const llama_block_q4_0 *x, size_t row_stride,
                          const llama_q4_0_activation *y, float *out);

/// out[t·ldo + r] (+= when accumulate) Σ over `blocks` blocks of w_r·x_t, for weight rows r in
/// first..<last and activation rows t < tokens (Q8_0, `blocks` blocks each): groups of eight
/// weight rows repacked lane by lane, integer dot products (AVX2 maddubs); see llama_gemm.c.
void llama_gemm_q8_0_q8_0(size_t blocks, const llama_block_q8_0 *w, size_t first, size_t last,
                          const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate);
void llama_gemm_q4_0_q8_0(size_t blocks, const llama_block_q4_0 *w, size_t first, size_t last,
                          const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate);
/// The same for interleaved weights, groups first_group..<last_group (rows 8·first_group..).
void llama_gemm_q8_0x8_q8_0(size_t blocks, const llama_block_q8_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate);
void llama_gemm_q4_0x8_q8_0(size_t blocks, const llama_block_q4_0x8 *w, size_t first_group, size_t last_group,
                            const llama_block_q8_0 *x, size_t tokens, float *out, size_t ldo, int accumulate);

/// Quantizes `count` floats (a multiple of 32) to Q8_0 exactly as ggml's reference
/// quantize_row_q8_0_ref: d = max|x| / 127, q = roundf(x / d).
void llama_quantize_row_q8_0(const float *x, llama_block_q8_0 *y, size_t count);

/// Quantizes `count` floats to Q4_0 exactly as ggml's quantize_row_q4_0_ref: d = m / −8
/// with m the element of largest magnitude (the first such), q = min(15, (int8)(x/d + 8.5)).
void llama_quantize_row_q4_0(const float *x, llama_block_q4_0 *y, size_t count);

/// Bytes of GGML's K-quant super-blocks of 256 values: Q4_K (d, dmin, 12 bytes of 6-bit
/// scales and minimums, 128 bytes of nibbles) and Q6_K (128 bytes of low 4 bits, 64 of high
/// 2 bits, 16 int8 scales, d).
#define LLAMA_Q4_K_BYTES 144
#define LLAMA_Q6_K_BYTES 210

/// `count` values (a multiple of 256) of Q4_K / Q6_K super-blocks as floats, equal bit for bit
/// to ggml's dequantize_row_q4_K / _q6_K (llama.cpp files are read through these).
void llama_dequantize_row_q4_k(const void *x, float *y, size_t count);
void llama_dequantize_row_q6_k(const void *x, float *y, size_t count);

/// An activation block for the K-quant products (ggml's Q8_K layout): 256 values = d · qs[i],
/// and the sum of every 16 values.
typedef struct {
    float d;
    int8_t qs[256];
    int16_t bsums[16];
} llama_block_q8_k;

/// Quantizes `count` floats (a multiple of 256) to llama_block_q8_k: d = max|x| / 127,
/// q = roundf(x / d).
void llama_quantize_row_q8_k(const float *x, llama_block_q8_k *y, size_t count);

/// y[t·ldy + r] (+= when accumulate) = row r · x_t for rows first..<last of a Q4_K / Q6_K matrix
/// of `superblocks` super-blocks per row and activation rows x_t (t < tokens, `superblocks`
/// blocks each): integer dot products on the stored super-blocks, each weight row read once for
/// all activation rows (see llama_kquant_dot.c).
void llama_gemm_q4_k_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                          size_t tokens, float *y, size_t ldy, int accumulate);
void llama_gemm_q6_k_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                          size_t tokens, float *y, size_t ldy, int accumulate);
/// The products of llama_gemm_q4_k_q8_k / _q6_k_ for the whole groups of eight rows from
/// `first` (first ..< first + 8·⌊(last − first)/8⌋): each group's super-blocks unpacked once into
/// eight rows per register, then multiplied with every token (faster from about twelve tokens
/// on). Return the rows done: 0 without AVX2, or if a buffer cannot be allocated.
size_t llama_gemm_q4_k_x8_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                               size_t tokens, float *y, size_t ldy, int accumulate);
size_t llama_gemm_q6_k_x8_q8_k(size_t superblocks, const void *w, size_t first, size_t last, const llama_block_q8_k *x,
                               size_t tokens, float *y, size_t ldy, int accumulate);

/// Q4_K / Q6_K matrices with eight rows interleaved per super-block (records of 1152 / 1680
/// bytes: the rows' d (Q4_K: and dmin), scale bytes as planes, values in 4-byte chunks row by
/// row; see llama_kquant_x8.c). `row_count` is a multiple of 8; interleaving and back are byte
/// permutations.
void llama_interleave_q4_k(const void *rows, void *records, size_t row_count, size_t superblocks);
void llama_deinterleave_q4_k(const void *records, void *rows, size_t row_count, size_t superblocks);
void llama_interleave_q6_k(const void *rows, void *records, size_t row_count, size_t superblocks);
void llama_deinterleave_q6_k(const void *records, void *rows, size_t row_count, size_t superblocks);
/// Rows first_row..<last_row of interleaved records as floats (bit for bit as ggml).
void llama_dequantize_q4_kx8_rows(const void *records, size_t superblocks, size_t first_row, size_t last_row, float *y);
void llama_dequantize_q6_kx8_rows(const void *records, size_t superblocks, size_t first_row, size_t last_row, float *y);
/// y[8g..8g+7] (=, or += when accumulate) for groups first_group..<last_group of interleaved
/// records against one Q8_K activation row: the eight rows' sums in the lanes, four far-apart
/// groups per pass.
void llama_gemv_q4_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, float *y, int accumulate);
void llama_gemv_q6_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, float *y, int accumulate);
/// y[t·ldy + 8g + k] for several activation rows: below `gather_tokens` rows the records read
/// in place, four rows at a time; from there on each group gathered back to row order for
/// llama_gemm_q4_k_x8_q8_k (_q6_k_).
void llama_gemm_q4_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate,
                            size_t gather_tokens);
void llama_gemm_q6_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate,
                            size_t gather_tokens);
/// 1 when this build multiplies interleaved K-quant records in place (AVX2); else they are
/// gathered back to row order on every product, and loaders keep K-quant matrices in row order.
int llama_kquant_x8_reads_in_place(void);

/// Block values back to floats.
void llama_dequantize_row_q8_0(const llama_block_q8_0 *x, float *y, size_t count);
void llama_dequantize_row_q4_0(const llama_block_q4_0 *x, float *y, size_t count);

/// y[r] (+)= Σ_i w[r·cols + i]·x[i] for r in first..<last: four rows per pass, the next
/// four rows prefetched while these are summed (short rows give the hardware prefetcher
/// too little to lock on to).
void llama_matvec_f32(const float *w, const float *x, float *y, size_t first, size_t last, size_t cols, int accumulate);
/// y[first..<last] = W[first..<last] · x (or += when accumulate), one row at a time (a single
/// sequential stream); rows whose width is not a multiple of 32 go to llama_matvec_f32.
void llama_matvec_f32_sequential(const float *w, const float *x, float *y, size_t first, size_t last, size_t cols,
                                 int accumulate);
/// y[first..<last] = W[first..<last] · x (or += when accumulate), four rows at a time taken
/// from the four quarters of the range (four streams far apart); the rest by llama_matvec_f32.
void llama_matvec_f32_quarters(const float *w, const float *x, float *y, size_t first, size_t last, size_t cols,
                               int accumulate);
/// The sum of p[0..<count], read as four sequential streams (the four quarters) at once: the
/// read-bandwidth probe of `llama bench`.
float llama_stream_sum(const float *p, size_t count);

/// scores[s] = scale · Σ_i q[i]·k_s[i] for s < length, with k_s = keys + s·stride (dim floats):
/// one query head against the cached keys of its key/value head, eight positions at a time.
/// `prefetch` (or NULL): a matrix laid out as `keys` whose rows 0..<length are fetched into the
/// cache on the way, one row per key read (decode passes the same head's values).
void llama_attention_scores(const float *q, const float *keys, size_t stride, size_t length, size_t dim,
                            float scale, float *scores, const float *prefetch);
/// out[i] = Σ_s p[s]·v_s[i] for i < dim, with v_s = values + s·stride: the attention-weighted
/// sum of cached values, 64 output columns held in registers across all positions.
/// `prefetch` (or NULL) as above, one row per value row (decode passes the keys of the head the
/// thread takes next).
void llama_attention_values(const float *p, const float *values, size_t stride, size_t length, size_t dim,
                            float *out, const float *prefetch);
/// The same two kernels over a cache stored as IEEE half bit patterns (stride in elements):
/// each value is widened to float32 as it is read, so the products are those of the float32
/// kernels on the half values.
void llama_attention_scores_f16(const float *q, const uint16_t *keys, size_t stride, size_t length, size_t dim,
                                float scale, float *scores, const uint16_t *prefetch);
void llama_attention_values_f16(const float *p, const uint16_t *values, size_t stride, size_t length, size_t dim,
                                float *out, const uint16_t *prefetch);

/// Query rows per tile of the blocked prefill attention below.
#define LLAMA_ATTENTION_ROWS 6
/// Positions of a key panel for `length` positions: `length` rounded up to 16.
size_t llama_attention_panel_width(size_t length);
/// panel[i · width + s] = k_s[i] (width = llama_attention_panel_width(length), zeros past
/// `length`) for the keys k_s = keys + s·stride of one head, float32 or IEEE half (`half`).
void llama_attention_pack_keys(const void *keys, int half, size_t stride, size_t length, size_t dim, float *panel);
/// scores[r · score_stride + s] = scale · Σ_i q[r · q_stride + i] · k_s[i] for r < rows and
/// s < length, from a key panel packed `panel_width` positions wide (length ≤ panel_width); a
/// full tile of LLAMA_ATTENTION_ROWS rows also fills s up to llama_attention_panel_width(length).
void llama_attention_scores_rows(const float *q, size_t q_stride, size_t rows, const float *panel, size_t panel_width,
                                 size_t length, size_t dim, float scale, float *scores, size_t score_stride);
/// out[r · out_stride + i] = Σ_{s < length} p[r · p_stride + s] · v_s[i] for r < rows, i < dim,
/// with v_s = values + s·stride, float32 or IEEE half.
void llama_attention_values_rows(const float *p, size_t p_stride, size_t rows, const void *values, int half, size_t stride,
                                 size_t length, size_t dim, float *out, size_t out_stride);

#endif
