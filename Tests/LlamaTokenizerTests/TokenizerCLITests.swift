import Foundation
import XCTest
@testable import LlamaTokenizer

/// End-to-end checks of `llama tokenizer` with spm_* flag names, against the library and
/// against python `sentencepiece`. Uses the `llama` executable built next to the tests.
final class TokenizerCLITests: XCTestCase {
    /// The `llama` binary in the build directory of this test bundle.
    func llamaExecutable() throws -> URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("llama")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw XCTSkip("the llama executable is not built next to the tests (run swift build first)")
    }

    /// Runs `llama` with `arguments`, feeding `input`; returns (status, stdout, stderr).
    func run(_ arguments: [String], input: Data = Data()) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = try llamaExecutable()
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    func testEncodeDecodeLineByLineMatchesSentencePiece() throws {
        let model = try ReferenceTool.fixture("botchan_en_bpe_1000.model")
        let corpus = try ReferenceTool.fixture("mixed_corpus.txt")
        let expected = try ReferenceTool.encode(model: model, lines: corpus)
        let (status, output, errors) = try run(["tokenizer", "encode", "--model=\(model.path)", "--output_format=id",
                                                "--input", corpus.path])
        XCTAssertEqual(status, 0, errors)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, expected.count, "one line out per line in")
        for (line, reference) in zip(lines, expected) {
            XCTAssertEqual(line.split(separator: " ").compactMap { Int32($0) }, reference.ids)
        }
        let (pieceStatus, pieces, _) = try run(["tokenizer", "encode", "--model", model.path, "--input=\(corpus.path)"])
        XCTAssertEqual(pieceStatus, 0)
        XCTAssertEqual(pieces.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init),
                       expected.map { $0.pieces.joined(separator: " ") })
        let (decodeStatus, decoded, _) = try run(["tokenizer", "decode", "--model=\(model.path)", "--input_format=id"],
                                                 input: Data(output.utf8))
        XCTAssertEqual(decodeStatus, 0)
        XCTAssertEqual(decoded.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init),
                       expected.map(\.decoded))
        let (_, json, _) = try run(["tokenizer", "encode", "--model=\(model.path)", "--output_format=id", "--json",
                                    "--extra_options=bos:eos"], input: Data("Hello world\n".utf8))
        XCTAssertEqual(json, "{\"ids\":[1,285,35,934,178,54,2]}\n")
    }

    func testTrainWritesModelAndVocabLikeSpmTrain() throws {
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = directory.appendingPathComponent("cli").path
        let corpus = try ReferenceTool.sharedCorpus("botchan.txt")
        let (status, _, errors) = try run(["tokenizer", "train", "--input=\(corpus.path)", "--model_prefix=\(prefix)",
                                           "--vocab_size=1000", "--model_type=bpe", "--byte_fallback", "--split_digits=true"])
        XCTAssertEqual(status, 0, errors)
        let reference = try ReferenceTool.train(input: corpus, prefix: directory.appendingPathComponent("spm"), options: [
            "model_type": "bpe", "vocab_size": 1000, "byte_fallback": true, "split_digits": true,
        ])
        XCTAssertEqual(try ReferenceTool.vocabulary(model: URL(fileURLWithPath: prefix + ".model")).map(\.piece),
                       try ReferenceTool.vocabulary(model: reference.model).map(\.piece))
        XCTAssertEqual(try String(contentsOfFile: prefix + ".vocab", encoding: .utf8),
                       try String(contentsOfFile: directory.appendingPathComponent("spm.vocab").path, encoding: .utf8))
        let (infoStatus, info, _) = try run(["tokenizer", "info", "--model=\(prefix).model", "--json"])
        XCTAssertEqual(infoStatus, 0)
        XCTAssertTrue(info.contains("\"vocab_size\":1000"), info)
    }

    func testErrorsGoToStandardErrorWithNonZeroStatus() throws {
        let (missing, _, missingMessage) = try run(["tokenizer", "encode", "--model=/nonexistent/m.model"])
        XCTAssertEqual(missing, 1)
        XCTAssertTrue(missingMessage.contains("/nonexistent/m.model"), missingMessage)
        let (unigram, _, unigramMessage) = try run(["tokenizer", "train", "--input=x", "--model_prefix=y", "--model_type=unigram"])
        XCTAssertNotEqual(unigram, 0)
        XCTAssertTrue(unigramMessage.contains("unigram"), unigramMessage)
        let (unknownFlag, _, flagMessage) = try run(["tokenizer", "encode", "--model=m", "--bogus=1"])
        XCTAssertEqual(unknownFlag, 2)
        XCTAssertTrue(flagMessage.contains("--bogus"))
    }
}
