// What a decode step of the 110M benchmark model asks of memory, kernel by kernel, without the
// model around it (Benchmarks/decode-kernels.sh builds and runs this; never part of the tests):
//   1. the two-thread read probe of `llama bench`: the best of three 256 MB reads and the mean
//      of eight (the decode rate is a mean over its run);
//   2. one token's projections: the 49 matrices of 12 layers (q/k/v as one 2304-row product,
//      o, gate/up as one 4096-row product, down) and the 32000-row output, Q4_0 and Q8_0 as
//      loaded models hold them (eight interleaved rows), split over two threads with a region
//      end after each, as `Linear` runs them: mean and best of seven passes;
//   3. decode attention over an F16 cache (12 layers, 12 heads of 64) with 5 MB read between
//      layers, as the weight stream evicts the cache, with and without the prefetch pointers.
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "llama_kernels.h"

#define LAYERS 12
#define HEADS 12
#define HEAD_DIM 64
#define CONTEXT 2048

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *huge(size_t bytes) {
    const size_t page = 2u << 20, rounded = (bytes + page - 1) / page * page;
    void *p = aligned_alloc(page, rounded);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    madvise(p, rounded, MADV_HUGEPAGE);
    memset(p, 1, rounded);
    return p;
}

// Two participants: the main thread runs part 0 of each task, one worker part 1.
static void (*task)(int part);
static atomic_int generation, finished;
static void *worker(void *unused) {
    (void)unused;
    int seen = 0;
    for (;;) {
        while (atomic_load(&generation) == seen) { }
        seen = atomic_load(&generation);
        task(1);
        atomic_fetch_add(&finished, 1);
    }
    return 0;
}
static void run(void (*body)(int)) {
    task = body;
    atomic_store(&finished, 0);
    atomic_fetch_add(&generation, 1);
    body(0);
    while (atomic_load(&finished) < 1) { }
}

// 1. The read probe.
static float *probe_buffer;
static const size_t probe_count = (256u << 20) / 4;
static volatile float probe_sink;
static void probe_part(int part) {
    const size_t half = probe_count / 2;
    probe_sink += llama_stream_sum(probe_buffer + part * half, half);
}

// 2. Projections.
typedef struct { size_t rows, blocks; const void *w; } matrix;
static matrix current;
static int current_q8;
static llama_block_q8_0 activation[64];
static float output[32000];
static void product_part(int part) {
    const size_t groups = current.rows / 8, first = part * (groups / 2), last = part ? groups : groups / 2;
    if (current_q8) llama_gemv_q8_0x8_q8_0(current.blocks, current.w, first, last, activation, output, 0);
    else llama_gemv_q4_0x8_q8_0(current.blocks, current.w, first, last, activation, output, 0);
}

static void projections(int q8) {
    const size_t shapes[4][2] = {{2304, 768}, {768, 768}, {4096, 768}, {768, 2048}};
    matrix m[4 * LAYERS + 1];
    size_t n = 0, bytes = 0, block = q8 ? sizeof(llama_block_q8_0) : sizeof(llama_block_q4_0);
    for (int l = 0; l < LAYERS; l++) {
        for (int s = 0; s < 4; s++) m[n++] = (matrix){shapes[s][0], shapes[s][1] / 32, 0};
    }
    m[n++] = (matrix){32000, 768 / 32, 0};
    for (size_t i = 0; i < n; i++) bytes += m[i].rows * m[i].blocks * block;
    unsigned char *weights = huge(bytes);
    for (size_t i = 0, offset = 0; i < n; i++) {
        m[i].w = weights + offset;
        // Random values with scales of 1 (half 0x3C00) at the head of every record.
        unsigned char *record = weights + offset;
        for (size_t j = 0; j < m[i].rows * m[i].blocks * block; j++) record[j] = (unsigned char)((offset + j) * 2654435761u >> 13);
        for (size_t r = 0; r < m[i].rows / 8 * m[i].blocks; r++) {
            for (int k = 0; k < 8; k++) { record[r * 8 * block + 2 * k] = 0x00; record[r * 8 * block + 2 * k + 1] = 0x3C; }
        }
        offset += m[i].rows * m[i].blocks * block;
    }
    current_q8 = q8;
    double best = 1e9, total = 0;
    const int passes = 20;
    for (int rep = 0; rep < 7; rep++) {
        const double start = now();
        for (int p = 0; p < passes; p++) {
            for (size_t i = 0; i < n; i++) { current = m[i]; run(product_part); }
        }
        const double seconds = (now() - start) / passes;
        total += seconds;
        if (seconds < best) best = seconds;
    }
    printf("%s projections of one token (%.1f MB): mean %.3f ms = %.1f GB/s, best %.3f ms = %.1f GB/s\n", q8 ? "Q8_0" : "Q4_0",
           bytes / 1e6, total / 7 * 1e3, bytes / (total / 7) / 1e9, best * 1e3, bytes / best / 1e9);
    free(weights);
}

