import XCTest
@testable import LlamaTokenizer

/// The trainer's word counter: words counted from normalized text (`addWords`) and words
/// counted straight from plain ASCII sentences (`addSpacePrefixedWords`) must land in the
/// same entries, at every length around the 8- and 16-byte boundaries of its slots.
final class WordCounterTests: XCTestCase {
    /// The words and counts of a counter, sorted by bytes.
    private func contents(_ counter: WordCounter) -> [(word: String, count: Int64)] {
        var result: [(word: String, count: Int64)] = []
        counter.forEachWord { bytes, count in result.append((String(decoding: bytes, as: UTF8.self), count)) }
        return result.sorted { $0.word < $1.word }
    }

    private func padded(_ text: String) -> [UInt8] {
        Array(text.utf8) + [UInt8](repeating: 0xAA, count: WordCounter.paddingBytes)
    }

    func testSpacePrefixedWordsMatchWordsOfNormalizedText() {
        // Tokens of 1…20 bytes: with `▁` (3 bytes) the words are 4…23 bytes long.
        let tokens = (1...20).map { length in String((0..<length).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) }) }
        let sentence = "  " + tokens.joined(separator: "   ") + " "
        let normalized = tokens.map { "\u{2581}" + $0 }.joined()

        var counter = WordCounter()
        let raw = padded(sentence)
        raw.withUnsafeBufferPointer { counter.addSpacePrefixedWords(of: $0, end: raw.count - WordCounter.paddingBytes, count: 2) }
        let text = padded(normalized)
        text.withUnsafeBufferPointer {
            counter.addWords(of: $0, end: text.count - WordCounter.paddingBytes, count: 3, treatWhitespaceAsSuffix: false,
                             allowWhitespaceOnlyPieces: false)
        }
        XCTAssertEqual(counter.count, 20)
        let expected = tokens.map { ("\u{2581}" + $0, Int64(5)) }.sorted { $0.0 < $1.0 }
        XCTAssertEqual(contents(counter).map(\.word), expected.map(\.0))
        XCTAssertEqual(contents(counter).map(\.count), expected.map(\.1))
    }

    func testMergeAddsCountsOfEqualWords() {
        var first = WordCounter(), second = WordCounter()
        let a = padded("x yy a-word-longer-than-sixteen-bytes")
        a.withUnsafeBufferPointer { first.addSpacePrefixedWords(of: $0, end: a.count - WordCounter.paddingBytes, count: 1) }
        let b = padded("yy zz a-word-longer-than-sixteen-bytes")
        b.withUnsafeBufferPointer { second.addSpacePrefixedWords(of: $0, end: b.count - WordCounter.paddingBytes, count: 4) }
        first.merge(second)
        XCTAssertEqual(contents(first).map(\.word), ["▁a-word-longer-than-sixteen-bytes", "▁x", "▁yy", "▁zz"])
        XCTAssertEqual(contents(first).map(\.count), [5, 1, 5, 4])
    }

    /// SentencePiece's `SplitIntoWords`: a word starts at each `▁`, and with
    /// allow_whitespace_only_pieces a run of `▁` stays one word.
    func testSplitRulesForWhitespaceRuns() {
        let text = padded("\u{2581}a\u{2581}\u{2581}\u{2581}b")
        var plain = WordCounter(), runs = WordCounter()
        text.withUnsafeBufferPointer {
            plain.addWords(of: $0, end: text.count - WordCounter.paddingBytes, count: 1, treatWhitespaceAsSuffix: false,
                           allowWhitespaceOnlyPieces: false)
            runs.addWords(of: $0, end: text.count - WordCounter.paddingBytes, count: 1, treatWhitespaceAsSuffix: false,
                          allowWhitespaceOnlyPieces: true)
        }
        XCTAssertEqual(contents(plain).map(\.word), ["▁", "▁a", "▁b"])
        XCTAssertEqual(contents(plain).map(\.count), [2, 1, 1])
        XCTAssertEqual(contents(runs).map(\.word), ["▁a", "▁▁▁b"])
    }
}
