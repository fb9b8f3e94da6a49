import CZlib

/// Decompresses gzip data read from another source with zlib's inflate (RFC 1952).
/// Multi-member files, as Common Crawl writes WET files (one member per record), are read
/// to the end: after each member's end the stream is reset and decoding goes on.
///
/// Damage in the middle of a multi-member file (a member cut short, bytes that are not gzip
/// between members) does not end the stream: the bytes are skipped up to the next gzip member
/// header (`1f 8b 08`), decoding resumes there and the damage is recorded in `warnings`. Only
/// damage with no member after it throws (`DataError.invalidGzip`), after every good byte.
/// A member cut short is usually not noticed where it is cut: inflate reads on into the next
/// members as if they were its data. So the bytes of the member being decoded are kept (up
/// to `replayLimit`), and on an error the search for the next header starts again just after
/// the failed member's first byte, which finds the members it swallowed.
public final class GzipByteSource: ByteSource {
    public var path: String { source.path }
    /// Damage skipped so far (corrupt or truncated members, garbage between members).
    public private(set) var warnings: [DataError] = []
    private var resynchronizing = false
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
    /// Compressed bytes of the member being decoded, for the search after damage.
    private var memberBytes: [UInt8] = []
    private var memberOverflow = false
    /// Members larger than this are not kept for a second search (WET members are one page).
    public var replayLimit = 32 << 20

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
                    if betweenMembers { finished = true; return 0 }
                    if !resynchronizing && replayMember(reason: "truncated member") { continue }
                    finished = true
                    throw DataError.invalidGzip(path: path, offset: compressedOffset, reason: "truncated stream")
                }
            }
            if resynchronizing {
                // Skip to the next member header; keep the last two bytes, which may start one.
                while inputStart + 2 < inputEnd,
                      !(input[inputStart] == 0x1F && input[inputStart + 1] == 0x8B && input[inputStart + 2] == 0x08) {
                    inputStart += 1
                    compressedOffset += 1
                }
                if inputStart + 2 >= inputEnd {
                    let kept = Array(input[inputStart..<inputEnd])
                    let count = try input.withUnsafeMutableBytes { bytes in
                        try source.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[kept.count...]))
                    }
                    for (index, byte) in kept.enumerated() { input[index] = byte }
                    inputStart = 0
                    inputEnd = kept.count + count
                    if count == 0 {
                        finished = true
                        throw warnings.popLast() ?? DataError.invalidGzip(path: path, offset: compressedOffset, reason: "no gzip member after damage")
                    }
                    continue
                }
                inflateReset(&stream)
                resynchronizing = false
                startMember()
            }
            if betweenMembers {
                // Padding zeros after the last member are allowed (gzip ignores them).
                while inputStart < inputEnd, input[inputStart] == 0 { inputStart += 1; compressedOffset += 1 }
                if inputStart == inputEnd { continue }
                if inputEnd - inputStart >= 2, !(input[inputStart] == 0x1F && input[inputStart + 1] == 0x8B) {
                    warnings.append(.invalidGzip(path: path, offset: compressedOffset, reason: "bytes that are not gzip after a member, skipped"))
                    resynchronizing = true
                    betweenMembers = false
                    continue
                }
                inflateReset(&stream)
                betweenMembers = false
                startMember()
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
            if !memberOverflow {
                if memberBytes.count + consumed > replayLimit {
                    memberOverflow = true
                    memberBytes = []
                } else {
                    memberBytes.append(contentsOf: input[inputStart..<(inputStart + consumed)])
                }
            }
            inputStart += consumed
            compressedOffset += consumed
            switch status {
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_STREAM_END:
                betweenMembers = true
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "inflate error \(status)"
                // Look for a later member; the error is thrown only if there is none.
                if !replayMember(reason: message) {
                    warnings.append(.invalidGzip(path: path, offset: compressedOffset, reason: message + "; skipped to the next member"))
                    resynchronizing = true
                    if consumed == 0 && inputStart < inputEnd {  // never search from the same byte twice
                        inputStart += 1
                        compressedOffset += 1
                    }
                }
                if produced > 0 { return produced }
                continue
            }
            if produced > 0 { return produced }
        }
    }
}

extension GzipByteSource {
    /// A new member begins: forget the previous one's bytes.
    private func startMember() {
        memberBytes.removeAll(keepingCapacity: true)
        memberOverflow = false
    }

    /// After damage in the member being decoded: puts its bytes from the second on back in
    /// front of the unread input and searches them for the next header. False when the
    /// member's bytes were not kept (too large).
    fileprivate func replayMember(reason: String) -> Bool {
        guard !memberOverflow, memberBytes.count > 1 else { return false }
        let memberStart = compressedOffset - memberBytes.count
        warnings.append(.invalidGzip(path: path, offset: memberStart,
                                     reason: "damaged member (\(reason)); searched again from its second byte"))
        let replay = Array(memberBytes.dropFirst()) + Array(input[inputStart..<inputEnd])
        if input.count < replay.count { input = [UInt8](repeating: 0, count: replay.count) }
        for (index, byte) in replay.enumerated() { input[index] = byte }
        inputStart = 0
        inputEnd = replay.count
        compressedOffset = memberStart + 1
        startMember()
        resynchronizing = true
        return true
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
