// A persistent worker pool for the many short parallel regions of a decode step.
// DispatchQueue.concurrentPerform wakes sleeping threads for every region (tens of
// microseconds each, ~100 regions per token); these workers spin on a generation counter
// for a short while after each region and only then sleep, as llama.cpp's threadpool does.
#ifndef LLAMA_POOL_H
#define LLAMA_POOL_H

/// A task: called once for every index in 0..<count, from the caller and the workers.
typedef void (*llama_pool_task)(void *context, int index);

/// Starts `workers` threads (once; later calls return the running pool's size) that spin
/// `spin_microseconds` after each task before sleeping. Returns the number of workers.
int llama_pool_start(int workers, int spin_microseconds);

/// Runs task(context, i) for i in 0..<count on the calling thread and the pool's workers,
/// returning when all calls have finished. Returns 0, or -1 without running anything when
/// the pool is not started or is already running another task (the caller then uses
/// another way to parallelise: nested and concurrent callers are allowed).
int llama_pool_run(int count, llama_pool_task task, void *context);

#endif
