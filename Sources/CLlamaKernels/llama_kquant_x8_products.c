// See llama_kernels.h: products of interleaved Q4_K / Q6_K records (llama_kquant_x8.c) with
// Q8_K activation rows, the eight rows' sums in the lanes of one register.
//
// Q4_K: broadcast four activation values against a chunk's nibbles give the eight rows'
// partial products in the int16 lanes (maddubs); eight such sum a sub-block exactly in int16
// (at most 8·2·15·127), one madd with the rows' scales takes it to int32 per row, and
// dmin·dx·Σ_j m_j·Σ x comes off per row from the activation's sums of 16.
// Q6_K: values 0..63 (stored v + 32): two maddubs per int16 sum (at most 4·63·127), one madd
// with the scale per 16 values, and 32·Σ_j s_j·Σ x taken off per row.
// One activation row (decode) reads four far-apart groups per pass; up to `gather_tokens` rows
// are taken four at a time against each record, which is unpacked once for them; from there on
// each group is gathered back to row order for the eight-row GEMM of llama_kquant_gemm.c.
#include "llama_kernels.h"

#include <stdlib.h>
#include <string.h>

#include "llama_kquant_x8.h"
#include "llama_simd.h"
#include "llama_vnni.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

#if defined(LLAMA_AVX2)
// Streams: groups from this many far-apart parts of a thread's range per pass (as llama_interleaved.c).
#define STREAMS 4
// Activation rows multiplied with a record at once.
#define TILE 4

// Per-row coefficients of sub-blocks 2k and 2k + 1 (byte planes 2k, 2k + 1: byte r is row r's)
// as int16 pairs in lanes 2r, 2r + 1, for a madd against the pair (Σ_2k, Σ_2k+1) of activation
// sums; bytes read as signed (Q6_K scales) or unsigned (Q4_K minimums).
ALWAYS_INLINE __m256i coefficient_pairs(const uint8_t *planes, int k, int is_signed) {
    const __m128i even = _mm_loadl_epi64((const __m128i *)(planes + 16 * k));
    const __m128i odd = _mm_loadl_epi64((const __m128i *)(planes + 16 * k + 8));
    const __m128i bytes = _mm_unpacklo_epi8(even, odd);
    return is_signed ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
}

// A record's product is taken in three steps so that one activation row can go through the
// records of four far-apart groups a quarter at a time: prepare (Q4_K: unpack the scales and
// minimums), four quarters of integer sums, finish (offsets, scales, into the float sums).
// Within the window of instructions the core runs ahead, the four streams' next cache lines are
// then all in flight (record at a time, a 1152-byte record of one stream filled it, and from
// memory the Q4_K kernel streamed at 8–15 against Q4_0's 14–18 GB/s on one core; a quarter at
// a time, 17–18).

// Q4_K: byte 8j + r of `scales` (`minimums`) is the scale (minimum) of sub-block j of row r.
ALWAYS_INLINE void q4_prepare(const uint8_t *record, uint8_t *scales, uint8_t *minimums) {
    const __m256i mask4 = _mm256_set1_epi8(0x0F), mask6 = _mm256_set1_epi8(0x3F), mask2 = _mm256_set1_epi8(0x03);
    // Scale planes: P0 = bytes 0..3 of every row (scales 0..3 and high bits of 4..7), P1 = bytes
    // 4..7 (minimums 0..3 and high bits), P2 = bytes 8..11 (low bits of scales / minimums 4..7).
    const __m256i p0 = _mm256_loadu_si256((const __m256i *)(record + 32));
    const __m256i p1 = _mm256_loadu_si256((const __m256i *)(record + 64));
    const __m256i p2 = _mm256_loadu_si256((const __m256i *)(record + 96));
    _mm256_storeu_si256((__m256i *)scales, _mm256_and_si256(p0, mask6));
    _mm256_storeu_si256((__m256i *)(scales + 32),
                        _mm256_or_si256(_mm256_and_si256(p2, mask4),
                                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(p0, 6), mask2), 4)));
    _mm256_storeu_si256((__m256i *)minimums, _mm256_and_si256(p1, mask6));
    _mm256_storeu_si256((__m256i *)(minimums + 32),
                        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(p2, 4), mask4),
                                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(p1, 6), mask2), 4)));
}

