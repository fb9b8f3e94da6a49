import Foundation
import LlamaData
import XCTest

/// What the hashed n-gram model must do exactly as KenLM does, with expected values from python
/// `kenlm` 0.3.0 and python's `bytes.split()` (recorded here, so these run without python):
/// word splitting, blanks (pruned suffixes), duplicates, refused files and decimal parsing.
final class NGramKenLMBehaviourTests: XCTestCase {
    private func arpa(_ sections: [[String]]) -> [UInt8] {
        var text = "\\data\\\n"
        for (index, lines) in sections.enumerated() { text += "ngram \(index + 1)=\(lines.count)\n" }
        for (index, lines) in sections.enumerated() {
            text += "\n\\\(index + 1)-grams:\n" + lines.map { $0 + "\n" }.joined()
        }
        return Array((text + "\n\\end\\\n").utf8)
    }

    private let unigrams = ["-1\t<s>\t-0.5", "-0.5\ta\t-0.25", "-0.75\tb\t-0.125", "-0.3\t</s>"]

    /// python: 'a\x0bb\x0cc\r\nd\u00a0e \u0301f\u2003g\x1ch\u0085i\tj  k\u3000l '.encode().split()
    /// = [b'a', b'b', b'c', b'd\xc2\xa0e', b'\xcc\x81f\xe2\x80\x83g\x1ch\xc2\x85i', b'j',
    /// b'k\xe3\x80\x80l']: only space, tab, LF, VT, FF and CR separate; a combining accent after
    /// a space starts the next word (as a Character it would join the space).
    func testSplitIsPythonBytesSplit() {
        let line = "a\u{0B}b\u{0C}c\r\nd\u{A0}e \u{301}f\u{2003}g\u{1C}h\u{85}i\tj  k\u{3000}l "
        let expected: [[UInt8]] = [[0x61], [0x62], [0x63], [0x64, 0xC2, 0xA0, 0x65],
                                   [0xCC, 0x81, 0x66, 0xE2, 0x80, 0x83, 0x67, 0x1C, 0x68, 0xC2, 0x85, 0x69],
                                   [0x6A], [0x6B, 0xE3, 0x80, 0x80, 0x6C]]
        XCTAssertEqual(NGramModel.split(Substring(line)).map { Array($0.utf8) }, expected)
        XCTAssertEqual(NGramModel.wordCount(Substring(line)), 7)
        XCTAssertEqual(NGramModel.split("  \t "), [])
    }

    /// "<s> a b" without "a b": KenLM inserts the blank "a b" with p(b) + b(a) = −1.0 and back-off
    /// 0, and counts it in the n-gram length. python kenlm on this file (padded so that KenLM's
    /// tables have room for the blank):
    /// 'a b'   −0.675000011920929  [(−0.2, 2), (−0.05, 3), (−0.425, 1)]
    /// 'b a b' −3.075000047683716  [(−1.25, 1), (−0.1, 2), (−1.3, 2), (−0.425, 1)]
    /// 'a a b' −2.4750001430511475 [(−0.2, 2), (−0.85, 1), (−1.0, 2), (−0.425, 1)]
    func testBlanksScoreAndCountAsKenLM() throws {
        let padding1 = (0..<8).map { "-2\tp\($0)\t-0.01" }
        let padding2 = (0..<7).map { "-0.9\tp\($0) p\($0 + 1)\t-0.02" }
        let padding3 = (0..<6).map { "-0.8\tp\($0) p\($0 + 1) p\($0 + 2)" }
        let model = try ARPAFormat.read(bytes: arpa([unigrams + padding1, ["-0.2\t<s> a\t-0.1", "-0.1\tb a\t-0.3"] + padding2,
                                                      ["-0.05\t<s> a b"] + padding3]), path: "blank.arpa")
        XCTAssertEqual(model.counts, [12, 9, 7], "the blank is not counted")
        let expected: [(String, Double, [(Float, Int)])] = [
            ("a b", -0.675000011920929, [(-0.2, 2), (-0.05, 3), (-0.425, 1)]),
            ("b a b", -3.075000047683716, [(-1.25, 1), (-0.1, 2), (-1.3, 2), (-0.425, 1)]),
            ("a a b", -2.4750001430511475, [(-0.2, 2), (-0.85, 1), (-1.0, 2), (-0.425, 1)]),
        ]
        for (sentence, total, words) in expected {
            XCTAssertEqual(model.score(Substring(sentence)), total, sentence)
            let scores = model.fullScores(Substring(sentence))
            XCTAssertEqual(scores.map(\.ngramLength), words.map(\.1), sentence)
            for (score, word) in zip(scores, words) {
                XCTAssertEqual(score.logProbability, word.0, accuracy: 1e-6, sentence)
            }
        }
    }

