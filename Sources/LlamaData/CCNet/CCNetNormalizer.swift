import Foundation

/// CCNet's text normalisation (Wenzek et al. 2020; `cc_net/text_normalizer.py`), reproduced
/// operation by operation so that hashes and language-model inputs equal cc_net's:
///
/// - `normalize(line, accent, case, numbers, punct)`: `strip()`, `lower()`, accents stripped
///   (NFD, then every `Mn` character removed — the result stays decomposed, as cc_net's
///   `strip_accents` returns it), every Unicode decimal digit (`\d`) → `0`, the `UNICODE_PUNCT`
///   table (punct 1: replaced by ASCII; punct 2: removed), then the control characters
///   U+0000–U+001F and U+007F–U+009F removed (newlines and tabs included).
/// - `normalizeForDedup(line, rule: .ccnet)`: what `cc_net/dedup.py` hashes: `strip()`,
///   `lower()`, digits → `0`, `UNICODE_PUNCT` characters and control characters removed (accents
///   are kept).
/// - `normalizeForDedup(line, rule: .paper)` (the default): the paper's description (section 3.1)
///   — lower case, digits → `0`, accents and all Unicode punctuation removed — with whitespace
///   runs collapsed to one space, so lines that differ only in those hash alike.
public enum CCNetNormalizer {
    /// Which line normalisation dedup hashes.
    public enum DedupRule: String, Sendable, CaseIterable {
        /// Lower case, digits → `0`, accents (NFD nonspacing marks), Unicode punctuation (general
        /// category P, plus cc_net's `UNICODE_PUNCT` table) and control characters removed,
        /// whitespace runs → one space, ends trimmed.
        case paper
        /// cc_net's `normalize_for_dedup`, code for code (accents and ASCII punctuation kept).
        case ccnet
    }

    /// `UNICODE_PUNCT` of text_normalizer.py, character by character.
    public static let unicodePunctuation: [Unicode.Scalar: String] = [
        "，": ",", "。": ".", "、": ",", "„": "\"", "”": "\"", "“": "\"", "«": "\"", "»": "\"", "１": "\"",
        "」": "\"", "「": "\"", "《": "\"", "》": "\"", "´": "'", "∶": ":", "：": ":", "？": "?", "！": "!",
        "（": "(", "）": ")", "；": ";", "–": "-", "—": " - ", "．": ". ", "～": "~", "’": "'", "…": "...",
        "━": "-", "〈": "<", "〉": ">", "【": "[", "】": "]", "％": "%", "►": "-",
    ]

    /// How `normalize` treats the `UNICODE_PUNCT` characters (cc_net's `punct` argument).
    public enum Punctuation: Int, Sendable {
        case keep = 0, replace = 1, remove = 2
    }

