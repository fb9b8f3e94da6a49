// See llama_kernels.h: attention of several consecutive query rows of one head (prefill) as two
// register-blocked products. The keys are first transposed into a panel (dimension-major,
// positions contiguous) so that LLAMA_ATTENTION_ROWS rows × 16 positions of scores build up in
// twelve registers from broadcast query values; the weighted value sums then build up
// LLAMA_ATTENTION_ROWS rows × 16 columns at a time from broadcast probabilities.
#include "llama_kernels.h"

#include "llama_simd.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE float cached_value(const void *base, size_t index, int half) {
    return half ? half_to_float(((const uint16_t *)base)[index]) : ((const float *)base)[index];
}

size_t llama_attention_panel_width(size_t length) { return (length + 15) & ~(size_t)15; }

void llama_attention_pack_keys(const void *keys, int half, size_t stride, size_t length, size_t dim, float *panel) {
    const size_t width = llama_attention_panel_width(length);
    for (size_t s = 0; s < length; s++) {
        for (size_t i = 0; i < dim; i++) panel[i * width + s] = cached_value(keys, s * stride + i, half);
    }
    for (size_t i = 0; i < dim; i++) {
        for (size_t s = length; s < width; s++) panel[i * width + s] = 0;
    }
}

#if defined(LLAMA_AVX2)
// `rows` (a compile-time constant after inlining) rows × 16 positions per step, in registers.
ALWAYS_INLINE void scores_tile(const float *q, size_t q_stride, const int rows, const float *panel, size_t width,
                               size_t end, size_t dim, float scale, float *scores, size_t score_stride) {
    const __m256 factor = _mm256_set1_ps(scale);
    for (size_t s = 0; s < end; s += 16) {
        __m256 a[LLAMA_ATTENTION_ROWS][2];
        for (int r = 0; r < rows; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
        for (size_t i = 0; i < dim; i++) {
            const __m256 k0 = _mm256_loadu_ps(panel + i * width + s), k1 = _mm256_loadu_ps(panel + i * width + s + 8);
            for (int r = 0; r < rows; r++) {
                const __m256 x = _mm256_broadcast_ss(q + r * q_stride + i);
                a[r][0] = _mm256_fmadd_ps(x, k0, a[r][0]);
                a[r][1] = _mm256_fmadd_ps(x, k1, a[r][1]);
            }
        }
        for (int r = 0; r < rows; r++) {
            _mm256_storeu_ps(scores + r * score_stride + s, _mm256_mul_ps(a[r][0], factor));
            _mm256_storeu_ps(scores + r * score_stride + s + 8, _mm256_mul_ps(a[r][1], factor));
        }
    }
}
#endif

void llama_attention_scores_rows(const float *q, size_t q_stride, size_t rows, const float *panel, size_t panel_width,
                                 size_t length, size_t dim, float scale, float *scores, size_t score_stride) {
    const size_t width = panel_width;
    size_t s = 0;
#if defined(LLAMA_AVX2)
    const size_t end = llama_attention_panel_width(length);
#define SCORES_TILE(ROWS) scores_tile(q, q_stride, ROWS, panel, width, end, dim, scale, scores, score_stride)
    switch (rows) {
    case 1: SCORES_TILE(1); break;
    case 2: SCORES_TILE(2); break;
    case 3: SCORES_TILE(3); break;
    case 4: SCORES_TILE(4); break;
    case 5: SCORES_TILE(5); break;
    case 6: SCORES_TILE(6); break;
    default: break;
    }
    if (rows >= 1 && rows <= LLAMA_ATTENTION_ROWS) s = end;
#endif
    for (; s < length; s++) {
        for (size_t r = 0; r < rows; r++) {
            float total = 0;
            for (size_t i = 0; i < dim; i++) total += q[r * q_stride + i] * panel[i * width + s];
            scores[r * score_stride + s] = total * scale;
        }
    }
}

// `rows` (a compile-time constant after inlining) rows × 16 columns per pass over the positions.
ALWAYS_INLINE size_t values_tile(const float *p, size_t p_stride, const int rows, const void *values, int half, size_t stride,
                                 size_t length, size_t dim, float *out, size_t out_stride) {
    size_t column = 0;
#if defined(LLAMA_AVX2)
    {
        for (; column + 16 <= dim; column += 16) {
            __m256 a[LLAMA_ATTENTION_ROWS][2];
            for (int r = 0; r < rows; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
            for (size_t s = 0; s < length; s++) {
                const size_t at = s * stride + column;
                __m256 v0, v1;
                if (half) {
                    const uint16_t *h = (const uint16_t *)values + at;
                    v0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
                    v1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 8)));
                } else {
                    v0 = _mm256_loadu_ps((const float *)values + at);
                    v1 = _mm256_loadu_ps((const float *)values + at + 8);
                }
                for (int r = 0; r < rows; r++) {
                    const __m256 weight = _mm256_broadcast_ss(p + r * p_stride + s);
                    a[r][0] = _mm256_fmadd_ps(weight, v0, a[r][0]);
                    a[r][1] = _mm256_fmadd_ps(weight, v1, a[r][1]);
                }
            }
            for (int r = 0; r < rows; r++) {
                _mm256_storeu_ps(out + r * out_stride + column, a[r][0]);
                _mm256_storeu_ps(out + r * out_stride + column + 8, a[r][1]);
            }
        }
    }
#else
    (void)p; (void)p_stride; (void)rows; (void)values; (void)half; (void)stride; (void)length; (void)dim; (void)out; (void)out_stride;
#endif
    return column;
}

// The columns from `column` on, one value at a time.
static void values_rest(size_t column, const float *p, size_t p_stride, size_t rows, const void *values, int half,
                        size_t stride, size_t length, size_t dim, float *out, size_t out_stride) {
    for (; column < dim; column++) {
        for (size_t r = 0; r < rows; r++) {
            float total = 0;
            for (size_t s = 0; s < length; s++) total += p[r * p_stride + s] * cached_value(values, s * stride + column, half);
            out[r * out_stride + column] = total;
        }
    }
}

#define VALUES_TILE(ROWS) (half ? values_tile(p, p_stride, ROWS, values, 1, stride, length, dim, out, out_stride) \
                                 : values_tile(p, p_stride, ROWS, values, 0, stride, length, dim, out, out_stride))

void llama_attention_values_rows(const float *p, size_t p_stride, size_t rows, const void *values, int half, size_t stride,
                                 size_t length, size_t dim, float *out, size_t out_stride) {
    size_t column = 0;
    switch (rows) {
    case 1: column = VALUES_TILE(1); break;
    case 2: column = VALUES_TILE(2); break;
    case 3: column = VALUES_TILE(3); break;
    case 4: column = VALUES_TILE(4); break;
    case 5: column = VALUES_TILE(5); break;
    case 6: column = VALUES_TILE(6); break;
    default: break;
    }
    values_rest(column, p, p_stride, rows, values, half, stride, length, dim, out, out_stride);
}