// Q4_K quarter p (sub-blocks 2p, low nibbles, and 2p + 1, high nibbles): sums[t] += Σ_j s_j·Σ n·x.
ALWAYS_INLINE void q4_quarter(const uint8_t *record, const uint8_t *scales, int p, const llama_block_q8_k *const *x, int n,
                              __m256i *sums) {
    const __m256i mask4 = _mm256_set1_epi8(0x0F);
    const uint8_t *values = record + 128 + 256 * p;
    for (int nibble = 0; nibble < 2; nibble++) {
        __m256i part[TILE];
        for (int t = 0; t < n; t++) part[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(values + 32 * g));
            const __m256i q = _mm256_and_si256(nibble ? _mm256_srli_epi16(v, 4) : v, mask4);
            for (int t = 0; t < n; t++) {
                part[t] = _mm256_add_epi16(part[t], _mm256_maddubs_epi16(q, broadcast_group(x[t]->qs + 64 * p + 32 * nibble, g)));
            }
        }
        // Row r's scale in int16 lanes 2r and 2r + 1 (a byte widened to 32 bits, copied up).
        const __m256i s = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(scales + 16 * p + 8 * nibble)));
        const __m256i scale = _mm256_or_si256(s, _mm256_slli_epi32(s, 16));
        for (int t = 0; t < n; t++) sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(part[t], scale));
    }
}

// Q4_K: acc[t] += d·dx·sums[t] − dmin·dx·Σ_j m_j·Σ x per row; pair_sums[t]: x[t]'s sums of
// sub-blocks, (Σ_2k, Σ_2k+1) as int32 words.
ALWAYS_INLINE void q4_finish(const uint8_t *record, const uint8_t *minimums, const llama_block_q8_k *const *x, int n,
                             const __m128i *pair_sums, const __m256i *sums, __m256 *acc) {
    // Σ_j m_j · Σ x over sub-block j, two sub-blocks per madd.
    __m256i pairs[4];
    for (int k = 0; k < 4; k++) pairs[k] = coefficient_pairs(minimums, k, 0);
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record));
    const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16)));
    for (int t = 0; t < n; t++) {
        int32_t words[4];
        memcpy(words, &pair_sums[t], 16);
        __m256i minimum = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++) minimum = _mm256_add_epi32(minimum, _mm256_madd_epi16(pairs[k], _mm256_set1_epi32(words[k])));
        const __m256 dx = _mm256_set1_ps(x[t]->d);
        acc[t] = _mm256_add_ps(acc[t], _mm256_fnmadd_ps(_mm256_cvtepi32_ps(minimum), _mm256_mul_ps(dmin, dx),
                                                        _mm256_mul_ps(_mm256_cvtepi32_ps(sums[t]), _mm256_mul_ps(d, dx))));
    }
}

// Q6_K quarter q (half q/2, steps 4·(q%2) .. + 3): sums[t] += Σ_j s_j·Σ v·x. Steps g = 4·part ..
// 4·part + 3 of a half hold, in class k, values of sub-block 8·half + 2k + part (q6_step_values).
ALWAYS_INLINE void q6_quarter(const uint8_t *record, int q, const llama_block_q8_k *const *x, int n, __m256i *sums) {
    const int half = q / 2, part = q % 2;
    const uint8_t *planes = record + 16, *steps = record + 144;
    for (int k = 0; k < 4; k++) {
        const __m128i plane = _mm_loadl_epi64((const __m128i *)(planes + 8 * (8 * half + 2 * k + part)));
        const __m256i scale = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(plane, plane));
        for (int pair = 0; pair < 2; pair++) {
            const int g = 4 * part + 2 * pair;
            const __m256i v0 = q6_step_values(steps, 8 * half + g, k), v1 = q6_step_values(steps, 8 * half + g + 1, k);
            for (int t = 0; t < n; t++) {
                const int8_t *xq = x[t]->qs + 128 * half + 32 * k;
                const __m256i products = _mm256_add_epi16(_mm256_maddubs_epi16(v0, broadcast_group(xq, g)),
                                                          _mm256_maddubs_epi16(v1, broadcast_group(xq, g + 1)));
                sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(products, scale));
            }
        }
    }
}

