import CZlib

/// Decompresses gzip data read from another source with zlib's inflate (RFC 1952).
/// Multi-member files, as Common Crawl writes WET files (one member per record), are read
/// to the end: after each member's end the stream is reset and decoding goes on.
public final class GzipByteSource: ByteSource {
    public var path: String { source.path }
    private let source: ByteSource
    private var stream = z_stream()
    private var input = [UInt8](repeating: 0, count: 1 << 16)
    private var inputStart = 0
    private var inputEnd = 0
    private var compressedOffset = 0
    private var initialized = false
    private var finished = false
    /// True between a member's end and the next member's first byte.
    private var betweenMembers = false

    public init(source: ByteSource) {
        self.source = source
    }

    deinit {
        if initialized { inflateEnd(&stream) }
    }

    private func initialize() throws {
        // 15 + 16: a 32 KiB window and a gzip header (zlib.h, inflateInit2).
        let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw DataError.invalidGzip(path: path, offset: 0, reason: "inflateInit2 \(status)") }
        initialized = true
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let outputBase = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        if !initialized { try initialize() }
        while true {
            if inputStart == inputEnd {
                let count = try input.withUnsafeMutableBytes { try source.read(into: $0) }
                inputStart = 0
                inputEnd = count
                if count == 0 {
                    finished = true
                    if betweenMembers { return 0 }
                    throw DataError.invalidGzip(path: path, offset: compressedOffset, reason: "truncated stream")
                }
            }
            if betweenMembers {
                // Padding zeros after the last member are allowed (gzip ignores them).
                while inputStart < inputEnd, input[inputStart] == 0 { inputStart += 1; compressedOffset += 1 }
                if inputStart == inputEnd { continue }
                inflateReset(&stream)
                betweenMembers = false
            }
            let available = inputEnd - inputStart
            let (status, consumed, produced) = input.withUnsafeMutableBytes { inputBytes -> (Int32, Int, Int) in
                stream.next_in = inputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self).advanced(by: inputStart)
                stream.avail_in = uInt(available)
                stream.next_out = outputBase.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(buffer.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, available - Int(stream.avail_in), buffer.count - Int(stream.avail_out))
            }
            inputStart += consumed
            compressedOffset += consumed
            switch status {
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_STREAM_END:
                betweenMembers = true
            default:
                finished = true
                let message = stream.msg.map { String(cString: $0) } ?? "inflate error \(status)"
                if produced > 0 { return produced }
                throw DataError.invalidGzip(path: path, offset: compressedOffset, reason: message)
            }
            if produced > 0 { return produced }
        }
    }
}

/// Whole-buffer gzip helpers.
public enum Gzip {
    /// True when `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// Decompresses a whole gzip file held in memory.
    public static func decompress(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        try GzipByteSource(source: MemoryByteSource(path: path, bytes: bytes)).readAll()
    }
}
