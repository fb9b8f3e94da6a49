import CLlamaKernels
import Dispatch

/// Measurements of what this machine can do at best, the yardsticks for model speed.
public enum MachineLimits {
    /// Best-of-`repeats` float32 GEMM rate in GFLOP/s for an m×k by k×n product.
    public static func sgemmGigaflops(m: Int = 2048, n: Int = 2048, k: Int = 2048, repeats: Int = 5) -> Double {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var generator = SeededGenerator(seed: 1)
        for i in 0..<(m * k) { a[i] = generator.nextFloat() - 0.5 }
        for i in 0..<(n * k) { b[i] = generator.nextFloat() - 0.5 }
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: c, ldc: n)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// Best-of-`repeats` read bandwidth in GB/s: all threads summing a buffer far larger
    /// than the caches (what a decode step does with the weights), each thread reading its part
    /// as four sequential streams (`llama_stream_sum`), from 2 MiB pages as weights are held.
    public static func readBandwidthGigabytes(bytes: Int = 1 << 30, repeats: Int = 5) -> Double {
        readBandwidth(bytes: bytes, repeats: repeats).best
    }

    /// The read of `readBandwidthGigabytes`, `repeats` times: the best single read and the
    /// sustained rate (all bytes over all the time). On a shared host the best of a few short
    /// reads catches the fastest moment and runs 5-17% above what a longer read sustains.
    public static func readBandwidth(bytes: Int = 1 << 30, repeats: Int = 5) -> (best: Double, mean: Double) {
        let count = bytes / 4
        let storage = Tensor(zeros: [count])
        let buffer = storage.floats
        Parallel.forRanges(count, grain: 1024) { first, last in
            for i in first..<last { buffer[i] = Float(i & 7) }
        }
        var best = Double.infinity, total = 0.0
        var sink: Float = 0
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threadCount)
        defer { partials.deallocate() }
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEach(Parallel.threadCount) { worker in
                let per = count / Parallel.threadCount
                let first = worker * per, last = worker == Parallel.threadCount - 1 ? count : first + per
                partials[worker] = llama_stream_sum(buffer + first, last - first)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds)
            total += seconds
            for i in 0..<Parallel.threadCount { sink += partials[i] }
        }
        if sink == -1 { print("") }
        return (Double(count * 4) / best / 1e9, Double(count * 4 * max(1, repeats)) / total / 1e9)
    }
}
