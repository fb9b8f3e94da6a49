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
        let probe = ReadProbe(bytes: bytes)
        let seconds = (0..<max(1, repeats)).map { _ in probe.read() }
        let best = seconds.min() ?? .infinity, total = seconds.reduce(0, +)
        return (Double(probe.bytes) / best / 1e9, Double(probe.bytes * seconds.count) / total / 1e9)
    }
}

/// The buffer `MachineLimits.readBandwidth` reads, kept so that reads can be taken between
/// other work (`llama bench` interleaves them with stretches of decoding).
public final class ReadProbe {
    /// Bytes one read covers.
    public let bytes: Int
    private let storage: Tensor
    private let partials: UnsafeMutablePointer<Float>
    private var sink: Float = 0

    public init(bytes: Int) {
        let count = max(bytes / 4, 1024)
        self.bytes = count * 4
        storage = Tensor(zeros: [count])
        let buffer = storage.floats
        Parallel.forRanges(count, grain: 1024) { first, last in
            for i in first..<last { buffer[i] = Float(i & 7) }
        }
        partials = .allocate(capacity: Parallel.threadCount)
    }

    deinit {
        partials.deallocate()
        if sink == -1 { print("") }
    }

    /// Seconds one read of the whole buffer takes on all threads.
    public func read() -> Double {
        let buffer = storage.floats, count = bytes / 4, partials = self.partials
        let start = DispatchTime.now().uptimeNanoseconds
        Parallel.forEach(Parallel.threadCount) { worker in
            let per = count / Parallel.threadCount
            let first = worker * per, last = worker == Parallel.threadCount - 1 ? count : first + per
            partials[worker] = llama_stream_sum(buffer + first, last - first)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        for i in 0..<Parallel.threadCount { sink += partials[i] }
        return seconds
    }
}
