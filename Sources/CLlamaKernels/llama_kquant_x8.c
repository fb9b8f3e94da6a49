// See llama_kernels.h: Q4_K and Q6_K matrices with eight rows interleaved super-block by
// super-block, so that the products (llama_kquant_x8_products.c) keep the eight rows' sums in
// the lanes of one register, as the Q4_0 kernels do.
//
// A record is the eight rows' super-blocks permuted so that 16 or 32 bytes hold the same piece
// of all eight rows: the two-byte scales side by side, the one-byte scales as planes, the
// values in 4-byte chunks row by row (lane r of a chunk is row r).
// - Q4_K (1152 bytes): the rows' d (8 halves), their dmin, the twelve scale bytes as planes
//   (byte k of row r at 32 + 8k + r), then the values in 32 chunks of 32 bytes, chunk 8p + g
//   holding bytes 32p + 4g .. + 3 of each row's 128 value bytes: low nibbles are values of
//   sub-block 2p, high nibbles of sub-block 2p + 1.
// - Q6_K (1680 bytes): the rows' d, the sixteen int8 scales as planes (at 16 + 8k + r), then
//   from 144 sixteen steps of three chunks in the order the kernel reads them: step 8h + g
//   holds bytes 4g..4g+3 of the low-nibble bytes 64h..64h+31, of 64h+32..64h+63, and of the
//   high-bit-pair bytes 32h..32h+31 (values 128h + 4g + e + 32c, c = 0..3, of every row).
#include "llama_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "llama_kquant_x8.h"

// Copies `unit` bytes between a record and a super-block, in the direction `to_record` says.
__attribute__((always_inline)) static inline void move(uint8_t *in_record, uint8_t *in_block, size_t unit, int to_record) {
    if (to_record) memcpy(in_record, in_block, unit);
    else memcpy(in_block, in_record, unit);
}

// Row r's super-block between GGML order (`block`) and its place in a record, copied in the
// direction `to_record` says (the other side is only read).
static void place_row(int q6, uint8_t *block, size_t r, uint8_t *record, int to_record) {
    if (q6) {
        move(record + 2 * r, block + 208, 2, to_record);
        for (size_t k = 0; k < 16; k++) move(record + 16 + 8 * k + r, block + 192 + k, 1, to_record);
        // Step 8·half + g: low-bit chunks g and 8 + g of the half, then its high-bit chunk g.
        for (size_t step = 0; step < 16; step++) {
            const size_t half = step / 8, g = step % 8;
            uint8_t *at = record + 144 + 96 * step + 4 * r;
            move(at, block + 64 * half + 4 * g, 4, to_record);
            move(at + 32, block + 64 * half + 32 + 4 * g, 4, to_record);
            move(at + 64, block + 128 + 32 * half + 4 * g, 4, to_record);
        }
    } else {
        move(record + 2 * r, block, 2, to_record);
        move(record + 16 + 2 * r, block + 2, 2, to_record);
        for (size_t k = 0; k < 12; k++) move(record + 32 + 8 * k + r, block + 4 + k, 1, to_record);
        for (size_t c = 0; c < 32; c++) move(record + 128 + 32 * c + 4 * r, block + 16 + 4 * c, 4, to_record);
    }
}

static void interleave(int q6, const void *rows, void *records, size_t row_count, size_t superblocks) {
    uint8_t *from = (uint8_t *)rows, *to = records;
    for (size_t group = 0; group < row_count / 8; group++) {
        for (size_t b = 0; b < superblocks; b++) {
            for (size_t r = 0; r < 8; r++) {
                place_row(q6, from + ((group * 8 + r) * superblocks + b) * block_bytes(q6), r,
                          to + (group * superblocks + b) * record_bytes(q6), 1);
            }
        }
    }
}

void llama_kquant_x8_gather_row(int q6, const uint8_t *group, size_t superblocks, size_t r, uint8_t *row) {
    for (size_t b = 0; b < superblocks; b++) {
        place_row(q6, row + b * block_bytes(q6), r, (uint8_t *)group + b * record_bytes(q6), 0);
    }
}

static void deinterleave(int q6, const void *records, void *rows, size_t row_count, size_t superblocks) {
    const uint8_t *from = records;
    uint8_t *to = rows;
    for (size_t row = 0; row < row_count / 8 * 8; row++) {
        llama_kquant_x8_gather_row(q6, from + (row / 8) * superblocks * record_bytes(q6), superblocks, row % 8,
                                   to + row * superblocks * block_bytes(q6));
    }
}

static void dequantize_rows(int q6, const void *records, size_t superblocks, size_t first_row, size_t last_row, float *y) {
    uint8_t block[LLAMA_Q6_K_BYTES];
    for (size_t row = first_row; row < last_row; row++) {
        const uint8_t *group = (const uint8_t *)records + (row / 8) * superblocks * record_bytes(q6);
        for (size_t b = 0; b < superblocks; b++, y += 256) {
            place_row(q6, block, row % 8, (uint8_t *)group + b * record_bytes(q6), 0);
            if (q6) llama_dequantize_row_q6_k(block, y, 256);
            else llama_dequantize_row_q4_k(block, y, 256);
        }
    }
}

void llama_interleave_q4_k(const void *rows, void *records, size_t row_count, size_t superblocks) {
    interleave(0, rows, records, row_count, superblocks);
}

void llama_interleave_q6_k(const void *rows, void *records, size_t row_count, size_t superblocks) {
    interleave(1, rows, records, row_count, superblocks);
}

void llama_deinterleave_q4_k(const void *records, void *rows, size_t row_count, size_t superblocks) {
    deinterleave(0, records, rows, row_count, superblocks);
}

void llama_deinterleave_q6_k(const void *records, void *rows, size_t row_count, size_t superblocks) {
    deinterleave(1, records, rows, row_count, superblocks);
}

void llama_dequantize_q4_kx8_rows(const void *records, size_t superblocks, size_t first_row, size_t last_row, float *y) {
    dequantize_rows(0, records, superblocks, first_row, last_row, y);
}

void llama_dequantize_q6_kx8_rows(const void *records, size_t superblocks, size_t first_row, size_t last_row, float *y) {
    dequantize_rows(1, records, superblocks, first_row, last_row, y);
}

