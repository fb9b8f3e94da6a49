import CLlamaKernels
#if canImport(Glibc)
import Glibc
#endif

/// Element types of stored tensors (the safetensors names).
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case i64 = "I64"
    case u8 = "U8"
    case u16 = "U16"
    case u32 = "U32"
    case i8 = "I8"
    case i16 = "I16"
    case f64 = "F64"
    case bool = "BOOL"
    /// GGML's 8-bit blocks: 32 values, a half scale and 32 int8 (34 bytes).
    case q8_0 = "Q8_0"
    /// GGML's 4-bit blocks: 32 values, a half scale and 16 bytes of nibbles (18 bytes).
    case q4_0 = "Q4_0"
    /// GGML's 4-bit K-quant super-blocks (llama.cpp files): 256 values in eight sub-blocks with
    /// 6-bit scales and minimums (144 bytes). Read from files, not made here.
    case q4_K = "Q4_K"
    /// GGML's 6-bit K-quant super-blocks: 256 values, an int8 scale per 16 (210 bytes).
    case q6_K = "Q6_K"

    /// Values per storage block (1 for plain types, 32 or 256 for the quantized ones).
    public var blockSize: Int { isKQuant ? 256 : isQuantized ? 32 : 1 }

    /// Whether values are stored in quantized blocks.
    public var isQuantized: Bool { hasBlocksOf32 || isKQuant }

    /// Q8_0 and Q4_0: the types `Quantization` makes and rows can be interleaved in.
    public var hasBlocksOf32: Bool { self == .q8_0 || self == .q4_0 }

    /// Q4_K and Q6_K: 256-value super-blocks.
    public var isKQuant: Bool { self == .q4_K || self == .q6_K }

    /// Bytes of `count` values (a multiple of `blockSize`).
    public func storageBytes(count: Int) -> Int {
        isQuantized ? count / blockSize * byteSize : count * byteSize
    }

    /// Bytes per element of a plain type (per block for quantized ones).
    public var byteSize: Int {
        switch self {
        case .q8_0: return 34
        case .q4_0: return 18
        case .q4_K: return Int(LLAMA_Q4_K_BYTES)
        case .q6_K: return Int(LLAMA_Q6_K_BYTES)
        case .f64, .i64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .u16, .i16: return 2
        case .u8, .i8, .bool: return 1
        }
    }
}

/// A dense row-major tensor: a shape, an element type and the bytes behind them.
///
/// The bytes are either owned (allocated here, 64-byte aligned, freed on deinit) or
/// borrowed from another object that keeps them alive, typically a memory-mapped file,
/// so a checkpoint's weights are used in place and never copied.
public final class Tensor: @unchecked Sendable {
    /// Sizes of each dimension, outermost first.
    public let shape: [Int]
    /// Element type of `rawPointer`'s bytes.
    public let dtype: DType
    /// The order of a quantized matrix's blocks (`.rows` for everything read from a file).
    public let layout: BlockLayout
    /// The first byte of the data.
    public let rawPointer: UnsafeMutableRawPointer
    /// Whether this tensor allocated its bytes (and frees them).
    private let ownsMemory: Bool
    /// Keeps borrowed bytes alive (a mapped file).
    private let owner: AnyObject?

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of bytes.
    public var byteCount: Int { dtype.storageBytes(count: count) }

    /// A zero-filled tensor with its own memory.
    public init(zeros shape: [Int], dtype: DType = .f32) {
        self.shape = shape
        self.dtype = dtype
        layout = .rows
        let bytes = max(dtype.storageBytes(count: shape.reduce(1, *)), 1)
        rawPointer = Self.allocate(bytes: bytes)
        rawPointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        ownsMemory = true
        owner = nil
    }

