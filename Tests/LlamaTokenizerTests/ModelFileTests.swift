import Foundation
import XCTest
@testable import LlamaTokenizer

/// Reading and writing `.model` files: round trips keep every field, our files load in
/// `sentencepiece`, and bad files give an error that names them.
final class ModelFileTests: XCTestCase {
    func testReadWriteReadKeepsEveryField() throws {
        let url = try ReferenceTool.fixture("botchan_en_bpe_1000.model")
        let original = try Data(contentsOf: url)
        let model = try SentencePieceModelFile.read(contentsOf: url)
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("copy.model")
        try SentencePieceModelFile.write(model, to: copy)
        let reread = try SentencePieceModelFile.read(contentsOf: copy)
        XCTAssertEqual(reread, model)
        XCTAssertEqual(try Data(contentsOf: copy), original, "a SentencePiece model is written back byte for byte")
        XCTAssertEqual(reread.pieces.count, 1000)
        XCTAssertEqual(reread.normalizerSpec.name, "nmt_nfkc")
        XCTAssertFalse(reread.normalizerSpec.precompiledCharsmap.isEmpty)
    }

    /// Fields this module's `.proto` does not know (older or newer SentencePiece fields,
    /// extensions) survive a round trip.
    func testUnknownFieldsSurviveRoundTrip() throws {
        let url = try ReferenceTool.fixture("botchan_en_bpe_1000.model")
        var data = try Data(contentsOf: url)
        // Field 4 (self_test_data, removed in 0.2.3's proto) with one sample {input: "ab", expected: "▁ab"},
        // and field 200 (extension range) as a varint.
        let sample: [UInt8] = [0x0A, 0x02, 0x61, 0x62, 0x12, 0x05, 0xE2, 0x96, 0x81, 0x61, 0x62]
        let samples: [UInt8] = [0x0A, UInt8(sample.count)] + sample
        data.append(contentsOf: [0x22, UInt8(samples.count)] + samples)
        data.append(contentsOf: [0xC0, 0x0C, 0x2A])
        let model = try SentencePieceModelFile.parse(data, source: "patched")
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("patched.model")
        try SentencePieceModelFile.write(model, to: copy)
        let written = try Data(contentsOf: copy)
        XCTAssertEqual(written.count, data.count)
        XCTAssertNotNil(written.range(of: Data(samples)), "self_test_data kept")
        XCTAssertNotNil(written.range(of: Data([0xC0, 0x0C, 0x2A])), "extension field kept")
    }

    /// A model we write loads in `sentencepiece` and encodes like the original.
    func testWrittenModelEncodesIdenticallyInSentencePiece() throws {
        let url = try ReferenceTool.fixture("botchan_en_bpe_1000.model")
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("written.model")
        var model = try SentencePieceModelFile.read(contentsOf: url)
        model.trainerSpec.modelPrefix = "rewritten"  // make it a different file
        try SentencePieceModelFile.write(model, to: copy)
        let corpus = try ReferenceTool.fixture("mixed_corpus.txt")
        let expected = try ReferenceTool.encode(model: url, lines: corpus)
        let actual = try ReferenceTool.encode(model: copy, lines: corpus)
        XCTAssertEqual(actual.map(\.ids), expected.map(\.ids))
        XCTAssertEqual(actual.map(\.pieces), expected.map(\.pieces))
    }

    func testTruncatedAndCorruptFilesGiveErrorsNamingTheFile() throws {
        let url = try ReferenceTool.fixture("botchan_en_bpe_1000.model")
        let original = try Data(contentsOf: url)
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var cases: [(String, Data)] = [("empty", Data())]
        for length in [1, 7, 100, 3_000, 10_000, original.count / 2, original.count - 1] {
            cases.append(("truncated-\(length)", original.prefix(length)))
        }
        var generator = SystemRandomNumberGenerator()
        cases.append(("random", Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) })))
        var flipped = original
        for index in stride(from: 17, to: flipped.count, by: 997) { flipped[index] ^= 0xFF }
        cases.append(("flipped", flipped))
        for (name, data) in cases {
            let file = directory.appendingPathComponent("\(name).model")
            try data.write(to: file)
            do {
                let tokenizer = try SentencePieceTokenizer(contentsOf: file)
                // A cut that still parses must at least give a working tokenizer.
                _ = tokenizer.encode("Hello world")
            } catch let error as TokenizerError {
                XCTAssertTrue(error.description.contains(file.path), "\(name): \(error)")
            }
        }
        XCTAssertThrowsError(try SentencePieceTokenizer(contentsOf: directory.appendingPathComponent("missing.model"))) { error in
            XCTAssertTrue("\(error)".contains("missing.model"))
        }
    }

    func testWordAndCharModelsAreRefusedWithAClearMessage() throws {
        var model = try SentencePieceModelFile.read(contentsOf: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
        model.trainerSpec.modelType = .word
        XCTAssertThrowsError(try SentencePieceTokenizer(model: model, source: "word.model")) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedModelType(path: "word.model", modelType: "WORD"))
            XCTAssertTrue("\(error)".contains("BPE and Unigram"))
        }
        model.trainerSpec.modelType = .char
        XCTAssertThrowsError(try SentencePieceTokenizer(model: model, source: "char.model"))
    }

    func testInconsistentModelsAreRefused() throws {
        var model = try SentencePieceModelFile.read(contentsOf: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
        model.pieces[5].piece = model.pieces[6].piece
        XCTAssertThrowsError(try SentencePieceTokenizer(model: model, source: "duplicate.model")) { error in
            XCTAssertTrue("\(error)".contains("duplicate.model"))
        }
        model = try SentencePieceModelFile.read(contentsOf: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
        model.trainerSpec.byteFallback = true
        XCTAssertThrowsError(try SentencePieceTokenizer(model: model, source: "nobytes.model"))
        model = try SentencePieceModelFile.read(contentsOf: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
        model.normalizerSpec.precompiledCharsmap = Data([0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3])
        XCTAssertThrowsError(try SentencePieceTokenizer(model: model, source: "charsmap.model")) { error in
            XCTAssertTrue("\(error)".contains("precompiled_charsmap"))
        }
    }
}