    /// cc_net's `normalize(line, accent=True, case=True, numbers=True, punct=1)` and its variants.
    public static func normalize(_ line: String, accent: Bool = true, case lowerCase: Bool = true, numbers: Bool = true,
                                 punctuation: Punctuation = .replace) -> String {
        if lowerCase && numbers, let ascii = asciiNormalized(line) { return ascii }
        var scalars = strip(Array(line.unicodeScalars))
        if scalars.isEmpty { return "" }
        if lowerCase { scalars = lower(scalars) }
        if accent {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars)
            scalars = String(text).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
        }
        var output = String.UnicodeScalarView()
        for scalar in scalars {
            if numbers && scalar.properties.generalCategory == .decimalNumber {
                output.append("0")
            } else if punctuation != .keep, let replacement = unicodePunctuation[scalar] {
                if punctuation == .replace { output.append(contentsOf: replacement.unicodeScalars) }
            } else if !isNonPrinting(scalar) {
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// The text line dedup hashes: cc_net's `normalize_for_dedup(line)` (`.ccnet`) or the
    /// paper's normalisation (`.paper`).
    public static func normalizeForDedup(_ line: String, rule: DedupRule = .paper) -> String {
        if rule == .paper { return paperNormalized(line) }
        if let ascii = asciiNormalized(line) { return ascii }
        let scalars = strip(Array(line.unicodeScalars))
        if scalars.isEmpty { return "" }
        var output = String.UnicodeScalarView()
        for scalar in lower(scalars) {
            if scalar.properties.generalCategory == .decimalNumber {
                output.append("0")
            } else if unicodePunctuation[scalar] == nil && !isNonPrinting(scalar) {
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// The 64-bit line hash of `cc_net/dedup.py`: the first 8 bytes of the SHA-1 of the
    /// normalised line's UTF-8, read as numpy reads them (`np.frombuffer(…, dtype=np.uint64)`
    /// on a little-endian machine): little-endian.
    public static func lineHash(_ line: String, rule: DedupRule = .paper) -> UInt64 {
        hash(normalized: normalizeForDedup(line, rule: rule))
    }

    /// The `.paper` rule.
    static func paperNormalized(_ line: String) -> String {
        var output = String.UnicodeScalarView()
        var pendingSpace = false
        func emit(_ scalar: Unicode.Scalar) {
            if pendingSpace && !output.isEmpty { output.append(" ") }
            pendingSpace = false
            output.append(scalar)
        }
        if line.utf8.allSatisfy({ $0 < 0x80 }) {
            for byte in line.utf8 {
                switch byte {
                case 0x41...0x5A: emit(Unicode.Scalar(byte + 32))
                case 0x30...0x39: emit("0")
                case 0x20, 0x09...0x0D, 0x1C...0x1F: pendingSpace = true
                case 0..<0x20, 0x7F: continue
                // ASCII punctuation (general category P): ! " # % & ' ( ) * , - . / : ; ? @ [ \ ] _ { }
                case 0x21...0x23, 0x25...0x2A, 0x2C...0x2F, 0x3A, 0x3B, 0x3F, 0x40, 0x5B...0x5D, 0x5F, 0x7B, 0x7D: continue
                default: emit(Unicode.Scalar(byte))
                }
            }
            return String(output)
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: lower(Array(line.unicodeScalars)))
        for scalar in String(text).decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation:
                continue
            case .decimalNumber:
                emit("0")
            default:
                if isPythonSpace(scalar) {
                    pendingSpace = true
                } else if unicodePunctuation[scalar] == nil && !isNonPrinting(scalar) {
                    emit(scalar)
                }
            }
        }
        return String(output)
    }

    /// The hash of an already normalised line.
    public static func hash(normalized: String) -> UInt64 {
        let digest = SHA1.digest(normalized.utf8)
        var value: UInt64 = 0
        for index in stride(from: 7, through: 0, by: -1) { value = value << 8 | UInt64(digest[index]) }
        return value
    }

    /// Both normalisations of an all-ASCII line, on bytes (nil when the line has other
    /// characters): no accent or Unicode punctuation can occur, so they reduce to `strip()`,
    /// lower case, digits → `0` and control characters removed.
    static func asciiNormalized(_ line: String) -> String? {
        let utf8 = line.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || (byte >= 0x1C && byte <= 0x1F) }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        for byte in utf8[first...last] {
            switch byte {
            case 0x41...0x5A: bytes.append(byte + 32)
            case 0x30...0x39: bytes.append(0x30)
            case 0..<0x20, 0x7F: continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Control characters `NON_PRINTING_CHARS_RE` removes: U+0000–U+001F, U+007F–U+009F.
    static func isNonPrinting(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 32 || (scalar.value >= 127 && scalar.value < 160)
    }

    /// Python's `str.isspace()`: Unicode White_Space plus the separators U+001C–U+001F
    /// (bidirectional class B or S), which `str.strip()` removes at both ends.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value >= 0x1C && scalar.value <= 0x1F) || scalar.properties.isWhitespace
    }

    static func strip(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard let first = scalars.firstIndex(where: { !isPythonSpace($0) }),
              let last = scalars.lastIndex(where: { !isPythonSpace($0) }) else { return [] }
        return Array(scalars[first...last])
    }

    /// Python's `str.lower()`: full lower-case mappings (SpecialCasing: `İ` → `i̇`), and capital
    /// sigma → final `ς` when a cased letter precedes it and none follows, case-ignorable
    /// characters skipped (Unicode 3.13 Final_Sigma; CPython `handle_capital_sigma`).
    static func lower(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count)
        for (index, scalar) in scalars.enumerated() {
            if scalar.value == 0x03A3 {
                output.append(isFinalSigma(scalars, at: index) ? "ς" : "σ")
            } else if scalar.value < 0x80 {
                output.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar)
            } else {
                output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return output
    }

    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        var before = index - 1
        while before >= 0 && scalars[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0, scalars[before].properties.isCased else { return false }
        var after = index + 1
        while after < scalars.count && scalars[after].properties.isCaseIgnorable { after += 1 }
        return !(after < scalars.count && scalars[after].properties.isCased)
    }
}
