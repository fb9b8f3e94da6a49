import Foundation

/// Writes GGUF version 3 files that ggml, llama.cpp and the `gguf` Python package read:
/// metadata in the given order, tensors in the given order, each tensor's data aligned to
/// 32 bytes (`general.alignment`), the whole file written atomically.
public enum GGUFWriter {
    public static let alignment = 32

    public static func write(path: String, metadata: [(key: String, value: GGUFValue)],
                             tensors: [(name: String, tensor: Tensor)]) throws {
        var header = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        func appendString(_ text: String) {
            append(UInt64(text.utf8.count))
            header.append(contentsOf: Array(text.utf8))
        }
        func appendValue(_ value: GGUFValue) {
            switch value {
            case let .uint8(v): append(v)
            case let .int8(v): append(v)
            case let .uint16(v): append(v)
            case let .int16(v): append(v)
            case let .uint32(v): append(v)
            case let .int32(v): append(v)
            case let .float32(v): append(v.bitPattern)
            case let .bool(v): append(UInt8(v ? 1 : 0))
            case let .string(v): appendString(v)
            case let .array(elementType, values):
                append(elementType)
                append(UInt64(values.count))
                for element in values { appendValue(element) }
            case let .uint64(v): append(v)
            case let .int64(v): append(v)
            case let .float64(v): append(v.bitPattern)
            }
        }
        append(UInt32(0x4655_4747))
        append(UInt32(3))
        append(UInt64(tensors.count))
        append(UInt64(metadata.count))
        for (key, value) in metadata {
            appendString(key)
            append(value.typeCode)
            appendValue(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for (name, tensor) in tensors {
            guard let code = GGMLType.code(of: tensor.dtype) else {
                throw CoreError.unsupportedDType(path: path, name: name, dtype: tensor.dtype.rawValue)
            }
            appendString(name)
            append(UInt32(tensor.shape.count))
            for dimension in tensor.shape.reversed() { append(UInt64(dimension)) }
            append(code)
            append(UInt64(offset))
            offsets.append(offset)
            offset = (offset + tensor.byteCount + alignment - 1) / alignment * alignment
        }
        while header.count % alignment != 0 { header.append(0) }
        // Files hold GGML's row order; interleaved matrices are written from row-order copies.
        let stored = tensors.map { $0.tensor.rowMajor() }
        let padding = [UInt8](repeating: 0, count: alignment)
        try header.withUnsafeBytes { headerBytes in
            try padding.withUnsafeBytes { paddingBytes in
                var chunks = [headerBytes]
                for (index, tensor) in stored.enumerated() {
                    chunks.append(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount))
                    let end = offsets[index] + tensor.byteCount
                    let next = (end + alignment - 1) / alignment * alignment
                    if next > end { chunks.append(UnsafeRawBufferPointer(rebasing: paddingBytes[0..<(next - end)])) }
                }
                try AtomicFile.write(path: path, chunks: chunks)
            }
        }
    }
}
