import Foundation
import XCTest
@testable import LlamaTokenizer

/// The public API the generation code uses: special ids, BOS/EOS, pieces, streaming decode.
final class TokenizerAPITests: XCTestCase {
    func testSpecialIdsAndBOSEOS() throws {
        let tokenizer = try SentencePieceTokenizer(contentsOf: ReferenceTool.fixture("botchan_en_bpe_1000.model"))
        XCTAssertEqual(tokenizer.vocabularySize, 1000)
        XCTAssertEqual(tokenizer.unkId, 0)
        XCTAssertEqual(tokenizer.bosId, 1)
        XCTAssertEqual(tokenizer.eosId, 2)
        XCTAssertNil(tokenizer.padId)
        XCTAssertEqual(tokenizer.piece(for: 1), "<s>")
        XCTAssertEqual(tokenizer.id(for: "</s>"), 2)
        let plain = tokenizer.encode("Hello world")
        XCTAssertEqual(tokenizer.encode("Hello world", addBOS: true, addEOS: true), [1] + plain + [2])
        XCTAssertEqual(tokenizer.decode([1] + plain + [2]), "Hello world")
        XCTAssertEqual(tokenizer.encode(""), [])
        XCTAssertEqual(tokenizer.encode("", addBOS: true), [1])
        XCTAssertEqual(tokenizer.decode([]), "")
        XCTAssertThrowsError(try tokenizer.decodeChecked([5, 1000]))
    }

    /// Streaming decode returns exactly the batch decode, and never splits a character.
    func testStreamingDecoderMatchesBatchDecode() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, _) = try ReferenceTool.train(
            input: ReferenceTool.sharedCorpus("botchan.txt"), prefix: directory.appendingPathComponent("stream"),
            options: ["model_type": "bpe", "vocab_size": 1000, "byte_fallback": true])
        let tokenizer = try SentencePieceTokenizer(contentsOf: model)
        for line in try ReferenceTool.lines(of: ReferenceTool.fixture("mixed_corpus.txt")) {
            let ids = tokenizer.encode(bytes: line)
            var decoder = StreamingDecoder(tokenizer: tokenizer)
            var streamed = ""
            for id in ids { streamed += decoder.append(id) }
            streamed += decoder.finish()
            XCTAssertEqual(streamed, tokenizer.decode(ids), String(decoding: line, as: UTF8.self))
        }
        // Byte pieces of one character: nothing until the last byte arrives.
        let emoji = tokenizer.encode("😀")
        XCTAssertGreaterThanOrEqual(emoji.count, 4)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var outputs = emoji.map { decoder.append($0) }
        outputs.append(decoder.finish())
        XCTAssertEqual(outputs.joined(), "😀")
        XCTAssertEqual(outputs.filter { !$0.isEmpty }.count, 1)
        // Continuing after a prompt: the text shown after the prompt is what decoding prompt +
        // continuation adds to the prompt's own decoding (the space of "▁unto" is kept).
        let prompt = tokenizer.encode("And God said"), continuation = tokenizer.encode(" unto thee, Behold")
        let whole = tokenizer.decode(prompt + continuation), alone = tokenizer.decode(prompt)
        XCTAssertTrue(whole.hasPrefix(alone))
        var continuing = StreamingDecoder(tokenizer: tokenizer, continuing: true)
        let shown = continuation.map { continuing.append($0) }.joined() + continuing.finish()
        XCTAssertEqual(shown, String(whole.dropFirst(alone.count)))
        XCTAssertTrue(shown.hasPrefix(" unto"), shown)
    }

    func testTrainerRejectsBadInput() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        var options = BPETrainerOptions()
        options.vocabSize = 100
        XCTAssertThrowsError(try BPETrainer(options: options).train(inputFiles: [empty])) { error in
            XCTAssertEqual(error as? TokenizerError, .emptyTrainingInput(path: empty.path))
        }
        let small = directory.appendingPathComponent("small.txt")
        try Data("the cat sat on the mat\nthe dog sat on the log\n".utf8).write(to: small)
        options.vocabSize = 5000
        XCTAssertThrowsError(try BPETrainer(options: options).train(inputFiles: [small])) { error in
            guard case let .vocabularySizeUnreachable(path, requested, _)? = error as? TokenizerError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(path, small.path)
            XCTAssertEqual(requested, 5000)
        }
        options.vocabSize = 8
        XCTAssertThrowsError(try BPETrainer(options: options).train(inputFiles: [small])) { error in
            XCTAssertTrue("\(error)".contains(small.path), "\(error)")
        }
        XCTAssertThrowsError(try BPETrainer(options: options).train(inputFiles: [directory.appendingPathComponent("none.txt")])) { error in
            XCTAssertTrue("\(error)".contains("none.txt"))
        }
        options.characterCoverage = 0.5
        XCTAssertThrowsError(try BPETrainer(options: options)) { error in
            XCTAssertTrue("\(error)".contains("character_coverage"))
        }
    }

    /// Sampling keeps at most input_sentence_size sentences and is deterministic for a seed.
    func testSamplingIsBoundedAndDeterministic() throws {
        var options = BPETrainerOptions()
        options.inputSentenceSize = 500
        let corpus = try ReferenceTool.sharedCorpus("kjv_verses.txt")
        let first = try BPETrainer(options: options).loadSentences(from: [corpus])
        let second = try BPETrainer(options: options).loadSentences(from: [corpus])
        func sentences(_ chosen: TrainingSentences) -> [[UInt8]] { (0..<chosen.count).map { Array(chosen.sentence($0)) } }
        XCTAssertEqual(first.count, 500)
        XCTAssertEqual(sentences(first), sentences(second))
        options.seed = 7
        let third = try BPETrainer(options: options).loadSentences(from: [corpus])
        XCTAssertNotEqual(sentences(first), sentences(third))
    }

    /// Training on sentences in memory gives the model that training on the same lines in a
    /// file gives (the path `SentencePieceTextTokenizer.trainOrLoad` uses).
    func testTrainingOnSentencesEqualsTrainingOnAFile() throws {
        let lines = try ReferenceTool.lines(of: ReferenceTool.sharedCorpus("botchan.txt")).prefix(800)
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("lines.txt")
        try Data(lines.joined(separator: [0x0A]) + [0x0A]).write(to: file)
        var options = BPETrainerOptions()
        options.vocabSize = 400
        let fromFile = try BPETrainer(options: options).train(inputFiles: [file])
        let fromMemory = try BPETrainer(options: options).train(sentences: lines.map { String(decoding: $0, as: UTF8.self) })
        XCTAssertEqual(fromMemory.pieces.map(\.piece), fromFile.pieces.map(\.piece))
        XCTAssertEqual(fromMemory.pieces.count, 400)
    }

    /// Both implementations of the Mersenne Twister agree with the C++ standard's check value.
    func testMersenneTwisterMatchesStandard() {
        var generator = MersenneTwister(seed: 5489)
        var value: UInt32 = 0
        for _ in 0..<10000 { value = generator.next() }
        XCTAssertEqual(value, 4_123_659_995)  // [rand.predef]: the 10000th output of default-seeded mt19937
    }
}
