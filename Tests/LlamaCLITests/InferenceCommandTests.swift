import Foundation
import LlamaCore
import XCTest

/// The inference subcommands end to end, on the tiny-llama fixture and transformers' outputs.
final class InferenceCommandTests: XCTestCase {
    func testParityCommandReproducesTransformers() throws {
        let output = try CLI.temporaryDirectory() + "/out.safetensors"
        let result = try CLI.run(["parity", "--model", CLI.tinyLlama, "--inputs", CLI.tinyLlama + "/reference.safetensors",
                                  "--output", output, "--greedy", "16"])
        XCTAssertEqual(result.status, 0, result.errors)
        let ours = try SafetensorsFile(path: output), reference = try SafetensorsFile(path: CLI.tinyLlama + "/reference.safetensors")
        XCTAssertEqual(try ours.tensor("greedy").toInt32Array(), try reference.tensor("greedy").toInt32Array())
        let a = try ours.tensor("logits").toFloatArray(), b = try reference.tensor("logits").toFloatArray()
        XCTAssertEqual(a.count, 2 * 24 * 1000)
        XCTAssertLessThan(zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }, 1e-4)
    }

    func testLogitsCommandWritesNumPyFile() throws {
        let output = try CLI.temporaryDirectory() + "/logits.npy"
        let reference = try SafetensorsFile(path: CLI.tinyLlama + "/reference.safetensors")
        let ids = Array(try reference.tensor("input_ids").toInt32Array().prefix(24))
        let result = try CLI.run(["logits", "--model", CLI.tinyLlama, "--ids", ids.map(String.init).joined(separator: ","), "--output", output])
        XCTAssertEqual(result.status, 0, result.errors)
        let read = try Npy.readFloat32(path: output)
        XCTAssertEqual(read.shape, [24, 1000])
        let expected = Array(try reference.tensor("logits").toFloatArray().prefix(24 * 1000))
        XCTAssertLessThan(zip(read.values, expected).reduce(0) { max($0, abs($1.0 - $1.1)) }, 1e-4)
    }

    func testGenerateStreamsIdsAndReportsSpeed() throws {
        // The default half-precision KV cache and a float32 one.
        for cacheFlags in [[], ["--cache-type", "f32"], ["--cache-type", "f16"]] {
            let result = try CLI.run(["generate", "--model", CLI.tinyLlama, "--prompt-ids", "1,626,685,897,579,776,834,227",
                                      "--max-tokens", "16", "--greedy", "--ignore-eos"] + cacheFlags)
            XCTAssertEqual(result.status, 0, result.errors)
            // transformers' greedy continuation of this prompt (reference.json).
            XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines),
                           "104,251,711,711,711,73,408,174,895,137,270,930,930,270,807,78", "\(cacheFlags)")
            XCTAssertTrue(result.errors.contains("tokens/s"), result.errors)
        }
        let bad = try CLI.run(["generate", "--model", CLI.tinyLlama, "--prompt-ids", "1", "--cache-type", "q8"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.errors.contains("--cache-type") && bad.errors.contains("f16"), bad.errors)
    }

    func testBadInputsExitNonZeroNamingTheProblem() throws {
        let missing = try CLI.run(["logits", "--model", "/nonexistent/dir", "--ids", "1,2", "--output", "/tmp/x.npy"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("/nonexistent/dir"), missing.errors)

        let badIds = try CLI.run(["logits", "--model", CLI.tinyLlama, "--ids", "1,x", "--output", "/tmp/x.npy"])
        XCTAssertNotEqual(badIds.status, 0)
        XCTAssertTrue(badIds.errors.contains("'x' is not a token id"), badIds.errors)

        let outOfRange = try CLI.run(["logits", "--model", CLI.tinyLlama, "--ids", "1,5000", "--output", "/tmp/x.npy"])
        XCTAssertNotEqual(outOfRange.status, 0)
        XCTAssertTrue(outOfRange.errors.contains("token id 5000"), outOfRange.errors)

        let directory = try CLI.temporaryDirectory() + "/model"
        try FileManager.default.copyItem(atPath: CLI.tinyLlama, toPath: directory)
        let weights = directory + "/model.safetensors"
        var data = try Data(contentsOf: URL(fileURLWithPath: weights))
        data.replaceSubrange(8..<12, with: Data("xxxx".utf8))
        try data.write(to: URL(fileURLWithPath: weights))
        let corrupt = try CLI.run(["generate", "--model", directory, "--prompt-ids", "1"])
        XCTAssertNotEqual(corrupt.status, 0)
        XCTAssertTrue(corrupt.errors.contains(weights) && corrupt.errors.contains("not valid JSON"), corrupt.errors)
    }

    func testModelInfoOfThe7BPreset() throws {
        let result = try CLI.run(["model-info", "--preset", "7B"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.output.contains("parameters: 6738415616"), result.output)
        XCTAssertTrue(result.output.contains("ffn hidden 11008"), result.output)
    }
}

/// `convert`, `quantize` and text prompts end to end.
final class ConversionCommandTests: XCTestCase {
    func testQuantizeThenGenerateFromGGUFWithTheEmbeddedVocabulary() throws {
        let directory = try CLI.temporaryDirectory()
        let gguf = directory + "/tiny-q8.gguf"
        let quantize = try CLI.run(["quantize", "--input", CLI.tinyLlama, "--output", gguf, "--type", "q8_0"])
        XCTAssertEqual(quantize.status, 0, quantize.errors)
        let vocabulary = try LlamaCoreGGUFCheck.tokens(gguf)
        XCTAssertEqual(Array(vocabulary.prefix(5)), ["<unk>", "<s>", "</s>", "▁t", "he"])
        // That vocabulary is the tokenizer (no tokenizer.model beside the file): it encodes as
        // sentencepiece does with the original model. Plain text (single spaces, nothing NFKC
        // changes), so the fixture's nmt_nfkc normalizer and the identity one a GGUF implies agree.
        let lines = ["It was a bright cold day in April", "and the clocks were striking 13.", "Hello, world!"]
        let input = directory + "/lines.txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let ours = try CLI.run(["tokenizer", "encode", "--model=" + gguf, "--output_format=id", "--input=" + input])
        XCTAssertEqual(ours.status, 0, ours.errors)
        let reference = try CLI.python("""
            import sys, sentencepiece as spm
            sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
            for line in open(sys.argv[2], encoding='utf-8').read().splitlines(): print(' '.join(map(str, sp.encode(line))))
            """, [CLI.tinyLlama + "/tokenizer.model", input])
        XCTAssertEqual(reference.status, 0, reference.errors)
        XCTAssertEqual(reference.output.split(separator: "\n").count, 3)
        XCTAssertEqual(ours.output.split(separator: "\n"), reference.output.split(separator: "\n"))
        let generate = try CLI.run(["generate", "--model", gguf, "--prompt", "It was a", "--max-tokens", "4", "--greedy"])
        XCTAssertEqual(generate.status, 0, generate.errors)
        XCTAssertTrue(generate.output.hasPrefix("It was a"), generate.output)
        let back = directory + "/back"
        let convert = try CLI.run(["convert", "--input", gguf, "--output", back, "--type", "f32"])
        XCTAssertEqual(convert.status, 0, convert.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: back + "/model.safetensors"))
        let bad = try CLI.run(["quantize", "--input", CLI.tinyLlama, "--output", directory + "/x.gguf", "--type", "q3"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.errors.contains("q8_0 or q4_0"), bad.errors)
    }

    func testGenerateFromTextPromptEchoesPromptAndStreamsText() throws {
        let result = try CLI.run(["generate", "--model", CLI.tinyLlama, "--prompt", "It was a", "--max-tokens", "8", "--greedy"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.output.hasPrefix("It was a"), result.output)
        XCTAssertGreaterThan(result.output.count, "It was a".count)
    }
}

/// Reads a GGUF vocabulary with the project's own reader (the GGUF tests check that reader
/// against the gguf Python package).
enum LlamaCoreGGUFCheck {
    static func tokens(_ path: String) throws -> [String] {
        let file = try GGUFFile(path: path)
        return file["tokenizer.ggml.tokens"]?.array?.compactMap(\.string) ?? []
    }
}
