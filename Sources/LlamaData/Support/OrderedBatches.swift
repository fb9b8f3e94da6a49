import LlamaCore

/// Runs a per-record transform on both cores while keeping the output in input order: the
/// reader adds records one by one, every `batchSize` records are transformed with
/// `Parallel.forEach`, then the results are handed to `consume` sequentially, in input
/// order, so order-dependent steps (deduplication, writing) stay deterministic.
public final class OrderedBatches<Input, Output> {
    private let batchSize: Int
    private let transform: (Input) -> Output
    private let consume: (Output) throws -> Void
    private var pending: [Input] = []

    public init(batchSize: Int = 256, transform: @escaping (Input) -> Output, consume: @escaping (Output) throws -> Void) {
        self.batchSize = max(1, batchSize)
        self.transform = transform
        self.consume = consume
        pending.reserveCapacity(self.batchSize)
    }

    /// Adds one record; a full batch is processed before returning.
    public func add(_ input: Input) throws {
        pending.append(input)
        if pending.count >= batchSize { try drain() }
    }

    /// Processes what is left.
    public func finish() throws { try drain() }

    private func drain() throws {
        guard !pending.isEmpty else { return }
        let inputs = pending
        pending.removeAll(keepingCapacity: true)
        let results = UnsafeMutableBufferPointer<Output?>.allocate(capacity: inputs.count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let transform = self.transform
        Parallel.forEach(inputs.count) { index in results[index] = transform(inputs[index]) }
        for index in 0..<inputs.count {
            if let output = results[index] { try consume(output) }
        }
    }
}