    /// Bytes of at least 2 MiB are 2 MiB-aligned and marked for transparent huge pages
    /// (`madvise(MADV_HUGEPAGE)`, before the zero fill touches them): streaming a weight matrix
    /// through one 2 MiB TLB entry instead of 512 4 KiB ones keeps decode closer to the memory
    /// bandwidth (where the kernel allows it; `never` in /sys/kernel/mm/transparent_hugepage
    /// turns it off). Smaller buffers are 64-byte aligned.
    public static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let hugePage = 2 << 20
        guard bytes >= hugePage else { return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: hugePage)
        #if os(Linux)
        _ = madvise(pointer, bytes & ~(hugePage - 1), MADV_HUGEPAGE)
        #endif
        return pointer
    }

    /// A float32 tensor holding a copy of `values`.
    public convenience init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.init(zeros: shape, dtype: .f32)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { floats.update(from: base, count: values.count) }
        }
    }

    /// A view of bytes that `owner` keeps alive.
    public init(shape: [Int], dtype: DType, borrowing pointer: UnsafeMutableRawPointer, owner: AnyObject,
                layout: BlockLayout = .rows) {
        precondition(layout == .rows || Self.canInterleave(shape: shape, dtype: dtype), "\(shape) \(dtype.rawValue) cannot be interleaved")
        self.shape = shape
        self.dtype = dtype
        self.layout = layout
        rawPointer = pointer
        ownsMemory = false
        self.owner = owner
    }

    deinit {
        if ownsMemory { rawPointer.deallocate() }
    }

    /// The data as float32 elements; only valid for `.f32` tensors.
    public var floats: UnsafeMutablePointer<Float> {
        precondition(dtype == .f32, "tensor is \(dtype.rawValue), not F32")
        return rawPointer.assumingMemoryBound(to: Float.self)
    }

    /// The elements converted to Float (a copy), for any floating or integer dtype.
    public func toFloatArray() -> [Float] {
        let n = count
        var result = [Float](repeating: 0, count: n)
        result.withUnsafeMutableBufferPointer { out in
            guard let destination = out.baseAddress else { return }
            if layout == .interleaved8 { dequantizeRows(0..<shape[0], into: destination) }
            else { convertToFloat(rawPointer, dtype: dtype, count: n, into: destination) }
        }
        return result
    }

    /// A copy in memory of its own (2 MiB pages for large tensors), same type, shape and layout.
    public func residentCopy() -> Tensor {
        if layout != .rows { return TensorArena.copies(of: [self])[0] }
        let copy = Tensor(zeros: shape, dtype: dtype)
        copy.rawPointer.copyMemory(from: rawPointer, byteCount: byteCount)
        return copy
    }

    /// A float32 copy of this tensor.
    public func float32Copy() -> Tensor {
        let copy = Tensor(zeros: shape, dtype: .f32)
        if layout == .interleaved8 { dequantizeRows(0..<shape[0], into: copy.floats) }
        else { convertToFloat(rawPointer, dtype: dtype, count: count, into: copy.floats) }
        return copy
    }

    /// The elements as Int32 (a copy); for integer tensors.
    public func toInt32Array() -> [Int32] {
        let n = count
        switch dtype {
        case .i32: return Array(UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: Int32.self), count: n))
        case .i64: return (0..<n).map { Int32(truncatingIfNeeded: rawPointer.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        case .u32: return (0..<n).map { Int32(bitPattern: rawPointer.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        case .u16: return (0..<n).map { Int32(rawPointer.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        default: return toFloatArray().map { Int32($0) }
        }
    }
}

/// Converts `count` elements of `dtype` at `source` to float32 at `destination`.
public func convertToFloat(_ source: UnsafeRawPointer, dtype: DType, count: Int, into destination: UnsafeMutablePointer<Float>) {
    switch dtype {
    case .f32:
        destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
    case .f16:
        convertHalfToFloat(source.assumingMemoryBound(to: UInt16.self), destination, count)
    case .bf16:
        convertBFloat16ToFloat(source.assumingMemoryBound(to: UInt16.self), destination, count)
    case .f64:
        for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
    case .i32:
        for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
    case .i64:
        for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
    case .u32:
        for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
    case .u16:
        for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
    case .i16:
        for i in 0..<count { destination[i] = Float(source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
    case .u8, .bool:
        for i in 0..<count { destination[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
    case .i8:
        for i in 0..<count { destination[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
    case .q4_K:
        llama_dequantize_row_q4_k(source, destination, count)
    case .q6_K:
        llama_dequantize_row_q6_k(source, destination, count)
    case .q8_0:
        llama_dequantize_row_q8_0(source.assumingMemoryBound(to: llama_block_q8_0.self), destination, count)
    case .q4_0:
        llama_dequantize_row_q4_0(source.assumingMemoryBound(to: llama_block_q4_0.self), destination, count)
    }
}
