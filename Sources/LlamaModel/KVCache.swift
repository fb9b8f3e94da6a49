import LlamaCore

/// How a key/value cache stores its values.
public enum KVCacheType: String, Sendable, CaseIterable {
    /// float32: attention reads exactly what the projections wrote.
    case f32
    /// IEEE half, rounded to nearest even (relative error at most 2⁻¹¹), as llama.cpp's
    /// default `--cache-type-k f16 --cache-type-v f16`: half the memory, and half the bytes a
    /// decode step reads from the cache.
    case f16

    /// Bytes of one stored value.
    public var bytesPerValue: Int { self == .f32 ? 4 : 2 }
}

/// Keys and values of past positions for `slotCount` sequences: per slot and layer, a
/// (kvHeads, context, headDim) block of each (`CacheLayout.headMajor`), stored as `type` says.
final class KVCache {
    let type: KVCacheType
    let layout: CacheLayout
    let layerCount, keyValueHeadCount, headDimension, context, slotCount: Int
    private let keyStorage, valueStorage: UnsafeMutableRawPointer
    /// Values of one (slot, layer) block.
    private let blockValues: Int

    init(type: KVCacheType, configuration: LlamaConfiguration, context: Int, slotCount: Int) {
        self.type = type
        layerCount = configuration.layerCount
        keyValueHeadCount = configuration.keyValueHeadCount
        headDimension = configuration.headDimension
        self.context = context
        self.slotCount = slotCount
        layout = .headMajor(context: context, headDimension: headDimension)
        blockValues = context * keyValueHeadCount * headDimension
        // Streamed every decode step like the weights: 2 MiB pages when large.
        let bytes = max(slotCount * layerCount * blockValues * type.bytesPerValue, 1)
        func storage() -> UnsafeMutableRawPointer {
            let pointer = Tensor.allocate(bytes: bytes)
            pointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            return pointer
        }
        keyStorage = storage()
        valueStorage = storage()
    }

    deinit {
        keyStorage.deallocate()
        valueStorage.deallocate()
    }

    /// Bytes a decode step reads from the cache of one sequence holding `length` positions.
    func bytesRead(length: Int) -> Int { 2 * layerCount * length * keyValueHeadCount * headDimension * type.bytesPerValue }

    @inline(__always)
    func keys(slot: Int, layer: Int) -> UnsafeMutableRawPointer {
        keyStorage + (slot * layerCount + layer) * blockValues * type.bytesPerValue
    }

    @inline(__always)
    func values(slot: Int, layer: Int) -> UnsafeMutableRawPointer {
        valueStorage + (slot * layerCount + layer) * blockValues * type.bytesPerValue
    }

    /// Stores one position's keys and values (kvHeads · headDim floats each, heads side by side).
    func store(keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>, slot: Int, layer: Int, position: Int) {
        let layerKeys = keys(slot: slot, layer: layer), layerValues = values(slot: slot, layer: layer)
        for head in 0..<keyValueHeadCount {
            let at = head * layout.headStride + position * layout.positionStride, from = head * headDimension
            switch type {
            case .f32:
                (layerKeys.assumingMemoryBound(to: Float.self) + at).update(from: newKeys + from, count: headDimension)
                (layerValues.assumingMemoryBound(to: Float.self) + at).update(from: newValues + from, count: headDimension)
            case .f16:
                convertFloatToHalf(newKeys + from, layerKeys.assumingMemoryBound(to: UInt16.self) + at, headDimension)
                convertFloatToHalf(newValues + from, layerValues.assumingMemoryBound(to: UInt16.self) + at, headDimension)
            }
        }
    }

    /// Makes slot `target` hold the first `length` positions of slot `source`.
    func copy(from source: Int, to target: Int, length: Int) {
        let bytes = length * headDimension * type.bytesPerValue
        for layer in 0..<layerCount {
            for head in 0..<keyValueHeadCount {
                let offset = head * layout.headStride * type.bytesPerValue
                (keys(slot: target, layer: layer) + offset).copyMemory(from: keys(slot: source, layer: layer) + offset, byteCount: bytes)
                (values(slot: target, layer: layer) + offset).copyMemory(from: values(slot: source, layer: layer) + offset, byteCount: bytes)
            }
        }
    }
}
