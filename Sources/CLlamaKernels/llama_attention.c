// See llama_kernels.h: the two halves of one query row's attention against a key/value
// cache whose rows are `stride` floats apart (all heads of a position side by side).
#include "llama_kernels.h"

#include "llama_simd.h"

void llama_attention_scores(const float *q, const float *keys, size_t stride, size_t length, size_t dim,
                            float scale, float *scores) {
    size_t s = 0;
#if defined(LLAMA_AVX2)
    const size_t vector_dim = dim & ~(size_t)7;
    const __m256 factor = _mm256_set1_ps(scale);
    // Eight positions at a time: eight independent multiply-add chains, then one transpose-sum.
    for (; s + 8 <= length; s += 8) {
        const float *k = keys + s * stride;
        __m256 a[8];
        for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();
        for (size_t i = 0; i < vector_dim; i += 8) {
            const __m256 x = _mm256_loadu_ps(q + i);
            for (int r = 0; r < 8; r++) a[r] = _mm256_fmadd_ps(x, _mm256_loadu_ps(k + r * stride + i), a[r]);
        }
        const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
        const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
        const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
        __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
        if (vector_dim < dim) {
            float tail[8];
            for (int r = 0; r < 8; r++) {
                float t = 0;
                for (size_t i = vector_dim; i < dim; i++) t += q[i] * k[r * stride + i];
                tail[r] = t;
            }
            sums = _mm256_add_ps(sums, _mm256_loadu_ps(tail));
        }
        _mm256_storeu_ps(scores + s, _mm256_mul_ps(sums, factor));
    }
#endif
    for (; s < length; s++) {
        const float *k = keys + s * stride;
        float total = 0;
        for (size_t i = 0; i < dim; i++) total += q[i] * k[i];
        scores[s] = total * scale;
    }
}

void llama_attention_values(const float *p, const float *values, size_t stride, size_t length, size_t dim,
                            float *out) {
    size_t column = 0;
#if defined(LLAMA_AVX2)
    // 64 output columns live in eight registers while every position is added in.
    for (; column + 64 <= dim; column += 64) {
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        for (size_t s = 0; s < length; s++) {
            const float *v = values + s * stride + column;
            const __m256 weight = _mm256_broadcast_ss(p + s);
            for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(v + 8 * j), a[j]);
        }
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(out + column + 8 * j, a[j]);
    }
    for (; column + 8 <= dim; column += 8) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        size_t s = 0;
        for (; s + 2 <= length; s += 2) {
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + s), _mm256_loadu_ps(values + s * stride + column), a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + s + 1), _mm256_loadu_ps(values + (s + 1) * stride + column), a1);
        }
        if (s < length) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + s), _mm256_loadu_ps(values + s * stride + column), a0);
        _mm256_storeu_ps(out + column, _mm256_add_ps(a0, a1));
    }
#endif
    for (; column < dim; column++) {
        float total = 0;
        for (size_t s = 0; s < length; s++) total += p[s] * values[s * stride + column];
        out[column] = total;
    }
}