// Q6_K: acc[t] += d·dx·(sums[t] − 32·Σ_j s_j·Σ x) per row.
ALWAYS_INLINE void q6_finish(const uint8_t *record, const llama_block_q8_k *const *x, int n, const __m256i *sums,
                             __m256 *acc) {
    // Σ_j s_j·Σ x over sub-block j, two sub-blocks per madd.
    __m256i pairs[8];
    for (int k = 0; k < 8; k++) pairs[k] = coefficient_pairs(record + 16, k, 1);
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record));
    for (int t = 0; t < n; t++) {
        __m256i offset = _mm256_setzero_si256();
        for (int k = 0; k < 8; k++) {
            int32_t word;
            memcpy(&word, x[t]->bsums + 2 * k, 4);
            offset = _mm256_add_epi32(offset, _mm256_madd_epi16(pairs[k], _mm256_set1_epi32(word)));
        }
        const __m256i total = _mm256_sub_epi32(sums[t], _mm256_slli_epi32(offset, 5));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(x[t]->d)), acc[t]);
    }
}

// The three steps for either type (scales / minimums: Q4_K's unpacked ones, 64 bytes each).
ALWAYS_INLINE void record_prepare(int q6, const uint8_t *record, uint8_t *scales, uint8_t *minimums) {
    if (!q6) q4_prepare(record, scales, minimums);
}

ALWAYS_INLINE void record_quarter(int vnni, int q6, const uint8_t *record, const uint8_t *scales, int q,
                                  const llama_block_q8_k *const *x, int n, __m256i *sums) {
    if (vnni) llama_vnni_kquant_quarter(q6, record, scales, q, x, n, sums);
    else if (q6) q6_quarter(record, q, x, n, sums);
    else q4_quarter(record, scales, q, x, n, sums);
}

ALWAYS_INLINE void record_finish(int q6, const uint8_t *record, const uint8_t *minimums, const llama_block_q8_k *const *x,
                                 int n, const __m128i *pair_sums, const __m256i *sums, __m256 *acc) {
    if (q6) q6_finish(record, x, n, sums, acc);
    else q4_finish(record, minimums, x, n, pair_sums, sums, acc);
}

// Q4_K: x's sums of sub-blocks, (Σ_2k, Σ_2k+1) pairs as int32 words, per block.
static void sub_block_pairs(const llama_block_q8_k *x, size_t count, __m128i *pair_sums) {
    for (size_t b = 0; b < count; b++) {
        pair_sums[b] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)x[b].bsums), _mm_loadu_si128((const __m128i *)(x[b].bsums + 8)));
    }
}

ALWAYS_INLINE void store_sums(float *out, __m256 sums, int accumulate) {
    _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), sums) : sums);
}

// One activation row against `count` groups (a constant after inlining), their records taken a
// quarter at a time each.
ALWAYS_INLINE void groups_one_row(int vnni, int q6, size_t superblocks, const uint8_t *records, const size_t *groups, int count,
                                  const llama_block_q8_k *x, const __m128i *pair_sums, float *y, int accumulate) {
    const size_t record = record_bytes(q6);
    __m256 acc[STREAMS];
    for (int k = 0; k < count; k++) acc[k] = _mm256_setzero_ps();
    for (size_t b = 0; b < superblocks; b++) {
        const llama_block_q8_k *xb = x + b;
        const uint8_t *at[STREAMS];
        uint8_t scales[STREAMS][64], minimums[STREAMS][64];
        __m256i sums[STREAMS];
        for (int k = 0; k < count; k++) {
            at[k] = records + (groups[k] * superblocks + b) * record;
            record_prepare(q6, at[k], scales[k], minimums[k]);
            sums[k] = _mm256_setzero_si256();
        }
        for (int q = 0; q < 4; q++) {
            for (int k = 0; k < count; k++) record_quarter(vnni, q6, at[k], scales[k], q, &xb, 1, &sums[k]);
        }
        for (int k = 0; k < count; k++) record_finish(q6, at[k], minimums[k], &xb, 1, pair_sums + b, &sums[k], &acc[k]);
    }
    for (int k = 0; k < count; k++) store_sums(y + groups[k] * 8, acc[k], accumulate);
}

