// See llama_kernels.h: Q4_K matrices with eight rows interleaved super-block by super-block,
// so the single-row product keeps the eight rows' sums in the lanes of one register, as the
// Q4_0 kernels do.
//
// A record (1152 bytes, the eight rows' 144-byte super-blocks permuted) holds: the rows' d (8
// halves), their dmin (8 halves), the twelve scale bytes as planes (byte k of row r at 8k + r),
// then the values in 32 chunks of 32 bytes, chunk 8p + g holding bytes 32p + 4g .. + 3 of each
// row's 128 value bytes (row r at 4r): low nibbles are values of sub-block 2p, high nibbles of
// sub-block 2p + 1. Broadcast four activation values against a chunk's nibbles give the eight
// rows' partial products in the int16 lanes (maddubs); eight such sum a sub-block exactly in
// int16 (at most 8·2·15·127), and one madd with the rows' scales takes it to int32 per row.
#include "llama_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "llama_simd.h"

enum { RECORD = 8 * LLAMA_Q4_K_BYTES, VALUES = 128 };

// Row r's super-block in a record ↔ the 144 GGML bytes: d and dmin (2 bytes each), the 12
// scale bytes (one per plane), the 128 value bytes (4 per chunk).
static void block_to_record(const uint8_t *block, size_t r, uint8_t *record) {
    memcpy(record + 2 * r, block, 2);
    memcpy(record + 16 + 2 * r, block + 2, 2);
    for (size_t k = 0; k < 12; k++) record[32 + 8 * k + r] = block[4 + k];
    for (size_t c = 0; c < 32; c++) memcpy(record + 128 + 32 * c + 4 * r, block + 16 + 4 * c, 4);
}

static void record_to_block(const uint8_t *record, size_t r, uint8_t *block) {
    memcpy(block, record + 2 * r, 2);
    memcpy(block + 2, record + 16 + 2 * r, 2);
    for (size_t k = 0; k < 12; k++) block[4 + k] = record[32 + 8 * k + r];
    for (size_t c = 0; c < 32; c++) memcpy(block + 16 + 4 * c, record + 128 + 32 * c + 4 * r, 4);
}

void llama_interleave_q4_k(const void *rows, void *records, size_t row_count, size_t superblocks) {
    const uint8_t *from = rows;
    uint8_t *to = records;
    for (size_t group = 0; group < row_count / 8; group++) {
        for (size_t b = 0; b < superblocks; b++) {
            for (size_t r = 0; r < 8; r++) {
                block_to_record(from + ((group * 8 + r) * superblocks + b) * LLAMA_Q4_K_BYTES, r,
                                to + (group * superblocks + b) * RECORD);
            }
        }
    }
}

// Row r of a group's records (superblocks of them) in GGML order, into `row`.
static void gather_row(const uint8_t *group, size_t superblocks, size_t r, uint8_t *row) {
    for (size_t b = 0; b < superblocks; b++) record_to_block(group + b * RECORD, r, row + b * LLAMA_Q4_K_BYTES);
}

void llama_deinterleave_q4_k(const void *records, void *rows, size_t row_count, size_t superblocks) {
    const uint8_t *from = records;
    uint8_t *to = rows;
    for (size_t row = 0; row < row_count / 8 * 8; row++) {
        gather_row(from + (row / 8) * superblocks * RECORD, superblocks, row % 8, to + row * superblocks * LLAMA_Q4_K_BYTES);
    }
}

void llama_dequantize_q4_kx8_rows(const void *records, size_t superblocks, size_t first_row, size_t last_row, float *y) {
    uint8_t block[LLAMA_Q4_K_BYTES];
    for (size_t row = first_row; row < last_row; row++) {
        const uint8_t *group = (const uint8_t *)records + (row / 8) * superblocks * RECORD;
        for (size_t b = 0; b < superblocks; b++, y += 256) {
            record_to_block(group + b * RECORD, row % 8, block);
            llama_dequantize_row_q4_k(block, y, 256);
        }
    }
}

#if defined(LLAMA_AVX2)
// Streams: groups from this many far-apart parts of a thread's range per pass (as llama_interleaved.c).
#define STREAMS 4

