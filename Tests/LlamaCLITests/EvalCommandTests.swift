import Foundation
import LlamaCore
import XCTest

/// `llama eval` end to end on the tiny-llama fixture.
final class EvalCommandTests: XCTestCase {
    static let evalFixtures = CLI.repository + "/Tests/Fixtures/eval"

    /// Perplexity of the reference ids written as a nanoGPT-style uint16 .bin file equals
    /// exp(mean −log softmax) of transformers' reference logits.
    func testPerplexityOfABinFileMatchesReferenceLogits() throws {
        let reference = try SafetensorsFile(path: CLI.tinyLlama + "/reference.safetensors")
        let ids = Array(try reference.tensor("input_ids").toInt32Array().prefix(24))
        let logits = Array(try reference.tensor("logits").toFloatArray().prefix(24 * 1000))
        var nll = 0.0
        for position in 1..<24 {
            let row = logits[((position - 1) * 1000)..<(position * 1000)].map(Double.init)
            let maximum = row.max() ?? 0
            nll -= row[Int(ids[position])] - maximum - log(row.reduce(0) { $0 + exp($1 - maximum) })
        }
        let directory = try CLI.temporaryDirectory()
        let bin = directory + "/heldout.bin"
        var bytes = Data()
        for id in ids { withUnsafeBytes(of: UInt16(id).littleEndian) { bytes.append(contentsOf: $0) } }
        try bytes.write(to: URL(fileURLWithPath: bin))
        let json = directory + "/perplexity.json"
        let result = try CLI.run(["eval", "perplexity", "--model", CLI.tinyLlama, "--data", bin, "--context", "24", "--output", json])
        XCTAssertEqual(result.status, 0, result.errors)
        let decoded = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]])
        XCTAssertEqual(decoded.first?["tokens"] as? Int, 23)
        let perplexity = try XCTUnwrap(decoded.first?["perplexity"] as? Double)
        XCTAssertEqual(perplexity, exp(nll / 23), accuracy: exp(nll / 23) * 1e-4)
        XCTAssertTrue(result.output.contains("heldout  23 tokens"), result.output)

        let tooBig = try CLI.run(["eval", "perplexity", "--model", CLI.tinyLlama, "--data", directory + "/missing.bin"])
        XCTAssertNotEqual(tooBig.status, 0)
        XCTAssertTrue(tooBig.errors.contains("missing.bin"), tooBig.errors)
    }

    /// A task through the CLI: the same scores with options side by side or in turn, and
    /// a results table; bad task data names the file and line.
    func testRunWritesResultsAndSideBySideScoringChangesNothing() throws {
        var metrics: [[String: Double]] = []
        for slots in ["4", "1"] {
            let output = try CLI.temporaryDirectory()
            let result = try CLI.run(["eval", "run", "--model", CLI.tinyLlama, "--task", "hellaswag=\(Self.evalFixtures)/hellaswag.jsonl",
                                      "--task", "truthfulqa_mc2=\(Self.evalFixtures)/truthfulqa_mc.json",
                                      "--option-slots", slots, "--context", "256", "--output", output])
            XCTAssertEqual(result.status, 0, result.errors)
            let markdown = try String(contentsOfFile: output + "/results.md", encoding: .utf8)
            XCTAssertTrue(markdown.contains("| hellaswag | 0 | 1 |"), markdown)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/results.json")))
            let models = try XCTUnwrap(json as? [[String: Any]])
            let results = try XCTUnwrap(models.first?["results"] as? [[String: Any]])
            XCTAssertEqual(results.map { $0["task"] as? String }, ["hellaswag", "truthfulqa_mc2"])
            let mc2 = try XCTUnwrap((results[1]["metrics"] as? [String: Double])?["mc2"])
            XCTAssertTrue(mc2 > 0 && mc2 < 100, "\(mc2)")
            metrics.append(contentsOf: results.compactMap { $0["metrics"] as? [String: Double] })
        }
        XCTAssertEqual(metrics.count, 4)
        for (a, b) in zip(metrics[0..<2], metrics[2..<4]) {
            XCTAssertEqual(Set(a.keys), Set(b.keys))
            for (key, value) in a { XCTAssertEqual(value, b[key] ?? .nan, accuracy: 1e-6, key) }
        }
        let malformed = try CLI.run(["eval", "run", "--model", CLI.tinyLlama, "--task", "hellaswag=\(Self.evalFixtures)/malformed.jsonl",
                                     "--output", try CLI.temporaryDirectory()])
        XCTAssertNotEqual(malformed.status, 0)
        XCTAssertTrue(malformed.errors.contains("malformed.jsonl:"), malformed.errors)
    }
}
