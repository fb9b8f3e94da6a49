/// UTF-8 scanning rules that SentencePiece applies to raw bytes.
///
/// SentencePiece (src/util.h, src/util.cc) does not use a general-purpose UTF-8 decoder:
/// the length of a character is read from the high nibble of its first byte alone
/// (`OneCharLen`), and a character is valid only when its trail bytes, the shortest-form
/// rule and the surrogate range all check out (`DecodeUTF8`). Invalid bytes are then
/// consumed one at a time. Matching ids on malformed input requires the same rules.
enum UTF8Scanning {
    /// The byte length implied by a lead byte: 1 for 0x00–0xBF, 2 for 0xC0–0xDF,
    /// 3 for 0xE0–0xEF and 4 for 0xF0–0xFF (SentencePiece `OneCharLen`).
    @inline(__always)
    static func characterLength(leadByte: UInt8) -> Int {
        switch leadByte >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    /// Whether `codePoint` is a Unicode scalar value (not a surrogate, at most U+10FFFF).
    @inline(__always)
    static func isValidCodePoint(_ codePoint: UInt32) -> Bool {
        codePoint < 0xD800 || (codePoint >= 0xE000 && codePoint <= 0x10FFFF)
    }

    @inline(__always)
    private static func isTrailByte(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// Decodes one character at `start` of `bytes` (ending at `end`).
    ///
    /// - Returns: the code point and its byte length when the bytes there form a valid,
    ///   shortest-form UTF-8 character; `nil` when they do not (then one byte is consumed
    ///   and the caller substitutes U+FFFD, as SentencePiece does).
    @inline(__always)
    static func decodeCharacter(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, end: Int)
        -> (codePoint: UInt32, length: Int)?
    {
        let remaining = end - start
        let first = bytes[start]
        if first < 0x80 { return (UInt32(first), 1) }
        if remaining >= 2, first & 0xE0 == 0xC0 {
            let second = bytes[start + 1]
            let codePoint = (UInt32(first & 0x1F) << 6) | UInt32(second & 0x3F)
            if isTrailByte(second), codePoint >= 0x80, isValidCodePoint(codePoint) { return (codePoint, 2) }
        } else if remaining >= 3, first & 0xF0 == 0xE0 {
            let second = bytes[start + 1], third = bytes[start + 2]
            let codePoint = (UInt32(first & 0x0F) << 12) | (UInt32(second & 0x3F) << 6) | UInt32(third & 0x3F)
            if isTrailByte(second), isTrailByte(third), codePoint >= 0x800, isValidCodePoint(codePoint) {
                return (codePoint, 3)
            }
        } else if remaining >= 4, first & 0xF8 == 0xF0 {
            let second = bytes[start + 1], third = bytes[start + 2], fourth = bytes[start + 3]
            let codePoint = (UInt32(first & 0x07) << 18) | (UInt32(second & 0x3F) << 12)
                | (UInt32(third & 0x3F) << 6) | UInt32(fourth & 0x3F)
            if isTrailByte(second), isTrailByte(third), isTrailByte(fourth), codePoint >= 0x10000,
               isValidCodePoint(codePoint)
            {
                return (codePoint, 4)
            }
        }
        return nil
    }

    /// The UTF-8 bytes of U+FFFD REPLACEMENT CHARACTER.
    static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// The UTF-8 bytes of U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's escaped space `▁`.
    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

    /// Appends the UTF-8 encoding of a valid code point.
    static func appendEncoded(_ codePoint: UInt32, to output: inout [UInt8]) {
        switch codePoint {
        case 0..<0x80:
            output.append(UInt8(codePoint))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | (codePoint >> 6)))
            output.append(UInt8(0x80 | (codePoint & 0x3F)))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | (codePoint >> 12)))
            output.append(UInt8(0x80 | ((codePoint >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (codePoint & 0x3F)))
        default:
            output.append(UInt8(0xF0 | (codePoint >> 18)))
            output.append(UInt8(0x80 | ((codePoint >> 12) & 0x3F)))
            output.append(UInt8(0x80 | ((codePoint >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (codePoint & 0x3F)))
        }
    }

    /// Decodes a whole byte string into code points the way SentencePiece's
    /// `UTF8ToUnicodeText` does: each invalid byte becomes one U+FFFD.
    static func codePoints(of bytes: [UInt8]) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(bytes.count)
        bytes.withUnsafeBufferPointer { buffer in
            var position = 0
            while position < buffer.count {
                if let (codePoint, length) = decodeCharacter(buffer, at: position, end: buffer.count) {
                    result.append(codePoint)
                    position += length
                } else {
                    result.append(0xFFFD)
                    position += 1
                }
            }
        }
        return result
    }
}
