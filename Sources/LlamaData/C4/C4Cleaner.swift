import Foundation

/// The rules of C4 (Raffel et al., 2020, "Exploring the Limits of Transfer Learning with a
/// Unified Text-to-Text Transformer", section 2.2), applied in the order of its reference
/// implementation (TensorFlow Datasets `c4_utils.clean_page`, then
/// `remove_duplicate_text`, then the bad-words filter).
public struct C4Configuration: Sendable {
    /// Lines must end in one of these (period, exclamation mark, question mark, end
    /// quotation mark).
    public var terminalPunctuation: [Character] = [".", "!", "?", "\"", "”"]
    /// Lines need at least this many whitespace-separated words.
    public var minimumWordsPerLine = 5
    /// Pages need at least this many sentences.
    public var minimumSentencesPerPage = 3
    /// Spans of this many consecutive sentences are deduplicated across the dataset.
    public var sentencesPerDedupSpan = 3
    /// Bad-words list; pages with any of its phrases are removed.
    public var badWords = BadWordsFilter.c4English
    /// Also apply the reference implementation's rules that the paper does not state:
    /// lines with a word over 1000 characters, lines ending in "...", lines mentioning a
    /// site policy ("terms of use", "privacy policy", cookies) are removed, and citation
    /// markers ("[1]", "[edit]", "[citation needed]") are deleted from lines.
    public var referenceImplementationExtras = false

    public init() {}
}

/// A page after C4's line and page rules: its lines and the sentences of each line.
public struct C4Page: Sendable {
    /// The page's URL (WARC-Target-URI) or identifier.
    public var url: String
    /// Kept lines.
    public var lines: [String]
    /// The sentences of each kept line.
    public var sentences: [[String]]
    /// Counts of what the rules removed on this page.
    public var counts = StageCounts()
}

/// C4's per-page cleaning (all rules except cross-dataset deduplication), which runs on
/// many pages at once.
public struct C4Cleaner: Sendable {
    public let configuration: C4Configuration
    private static let policySubstrings = ["terms of use", "privacy policy", "cookie policy", "uses cookies",
                                           "use of cookies", "use cookies"]
    private static let loremIpsum = Array("lorem ipsum".utf8)
    private static let javascript = Array("javascript".utf8)

    public init(configuration: C4Configuration = C4Configuration()) {
        self.configuration = configuration
    }

    /// Cleans one page; nil when a page rule removes it (its counts say which, in `counts`).
    public func clean(url: String, text: String, counts: inout StageCounts) -> C4Page? {
        counts.add("c4.pages.read")
        var lines: [String] = []
        var sentences: [[String]] = []
        var sentenceCount = 0
        // Lines end at "\n"; a "\r" before it is trimmed with the other whitespace.
        for rawLine in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            counts.add("c4.lines.read")
            var line = String(TextScanning.trimmed(Substring(rawLine)))
            if configuration.referenceImplementationExtras {
                if line.split(whereSeparator: \.isWhitespace).contains(where: { $0.count > 1000 }) {
                    counts.add("c4.lines.removed.word-over-1000-characters")
                    continue
                }
                line = Self.removingCitations(line)
            }
            guard let last = line.last, configuration.terminalPunctuation.contains(last),
                  !(configuration.referenceImplementationExtras && line.hasSuffix("...")) else {
                counts.add("c4.lines.removed.no-terminal-punctuation")
                continue
            }
            let bytes = Array(line.utf8)
            if TextScanning.wordCount(bytes) < configuration.minimumWordsPerLine {
                counts.add("c4.lines.removed.too-few-words")
                continue
            }
            if TextScanning.containsIgnoringASCIICase(bytes, Self.loremIpsum) {
                counts.add("c4.pages.removed.lorem-ipsum")
                return nil
            }
            if TextScanning.containsIgnoringASCIICase(bytes, Self.javascript) {
                counts.add("c4.lines.removed.javascript")
                continue
            }
            if bytes.contains(0x7B) || bytes.contains(0x7D) {
                counts.add("c4.pages.removed.curly-bracket")
                return nil
            }
            if configuration.referenceImplementationExtras,
               Self.policySubstrings.contains(where: { TextScanning.containsIgnoringASCIICase(bytes, Array($0.utf8)) }) {
                counts.add("c4.lines.removed.policy")
                continue
            }
            let lineSentences = SentenceSplitter.sentences(line)
            sentenceCount += lineSentences.count
            lines.append(line)
            sentences.append(lineSentences)
            counts.add("c4.lines.kept")
        }
        if sentenceCount < configuration.minimumSentencesPerPage {
            counts.add("c4.pages.removed.too-few-sentences")
            return nil
        }
        if configuration.badWords.firstMatch(in: lines.joined(separator: "\n")) != nil {
            counts.add("c4.pages.removed.bad-word")
            return nil
        }
        return C4Page(url: url, lines: lines, sentences: sentences)
    }

    /// Deletes "[12]", "[]", "[edit]" and "[citation needed]" (the reference implementation's
    /// `_CITATION_REGEX`).
    static func removingCitations(_ line: String) -> String {
        guard line.contains("[") else { return line }
        var result = ""
        var rest = Substring(line)
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "]") {
                let inside = after[..<close]
                if inside.allSatisfy(\.isASCIIDigitCharacter) || inside == "edit" || inside == "citation needed" {
                    rest = after[after.index(after: close)...]
                    continue
                }
            }
            result += "["
            rest = after
        }
        return result + rest
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

