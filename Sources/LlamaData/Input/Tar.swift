/// One regular file of a tar archive.
public struct TarEntry: Sendable {
    /// The member's path inside the archive.
    public var name: String
    /// The member's bytes.
    public var bytes: [UInt8]
}

/// Reads tar archives (POSIX ustar, IEEE Std 1003.1-1988, with the GNU `L` long-name and the
/// pax `x` extended-header `path` records that GNU tar writes): 512-byte headers holding an
/// octal size, each followed by the data padded to 512 bytes; two zero blocks end it.
public enum TarReader {
    private static let blockSize = 512

    /// Calls `body` with every regular file in order. A truncated archive or a bad header
    /// throws `DataError.invalidTar` after every complete member before it was passed on.
    public static func forEachEntry(in source: ByteSource, _ body: (TarEntry) throws -> Void) throws {
        var offset = 0
        var header = [UInt8](repeating: 0, count: blockSize)
        var longName: String?
        while true {
            let count = try header.withUnsafeMutableBytes { try source.readFully(into: $0) }
            if count == 0 { return }  // no end blocks: tolerated, as GNU tar does with a warning
            guard count == blockSize else {
                throw DataError.invalidTar(path: source.path, offset: offset, reason: "truncated header")
            }
            if header.allSatisfy({ $0 == 0 }) { return }
            guard checksumMatches(header) else {
                throw DataError.invalidTar(path: source.path, offset: offset, reason: "header checksum mismatch")
            }
            guard let size = octal(header[124..<136]) else {
                throw DataError.invalidTar(path: source.path, offset: offset, reason: "bad size field")
            }
            let type = header[156]
            var data = [UInt8](repeating: 0, count: size)
            let read = try data.withUnsafeMutableBytes { try source.readFully(into: $0) }
            guard read == size else {
                throw DataError.invalidTar(path: source.path, offset: offset + blockSize + read, reason: "truncated member data")
            }
            let padding = (blockSize - size % blockSize) % blockSize
            if padding > 0 {
                var skip = [UInt8](repeating: 0, count: padding)
                let skipped = try skip.withUnsafeMutableBytes { try source.readFully(into: $0) }
                guard skipped == padding else {
                    throw DataError.invalidTar(path: source.path, offset: offset, reason: "truncated padding")
                }
            }
            let dataStart = offset + blockSize
            offset = dataStart + size + padding
            switch type {
            case UInt8(ascii: "L"):
                longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                _ = dataStart
            case UInt8(ascii: "x"):
                if let path = paxPath(data) { longName = path }
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                let name = longName ?? headerName(header)
                longName = nil
                try body(TarEntry(name: name, bytes: data))
            default:
                longName = nil  // directories, links, devices: nothing to read
            }
        }
    }

    /// All regular files of an archive held in memory (gzip-compressed or not).
    public static func entries(of bytes: [UInt8], path: String) throws -> [TarEntry] {
        let plain = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, path: path) : bytes
        var result: [TarEntry] = []
        try forEachEntry(in: MemoryByteSource(path: path, bytes: plain)) { result.append($0) }
        return result
    }

    /// True when `bytes` look like a tar archive (a ustar magic, or a valid checksum).
    public static func looksLikeTar(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= blockSize else { return false }
        let header = Array(bytes[0..<blockSize])
        if Array(header[257..<262]) == Array("ustar".utf8) { return true }
        return checksumMatches(header) && !header.allSatisfy { $0 == 0 }
    }

    private static func headerName(_ header: [UInt8]) -> String {
        let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let prefix = String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self)
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// Parses an octal numeric field (NUL or space terminated); also accepts the GNU base-256
    /// form (high bit set) for sizes of 8 GiB and more.
    private static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        if let first = field.first, first & 0x80 != 0 {
            var value = 0
            for byte in field.dropFirst() { value = value << 8 | Int(byte) }
            return value
        }
        var value = 0
        var seenDigit = false
        for byte in field {
            if byte == 0 || byte == 0x20 { if seenDigit { break } else { continue } }
            guard byte >= 0x30, byte <= 0x37 else { return nil }
            value = value * 8 + Int(byte - 0x30)
            seenDigit = true
        }
        return value
    }

    /// The header checksum: the sum of all bytes with the checksum field taken as spaces.
    private static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = octal(header[148..<156]) else { return false }
        var sum = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 0x20 : Int(byte) }
        return sum == stored
    }

    /// The `path` record of a pax extended header ("LENGTH path=VALUE\n" records).
    private static func paxPath(_ data: [UInt8]) -> String? {
        let text = String(decoding: data, as: UTF8.self)
        for record in text.split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let field = record[record.index(after: space)...]
            if field.hasPrefix("path=") { return String(field.dropFirst(5)) }
        }
        return nil
    }
}