// One activation row: four far-apart groups per pass, then the groups left over one at a time.
ALWAYS_INLINE void one_row(int vnni, int q6, size_t superblocks, const uint8_t *records, size_t first_group, size_t last_group,
                           const llama_block_q8_k *x, const __m128i *pair_sums, float *y, int accumulate) {
    const size_t per = (last_group - first_group) / STREAMS;
    for (size_t s = 0; s < per; s++) {
        size_t groups[STREAMS];
        for (int k = 0; k < STREAMS; k++) groups[k] = first_group + s + k * per;
        groups_one_row(vnni, q6, superblocks, records, groups, STREAMS, x, pair_sums, y, accumulate);
    }
    for (size_t g = first_group + STREAMS * per; g < last_group; g++) {
        groups_one_row(vnni, q6, superblocks, records, &g, 1, x, pair_sums, y, accumulate);
    }
}

// Activation rows first_token ..+ n (n ≤ TILE, a constant after inlining) against one group.
ALWAYS_INLINE void group_tile(int vnni, int q6, size_t superblocks, const uint8_t *group, const llama_block_q8_k *x,
                              size_t first_token, int n, const __m128i *pair_sums, float *y, size_t ldy, int accumulate) {
    __m256 acc[TILE];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (size_t b = 0; b < superblocks; b++) {
        const llama_block_q8_k *xb[TILE];
        __m128i sums[TILE];
        for (int t = 0; t < n; t++) {
            xb[t] = x + (first_token + t) * superblocks + b;
            if (!q6) sums[t] = pair_sums[(first_token + t) * superblocks + b];
        }
        const uint8_t *record = group + b * record_bytes(q6);
        uint8_t scales[64], minimums[64];
        __m256i totals[TILE];
        for (int t = 0; t < n; t++) totals[t] = _mm256_setzero_si256();
        record_prepare(q6, record, scales, minimums);
        for (int q = 0; q < 4; q++) record_quarter(vnni, q6, record, scales, q, xb, n, totals);
        record_finish(q6, record, minimums, xb, n, sums, totals, acc);
    }
    for (int t = 0; t < n; t++) store_sums(y + (first_token + t) * ldy, acc[t], accumulate);
}

// Several activation rows, each group's records read in place: rows four at a time.
ALWAYS_INLINE void few_rows(int vnni, int q6, size_t superblocks, const uint8_t *records, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, const __m128i *pair_sums, float *y, size_t ldy,
                            int accumulate) {
    for (size_t g = first_group; g < last_group; g++) {
        const uint8_t *group = records + g * superblocks * record_bytes(q6);
        float *out = y + 8 * g;
        size_t t = 0;
        for (; t + TILE <= tokens; t += TILE) group_tile(vnni, q6, superblocks, group, x, t, TILE, pair_sums, out, ldy, accumulate);
        switch (tokens - t) {
        case 3: group_tile(vnni, q6, superblocks, group, x, t, 3, pair_sums, out, ldy, accumulate); break;
        case 2: group_tile(vnni, q6, superblocks, group, x, t, 2, pair_sums, out, ldy, accumulate); break;
        case 1: group_tile(vnni, q6, superblocks, group, x, t, 1, pair_sums, out, ldy, accumulate); break;
        default: break;
        }
    }
}
#endif

// Rows first..<last of a row-order Q4_K / Q6_K matrix (llama_kquant_dot.c).
static void row_kernel(int q6, size_t superblocks, const uint8_t *w, size_t first, size_t last, const llama_block_q8_k *x,
                       size_t tokens, float *y, size_t ldy, int accumulate) {
    if (q6) llama_gemm_q6_k_q8_k(superblocks, w, first, last, x, tokens, y, ldy, accumulate);
    else llama_gemm_q4_k_q8_k(superblocks, w, first, last, x, tokens, y, ldy, accumulate);
}