// One record of eight rows against one token's activation block: d·dx·Σ_j s_j·Σ n·x −
// dmin·dx·Σ_j m_j·Σ x per row, in the lanes.
static inline __m256 record_product(const uint8_t *record, const llama_block_q8_k *x, __m128i pair_sums) {
    const __m256i mask4 = _mm256_set1_epi8(0x0F), mask6 = _mm256_set1_epi8(0x3F), mask2 = _mm256_set1_epi8(0x03);
    // Scale planes: P0 = bytes 0..3 of every row (scales 0..3 and high bits of 4..7), P1 = bytes
    // 4..7 (minimums 0..3 and high bits), P2 = bytes 8..11 (low bits of scales / minimums 4..7).
    const __m256i p0 = _mm256_loadu_si256((const __m256i *)(record + 32));
    const __m256i p1 = _mm256_loadu_si256((const __m256i *)(record + 64));
    const __m256i p2 = _mm256_loadu_si256((const __m256i *)(record + 96));
    // Byte 8j + r: scale (minimum) of sub-block j (low: 0..3, high: 4..7) of row r.
    uint8_t scales[64], minimums[64];
    _mm256_storeu_si256((__m256i *)scales, _mm256_and_si256(p0, mask6));
    _mm256_storeu_si256((__m256i *)(scales + 32),
                        _mm256_or_si256(_mm256_and_si256(p2, mask4),
                                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(p0, 6), mask2), 4)));
    _mm256_storeu_si256((__m256i *)minimums, _mm256_and_si256(p1, mask6));
    _mm256_storeu_si256((__m256i *)(minimums + 32),
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(p2, 4), mask4),
                                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(p1, 6), mask2), 4)));
    const uint8_t *values = record + 128;
    __m256i sums = _mm256_setzero_si256();
    for (int p = 0; p < 4; p++) {
        __m256i low = _mm256_setzero_si256(), high = _mm256_setzero_si256();
        for (int g = 0; g < 8; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(values + (8 * p + g) * 32));
            low = _mm256_add_epi16(low, _mm256_maddubs_epi16(_mm256_and_si256(v, mask4), broadcast_group(x->qs + 64 * p, g)));
            high = _mm256_add_epi16(high, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), mask4),
                                                               broadcast_group(x->qs + 64 * p + 32, g)));
        }
        // Row r's scale in int16 lanes 2r and 2r + 1 (a byte widened to 32 bits, copied up).
        const __m256i s_low = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(scales + 16 * p)));
        const __m256i s_high = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(scales + 16 * p + 8)));
        sums = _mm256_add_epi32(sums, _mm256_madd_epi16(low, _mm256_or_si256(s_low, _mm256_slli_epi32(s_low, 16))));
        sums = _mm256_add_epi32(sums, _mm256_madd_epi16(high, _mm256_or_si256(s_high, _mm256_slli_epi32(s_high, 16))));
    }
    // Σ_j m_j · Σ x over sub-block j, two sub-blocks per madd: (m_2k, m_2k+1) of row r in
    // lanes 2r, 2r + 1 against the pair of sums.
    __m256i minimum = _mm256_setzero_si256();
    for (int k = 0; k < 4; k++) {
        const __m128i even = _mm_loadl_epi64((const __m128i *)(minimums + 16 * k));
        const __m128i odd = _mm_loadl_epi64((const __m128i *)(minimums + 16 * k + 8));
        const __m256i pairs = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(even, odd));
        const int32_t word = _mm_extract_epi32(pair_sums, 0);
        minimum = _mm256_add_epi32(minimum, _mm256_madd_epi16(pairs, _mm256_set1_epi32(word)));
        pair_sums = _mm_srli_si128(pair_sums, 4);
    }
    const __m256 dx = _mm256_set1_ps(x->d);
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record)), dx);
    const __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16))), dx);
    return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(minimum), dmin, _mm256_mul_ps(_mm256_cvtepi32_ps(sums), d));
}
#endif

