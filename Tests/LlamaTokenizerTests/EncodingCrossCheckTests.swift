import Foundation
import XCTest
@testable import LlamaTokenizer

/// Every line of the mixed corpus must give the ids, pieces and decoded text that the
/// real `sentencepiece` gives, for several BPE models.
final class EncodingCrossCheckTests: XCTestCase {
    /// The botchan model shipped with SentencePiece's own tests (nmt_nfkc, 1000 pieces).
    func testBotchanModelMatchesSentencePiece() throws {
        try assertMatchesSentencePiece(model: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
    }

    /// A model with byte fallback, split digits, user-defined and control symbols.
    func testByteFallbackModelMatchesSentencePiece() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ReferenceTool.sharedCorpus("botchan.txt")
        let (model, _) = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("fallback"), options: [
            "model_type": "bpe", "vocab_size": 2000, "byte_fallback": true, "split_digits": true,
            "user_defined_symbols": "<mask>,@@,東京", "control_symbols": "<ctrl>",
        ])
        try assertMatchesSentencePiece(model: model)
    }

    /// A LLaMA-like model at 32000 pieces: identity normalizer, no whitespace removal,
    /// byte fallback, split digits, whitespace-only pieces.
    func testLlamaLike32000ModelMatchesSentencePiece() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ReferenceTool.sharedCorpus("kjv_verses.txt")
        let (model, _) = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("llama32k"), options: [
            "model_type": "bpe", "vocab_size": 32000, "byte_fallback": true, "split_digits": true,
            "normalization_rule_name": "identity", "remove_extra_whitespaces": false,
            "allow_whitespace_only_pieces": true,
        ])
        let tokenizer = try SentencePieceTokenizer(contentsOf: model)
        XCTAssertEqual(tokenizer.vocabularySize, 32000)
        XCTAssertTrue(tokenizer.segmentsAreIndependent, "whitespace-only pieces still allow the segment cache")
        try assertMatchesSentencePiece(model: model)
    }

    /// A LLaMA-like model rebuilt from its bare vocabulary (pieces, scores and types, all a GGUF
    /// file keeps of it, as sentencepiece lists them) encodes and decodes as the `.model` file.
    func testTokenizerFromVocabularyMatchesSentencePiece() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ReferenceTool.sharedCorpus("botchan.txt")
        let (model, _) = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("llama"), options: [
            "model_type": "bpe", "vocab_size": 3000, "byte_fallback": true, "split_digits": true,
            "normalization_rule_name": "identity", "remove_extra_whitespaces": false,
        ])
        let vocabulary = try ReferenceTool.vocabulary(model: model)
        let tokenizer = try SentencePieceTokenizer(
            pieces: vocabulary.map(\.piece), scores: vocabulary.map(\.score), types: vocabulary.map { Int32($0.type) },
            unknownId: 0, bosId: 1, eosId: 2, padId: nil, source: "vocabulary")
        XCTAssertEqual(tokenizer.vocabularySize, 3000)
        try assertMatchesSentencePiece(model: model, tokenizer: tokenizer)
        // Lists that disagree are refused, naming the source.
        XCTAssertThrowsError(try SentencePieceTokenizer(pieces: ["<unk>", "a"], scores: [0], types: [2, 1], unknownId: 0,
                                                        bosId: nil, eosId: nil, padId: nil, source: "x.gguf")) { error in
            XCTAssertTrue("\(error)".contains("x.gguf"), "\(error)")
        }
    }

    /// NFKC without the dummy prefix; unknown runs without byte fallback.
    func testNFKCWithoutDummyPrefixMatchesSentencePiece() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ReferenceTool.sharedCorpus("devils_dictionary.txt")
        let (model, _) = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("nfkc"), options: [
            "model_type": "bpe", "vocab_size": 1500, "normalization_rule_name": "nfkc", "add_dummy_prefix": false,
            "split_by_whitespace": false,
        ])
        try assertMatchesSentencePiece(model: model)
    }

    /// Unigram models (Viterbi segmentation), with and without byte fallback and user-defined symbols.
    func testUnigramModelsMatchSentencePiece() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ReferenceTool.sharedCorpus("botchan.txt")
        let (plain, _) = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("unigram"), options: [
            "model_type": "unigram", "vocab_size": 1000,
        ])
        try assertMatchesSentencePiece(model: plain)
        let (fallback, _) = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("unigram_bytes"), options: [
            "model_type": "unigram", "vocab_size": 2000, "byte_fallback": true, "split_digits": true,
            "user_defined_symbols": "<mask>,@@,東京", "normalization_rule_name": "identity",
        ])
        try assertMatchesSentencePiece(model: fallback)
    }

    /// Unused pieces are merged and then split back into their parts.
    func testUnusedPiecesMatchSentencePiece() throws {
        var model = try SentencePieceModelFile.read(contentsOf: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
        for index in stride(from: 100, to: 900, by: 7) where model.pieces[index].type == .normal && model.pieces[index].piece.count > 1 {
            model.pieces[index].type = .unused
        }
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("unused.model")
        try SentencePieceModelFile.write(model, to: url)
        try assertMatchesSentencePiece(model: url)
    }
}

extension XCTestCase {
    /// Encodes the mixed corpus with both implementations and compares line by line.
    /// `tokenizer` (default: `model` read by this module) against sentencepiece running `model`.
    func assertMatchesSentencePiece(model: URL, tokenizer given: SentencePieceTokenizer? = nil,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let corpus = try ReferenceTool.fixture("mixed_corpus.txt")
        let expected = try ReferenceTool.encode(model: model, lines: corpus)
        let lines = try ReferenceTool.lines(of: corpus)
        XCTAssertEqual(expected.count, lines.count, file: file, line: line)
        let tokenizer = try given ?? SentencePieceTokenizer(contentsOf: model)
        var failures = 0
        for (index, (input, reference)) in zip(lines, expected).enumerated() {
            let ids = tokenizer.encode(bytes: input)
            let pieces = tokenizer.encodeAsPieces(bytes: input)
            let decoded = tokenizer.decode(reference.ids)
            let decodedPieces = tokenizer.decode(pieces: reference.pieces)
            if ids != reference.ids || pieces != reference.pieces || decoded != reference.decoded
                || decodedPieces != reference.decodedPieces
            {
                failures += 1
                if failures <= 5 {
                    XCTFail("""
                        \(model.lastPathComponent) line \(index) \(String(decoding: input, as: UTF8.self).debugDescription)
                          ids      \(ids)
                          expected \(reference.ids)
                          pieces   \(pieces)
                          expected \(reference.pieces)
                          decoded  \(decoded.debugDescription) expected \(reference.decoded.debugDescription)
                          decoded pieces \(decodedPieces.debugDescription) expected \(reference.decodedPieces.debugDescription)
                        """, file: file, line: line)
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(lines.count) lines differ from sentencepiece", file: file, line: line)
        // The batch API (both cores) gives the same ids as line-by-line encoding.
        let batch = tokenizer.encode(batchOfBytes: lines, threadCount: 2)
        XCTAssertEqual(batch, expected.map(\.ids), file: file, line: line)
    }
}
