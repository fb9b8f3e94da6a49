import Foundation

/// NumPy `.npy` files (format version 1.0), as `numpy.save` writes and `numpy.load` reads:
/// the magic `\x93NUMPY`, version bytes, a little-endian u16 header length, a Python dict
/// literal `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }` padded with spaces
/// and a newline so the data starts on a 64-byte boundary, then the raw data.
public enum Npy {
    /// Writes float32 `values` of `shape` to `path`, atomically.
    public static func write(path: String, values: UnsafeBufferPointer<Float>, shape: [Int]) throws {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let prefixLength = 10
        while (prefixLength + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        try bytes.withUnsafeBytes { headerBytes in
            try AtomicFile.write(path: path, chunks: [headerBytes, UnsafeRawBufferPointer(values)])
        }
    }

    /// Reads a little-endian float32 (`<f4`) C-order array: its shape and values.
    public static func readFloat32(path: String) throws -> (shape: [Int], values: [Float]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw CoreError.fileNotFound(path: path) }
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> CoreError { .invalidNpy(path: path, reason: reason) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw fail("no NUMPY magic") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else {
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        }
        guard start + headerLength <= bytes.count,
              let header = String(bytes: bytes[start..<(start + headerLength)], encoding: .utf8) else { throw fail("truncated header") }
        guard header.contains("'descr': '<f4'") else { throw fail("only little-endian float32 ('<f4') is read") }
        guard header.contains("'fortran_order': False") else { throw fail("Fortran order is not read") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("no shape in header")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let dataStart = start + headerLength
        guard bytes.count - dataStart == count * 4 else {
            throw fail("data is \(bytes.count - dataStart) bytes, shape \(shape) needs \(count * 4)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[dataStart...]))
            }
        }
        return (shape, values)
    }
}