// Each group gathered back to GGML's row order, then the eight-row unpacking of
// llama_kquant_gemm.c (and the row kernel for what it leaves: everything without AVX2).
static void gathered(int q6, size_t superblocks, const uint8_t *records, size_t first_group, size_t last_group,
                     const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate) {
    const size_t row_bytes = superblocks * block_bytes(q6);
    uint8_t *rows = malloc(8 * row_bytes);
    uint8_t block[LLAMA_Q6_K_BYTES];
    for (size_t g = first_group; g < last_group; g++) {
        const uint8_t *group = records + g * superblocks * record_bytes(q6);
        float *out = y + 8 * g;
        if (!rows) {
            // Without memory for a group: one super-block of one row at a time.
            for (size_t r = 0; r < 8; r++) {
                for (size_t t = 0; t < tokens; t++) {
                    float value = accumulate ? out[t * ldy + r] : 0;
                    for (size_t b = 0; b < superblocks; b++) {
                        llama_kquant_x8_gather_row(q6, group + b * record_bytes(q6), 1, r, block);
                        float part = 0;
                        row_kernel(q6, 1, block, 0, 1, x + t * superblocks + b, 1, &part, 1, 0);
                        value += part;
                    }
                    out[t * ldy + r] = value;
                }
            }
            continue;
        }
        for (size_t r = 0; r < 8; r++) llama_kquant_x8_gather_row(q6, group, superblocks, r, rows + r * row_bytes);
        const size_t done = q6 ? llama_gemm_q6_k_x8_q8_k(superblocks, rows, 0, 8, x, tokens, out, ldy, accumulate)
                               : llama_gemm_q4_k_x8_q8_k(superblocks, rows, 0, 8, x, tokens, out, ldy, accumulate);
        if (done < 8) row_kernel(q6, superblocks, rows, done, 8, x, tokens, out, ldy, accumulate);
    }
    free(rows);
}

ALWAYS_INLINE void products(int q6, size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate,
                            size_t gather_tokens) {
    const uint8_t *records = w;
#if defined(LLAMA_AVX2)
    if (tokens < gather_tokens || tokens == 1) {
        const size_t count = q6 ? 0 : tokens * superblocks;
        __m128i small[64];
        __m128i *pair_sums = count <= 64 ? small : malloc(count * sizeof(__m128i));
        if (pair_sums) {
            sub_block_pairs(x, count, pair_sums);
            const int vnni = llama_vnni_available();
            if (tokens == 1) one_row(vnni, q6, superblocks, records, first_group, last_group, x, pair_sums, y, accumulate);
            else few_rows(vnni, q6, superblocks, records, first_group, last_group, x, tokens, pair_sums, y, ldy, accumulate);
            if (pair_sums != small) free(pair_sums);
            return;
        }
    }
#endif
    gathered(q6, superblocks, records, first_group, last_group, x, tokens, y, ldy, accumulate);
}

void llama_gemv_q4_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, float *y, int accumulate) {
    products(0, superblocks, w, first_group, last_group, x, 1, y, 0, accumulate, 2);
}

void llama_gemv_q6_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, float *y, int accumulate) {
    products(1, superblocks, w, first_group, last_group, x, 1, y, 0, accumulate, 2);
}

void llama_gemm_q4_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate,
                            size_t gather_tokens) {
    products(0, superblocks, w, first_group, last_group, x, tokens, y, ldy, accumulate, gather_tokens);
}

void llama_gemm_q6_kx8_q8_k(size_t superblocks, const void *w, size_t first_group, size_t last_group,
                            const llama_block_q8_k *x, size_t tokens, float *y, size_t ldy, int accumulate,
                            size_t gather_tokens) {
    products(1, superblocks, w, first_group, last_group, x, tokens, y, ldy, accumulate, gather_tokens);
}

int llama_kquant_x8_reads_in_place(void) {
#if defined(LLAMA_AVX2)
    return 1;
#else
    return 0;
#endif
}