// 3. Attention.
static uint16_t *keys, *values;
static float query[HEADS * HEAD_DIM], attended[HEADS * HEAD_DIM], scores[2][CONTEXT];
static int layer, length, prefetching;
static void attention_part(int part) {
    for (int h = part; h < HEADS; h += 2) {
        const size_t at = ((size_t)layer * HEADS + h) * CONTEXT * HEAD_DIM;
        const uint16_t *next = h + 2 < HEADS ? keys + at + 2 * CONTEXT * HEAD_DIM : NULL;
        float *row = scores[part];
        llama_attention_scores_f16(query + h * HEAD_DIM, keys + at, HEAD_DIM, length, HEAD_DIM, 0.125f, row,
                                   prefetching ? values + at : NULL);
        float maximum = row[0], sum = 0;
        for (int s = 1; s < length; s++) if (row[s] > maximum) maximum = row[s];
        for (int s = 0; s < length; s++) sum += row[s] = expf(row[s] - maximum);
        for (int s = 0; s < length; s++) row[s] /= sum;
        llama_attention_values_f16(row, values + at, HEAD_DIM, length, HEAD_DIM, attended + h * HEAD_DIM,
                                   prefetching ? next : NULL);
    }
}

static void attention(int positions, const unsigned char *evict, size_t evict_bytes) {
    length = positions;
    for (prefetching = 0; prefetching < 2; prefetching++) {
        double best = 1e9;
        volatile unsigned sink = 0;
        for (int rep = 0; rep < 7; rep++) {
            double seconds = 0;
            for (int token = 0; token < 20; token++) {
                for (layer = 0; layer < LAYERS; layer++) {
                    for (size_t i = 0; i < evict_bytes; i += 64) sink += evict[i];
                    const double start = now();
                    run(attention_part);
                    seconds += now() - start;
                }
            }
            if (seconds / 20 < best) best = seconds / 20;
        }
        const double bytes = 2.0 * LAYERS * HEADS * positions * HEAD_DIM * 2;
        printf("attention at %d positions, %s: %.3f ms per token, %.1f GB/s of cache\n", positions,
               prefetching ? "prefetching" : "no prefetch", best * 1e3, bytes / best / 1e9);
    }
}

int main(void) {
    pthread_t thread;
    if (pthread_create(&thread, 0, worker, 0) != 0) { fprintf(stderr, "no thread\n"); return 1; }
    probe_buffer = huge(probe_count * 4);
    for (int trial = 0; trial < 3; trial++) {
        double best = 1e9, total = 0;
        for (int r = 0; r < 8; r++) {
            const double start = now();
            run(probe_part);
            const double seconds = now() - start;
            if (r < 3 && seconds < best) best = seconds;
            total += seconds;
        }
        printf("read probe: best of 3 %.1f GB/s, mean of 8 %.1f GB/s\n", probe_count * 4 / best / 1e9, probe_count * 4 * 8 / total / 1e9);
    }
    free(probe_buffer);
    float x[2048];
    for (int i = 0; i < 2048; i++) x[i] = (float)((i * 40503u) % 1000) / 500 - 1;
    llama_quantize_row_q8_0(x, activation, 2048);
    projections(0);
    projections(1);
    const size_t cache_bytes = (size_t)LAYERS * HEADS * CONTEXT * HEAD_DIM * 2;
    keys = huge(cache_bytes);
    values = huge(cache_bytes);
    for (size_t i = 0; i < cache_bytes / 2; i++) { keys[i] = 0x3C00 ^ (i & 0x3FF); values[i] = 0x3800 ^ (i & 0x1FF); }
    for (int i = 0; i < HEADS * HEAD_DIM; i++) query[i] = 0.01f * (i % 17);
    const size_t evict_bytes = 5u << 20;
    unsigned char *evict = huge(evict_bytes);
    attention(150, evict, evict_bytes);
    attention(1000, evict, evict_bytes);
    return 0;
}
