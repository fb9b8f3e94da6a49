// See llama_kernels.h: single-row products with float32 weights (decode) and the
// bandwidth probe, written to keep several sequential weight streams in flight.
#include "llama_kernels.h"
#include "llama_simd.h"

void llama_matvec_f32_sequential(const float *w, const float *x, float *y, size_t first, size_t last, size_t cols,
                                 int accumulate) {
    size_t row = first;
#if defined(LLAMA_AVX2)
    if (cols % 32 == 0) {
        // One row at a time, front to back: the whole range is a single sequential stream,
        // which the hardware prefetcher follows best; four accumulators hide the FMA latency.
        for (; row < last; row++) {
            const float *wr = w + row * cols;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            for (size_t i = 0; i < cols; i += 32) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i), _mm256_loadu_ps(x + i), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 8), _mm256_loadu_ps(x + i + 8), a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 16), _mm256_loadu_ps(x + i + 16), a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 24), _mm256_loadu_ps(x + i + 24), a3);
            }
            const float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
            y[row] = accumulate ? y[row] + sum : sum;
        }
    }
#endif
    llama_matvec_f32(w, x, y, row, last, cols, accumulate);
}

#if defined(LLAMA_AVX2)
/// sums[r] = w_r · x for four rows of `cols` floats (any tail included), prefetching
/// `prefetchBytes` bytes from `prefetch` (four cache lines per 16 columns) on the way.
static inline void dot_four_rows(const float *w0, const float *w1, const float *w2, const float *w3, const float *x,
                                 size_t cols, const char *prefetch, size_t prefetchBytes, float sums[4]) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    size_t i = 0, prefetched = 0;
    for (; i + 16 <= cols; i += 16) {
        for (int p = 0; p < 4 && prefetched < prefetchBytes; p++, prefetched += 64) _mm_prefetch(prefetch + prefetched, _MM_HINT_T0);
        const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i), x0, a0);
        b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i + 8), x1, b0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i), x0, a1);
        b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i + 8), x1, b1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + i), x0, a2);
        b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + i + 8), x1, b2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + i), x0, a3);
        b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + i + 8), x1, b3);
    }
    sums[0] = horizontal_sum(_mm256_add_ps(a0, b0));
    sums[1] = horizontal_sum(_mm256_add_ps(a1, b1));
    sums[2] = horizontal_sum(_mm256_add_ps(a2, b2));
    sums[3] = horizontal_sum(_mm256_add_ps(a3, b3));
    for (; i < cols; i++) {
        sums[0] += w0[i] * x[i]; sums[1] += w1[i] * x[i]; sums[2] += w2[i] * x[i]; sums[3] += w3[i] * x[i];
    }
}
#endif

void llama_matvec_f32_quarters(const float *w, const float *x, float *y, size_t first, size_t last, size_t cols,
                               int accumulate) {
    size_t done = first;
#if defined(LLAMA_AVX2)
    const size_t quarter = (last - first) / 4;
    if (quarter > 0) {
        // Four rows at a time, one from each quarter of the range: four sequential streams
        // far apart, which keep more DRAM banks busy than four neighbouring rows do.
        for (size_t j = 0; j < quarter; j++) {
            const size_t r0 = first + j, r1 = r0 + quarter, r2 = r1 + quarter, r3 = r2 + quarter;
            float sums[4];
            dot_four_rows(w + r0 * cols, w + r1 * cols, w + r2 * cols, w + r3 * cols, x, cols, NULL, 0, sums);
            const size_t rows[4] = {r0, r1, r2, r3};
            for (int r = 0; r < 4; r++) y[rows[r]] = accumulate ? y[rows[r]] + sums[r] : sums[r];
        }
        done = first + 4 * quarter;
    }
#endif
    llama_matvec_f32(w, x, y, done, last, cols, accumulate);
}

void llama_matvec_f32(const float *w, const float *x, float *y, size_t first, size_t last, size_t cols, int accumulate) {
    size_t row = first;
#if defined(LLAMA_AVX2)
    for (; row + 4 <= last; row += 4) {
        const float *w0 = w + row * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        const char *next = (const char *)(w0 + 4 * cols);
        const size_t nextBytes = (row + 8 <= last ? 4 : 0) * cols * sizeof(float);
        // The next four rows are requested while these four are read (3 KB rows are too short
        // for the hardware prefetcher to ramp up on).
        float sums[4];
        dot_four_rows(w0, w1, w2, w3, x, cols, next, nextBytes, sums);
        for (int r = 0; r < 4; r++) y[row + r] = accumulate ? y[row + r] + sums[r] : sums[r];
    }
#endif
    for (; row < last; row++) {
        const float *wr = w + row * cols;
        float sum = 0;
        for (size_t i = 0; i < cols; i++) sum += wr[i] * x[i];
        y[row] = accumulate ? y[row] + sum : sum;
    }
}

float llama_stream_sum(const float *p, size_t count) {
    const size_t quarter = count / 4 / 8 * 8;
    float total = 0;
#if defined(LLAMA_AVX2)
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    for (size_t i = 0; i < quarter; i += 8) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + quarter + i));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + 2 * quarter + i));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + 3 * quarter + i));
    }
    total = horizontal_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
#else
    for (size_t i = 0; i < 4 * quarter; i++) total += p[i];
#endif
    for (size_t i = 4 * quarter; i < count; i++) total += p[i];
    return total;
}
