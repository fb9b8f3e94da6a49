import Foundation
import LlamaData
import XCTest

/// The n-gram language model: KenLM's scoring of ARPA files, lmplz's modified Kneser-Ney
/// estimation checked against a hand derivation, corrupt files, and CCNet's buckets.
final class NGramTests: XCTestCase {
    private func fixture(_ name: String) -> String { DataFixtures.path("kenlm/" + name) }

    /// KenLM's `lm/model_test.cc` expects p(looking | <s>) = −0.484652 in test.arpa.
    func testKenLMModelTestValue() throws {
        let model = try ARPAFormat.read(path: fixture("test.arpa"))
        XCTAssertEqual(model.order, 5)
        XCTAssertEqual(model.counts, [37, 47, 11, 6, 4])
        let scores = model.fullScores("looking", endOfSentence: false)
        XCTAssertEqual(scores[0].logProbability, -0.4846522, accuracy: 1e-6)
        XCTAssertEqual(scores[0].ngramLength, 2)
    }

    /// toy0.arpa (a 3-gram with `<unk>`), sentence "a c" with the OOV word c, by ARPA semantics:
    /// p(a | <s>) = −0.37712017 (bigram "<s> a");
    /// p(<unk> | <s> a): no "a <unk>", so p(<unk>) + b(<s> a) + b(a) = −0.90309 − 0.30103 − 0.30103;
    /// p(</s> | a <unk>): no "<unk> </s>", so p(</s>) + b(<unk>) = −0.5720968 + 0.
    func testToyModelHandScoreWithUnknownWord() throws {
        let model = try ARPAFormat.read(path: fixture("toy0.arpa"))
        let scores = model.fullScores("a c")
        XCTAssertEqual(scores.map(\.isUnknown), [false, true, false])
        XCTAssertEqual(Double(scores[0].logProbability), -0.37712017, accuracy: 1e-6)
        XCTAssertEqual(Double(scores[1].logProbability), -0.90309 - 0.30103 - 0.30103, accuracy: 1e-6)
        XCTAssertEqual(Double(scores[2].logProbability), -0.5720968, accuracy: 1e-6)
        XCTAssertEqual(model.score("a c"), -2.45436697, accuracy: 1e-5)
        XCTAssertEqual(model.perplexity("a c"), pow(10, 2.45436697 / 3), accuracy: 1e-3)
    }

    /// A model without `<unk>` gives OOV words −100, as KenLM's loader does; python kenlm 0.3.0
    /// scores "a zebra" on this file as −100.5999984741211 (−0.1, −100 + b(a) = −100.2, −0.3).
    func testMissingUnknownGetsMinusOneHundred() throws {
        let text = "\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t0\n-0.5\ta\t-0.2\n-0.3\t</s>\n\n"
            + "\\2-grams:\n-0.1\t<s> a\n\n\\end\\\n"
        let model = try ARPAFormat.read(bytes: Array(text.utf8), path: "nounk.arpa")
        XCTAssertFalse(model.hasExplicitUnknown)
        XCTAssertEqual(model.score("a zebra"), -100.5999984741211, accuracy: 1e-4)
    }

    /// Corpus (order 2): "a c", "a", "c c", "a". Hand derivation (lmplz's rules):
    /// bigrams (highest order, raw counts): <s> a 3, <s> c 1, a c 1, a </s> 2, c c 1, c </s> 2;
    /// bigram counts-of-counts t1 = 3, t2 = 2, t3 = 1, t4 = 0: Y = 3/7, D1 = 1 − 2·Y·2/3 = 3/7,
    /// D2 = 2 − 3·Y·1/2 = 19/14, D3 = 3.
    /// Unigram adjusted counts (distinct left words): a 1 ({<s>}), c 3 ({<s>, a, c}), </s> 2
    /// ({a, c}), <s> 0, <unk> 0; sum 6; t1 = t2 = t3 = 1: Y = 1/3, D1 = 1/3, D2 = 1, D3 = 3.
    /// γ(ε) = (1/3 + 1 + 3)/6 = 13/18; |V| = 4 (<unk>, </s>, a, c), uniform 1/4.
    /// p(a) = (1 − 1/3)/6 + 13/72 = 21/72; p(c) = 0 + 13/72; p(</s>) = 1/6 + 13/72 = 25/72;
    /// p(<unk>) = 13/72.
    /// γ(<s>) = (D3 + D1)/4 = 6/7; p(a | <s>) = 0 + 6/7 · 21/72 = 1/4;
    /// p(c | <s>) = (1 − 3/7)/4 + 6/7 · 13/72 = 25/84.
    /// γ(a) = γ(c) = (D1 + D2)/3 = 25/42; p(</s> | a) = (2 − 19/14)/3 + 25/42 · 25/72 = 1273/3024;
    /// p(c | a) = (1 − 3/7)/3 + 25/42 · 13/72 = 901/3024; the same after c.
    func testModifiedKneserNeyHandDerivation() throws {
        var estimator = KneserNeyEstimator(order: 2)
        for line in ["a c", "a", "c c", "a"] { try estimator.add(sentence: Substring(line)) }
        let model = try estimator.estimate()
        func entry(_ words: String) -> NGramModel.Entry? {
            model.entry(words.split(separator: " ").map { model.identifier(of: String($0)) })
        }
        let expected: [(String, Double, Double)] = [
            ("<unk>", 13.0 / 72, 1), ("a", 21.0 / 72, 25.0 / 42), ("c", 13.0 / 72, 25.0 / 42),
            ("</s>", 25.0 / 72, 1), ("<s> a", 1.0 / 4, 1), ("<s> c", 25.0 / 84, 1),
            ("a </s>", 1273.0 / 3024, 1), ("a c", 901.0 / 3024, 1), ("c </s>", 1273.0 / 3024, 1),
            ("c c", 901.0 / 3024, 1),
        ]
        for (words, probability, backoff) in expected {
            let found = try XCTUnwrap(entry(words), words)
            XCTAssertEqual(Double(found.probability), log10(probability), accuracy: 1e-6, words)
            XCTAssertEqual(Double(found.backoff), log10(backoff), accuracy: 1e-6, words)
        }
        let begin = try XCTUnwrap(entry("<s>"))
        XCTAssertEqual(begin.probability, 0)
        XCTAssertEqual(Double(begin.backoff), log10(6.0 / 7), accuracy: 1e-6)
        XCTAssertEqual(model.counts, [5, 6])
        // A word never seen scores as <unk>: p(<unk> | <s>) = γ(<s>) · p(<unk>) by back-off.
        XCTAssertEqual(model.fullScores("zebra")[0].logProbability, Float(log10(6.0 / 7 * 13 / 72)), accuracy: 1e-6)
    }

