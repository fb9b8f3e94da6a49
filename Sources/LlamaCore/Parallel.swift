import CLlamaKernels
import Dispatch
import Foundation

/// Splitting work over the machine's cores.
public enum Parallel {
    /// Number of worker threads used by `forEach` (the cores the process may use).
    /// `LLAMA_THREADS` in the environment overrides it.
    public static let threadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["LLAMA_THREADS"], let value = Int(text), value > 0 { return value }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body(start, end)` on contiguous ranges covering `0..<count`, one range per
    /// thread, and returns when all have finished. Ranges are multiples of `grain`
    /// (except the last) so vector loops stay aligned. Runs inline when the work is small.
    @inline(__always)
    public static func forRanges(_ count: Int, grain: Int = 1, minimumPerThread: Int = 1,
                                 _ body: (Int, Int) -> Void) {
        let threads = min(threadCount, max(1, count / max(minimumPerThread, 1)))
        if threads <= 1 {
            body(0, count)
            return
        }
        let chunks = (count + grain - 1) / grain
        let perThread = (chunks + threads - 1) / threads * grain
        let range: (Int) -> Void = { index in
            let start = index * perThread
            let end = min(count, start + perThread)
            if start < end { body(start, end) }
        }
        if !runOnPool(threads, range) {
            DispatchQueue.concurrentPerform(iterations: threads, execute: range)
        }
    }

    /// Microseconds a pool worker spins after a task before it sleeps (`LLAMA_SPIN_US`,
    /// default 200: longer than the gaps between a decode step's regions, short enough
    /// not to hold a core away from OpenBLAS's own threads between products).
    static let spinMicroseconds: Int = {
        if let text = ProcessInfo.processInfo.environment["LLAMA_SPIN_US"], let value = Int(text), value >= 0 { return value }
        return 200
    }()

    /// The persistent workers (threadCount − 1; the caller is the last participant).
    static let poolWorkers: Int = {
        guard threadCount > 1 else { return 0 }
        return Int(llama_pool_start(Int32(threadCount - 1), Int32(spinMicroseconds)))
    }()

    private struct PoolJob {
        let body: (Int) -> Void
    }

    /// Runs `body(0..<count)` on the persistent pool; false when it is busy with another
    /// caller's task (a nested or concurrent region), which then uses Dispatch instead.
    @inline(__always)
    static func runOnPool(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard poolWorkers > 0 else { return false }
        return withoutActuallyEscaping(body) { body in
            var job = PoolJob(body: body)
            return withUnsafeMutablePointer(to: &job) { pointer in
                llama_pool_run(Int32(count), { context, index in
                    guard let job = context?.assumingMemoryBound(to: PoolJob.self) else { return }
                    job.pointee.body(Int(index))
                }, pointer) == 0
            }
        }
    }

    /// Calls `body(i)` for every `i` in `0..<count`, spread over the cores.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forRanges(count) { start, end in
            for index in start..<end { body(index) }
        }
    }
}
