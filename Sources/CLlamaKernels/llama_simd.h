// Private to the C kernels: the x86 SIMD level they are compiled for, and helpers they share.
#ifndef LLAMA_SIMD_H
#define LLAMA_SIMD_H

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define LLAMA_AVX2 1

/// The sum of a vector's eight lanes.
static inline float horizontal_sum(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}
#endif

#endif
