import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A scratch file of post texts, so that grouping a site's answers under their questions
/// keeps only a few numbers per post in memory: each record is a list of strings, written
/// as (UInt32 little-endian byte count, UTF-8 bytes) each, and read back by offset. The file
/// is unlinked as soon as it is created, so it disappears with the process however it ends.
final class PostSpill {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var flushed = 0

    init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent(".posts-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp")
        descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw DataError.io(path: path, operation: "create", errno: errno) }
        unlink(path)
        buffer.reserveCapacity(1 << 20)
    }

    deinit { close(descriptor) }

    /// Appends a record; returns its offset and length.
    func append(_ strings: [String]) throws -> (offset: Int, length: Int) {
        let offset = flushed + buffer.count
        for string in strings {
            let count = UInt32(truncatingIfNeeded: string.utf8.count)
            for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
            buffer.append(contentsOf: string.utf8)
        }
        let length = flushed + buffer.count - offset
        if buffer.count >= 1 << 20 { try flush() }
        return (offset, length)
    }

    /// Writes the buffered records to the file.
    func flush() throws {
        var written = 0
        while written < buffer.count {
            let count = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress.map { $0 + written }, buffer.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw DataError.io(path: path, operation: "write", errno: errno)
            }
            written += count
        }
        flushed += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// The strings of the record at `offset` (call `flush()` after the last append first).
    func read(offset: Int, length: Int) throws -> [String] {
        var bytes = [UInt8](repeating: 0, count: length)
        var filled = 0
        while filled < length {
            let count = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress.map { $0 + filled }, length - filled, off_t(offset + filled))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw DataError.io(path: path, operation: "read", errno: count < 0 ? errno : EIO) }
            filled += count
        }
        var strings: [String] = []
        var position = 0
        while position + 4 <= length {
            var count = 0
            for index in 0..<4 { count |= Int(bytes[position + index]) << (8 * index) }
            position += 4
            let end = min(position + count, length)
            strings.append(String(decoding: bytes[position..<end], as: UTF8.self))
            position = end
        }
        return strings
    }
}
