/// Finds phrases of a bad-words list in text the way C4's reference implementation does
/// (TensorFlow Datasets `c4_utils.get_badwords_filter_fn`): the text is lower-cased and a
/// phrase matches where it stands between non-word characters or the text's ends, the
/// regular expression `(?:\W|^)(phrase)(?:\W|$)` with Python's Unicode `\w` (letters,
/// digits, underscore).
public struct BadWordsFilter: Sendable {
    /// Phrases (lower case) indexed by their first unicode scalar.
    private let phrasesByFirstScalar: [Unicode.Scalar: [[Unicode.Scalar]]]
    /// The number of phrases.
    public let phraseCount: Int

    /// A filter for `phrases` (one per element; blank ones ignored).
    public init(phrases: [String]) {
        var index: [Unicode.Scalar: [[Unicode.Scalar]]] = [:]
        var count = 0
        for phrase in phrases {
            let trimmed = phrase.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard let first = trimmed.unicodeScalars.first else { continue }
            index[first, default: []].append(Array(trimmed.unicodeScalars))
            count += 1
        }
        phrasesByFirstScalar = index
        phraseCount = count
    }

    /// A filter for a list file's text: one phrase per line.
    public init(listText: String) {
        self.init(phrases: listText.split(whereSeparator: \.isNewline).map(String.init))
    }

    /// The filter with C4's English list (`c4EnglishListText`).
    public static let c4English = BadWordsFilter(listText: c4EnglishListText)

    /// The first listed phrase found in `text`, or nil.
    public func firstMatch(in text: String) -> String? {
        let utf8 = Array(text.utf8)
        // ASCII text is lower-cased byte by byte; other text by Unicode's full mapping.
        let scalars: [Unicode.Scalar] = utf8.allSatisfy { $0 < 0x80 }
            ? utf8.map { Unicode.Scalar(TextScanning.lowered($0)) }
            : Array(text.lowercased().unicodeScalars)
        for start in scalars.indices {
            guard let candidates = phrasesByFirstScalar[scalars[start]] else { continue }
            if start > 0, Self.isWordScalar(scalars[start - 1]) { continue }
            for phrase in candidates where start + phrase.count <= scalars.count {
                var matches = true
                for offset in 1..<max(phrase.count, 1) where scalars[start + offset] != phrase[offset] {
                    matches = false
                    break
                }
                let end = start + phrase.count
                if matches, end == scalars.count || !Self.isWordScalar(scalars[end]) {
                    return String(String.UnicodeScalarView(phrase))
                }
            }
        }
        return nil
    }

    /// Python's `\w` for str patterns: alphanumeric (letters, all numeric characters) or `_`.
    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A) || value == 0x5F
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }
}

import Foundation
