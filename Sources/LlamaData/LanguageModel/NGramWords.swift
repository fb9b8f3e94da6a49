/// Splitting a line into words on ASCII whitespace bytes, without making strings (KenLM's
/// `util::kSpaces`; python `bytes.split()`).
extension NGramModel {
    /// Whether `byte` is ASCII whitespace as KenLM (`util::kSpaces`) and python `bytes.split()`
    /// take it: space, tab, LF, VT, FF, CR.
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte &- 0x09 < 5 }

    /// The next word of `bytes` at or after `offset`, moving `offset` past it.
    @inline(__always)
    static func nextWord(in bytes: UnsafeRawBufferPointer, from offset: inout Int) -> UnsafeRawBufferPointer? {
        let count = bytes.count
        while offset < count, isSpace(bytes[offset]) { offset += 1 }
        guard offset < count else { return nil }
        let start = offset
        repeat { offset += 1 } while offset < count && !isSpace(bytes[offset])
        return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
    }

    /// Words of a line split on ASCII whitespace bytes (space, tab, LF, VT, FF, CR), as KenLM's
    /// `query` and python `bytes.split()` split them: other Unicode spaces stay inside words.
    public static func split(_ line: Substring) -> [Substring] {
        var text = line
        let ranges = text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            var ranges: [Range<Int>] = []
            var offset = 0
            while let word = nextWord(in: bytes, from: &offset) { ranges.append(offset - word.count..<offset) }
            return ranges
        }
        let utf8 = line.utf8
        return ranges.map { range in
            let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            return Substring(utf8[start..<utf8.index(start, offsetBy: range.count)])
        }
    }

    /// The number of words `split` finds, without making them.
    public static func wordCount(_ line: Substring) -> Int {
        var text = line
        return text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            var offset = 0
            var count = 0
            while nextWord(in: bytes, from: &offset) != nil { count += 1 }
            return count
        }
    }
}
