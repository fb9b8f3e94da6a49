import CLlamaKernels
import Foundation

/// A metadata value of a GGUF file (the `gguf_type` of ggml's gguf.h).
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    /// Elements of one type (`elementType` is the gguf_type code, kept for empty arrays).
    case array(elementType: UInt32, values: [GGUFValue])

    /// The gguf_type code.
    public var typeCode: UInt32 {
        switch self {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    /// The value as an integer, for any integer type.
    public var integer: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(clamping: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value as a float, for float and integer types.
    public var real: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return integer.map(Double.init)
        }
    }

    public var string: String? { if case let .string(v) = self { return v } else { return nil } }
    public var bool: Bool? { if case let .bool(v) = self { return v } else { return nil } }
    public var array: [GGUFValue]? { if case let .array(_, values) = self { return values } else { return nil } }
}

/// ggml tensor types this toolkit reads and writes, by their ggml_type code.
public enum GGMLType {
    /// The DType of a ggml_type code, when supported.
    public static func dtype(code: UInt32) -> DType? {
        switch code {
        case 0: return .f32
        case 1: return .f16
        case 2: return .q4_0
        case 8: return .q8_0
        case 12: return .q4_K
        case 14: return .q6_K
        case 30: return .bf16
        default: return nil
        }
    }

    /// The ggml_type code of a DType, when GGUF can store it.
    public static func code(of dtype: DType) -> UInt32? {
        switch dtype {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q8_0: return 8
        case .q4_K: return 12
        case .q6_K: return 14
        case .bf16: return 30
        default: return nil
        }
    }
}

/// One entry of a GGUF file's tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Row-major shape, outermost first (GGUF stores the dimensions innermost first).
    public let shape: [Int]
    public let typeCode: UInt32
    /// Offset from the start of the data section.
    public let offset: Int
}

/// A memory-mapped GGUF file (version 2 or 3), as ggml's gguf.c and the `gguf` Python
/// package define it: magic "GGUF", version, tensor and metadata counts, metadata
/// key/values, the tensor table, padding to `general.alignment` (32), then the data.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    public let dataOffset: Int
    private let index: [String: Int]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        var reader = GGUFReader(path: path, bytes: UnsafeRawBufferPointer(start: file.bytes, count: file.size))
        guard try reader.read(UInt32.self) == 0x4655_4747 else {
            throw CoreError.invalidGGUF(path: path, offset: 0, reason: "no GGUF magic")
        }
        version = try reader.read(UInt32.self)
        guard version == 2 || version == 3 else {
            throw CoreError.invalidGGUF(path: path, offset: 4, reason: "version \(version) is not supported (2 or 3)")
        }
        let tensorCount = try reader.count(try reader.read(UInt64.self), what: "tensor count")
        let metadataCount = try reader.count(try reader.read(UInt64.self), what: "metadata count")
        var metadata: [(key: String, value: GGUFValue)] = []
        for _ in 0..<metadataCount {
            let key = try reader.string()
            let type = try reader.read(UInt32.self)
            metadata.append((key, try reader.value(type: type)))
        }
        let alignmentValue = metadata.first { $0.key == "general.alignment" }?.value.integer ?? 32
        guard alignmentValue > 0 && alignmentValue & (alignmentValue - 1) == 0 else {
            throw CoreError.invalidGGUF(path: path, offset: reader.offset, reason: "general.alignment \(alignmentValue) is not a power of two")
        }
        alignment = alignmentValue
        var tensors: [GGUFTensorInfo] = []
        for _ in 0..<tensorCount {
            let start = reader.offset
            let name = try reader.string()
            let dimensionCount = try reader.read(UInt32.self)
            guard dimensionCount >= 1 && dimensionCount <= 4 else {
                throw CoreError.invalidGGUF(path: path, offset: start, reason: "tensor '\(name)' has \(dimensionCount) dimensions")
            }
            var dimensions: [Int] = []
            for _ in 0..<dimensionCount { dimensions.append(try reader.count(try reader.read(UInt64.self), what: "dimension of '\(name)'")) }
            let type = try reader.read(UInt32.self)
            let offset = try reader.count(try reader.read(UInt64.self), what: "offset of '\(name)'")
            tensors.append(GGUFTensorInfo(name: name, shape: dimensions.reversed(), typeCode: type, offset: offset))
        }
        dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        let dataSize = file.size - dataOffset
        for tensor in tensors {
            let count = tensor.shape.reduce(1, *)
            let typeName: String, blockSize: Int, bytes: Int
            if let dtype = GGMLType.dtype(code: tensor.typeCode) {
                (typeName, blockSize, bytes) = (dtype.rawValue, dtype.blockSize, dtype.storageBytes(count: count))
            } else {
                continue
            }
            // ggml stores quantized rows as whole blocks: the innermost dimension is a multiple of the block.
            guard (tensor.shape.last ?? 1) % blockSize == 0 else {
                throw CoreError.invalidGGUF(path: path, offset: dataOffset + tensor.offset,
                                            reason: "tensor '\(tensor.name)' \(tensor.shape) \(typeName): rows of \(tensor.shape.last ?? 1) values are not whole blocks of \(blockSize)")
            }
            guard tensor.offset % alignment == 0, tensor.offset + bytes <= dataSize else {
                throw CoreError.invalidGGUF(path: path, offset: dataOffset + tensor.offset,
                                            reason: "tensor '\(tensor.name)' \(tensor.shape) \(typeName) lies outside the data section or is misaligned")
            }
        }
        self.metadata = metadata
        self.tensors = tensors
        index = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The metadata value of `key`.
    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    /// The named tensor, viewing the mapped bytes in place (Q4_K and Q6_K super-blocks too,
    /// which the K-quant kernels read as stored).
    public func tensor(_ name: String) throws -> Tensor {
        guard let position = index[name] else { throw CoreError.missingTensor(path: path, name: name) }
        let info = tensors[position]
        let source = file.bytes + dataOffset + info.offset
        guard let dtype = GGMLType.dtype(code: info.typeCode) else {
            throw CoreError.unsupportedDType(path: path, name: name, dtype: "ggml type \(info.typeCode)")
        }
        return Tensor(shape: info.shape, dtype: dtype, borrowing: source, owner: file)
    }
}

