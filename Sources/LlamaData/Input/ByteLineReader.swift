/// Splits a byte stream into lines at `\n` (a `\r` before it is kept in the line: callers
/// that care trim it). The last line may lack its newline.
public final class ByteLineReader {
    private let source: ByteSource
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var atEnd = false
    /// Lines returned so far (the 1-based number of the last one).
    public private(set) var lineNumber = 0
    /// The error the source threw, if reading stopped early; lines before it were returned.
    public private(set) var error: Error?

    public init(source: ByteSource) {
        self.source = source
    }

    /// Bytes consumed so far (the offset of the next line or byte).
    public private(set) var byteOffset = 0

    /// Puts `bytes` back in front of the unread input (they are read again next).
    public func unread(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        buffer.replaceSubrange(0..<start, with: bytes)
        end += bytes.count - start
        start = 0
        byteOffset -= bytes.count
    }

    /// Exactly `count` bytes, or fewer when the stream ends first.
    public func readBytes(count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if start == end {
                if atEnd { break }
                start = 0
                end = 0
                do {
                    let read = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                    if read == 0 { atEnd = true } else { end = read }
                } catch {
                    self.error = error
                    atEnd = true
                }
                continue
            }
            let take = min(count - result.count, end - start)
            result.append(contentsOf: buffer[start..<(start + take)])
            start += take
            byteOffset += take
        }
        return result
    }

    /// The next line without its newline, or nil at the end (or after a read error, kept in
    /// `error`).
    public func nextLine() -> [UInt8]? {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                byteOffset += newline + 1 - start
                start = newline + 1
                lineNumber += 1
                return line
            }
            if atEnd {
                guard start < end else { return nil }
                let line = Array(buffer[start..<end])
                byteOffset += end - start
                start = end
                lineNumber += 1
                return line
            }
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            do {
                let count = try buffer.withUnsafeMutableBytes { bytes in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]))
                }
                if count == 0 { atEnd = true } else { end += count }
            } catch {
                self.error = error
                atEnd = true
            }
        }
    }
}
