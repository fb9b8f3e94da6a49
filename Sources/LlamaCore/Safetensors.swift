import Foundation

/// Where one tensor lives inside a safetensors file.
public struct SafetensorsEntry: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (after the header).
    public let begin: Int
    public let end: Int
}

/// A memory-mapped safetensors file (the format of Hugging Face checkpoints).
///
/// Layout, as the `safetensors` library defines it: an 8-byte little-endian header
/// length N, N bytes of JSON mapping each tensor name to `{dtype, shape, data_offsets}`
/// (plus an optional `__metadata__` map of strings), then the data section. Every entry
/// is validated when the file is opened: known dtype, non-negative shape, offsets inside
/// the data section, a byte length equal to the shape's, and no two tensors overlapping.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    /// Tensor entries by name.
    public let entries: [String: SafetensorsEntry]
    /// The `__metadata__` strings.
    public let metadata: [String: String]
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int

    /// Largest header accepted (the reference library refuses 100 MB and more).
    public static let maximumHeaderLength = 100_000_000

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        func fail(_ reason: String) -> CoreError { .invalidSafetensors(path: path, reason: reason) }
        guard file.size >= 8 else {
            throw fail("file is \(file.size) bytes, shorter than the 8-byte header length")
        }
        let headerLength = Int(UInt64(littleEndian: file.bytes.loadUnaligned(as: UInt64.self)).clamped(to: UInt64(Int.max)))
        guard headerLength <= Self.maximumHeaderLength else { throw fail("header length \(headerLength) is too large") }
        guard 8 + headerLength <= file.size else {
            throw fail("header length \(headerLength) runs past the end of the file (\(file.size) bytes)")
        }
        dataOffset = 8 + headerLength
        let headerData = Data(bytes: file.bytes + 8, count: headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let root = json as? [String: Any] else { throw fail("header is not a JSON object") }
        let dataSize = file.size - dataOffset
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in root {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, item) in map {
                    guard let text = item as? String else { throw fail("__metadata__ value '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let object = value as? [String: Any] else { throw fail("tensor '\(name)': entry is not an object") }
            guard let dtypeName = object["dtype"] as? String else { throw fail("tensor '\(name)': no dtype") }
            guard let dtype = DType(rawValue: dtypeName), !dtype.isQuantized else { throw fail("tensor '\(name)': unknown dtype '\(dtypeName)'") }
            guard let shapeValues = object["shape"] as? [Any] else { throw fail("tensor '\(name)': no shape") }
            let shape = try shapeValues.map { item -> Int in
                guard let number = item as? NSNumber, number.doubleValue >= 0,
                      number.doubleValue == number.doubleValue.rounded(), number.doubleValue < 1e15 else {
                    throw fail("tensor '\(name)': shape \(shapeValues) is not a list of non-negative integers")
                }
                return number.intValue
            }
            guard let offsets = object["data_offsets"] as? [Any], offsets.count == 2,
                  let beginNumber = offsets[0] as? NSNumber, let endNumber = offsets[1] as? NSNumber,
                  beginNumber.doubleValue >= 0, endNumber.doubleValue >= 0,
                  beginNumber.doubleValue < 1e15, endNumber.doubleValue < 1e15 else {
                throw fail("tensor '\(name)': data_offsets is not a pair of non-negative integers")
            }
            let begin = beginNumber.intValue, end = endNumber.intValue
            guard begin <= end, end <= dataSize else {
                throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] out of range (data section is \(dataSize) bytes)")
            }
            let expected = shape.reduce(1, *) * dtype.byteSize
            guard end - begin == expected else {
                throw fail("tensor '\(name)': data_offsets span \(end - begin) bytes but shape \(shape) of \(dtype.rawValue) needs \(expected)")
            }
            entries[name] = SafetensorsEntry(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        let ordered = entries.sorted { ($0.value.begin, $0.value.end) < ($1.value.begin, $1.value.end) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.value.begin < previous.value.end {
            throw fail("tensors '\(previous.key)' and '\(next.key)' overlap")
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// Names of all tensors, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The named tensor, viewing the mapped bytes in place (copied only when misaligned).
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw CoreError.missingTensor(path: path, name: name) }
        let pointer = file.bytes + dataOffset + entry.begin
        if Int(bitPattern: pointer) % entry.dtype.byteSize != 0 {
            let copy = Tensor(zeros: entry.shape, dtype: entry.dtype)
            copy.rawPointer.copyMemory(from: pointer, byteCount: entry.end - entry.begin)
            return copy
        }
        return Tensor(shape: entry.shape, dtype: entry.dtype, borrowing: pointer, owner: file)
    }
}

/// Writes safetensors files the `safetensors` library, transformers and llama.cpp read:
/// names sorted, data in that order, header padded with spaces to a multiple of 8 bytes.
public enum SafetensorsWriter {
    public static func write(path: String, tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws {
        let sorted = tensors.sorted { $0.name < $1.name }
        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in sorted {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.byteCount)]}")
            offset += tensor.byteCount
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while (headerBytes.count + 8) % 8 != 0 { headerBytes.append(0x20) }
        var length = UInt64(headerBytes.count).littleEndian
        try withUnsafeBytes(of: &length) { lengthBytes in
            try headerBytes.withUnsafeBytes { headerBuffer in
                var chunks = [lengthBytes, headerBuffer]
                let stored = sorted.map { $0.tensor.rowMajor() }
                for tensor in stored {
                    chunks.append(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount))
                }
                try AtomicFile.write(path: path, chunks: chunks)
            }
        }
    }

    /// `text` as a JSON string literal.
    public static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

extension Comparable {
    fileprivate func clamped(to upper: Self) -> Self { self > upper ? upper : self }
}