// Without AVX2 (or without memory for the sums): each row gathered back and multiplied by the
// row kernel.
static void gemv_by_rows(size_t superblocks, const uint8_t *records, size_t first_group, size_t last_group,
                         const llama_block_q8_k *x, float *y, int accumulate) {
    uint8_t *row = malloc(superblocks * LLAMA_Q4_K_BYTES);
    for (size_t g = first_group; g < last_group; g++) {
        for (size_t r = 0; r < 8; r++) {
            if (row) {
                gather_row(records + g * superblocks * RECORD, superblocks, r, row);
                llama_gemm_q4_k_q8_k(superblocks, row, 0, 1, x, 1, y + 8 * g + r, 1, accumulate);
            } else {
                float value = 0;
                uint8_t block[LLAMA_Q4_K_BYTES];
                for (size_t b = 0; b < superblocks; b++) {
                    record_to_block(records + (g * superblocks + b) * RECORD, r, block);
                    float part = 0;
                    llama_gemm_q4_k_q8_k(1, block, 0, 1, x + b, 1, &part, 1, 0);
                    value += part;
                }
                y[8 * g + r] = accumulate ? y[8 * g + r] + value : value;
            }
        }
    }
    free(row);
}

void llama_gemv_q4_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, float *y, int accumulate) {
    const uint8_t *records = w;
#if defined(LLAMA_AVX2)
    // Per super-block the activation's sums of sub-blocks, (Σ_2k, Σ_2k+1) pairs as int32 words.
    __m128i small[64];
    __m128i *pair_sums = superblocks <= 64 ? small : malloc(superblocks * sizeof(__m128i));
    if (!pair_sums) {
        gemv_by_rows(superblocks, records, first_group, last_group, x, y, accumulate);
        return;
    }
    for (size_t b = 0; b < superblocks; b++) {
        pair_sums[b] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)x[b].bsums), _mm_loadu_si128((const __m128i *)(x[b].bsums + 8)));
    }
    const size_t per = (last_group - first_group) / STREAMS, left = (last_group - first_group) % STREAMS;
    for (size_t s = 0; s < per + left; s++) {
        // Four far-apart groups per pass, then the groups left over one at a time.
        size_t groups[STREAMS];
        int count = 0;
        if (s < per) {
            for (int k = 0; k < STREAMS; k++) groups[count++] = first_group + s + k * per;
        } else {
            groups[count++] = first_group + STREAMS * per + (s - per);
        }
        __m256 acc[STREAMS];
        for (int k = 0; k < count; k++) acc[k] = _mm256_setzero_ps();
        for (size_t b = 0; b < superblocks; b++) {
            for (int k = 0; k < count; k++) {
                acc[k] = _mm256_add_ps(acc[k], record_product(records + (groups[k] * superblocks + b) * RECORD, x + b, pair_sums[b]));
            }
        }
        for (int k = 0; k < count; k++) {
            float *out = y + groups[k] * 8;
            _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), acc[k]) : acc[k]);
        }
    }
    if (pair_sums != small) free(pair_sums);
#else
    gemv_by_rows(superblocks, records, first_group, last_group, x, y, accumulate);
#endif
}

void llama_gemm_q4_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate,
                            size_t group_tokens) {
    // Each group gathered back to GGML's row order, then the row-order kernels: the eight-row
    // unpacking from group_tokens rows on, the row kernel below.
    const uint8_t *records = w;
    uint8_t *rows = malloc(8 * superblocks * LLAMA_Q4_K_BYTES);
    for (size_t g = first_group; g < last_group; g++) {
        if (!rows) {
            for (size_t t = 0; t < tokens; t++) {
                llama_gemv_q4_kx8_q8_k(superblocks, w, g, g + 1, x + t * superblocks, y + t * ldy, accumulate);
            }
            continue;
        }
        for (size_t r = 0; r < 8; r++) gather_row(records + g * superblocks * RECORD, superblocks, r, rows + r * superblocks * LLAMA_Q4_K_BYTES);
        float *out = y + 8 * g;
        size_t done = 0;
        if (tokens >= group_tokens) done = llama_gemm_q4_k_x8_q8_k(superblocks, rows, 0, 8, x, tokens, out, ldy, accumulate);
        if (done < 8) llama_gemm_q4_k_q8_k(superblocks, rows, done, 8, x, tokens, out, ldy, accumulate);
    }
    free(rows);
}
