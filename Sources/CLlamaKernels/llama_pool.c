// See llama_pool.h. One task runs at a time; the caller publishes it by bumping
// `generation`, every participant (caller and workers) takes indices from `next_index`
// until they run out, and each worker reports completion through `remaining`.
#include "llama_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

static struct {
    atomic_int started;         // 0: not started, 1: starting, 2: running
    int workers;
    long spin_nanoseconds;
    atomic_flag busy;           // held by the caller of the task in flight
    atomic_uint generation;     // bumped once per task
    atomic_int next_index;
    atomic_int remaining;       // workers still inside the current task
    atomic_int sleepers;
    llama_pool_task task;
    void *context;
    int count;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
} pool = { .busy = ATOMIC_FLAG_INIT, .mutex = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static long now_nanoseconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void run_indices(void) {
    llama_pool_task task = pool.task;
    void *context = pool.context;
    int count = pool.count;
    for (;;) {
        int index = atomic_fetch_add_explicit(&pool.next_index, 1, memory_order_relaxed);
        if (index >= count) break;
        task(context, index);
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    // No task can run before every worker exists (llama_pool_run waits for `started`
    // to reach 2), so the first task is generation 1 even if it is published before
    // this thread gets here.
    unsigned seen = 0;
    for (;;) {
        // Spin a while for the next task, checking the clock every 256 pauses.
        long deadline = now_nanoseconds() + pool.spin_nanoseconds;
        unsigned current;
        for (int spins = 0;; spins++) {
            current = atomic_load_explicit(&pool.generation, memory_order_acquire);
            if (current != seen) break;
            CPU_RELAX();
            if ((spins & 255) == 255 && now_nanoseconds() > deadline) break;
        }
        if (current == seen) {
            pthread_mutex_lock(&pool.mutex);
            atomic_fetch_add(&pool.sleepers, 1);
            while ((current = atomic_load(&pool.generation)) == seen) {
                pthread_cond_wait(&pool.wake, &pool.mutex);
            }
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.mutex);
        }
        seen = current;
        run_indices();
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
    }
    return 0;
}

int llama_pool_start(int workers, int spin_microseconds) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&pool.started, &expected, 1)) {
        while (atomic_load(&pool.started) != 2) CPU_RELAX();
        return pool.workers;
    }
    pool.spin_nanoseconds = (long)spin_microseconds * 1000L;
    int created = 0;
    for (int i = 0; i < workers; i++) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attributes, worker_main, 0) == 0) created++;
        pthread_attr_destroy(&attributes);
    }
    pool.workers = created;
    atomic_store(&pool.started, 2);
    return created;
}

int llama_pool_run(int count, llama_pool_task task, void *context) {
    if (atomic_load_explicit(&pool.started, memory_order_acquire) != 2 || pool.workers == 0) return -1;
    if (atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return -1;
    pool.task = task;
    pool.context = context;
    pool.count = count;
    atomic_store_explicit(&pool.next_index, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.remaining, pool.workers, memory_order_relaxed);
    // Dekker-style handshake with a worker going to sleep: it increments `sleepers` and then
    // re-checks `generation` under the mutex; we bump `generation` and then read `sleepers`
    // (both sequentially consistent), so either it sees the new task or we wake it.
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mutex);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.mutex);
    }
    run_indices();
    // Workers normally finish within microseconds; when the machine is oversubscribed a
    // worker may not be running at all, so give the core away instead of spinning on.
    for (int spins = 0; atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0; spins++) {
        if (spins < 4096) CPU_RELAX(); else sched_yield();
    }
    atomic_flag_clear_explicit(&pool.busy, memory_order_release);
    return 0;
}