    /// A repeated unigram or bigram keeps its first entry: python kenlm scores "a" as −0.75
    /// [(−0.2, 2), (−0.55, 1)] with either "-0.9 a -0.6" or "-0.4 <s> a" added after the first.
    func testDuplicatesKeepTheFirstEntry() throws {
        for sections in [[unigrams + ["-0.9\ta\t-0.6"], ["-0.2\t<s> a"]], [unigrams, ["-0.2\t<s> a", "-0.4\t<s> a"]]] {
            let model = try ARPAFormat.read(bytes: arpa(sections), path: "dup.arpa")
            XCTAssertEqual(model.score("a"), -0.75, accuracy: 1e-6)
            XCTAssertEqual(model.fullScores("a").map(\.ngramLength), [2, 1])
        }
    }

    /// KenLM refuses a positive log probability ("Positive log probability 0.5 in the model"), an
    /// n-gram whose context is not an n-gram ("The context of every 3-gram should appear as a
    /// 2-gram") and a word that is not a unigram; so does the reader, naming file and line.
    func testFilesKenLMRefusesAreRefused() {
        let positive = arpa([["0.5\t<s>\t-0.5", "-0.5\ta", "-0.3\t</s>"], ["-0.1\t<s> a"]])
        XCTAssertThrowsError(try ARPAFormat.read(bytes: positive, path: "positive.arpa")) { error in
            guard case let .invalidARPA(path, line, reason)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual([path, "\(line)"], ["positive.arpa", "6"])
            XCTAssertTrue(reason.contains("positive"), reason)
        }
        let noContext = arpa([unigrams, ["-0.2\t<s> a\t-0.1", "-0.4\ta b"], ["-0.05\tb a b"]])
        XCTAssertThrowsError(try ARPAFormat.read(bytes: noContext, path: "context.arpa")) { error in
            guard case let .invalidARPA(path, line, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual([path, "\(line)"], ["context.arpa", "17"])
        }
        let unknownWord = arpa([unigrams, ["-0.2\t<s> a", "-0.4\ta zz"]])
        XCTAssertThrowsError(try ARPAFormat.read(bytes: unknownWord, path: "word.arpa")) { error in
            XCTAssertEqual(error as? DataError, .invalidARPA(path: "word.arpa", line: 13,
                                                              reason: "word \"zz\" is not among the unigrams"))
        }
    }

    /// Probabilities are read as `Float(String)` (strtof, correctly rounded) reads them, including
    /// "-0.5000000298023224", which lies just beyond the midpoint between the floats 0.5 and
    /// 0.5 + 2⁻²⁴ but rounds to that midpoint as a double: reading through a double gives −0.5.
    func testDecimalsReadAsStrtofReadsThem() throws {
        let values = ["-0.5000000298023224", "-1.383514", "-0.30103", "-0.123456789", "-99", "-0", "-1e-05",
                      "-16777217", "-7.0000005", "-0.000000000000000000001", "-1234567890123.5", "-.5", "-3."]
        XCTAssertEqual(Float("-0.5000000298023224"), -0.50000006)
        let lines = values.enumerated().map { "\($0.element)\tw\($0.offset)" }
        let model = try ARPAFormat.read(bytes: arpa([lines]), path: "decimals.arpa")
        for (index, text) in values.enumerated() {
            let found = try XCTUnwrap(model.entry([model.identifier(of: "w\(index)")]), text)
            XCTAssertEqual(found.probability, try XCTUnwrap(Float(text)), text)
        }
    }
}
