// Checks the Q8_0 / Q4_0 and Q4_K / Q6_K kernels of CLlamaKernels against float64 sums of the
// values they multiply, in whatever SIMD level the file is compiled for: x86 AVX2 (with AVX-512 VNNI
// where the CPU has it, or emulated by SIMDe), plain C, or ARM with and without the dot-product
// instruction (run under qemu by scripts/check-kernels.sh). The Swift
// tests cover the AVX2 build through the library; this covers the other builds too.
// Exit status 1 and a line per failure when a product is off.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama_kernels.h"
#include "llama_simd.h"
#include "llama_vnni.h"

static int failures = 0, checks = 0;

static void expect_close(const char *what, size_t index, double got, double want) {
    checks++;
    if (fabs(got - want) > 1e-4 * fmax(1.0, fabs(want))) {
        if (failures++ < 20) fprintf(stderr, "FAIL %s [%zu]: %.7g, expected %.7g\n", what, index, got, want);
    }
}

static unsigned long long state = 88172645463325252ULL;
static float uniform(void) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (float)((state >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}

// Row r · activation as the kernels see both: the dequantized weights times the Q8_0 activation.
static double exact(const float *weights, size_t columns, size_t row, const llama_block_q8_0 *x) {
    double sum = 0;
    for (size_t i = 0; i < columns; i++) {
        sum += (double)weights[row * columns + i] * (double)half_bits_to_float(x[i / 32].d) * x[i / 32].qs[i % 32];
    }
    return sum;
}

static void check_matrix(int q4, size_t rows, size_t blocks, size_t tokens) {
    const size_t columns = 32 * blocks;
    float *values = malloc(rows * columns * sizeof(float)), *weights = malloc(rows * columns * sizeof(float));
    float *activations = malloc(tokens * columns * sizeof(float));
    for (size_t i = 0; i < rows * columns; i++) values[i] = 4 * uniform();
    for (size_t i = 0; i < tokens * columns; i++) activations[i] = 2 * uniform();
    void *w = malloc(rows * blocks * sizeof(llama_block_q8_0)), *records = malloc(rows * blocks * sizeof(llama_block_q8_0));
    llama_block_q8_0 *x = malloc(tokens * blocks * sizeof(llama_block_q8_0));
    for (size_t t = 0; t < tokens; t++) llama_quantize_row_q8_0(activations + t * columns, x + t * blocks, columns);
    if (q4) {
        llama_quantize_row_q4_0(values, w, rows * columns);
        llama_dequantize_row_q4_0(w, weights, rows * columns);
        llama_interleave_q4_0(w, records, rows, blocks);
    } else {
        llama_quantize_row_q8_0(values, w, rows * columns);
        llama_dequantize_row_q8_0(w, weights, rows * columns);
        llama_interleave_q8_0(w, records, rows, blocks);
    }
    char what[96];
    float *y = malloc(tokens * rows * sizeof(float));
    for (size_t r = 0; r < rows; r++) {
        const float got = q4 ? llama_dot_q4_0_q8_0(blocks, (const llama_block_q4_0 *)w + r * blocks, x)
                             : llama_dot_q8_0_q8_0(blocks, (const llama_block_q8_0 *)w + r * blocks, x);
        snprintf(what, sizeof what, "%s dot, %zu blocks", q4 ? "Q4_0" : "Q8_0", blocks);
        expect_close(what, r, got, exact(weights, columns, r, x));
    }
    for (int accumulate = 0; accumulate < 2; accumulate++) {
        // One row through the interleaved matrix-vector kernel, then every token through the GEMMs.
        for (size_t i = 0; i < rows; i++) y[i] = 0.25f;
        if (q4) llama_gemv_q4_0x8_q8_0(blocks, records, 0, rows / 8, x, y, accumulate);
        else llama_gemv_q8_0x8_q8_0(blocks, records, 0, rows / 8, x, y, accumulate);
        snprintf(what, sizeof what, "%s interleaved gemv, %zu blocks, accumulate %d", q4 ? "Q4_0" : "Q8_0", blocks, accumulate);
        for (size_t r = 0; r < rows; r++) expect_close(what, r, y[r], exact(weights, columns, r, x) + (accumulate ? 0.25 : 0));
        for (int interleaved = 0; interleaved < 2; interleaved++) {
            for (size_t i = 0; i < tokens * rows; i++) y[i] = 0.25f;
            if (interleaved) {
                if (q4) llama_gemm_q4_0x8_q8_0(blocks, records, 0, rows / 8, x, tokens, y, rows, accumulate);
                else llama_gemm_q8_0x8_q8_0(blocks, records, 0, rows / 8, x, tokens, y, rows, accumulate);
            } else {
                if (q4) llama_gemm_q4_0_q8_0(blocks, w, 0, rows, x, tokens, y, rows, accumulate);
                else llama_gemm_q8_0_q8_0(blocks, w, 0, rows, x, tokens, y, rows, accumulate);
            }
            snprintf(what, sizeof what, "%s %s gemm, %zu blocks, %zu tokens, accumulate %d", q4 ? "Q4_0" : "Q8_0",
                     interleaved ? "interleaved" : "row-order", blocks, tokens, accumulate);
            for (size_t t = 0; t < tokens; t++) {
                for (size_t r = 0; r < rows; r++) {
                    expect_close(what, t * rows + r, y[t * rows + r], exact(weights, columns, r, x + t * blocks) + (accumulate ? 0.25 : 0));
                }
            }
        }
    }
    free(values); free(weights); free(activations); free(w); free(records); free(x); free(y);
}

// Q4_K / Q6_K: random super-blocks (any scale and value bytes, small d and dmin) against Q8_K
// activations, through the row-order kernels and the interleaved ones (records read in place,
// and gathered back to row order).
static void check_kquant(int q6, size_t rows, size_t superblocks, size_t tokens) {
    const size_t columns = 256 * superblocks, block = q6 ? LLAMA_Q6_K_BYTES : LLAMA_Q4_K_BYTES;
    const size_t bytes = rows * superblocks * block;
    uint8_t *w = malloc(bytes), *records = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)((uniform() + 0.5f) * 256);
    for (size_t b = 0; b < rows * superblocks; b++) {
        for (int h = 0; h < (q6 ? 1 : 2); h++) {
            // A half of magnitude 2^-7..2^-6 and either sign.
            const uint16_t half = (uint16_t)(0x2000 | ((uint16_t)(uniform() * 2048 + 1024) & 0x3FF) | (uniform() < 0 ? 0x8000 : 0));
            memcpy(w + b * block + (q6 ? 208 : 2 * h), &half, 2);
        }
    }
    float *weights = malloc(rows * columns * sizeof(float)), *activations = malloc(tokens * columns * sizeof(float));
    if (q6) llama_dequantize_row_q6_k(w, weights, rows * columns);
    else llama_dequantize_row_q4_k(w, weights, rows * columns);
    for (size_t i = 0; i < tokens * columns; i++) activations[i] = 2 * uniform();
    llama_block_q8_k *x = malloc(tokens * superblocks * sizeof(llama_block_q8_k));
    for (size_t t = 0; t < tokens; t++) llama_quantize_row_q8_k(activations + t * columns, x + t * superblocks, columns);
    if (q6) llama_interleave_q6_k(w, records, rows, superblocks);
    else llama_interleave_q4_k(w, records, rows, superblocks);
    float *y = malloc(tokens * rows * sizeof(float));
    char what[112];
    for (int path = 0; path < 4; path++) {
        // 0: row order, one token; 1: row order, all; 2: interleaved in place (gemv for one
        // token); 3: interleaved, groups gathered back.
        for (int accumulate = 0; accumulate < 2; accumulate++) {
            const size_t n = path == 0 ? 1 : tokens;
            for (size_t i = 0; i < tokens * rows; i++) y[i] = 0.25f;
            if (path < 2) {
                if (q6) llama_gemm_q6_k_q8_k(superblocks, w, 0, rows, x, n, y, rows, accumulate);
                else llama_gemm_q4_k_q8_k(superblocks, w, 0, rows, x, n, y, rows, accumulate);
            } else if (n == 1) {
                if (q6) llama_gemv_q6_kx8_q8_k(superblocks, records, 0, rows / 8, x, y, accumulate);
                else llama_gemv_q4_kx8_q8_k(superblocks, records, 0, rows / 8, x, y, accumulate);
            } else {
                const size_t gather = path == 2 ? 32 : 1;
                if (q6) llama_gemm_q6_kx8_q8_k(superblocks, records, 0, rows / 8, x, n, y, rows, accumulate, gather);
                else llama_gemm_q4_kx8_q8_k(superblocks, records, 0, rows / 8, x, n, y, rows, accumulate, gather);
            }
            snprintf(what, sizeof what, "%s path %d, %zu super-blocks, %zu tokens, accumulate %d", q6 ? "Q6_K" : "Q4_K", path,
                     superblocks, n, accumulate);
            for (size_t t = 0; t < n; t++) {
                for (size_t r = 0; r < rows; r++) {
                    double sum = accumulate ? 0.25 : 0;
                    for (size_t i = 0; i < columns; i++) {
                        sum += (double)weights[r * columns + i] * (double)x[t * superblocks + i / 256].d * x[t * superblocks + i / 256].qs[i % 256];
                    }
                    expect_close(what, t * rows + r, y[t * rows + r], sum);
                }
            }
        }
    }
    free(w); free(records); free(weights); free(activations); free(x); free(y);
}

