import LlamaCore
import LlamaModel

/// Every parameter of a model in one contiguous float32 buffer, in `namedParameters`
/// order (embedding, layer 0 … layer L−1, final norm, head), each tensor starting on a
/// 64-byte boundary (padding floats stay zero). `weights` views the buffer as
/// `LlamaWeights`, so layer code is unchanged, while data-parallel training reduces
/// contiguous ranges — a layer's gradients are one bucket — and ZeRO-1 splits the whole
/// buffer into one contiguous part per rank.
public final class FlatParameters: @unchecked Sendable {
    /// One parameter's place in the buffer.
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        /// First float of the tensor and its element count.
        public let offset: Int
        public let count: Int
        public var range: Range<Int> { offset..<(offset + count) }
    }

    /// Owns the allocation (tensors keep it alive as their borrowed bytes' owner).
    private final class Storage {
        let pointer: UnsafeMutablePointer<Float>
        init(count: Int) {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * 4)
            pointer = raw.assumingMemoryBound(to: Float.self)
        }
        deinit { pointer.deallocate() }
    }

    /// Floats per alignment unit (64 bytes).
    static let alignment = 16

    public let configuration: LlamaConfiguration
    public let entries: [Entry]
    /// Floats in the buffer, padding included.
    public let count: Int
    /// The first float.
    public let base: UnsafeMutablePointer<Float>
    /// The buffer as model parameters (a tied head is the embedding tensor, as usual).
    public let weights: LlamaWeights
    private let storage: Storage

    /// Zeros laid out for `configuration`.
    public init(configuration: LlamaConfiguration) {
        self.configuration = configuration
        var entries: [Entry] = []
        var offset = 0
        for (name, shape) in LlamaWeights.parameterShapes(configuration) {
            let count = shape.reduce(1, *)
            entries.append(Entry(name: name, shape: shape, offset: offset, count: count))
            offset += (count + Self.alignment - 1) / Self.alignment * Self.alignment
        }
        self.entries = entries
        count = offset
        let storage = Storage(count: offset)
        self.storage = storage
        base = storage.pointer
        var tensors: [String: Tensor] = [:]
        for entry in entries {
            tensors[entry.name] = Tensor(shape: entry.shape, dtype: .f32, borrowing: UnsafeMutableRawPointer(storage.pointer + entry.offset),
                                         owner: storage)
        }
        weights = LlamaWeights(configuration: configuration) { name in tensors[name] ?? Tensor(zeros: [0]) }
    }

    /// A copy of `source`'s values laid out flat.
    public convenience init(copying source: LlamaWeights) {
        self.init(configuration: source.configuration)
        weights.copyValues(from: source)
    }

    /// The range of floats holding block `layer`'s nine tensors (norms, projections).
    public func layerRange(_ layer: Int) -> Range<Int> {
        let prefix = "model.layers.\(layer)."
        let mine = entries.filter { $0.name.hasPrefix(prefix) }
        guard let first = mine.first, let last = mine.last else { return 0..<0 }
        return first.offset..<paddedEnd(last)
    }

    /// End of `entry` including its padding (the next entry's offset, or `count`).
    func paddedEnd(_ entry: Entry) -> Int {
        (entry.offset + entry.count + Self.alignment - 1) / Self.alignment * Self.alignment
    }

    /// Gradient buckets in the order the backward pass finishes them: the final norm and
    /// head, then each block from the last to the first, then the embedding (last, since
    /// a tied head's gradient is completed only by the embedding's backward).
    public var backwardBuckets: [Range<Int>] {
        let layerCount = configuration.layerCount
        let embeddingEnd = entries.first.map(paddedEnd) ?? 0
        let tailStart = layerCount > 0 ? layerRange(layerCount - 1).upperBound : embeddingEnd
        var buckets = [tailStart..<count]
        for layer in stride(from: layerCount - 1, through: 0, by: -1) { buckets.append(layerRange(layer)) }
        buckets.append(0..<embeddingEnd)
        return buckets
    }

    /// `size` contiguous parts covering the buffer, split on 64-byte boundaries, as equal
    /// as that allows (ZeRO-1's optimizer shards; rank r owns part r).
    public func shards(_ size: Int) -> [Range<Int>] {
        let units = count / Self.alignment
        return (0..<size).map { r in (units * r / size * Self.alignment)..<(units * (r + 1) / size * Self.alignment) }
    }

    /// A 64-bit FNV-1a hash of the buffer's bytes (to check that ranks hold the same values).
    public func fingerprint() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = UnsafeRawPointer(base).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count {
            hash = (hash ^ UInt64(words[i])) &* 0x100_0000_01b3
        }
        return hash
    }
}
