// See llama_kernels.h: the two halves of one query row's attention against a key/value
// cache whose rows are `stride` elements apart, stored as float32 or as IEEE half. Each
// kernel is written once, over an element reader that the always-inlined `half` flag
// specialises at compile time.
#include "llama_kernels.h"

#include "llama_simd.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE float element(const void *base, size_t index, int half) {
    return half ? half_to_float(((const uint16_t *)base)[index]) : ((const float *)base)[index];
}

// Asks for row `row` of a cache matrix (dim elements, `stride` apart) to be brought into the
// cache ahead of its use by the next kernel call; nothing when `base` is NULL.
ALWAYS_INLINE void prefetch_row(const void *base, size_t row, size_t stride, size_t dim, int half) {
    if (!base) return;
    const size_t size = half ? 2 : 4;
    const char *first = (const char *)base + row * stride * size;
    const uintptr_t last = ((uintptr_t)first + dim * size - 1) & ~(uintptr_t)63;
    for (uintptr_t line = (uintptr_t)first & ~(uintptr_t)63; line <= last; line += 64) {
        __builtin_prefetch((const void *)line, 0, 3);
    }
}

#if defined(LLAMA_AVX2)
ALWAYS_INLINE __m256 eight_elements(const void *base, size_t index, int half) {
    return half ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + index)))
                : _mm256_loadu_ps((const float *)base + index);
}
#endif

ALWAYS_INLINE void attention_scores(const float *q, const void *keys, size_t stride, size_t length, size_t dim,
                                    float scale, float *scores, const void *prefetch, int half) {
    size_t s = 0;
#if defined(LLAMA_AVX2)
    const size_t vector_dim = dim & ~(size_t)7;
    const __m256 factor = _mm256_set1_ps(scale);
    // Eight positions at a time: eight independent multiply-add chains, then one transpose-sum.
    for (; s + 8 <= length; s += 8) {
        const size_t k = s * stride;
        for (int r = 0; r < 8; r++) prefetch_row(prefetch, s + r, stride, dim, half);
        __m256 a[8];
        for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();
        for (size_t i = 0; i < vector_dim; i += 8) {
            const __m256 x = _mm256_loadu_ps(q + i);
            for (int r = 0; r < 8; r++) a[r] = _mm256_fmadd_ps(x, eight_elements(keys, k + r * stride + i, half), a[r]);
        }
        const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
        const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
        const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
        __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
        if (vector_dim < dim) {
            float tail[8];
            for (int r = 0; r < 8; r++) {
                float t = 0;
                for (size_t i = vector_dim; i < dim; i++) t += q[i] * element(keys, k + r * stride + i, half);
                tail[r] = t;
            }
            sums = _mm256_add_ps(sums, _mm256_loadu_ps(tail));
        }
        _mm256_storeu_ps(scores + s, _mm256_mul_ps(sums, factor));
    }
#endif
    for (; s < length; s++) {
        prefetch_row(prefetch, s, stride, dim, half);
        float total = 0;
        for (size_t i = 0; i < dim; i++) total += q[i] * element(keys, s * stride + i, half);
        scores[s] = total * scale;
    }
}

ALWAYS_INLINE void attention_values(const float *p, const void *values, size_t stride, size_t length, size_t dim,
                                    float *out, const void *prefetch, int half) {
    size_t column = 0;
#if defined(LLAMA_AVX2)
    // 64 output columns live in eight registers while every position is added in.
    for (; column + 64 <= dim; column += 64) {
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        for (size_t s = 0; s < length; s++) {
            const size_t v = s * stride + column;
            if (column == 0) prefetch_row(prefetch, s, stride, dim, half);
            const __m256 weight = _mm256_broadcast_ss(p + s);
            for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(weight, eight_elements(values, v + 8 * j, half), a[j]);
        }
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(out + column + 8 * j, a[j]);
    }
    for (; column + 8 <= dim; column += 8) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        size_t s = 0;
        for (; s + 2 <= length; s += 2) {
            if (column == 0) {
                prefetch_row(prefetch, s, stride, dim, half);
                prefetch_row(prefetch, s + 1, stride, dim, half);
            }
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + s), eight_elements(values, s * stride + column, half), a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + s + 1), eight_elements(values, (s + 1) * stride + column, half), a1);
        }
        if (s < length) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + s), eight_elements(values, s * stride + column, half), a0);
        _mm256_storeu_ps(out + column, _mm256_add_ps(a0, a1));
    }
#endif
    for (; column < dim; column++) {
        float total = 0;
        for (size_t s = 0; s < length; s++) {
            if (column == 0) prefetch_row(prefetch, s, stride, dim, half);
            total += p[s] * element(values, s * stride + column, half);
        }
        out[column] = total;
    }
}

void llama_attention_scores(const float *q, const float *keys, size_t stride, size_t length, size_t dim,
                            float scale, float *scores, const float *prefetch) {
    attention_scores(q, keys, stride, length, dim, scale, scores, prefetch, 0);
}

void llama_attention_scores_f16(const float *q, const uint16_t *keys, size_t stride, size_t length, size_t dim,
                                float scale, float *scores, const uint16_t *prefetch) {
    attention_scores(q, keys, stride, length, dim, scale, scores, prefetch, 1);
}

void llama_attention_values(const float *p, const float *values, size_t stride, size_t length, size_t dim,
                            float *out, const float *prefetch) {
    attention_values(p, values, stride, length, dim, out, prefetch, 0);
}

void llama_attention_values_f16(const float *p, const uint16_t *values, size_t stride, size_t length, size_t dim,
                                float *out, const uint16_t *prefetch) {
    attention_values(p, values, stride, length, dim, out, prefetch, 1);
}