    /// An estimated model survives writing and reading ARPA.
    func testARPARoundTrip() throws {
        var estimator = KneserNeyEstimator(order: 2)
        for line in ["a c", "a", "c c", "a"] { try estimator.add(sentence: Substring(line)) }
        let model = try estimator.estimate()
        let directory = try DataFixtures.scratchDirectory()
        let path = directory + "/tiny.arpa"
        try ARPAFormat.write(model, to: path)
        let reread = try ARPAFormat.read(path: path)
        XCTAssertEqual(reread.counts, model.counts)
        XCTAssertEqual(reread.score("a c c zebra"), model.score("a c c zebra"), accuracy: 1e-6)
    }

    func testCorruptARPAFilesNameFileAndLine() throws {
        let badCount = "\\data\\\nngram 1=4\n\n\\1-grams:\n-1\t<s>\n-0.5\ta\n-0.3\t</s>\n\n\\end\\\n"
        XCTAssertThrowsError(try ARPAFormat.read(bytes: Array(badCount.utf8), path: "count.arpa")) { error in
            XCTAssertEqual(error as? DataError, .invalidARPA(path: "count.arpa", line: 8,
                                                              reason: "1-gram section has 3 entries, header says 4"))
        }
        let badLine = "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\nminus\ta\n\n\\end\\\n"
        XCTAssertThrowsError(try ARPAFormat.read(bytes: Array(badLine.utf8), path: "line.arpa")) { error in
            XCTAssertEqual(error as? DataError, .invalidARPA(path: "line.arpa", line: 6, reason: "bad probability \"minus\""))
        }
        let badHeader = "\\data\\\nngram one=2\n"
        XCTAssertThrowsError(try ARPAFormat.read(bytes: Array(badHeader.utf8), path: "head.arpa")) { error in
            guard case let .invalidARPA(path, line, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "head.arpa")
            XCTAssertEqual(line, 2)
        }
    }

    /// CCNet: perplexity 10^(−Σ log10 p / Σ (words + 1)) over paragraphs; cutoffs at numpy's
    /// linear-interpolated 30th and 60th percentiles.
    func testDocumentPerplexityAndBuckets() throws {
        let model = try ARPAFormat.read(path: fixture("toy0.arpa"))
        let document = DocumentPerplexity.documentScore("a c\nb a", model: model)
        XCTAssertEqual(document.tokenCount, 6)
        XCTAssertEqual(document.logProbability, model.score("a c") + model.score("b a"), accuracy: 1e-9)
        XCTAssertEqual(document.perplexity, pow(10, -document.logProbability / 6), accuracy: 1e-9)
        // numpy.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [30, 60]) = [3.7, 6.4]
        let cutoffs = PerplexityBucket.cutoffs(sample: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
        XCTAssertEqual(cutoffs.head, 3.7, accuracy: 1e-12)
        XCTAssertEqual(cutoffs.tail, 6.4, accuracy: 1e-12)
        XCTAssertEqual(PerplexityBucket.bucket(perplexity: 3.6, cutoffs: cutoffs), .head)
        XCTAssertEqual(PerplexityBucket.bucket(perplexity: 3.7, cutoffs: cutoffs), .middle)
        XCTAssertEqual(PerplexityBucket.bucket(perplexity: 6.4, cutoffs: cutoffs), .tail)
    }
}