/// A bounds-checked little-endian cursor over a GGUF file's bytes.
struct GGUFReader {
    let path: String
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    mutating func read<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard offset + MemoryLayout<T>.size <= bytes.count else {
            throw CoreError.invalidGGUF(path: path, offset: offset, reason: "file ends inside the header")
        }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    /// A count that must be plausible for the file's size.
    mutating func count(_ value: UInt64, what: String) throws -> Int {
        guard value < UInt64(1) << 40 else {
            throw CoreError.invalidGGUF(path: path, offset: offset, reason: "\(what) \(value) is implausible")
        }
        return Int(value)
    }

    mutating func string() throws -> String {
        let length = try count(try read(UInt64.self), what: "string length")
        guard offset + length <= bytes.count else {
            throw CoreError.invalidGGUF(path: path, offset: offset, reason: "string of \(length) bytes runs past the end")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
        offset += length
        return text
    }

    mutating func value(type: UInt32) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self))
        case 1: return .int8(try read(Int8.self))
        case 2: return .uint16(try read(UInt16.self))
        case 3: return .int16(try read(Int16.self))
        case 4: return .uint32(try read(UInt32.self))
        case 5: return .int32(try read(Int32.self))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self)))
        case 7: return .bool(try read(UInt8.self) != 0)
        case 8: return .string(try string())
        case 9:
            let elementType = try read(UInt32.self)
            guard elementType != 9 else {
                throw CoreError.invalidGGUF(path: path, offset: offset, reason: "nested arrays are not part of GGUF")
            }
            let length = try count(try read(UInt64.self), what: "array length")
            guard length <= bytes.count - offset else {
                throw CoreError.invalidGGUF(path: path, offset: offset, reason: "array of \(length) elements runs past the end")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(length)
            for _ in 0..<length { values.append(try value(type: elementType)) }
            return .array(elementType: elementType, values: values)
        case 10: return .uint64(try read(UInt64.self))
        case 11: return .int64(try read(Int64.self))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self)))
        default: throw CoreError.invalidGGUF(path: path, offset: offset - 4, reason: "unknown metadata type \(type)")
        }
    }
}
