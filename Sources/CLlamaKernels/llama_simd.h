// Private to the C kernels: the SIMD level they are compiled for (x86 AVX2, ARM dot product),
// and helpers they share.
#ifndef LLAMA_SIMD_H
#define LLAMA_SIMD_H

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define LLAMA_AVX2 1

/// Values 4j..4j+3 of an int8 block broadcast to every 32-bit lane (a Q8_0 block's values are
/// not 4-byte aligned: they follow its 2-byte scale).
static inline __m256i broadcast_group(const int8_t *qs, int j) {
    int32_t group;
    __builtin_memcpy(&group, qs + 4 * j, 4);
    return _mm256_set1_epi32(group);
}

/// The sum of a vector's eight lanes.
static inline float horizontal_sum(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}
#endif

#include <stdint.h>
#include <string.h>

#if defined(__aarch64__) && !defined(LLAMA_AVX2)
// ARM: the Q8_0 / Q4_0 / Q4_K / Q6_K dot products use the Armv8.2 dot-product instruction (SDOT: four int8
// products summed into each int32 lane). Compiled for it where the target has it (Apple
// silicon); elsewhere the functions carry the instruction set as an attribute and run only
// when the kernel reports the feature (Linux: AT_HWCAP's ASIMDDP bit), else the plain C.
#include <arm_neon.h>
#define LLAMA_NEON 1
#if defined(__ARM_FEATURE_DOTPROD)
#define LLAMA_DOTPROD
static inline int llama_has_dotprod(void) { return 1; }
#else
#define LLAMA_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#if defined(__linux__)
#include <stdatomic.h>
#include <sys/auxv.h>
#endif
static inline int llama_has_dotprod(void) {
#if defined(__linux__)
    // Asked once per file (the kernels call this per row).
    static _Atomic int known = -1;
    int value = atomic_load_explicit(&known, memory_order_relaxed);
    if (value < 0) {
        value = (getauxval(AT_HWCAP) & (1UL << 20)) != 0;  // HWCAP_ASIMDDP
        atomic_store_explicit(&known, value, memory_order_relaxed);
    }
    return value;
#else
    return 0;
#endif
}
#endif

/// Four int8 values broadcast to every 32-bit lane.
static inline int8x16_t broadcast_group_neon(const int8_t *qs, int j) {
    int32_t group;
    memcpy(&group, qs + 4 * j, 4);
    return vreinterpretq_s8_s32(vdupq_n_s32(group));
}
#endif

/// IEEE half-precision bits as a float, in plain C (exact for every value, subnormals included).
static inline float half_bits_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
            bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float result;
    memcpy(&result, &bits, 4);
    return result;
}

/// IEEE half-precision bits as a float (F16C where compiled for it).
static inline float half_to_float(uint16_t h) {
#if defined(LLAMA_AVX2)
    return _cvtsh_ss(h);
#else
    return half_bits_to_float(h);
#endif
}

/// The 6-bit scales and minimums of a Q4_K block's eight sub-blocks, from its 12 scale bytes.
static inline void q4_k_scales_and_minimums(const uint8_t *q, int16_t *scales, int16_t *minimums) {
    for (int j = 0; j < 4; j++) {
        scales[j] = q[j] & 63;
        minimums[j] = q[j + 4] & 63;
        scales[j + 4] = (int16_t)((q[j + 8] & 0xF) | ((q[j] >> 6) << 4));
        minimums[j + 4] = (int16_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
    }
}

#endif
