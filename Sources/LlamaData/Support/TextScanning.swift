/// Byte-level text helpers for the hot loops of the cleaners. Foundation's `contains`,
/// `range(of:)` and `trimmingCharacters(in:)` bridge to NSString and cost far more than a
/// pass over UTF-8 bytes; every pattern searched here is ASCII, so byte search is exact.
enum TextScanning {
    /// True for ASCII space, tab, line feed, vertical tab, form feed, carriage return.
    @inline(__always)
    static func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    /// `text` without leading and trailing whitespace (ASCII whitespace and U+00A0).
    static func trimmed(_ text: Substring) -> Substring {
        var start = text.utf8.startIndex
        var end = text.utf8.endIndex
        let utf8 = text.utf8
        while start < end {
            let byte = utf8[start]
            if isASCIISpace(byte) { start = utf8.index(after: start); continue }
            if byte == 0xC2, utf8.index(after: start) < end, utf8[utf8.index(after: start)] == 0xA0 {
                start = utf8.index(start, offsetBy: 2)
                continue
            }
            break
        }
        while end > start {
            let last = utf8.index(before: end)
            let byte = utf8[last]
            if isASCIISpace(byte) { end = last; continue }
            if byte == 0xA0, last > start, utf8[utf8.index(before: last)] == 0xC2 { end = utf8.index(before: last); continue }
            break
        }
        return Substring(text.utf8[start..<end])
    }

    /// True when `haystack` contains the ASCII `needle` ignoring ASCII case (`needle` lower case).
    static func containsIgnoringASCIICase<Bytes: Collection>(_ haystack: Bytes, _ needle: [UInt8]) -> Bool where Bytes.Element == UInt8 {
        guard let first = needle.first else { return true }
        let bytes = Array(haystack)
        guard bytes.count >= needle.count else { return false }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] | 0x20 == first {
                var offset = 1
                while offset < needle.count, Self.lowered(bytes[index + offset]) == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            index += 1
        }
        return false
    }

    @inline(__always)
    static func lowered(_ byte: UInt8) -> UInt8 { (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }

    /// The number of runs of non-whitespace (Python's `len(str.split())` for ASCII whitespace).
    static func wordCount<Bytes: Sequence>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var count = 0
        var inWord = false
        for byte in bytes {
            if isASCIISpace(byte) { inWord = false } else if !inWord { inWord = true; count += 1 }
        }
        return count
    }

    /// True when the UTF-8 of `text` contains `needle`'s bytes (exact, case-sensitive).
    static func contains(_ text: String, _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first else { return true }
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= pattern.count else { return false }
            var index = 0
            let last = bytes.count - pattern.count
            while index <= last {
                if bytes[index] == first {
                    var offset = 1
                    while offset < pattern.count, bytes[index + offset] == pattern[offset] { offset += 1 }
                    if offset == pattern.count { return true }
                }
                index += 1
            }
            return false
        }
    }

    /// `text` with every U+00A0 (no-break space) made a plain space.
    static func replacingNoBreakSpaces(_ text: String) -> String {
        guard contains(text, "\u{00A0}") else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == 0xC2, byte == 0xA0 {
                output[output.count - 1] = 0x20
            } else {
                output.append(byte)
            }
            previous = byte
        }
        return String(decoding: output, as: UTF8.self)
    }
}