int main(void) {
    const char *expected = getenv("EXPECT_DOTPROD");
#if defined(LLAMA_NEON)
    const int dotprod = llama_has_dotprod();
    printf("ARM build, dot-product instruction %s\n", dotprod ? "used" : "not available: plain C");
#elif defined(LLAMA_AVX2)
    const int dotprod = llama_vnni_available();
    printf("x86 AVX2 build, AVX-512 VNNI %s\n", dotprod ? "used" : "not available");
#else
    const int dotprod = 0;
    printf("plain C build\n");
#endif
    if (expected && atoi(expected) != dotprod) {
        fprintf(stderr, "FAIL: expected the dot-product (SDOT / VNNI) path %s\n", atoi(expected) ? "on" : "off");
        return 1;
    }
    const size_t shapes[][3] = {{8, 1, 1}, {16, 3, 2}, {40, 24, 5}, {24, 64, 17}};
    for (int q4 = 0; q4 < 2; q4++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) check_matrix(q4, shapes[s][0], shapes[s][1], shapes[s][2]);
    }
    const size_t kquant_shapes[][3] = {{8, 1, 1}, {40, 2, 6}, {16, 8, 17}};
    for (int q6 = 0; q6 < 2; q6++) {
        for (size_t s = 0; s < sizeof kquant_shapes / sizeof kquant_shapes[0]; s++) {
            check_kquant(q6, kquant_shapes[s][0], kquant_shapes[s][1], kquant_shapes[s][2]);
        }
    }
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
