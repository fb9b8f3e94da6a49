import Foundation
import LlamaCore

/// Little-endian reader over a memory-mapped fastText model file. Every read checks the
/// bytes left, so a truncated file throws `DataError.invalidFastTextModel` naming the file,
/// the offset and the field being read, never reads past the end.
struct FastTextBinaryReader {
    let path: String
    private let file: MappedFile
    private(set) var offset = 0

    init(path: String) throws {
        self.path = path
        do {
            file = try MappedFile(path: path)
        } catch CoreError.fileNotFound {
            throw DataError.fileNotFound(path: path)
        }
    }

    var remaining: Int { file.size - offset }

    func failure(_ reason: String, at position: Int? = nil) -> DataError {
        .invalidFastTextModel(path: path, offset: position ?? offset, reason: reason)
    }

    private mutating func take(_ count: Int, _ field: String) throws -> UnsafeRawPointer {
        guard count >= 0, count <= remaining else {
            throw failure("file ends while reading \(field) (\(count) bytes needed, \(remaining) left)")
        }
        let pointer = UnsafeRawPointer(file.bytes + offset)
        offset += count
        return pointer
    }

    mutating func int32(_ field: String) throws -> Int32 {
        Int32(littleEndian: try take(4, field).loadUnaligned(as: Int32.self))
    }

    mutating func int64(_ field: String) throws -> Int64 {
        Int64(littleEndian: try take(8, field).loadUnaligned(as: Int64.self))
    }

    mutating func double(_ field: String) throws -> Double {
        Double(bitPattern: UInt64(littleEndian: try take(8, field).loadUnaligned(as: UInt64.self)))
    }

    mutating func byte(_ field: String) throws -> UInt8 {
        try take(1, field).load(as: UInt8.self)
    }

    /// A C++ `bool` as fastText writes it: one byte, 0 or 1.
    mutating func bool(_ field: String) throws -> Bool {
        let start = offset
        let value = try byte(field)
        guard value <= 1 else { throw failure("\(field) is \(value), not a boolean 0 or 1", at: start) }
        return value == 1
    }

    /// The bytes of a NUL-terminated string (without the NUL).
    mutating func cString(_ field: String) throws -> [UInt8] {
        let base = file.bytes.assumingMemoryBound(to: UInt8.self)
        var end = offset
        while end < file.size, base[end] != 0 { end += 1 }
        guard end < file.size else { throw failure("file ends inside \(field) (no terminating NUL)") }
        let bytes = Array(UnsafeBufferPointer(start: base + offset, count: end - offset))
        offset = end + 1
        return bytes
    }

    mutating func bytes(_ count: Int, _ field: String) throws -> [UInt8] {
        let pointer = try take(count, field)
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    mutating func floats(_ count: Int, _ field: String) throws -> [Float] {
        guard count >= 0, count <= remaining / 4 else {
            throw failure("file ends while reading \(field) (\(count) floats needed, \(remaining) bytes left)")
        }
        let pointer = try take(count * 4, field)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0, let destination = buffer.baseAddress {
                memcpy(destination, pointer, count * 4)
            }
            initialized = count
        }
    }
}

/// Little-endian byte buffer for writing a fastText model.
struct FastTextBinaryWriter {
    private(set) var data = Data()

    mutating func int32(_ value: Int32) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    mutating func int64(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    mutating func double(_ value: Double) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    mutating func byte(_ value: UInt8) { data.append(value) }
    mutating func bool(_ value: Bool) { data.append(value ? 1 : 0) }
    mutating func cString(_ bytes: [UInt8]) { data.append(contentsOf: bytes); data.append(0) }
    mutating func bytes(_ bytes: [UInt8]) { data.append(contentsOf: bytes) }
    mutating func floats(_ values: UnsafeBufferPointer<Float>) {
        data.append(UnsafeBufferPointer(start: UnsafeRawPointer(values.baseAddress)?.assumingMemoryBound(to: UInt8.self),
                                        count: values.count * 4))
    }
}
