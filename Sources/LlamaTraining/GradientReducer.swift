import Foundation
import LlamaDistributed

/// Sums gradient buckets over the ranks with MPI allreduce, in the order they are
/// submitted (every rank submits the same buckets in the same order).
///
/// With `overlap`, a helper thread reduces each bucket as soon as backward reports it, so
/// the last block's gradients travel while the earlier blocks' backward still runs (as
/// PyTorch DDP's bucketed allreduce does); `finish` waits for the queue to drain. Without
/// it, `finish` reduces every bucket after backward. Only one thread calls MPI at a time
/// (MPI_THREAD_SERIALIZED): the training thread makes no MPI call between the first
/// submission and `finish`.
final class GradientReducer: @unchecked Sendable {
    private let communicator: Communicator
    private let base: UnsafeMutablePointer<Float>
    let overlap: Bool
    private let condition = NSCondition()
    private var queue: [Range<Int>] = []
    private var submitted = 0, completed = 0
    private var failure: Error?
    private var closing = false
    private var thread: Thread?

    init(communicator: Communicator, buffer: UnsafeMutablePointer<Float>, overlap: Bool) {
        self.communicator = communicator
        base = buffer
        self.overlap = overlap && communicator.allowsHelperThread
        if self.overlap {
            let thread = Thread { self.serve() }
            thread.name = "gradient allreduce"
            thread.start()
            self.thread = thread
        }
    }

    /// Queues `range` of the buffer for summation over the ranks.
    func submit(_ range: Range<Int>) {
        condition.lock()
        queue.append(range)
        submitted += 1
        condition.signal()
        condition.unlock()
    }

    /// Returns once every submitted bucket holds the sum over the ranks.
    func finish() throws {
        if !overlap {
            let pending = queue
            queue.removeAll()
            for range in pending { try communicator.allreduceSum(base + range.lowerBound, count: range.count) }
            return
        }
        condition.lock()
        while completed < submitted && failure == nil { condition.wait() }
        let error = failure
        condition.unlock()
        if let error { throw error }
    }

    /// Stops the helper thread (after `finish`).
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let range = queue.removeFirst()
            condition.unlock()
            var error: Error?
            do { try communicator.allreduceSum(base + range.lowerBound, count: range.count) } catch let caught { error = caught }
            condition.lock()
            completed += 1
            if let error { failure = error }
            condition.broadcast()
            condition.unlock()
        }
    }
}
