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
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            let start = index * perThread
            let end = min(count, start + perThread)
            if start < end { body(start, end) }
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
