import Foundation

/// Reads a file line by line in fixed-size chunks, so memory does not grow with the file.
///
/// Lines are split at `\n` only (like `std::getline`, which SentencePiece uses): a `\r`
/// stays in the line, and a last line without `\n` is still returned.
public enum LineReader {
    /// Bytes read per system call.
    static let chunkSize = 1 << 20

    /// Calls `body` with each line of the file at `url`; `body` returns false to stop early.
    ///
    /// - Throws: `TokenizerError.unreadableFile` naming the file.
    public static func forEachLine(of url: URL, _ body: (ArraySlice<UInt8>) throws -> Bool) throws {
        let descriptor = open(url.path, O_RDONLY)
        if descriptor < 0 {
            throw TokenizerError.unreadableFile(path: url.path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        try forEachLine(descriptor: descriptor, name: url.path, body)
    }

    /// Calls `body` with each line read from an open file descriptor (e.g. standard input);
    /// `name` identifies it in errors.
    public static func forEachLine(descriptor: Int32, name: String, _ body: (ArraySlice<UInt8>) throws -> Bool) throws {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var carry: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress, chunkSize) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TokenizerError.unreadableFile(path: name, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            var lineStart = 0
            while lineStart < count, let index = newline(in: buffer, from: lineStart, to: count) {
                if carry.isEmpty {
                    if try !body(buffer[lineStart..<index]) { return }
                } else {
                    carry.append(contentsOf: buffer[lineStart..<index])
                    if try !body(carry[...]) { return }
                    carry.removeAll(keepingCapacity: true)
                }
                lineStart = index + 1
            }
            carry.append(contentsOf: buffer[lineStart..<count])
        }
        if !carry.isEmpty { _ = try body(carry[...]) }
    }

    /// The index of the first `\n` in `buffer[start..<end]`, or nil (`memchr`).
    @inline(__always)
    private static func newline(in buffer: [UInt8], from start: Int, to end: Int) -> Int? {
        buffer.withUnsafeBufferPointer { bytes -> Int? in
            guard let base = bytes.baseAddress, let found = memchr(base + start, 0x0A, end - start) else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }
}