/// C4's deduplication across the dataset: "we discarded all but one of any three-sentence
/// span occurring more than once in the data set" (section 2.2). Pages are seen in input
/// order; the first page holding a span keeps it, and in later pages every sentence of a
/// repeated span is removed. A page left with fewer than the minimum sentences is removed.
/// Keys are the first 128 bits of SHA-256 over the span's sentences joined by "\n".
public final class C4SpanDeduplicator {
    private var seen: Set<HashKey> = []
    /// Keys added since the last `takeAddedKeys()` (saved per shard so runs can resume).
    private var added: [HashKey] = []
    public let configuration: C4Configuration

    public init(configuration: C4Configuration = C4Configuration()) {
        self.configuration = configuration
    }

    /// Marks keys as seen (from shards finished in an earlier run).
    public func insert(keys: [HashKey]) { seen.formUnion(keys) }

    /// The keys added since the last call.
    public func takeAddedKeys() -> [HashKey] {
        defer { added.removeAll() }
        return added
    }

    /// Removes the page's repeated spans; returns the page's text, or nil when too little
    /// is left.
    public func deduplicate(_ page: C4Page, counts: inout StageCounts) -> String? {
        let flat = page.sentences.flatMap { $0 }
        let width = configuration.sentencesPerDedupSpan
        var removed = [Bool](repeating: false, count: flat.count)
        if flat.count >= width {
            for start in 0...(flat.count - width) {
                let key = SHA256.key(Array(flat[start..<(start + width)].joined(separator: "\n").utf8))
                if seen.contains(key) {
                    for index in start..<(start + width) { removed[index] = true }
                } else {
                    seen.insert(key)
                    added.append(key)
                }
            }
        }
        let removedCount = removed.filter { $0 }.count
        if removedCount > 0 { counts.add("c4.sentences.removed.duplicate-span", removedCount) }
        if flat.count - removedCount < configuration.minimumSentencesPerPage {
            counts.add("c4.pages.removed.too-few-sentences-after-dedup")
            return nil
        }
        var lines: [String] = []
        var position = 0
        for (lineIndex, lineSentences) in page.sentences.enumerated() {
            let keep = lineSentences.indices.filter { !removed[position + $0] }
            if keep.count == lineSentences.count {
                lines.append(page.lines[lineIndex])
            } else if !keep.isEmpty {
                lines.append(keep.map { lineSentences[$0] }.joined(separator: " "))
            }
            position += lineSentences.count
        }
        counts.add("c4.pages.kept")
        return lines.joined(separator: "\n")
    }
}
