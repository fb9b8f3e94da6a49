/// Splits text into sentences for C4's sentence rules. C4's reference implementation uses
/// NLTK's Punkt tokenizer (Kiss and Strunk, 2006), a trained model not available here; this
/// splitter follows Punkt's basic rule without its learned abbreviation list: a sentence
/// ends after `.`, `!` or `?` (and any closing quotes or brackets after them) when
/// whitespace follows and the next word does not start with a lower-case letter.
public enum SentenceSplitter {
    private static let closers: Set<Unicode.Scalar> = ["\"", "'", ")", "]", "”", "’", "»"]
    private static let enders: Set<Unicode.Scalar> = [".", "!", "?"]

    /// The sentences of `text` as ranges of its unicode scalars, without surrounding spaces.
    public static func sentenceRanges(_ text: String) -> [Range<String.UnicodeScalarView.Index>] {
        let scalars = text.unicodeScalars
        var ranges: [Range<String.UnicodeScalarView.Index>] = []
        var start = scalars.startIndex
        var index = scalars.startIndex
        func skipSpaces(_ position: inout String.UnicodeScalarView.Index) {
            while position < scalars.endIndex, scalars[position].properties.isWhitespace { position = scalars.index(after: position) }
        }
        skipSpaces(&start)
        index = start
        while index < scalars.endIndex {
            if enders.contains(scalars[index]) {
                var end = scalars.index(after: index)
                while end < scalars.endIndex, enders.contains(scalars[end]) || closers.contains(scalars[end]) { end = scalars.index(after: end) }
                var next = end
                skipSpaces(&next)
                if next > end, next < scalars.endIndex, !scalars[next].properties.isLowercase {
                    if start < end { ranges.append(start..<end) }
                    start = next
                    index = next
                    continue
                }
                index = end
                continue
            }
            index = scalars.index(after: index)
        }
        var end = scalars.endIndex
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        if start < end { ranges.append(start..<end) }
        return ranges
    }

    /// The sentences of `text`.
    public static func sentences(_ text: String) -> [String] {
        sentenceRanges(text).map { String(text.unicodeScalars[$0]) }
    }
}
