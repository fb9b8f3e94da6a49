import Foundation
import LlamaCore
import LlamaData
import LlamaTokenizer
import XCTest
@testable import LlamaTraining

/// `MixturePipeline` (`llama data mix`): proportions, token ids against the Python
/// `sentencepiece` package, bad lines, resumption and splitting over workers.
final class MixtureTests: XCTestCase {
    static let modelPath: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sentencepiece/botchan_en_bpe_1000.model").path
    }()

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-mixture-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func tokenizer() throws -> SentencePieceTextTokenizer {
        SentencePieceTextTokenizer(try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: Self.modelPath)))
    }

    /// Writes `texts` as JSONL `{"text": …}` lines.
    func writeJSONL(_ texts: [String], to path: String) throws {
        let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Seeded sentences of common English words.
    func sentences(count: Int, seed: UInt64) -> [String] {
        let words = ["the", "old", "man", "said", "that", "school", "was", "a", "good", "place", "to", "teach", "in", "town"]
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            (0..<(5 + generator.nextInt(below: 20))).map { _ in words[generator.nextInt(below: words.count)] }
                .joined(separator: " ") + "."
        }
    }

    /// Documents of a source's shards: the ids between each BOS and EOS.
    func documents(_ folder: String) throws -> [[Int32]] {
        let reader = try TokenShardReader(path: folder)
        let ids = reader.tokens(from: 0, count: reader.count)
        var result: [[Int32]] = [], current: [Int32] = []
        for id in ids {
            if id == 1 { current = [] } else if id == 2 { result.append(current) } else { current.append(id) }
        }
        return result
    }

    func testRealisedProportionsMatchWeightsWithinSamplingError() throws {
        let directory = try temporaryDirectory()
        let weights = [("big", 0.6), ("mid", 0.3), ("small", 0.1)]
        for (index, (name, _)) in weights.enumerated() {
            try writeJSONL(sentences(count: 300, seed: UInt64(index + 1)), to: directory + "/\(name).jsonl")
        }
        let total = 40_000
        let configuration = MixtureConfiguration(
            sources: weights.map { MixtureSource(name: $0.0, files: [directory + "/\($0.0).jsonl"], weight: $0.1) },
            seed: 7, totalTokens: total, shardTokens: 5_000)
        let results = try MixturePipeline.run(configuration: configuration, tokenizer: try tokenizer(),
                                              directory: directory + "/out")
        XCTAssertEqual(results.count, 3)
        let written = results.reduce(0) { $0 + $1.tokens }
        for ((name, weight), result) in zip(weights, results) {
            XCTAssertEqual(result.name, name)
            let sourceTokens = try XCTUnwrap(result.sourceTokens)
            // Tokens of a full pass counted independently from the shards of a 1-epoch run below.
            let epochs = weight * Double(total) / Double(sourceTokens)
            XCTAssertEqual(result.epochsPlanned, epochs, accuracy: 1e-12)
            // Sampling error of the partial pass: each of n documents (mean m tokens) is kept with
            // probability f, so the kept tokens have standard deviation ≈ m·sqrt(n·f·(1−f)).
            let fraction = epochs - epochs.rounded(.down)
            let mean = Double(sourceTokens) / 300
            let sigma = mean * (300 * fraction * (1 - fraction)).squareRoot()
            XCTAssertEqual(Double(result.tokens), weight * Double(total), accuracy: 4 * sigma + mean,
                           "\(name): \(result.tokens) tokens for weight \(weight)")
            XCTAssertEqual(Double(result.tokens) / Double(written), weight, accuracy: 0.02)
        }
        // The counted source size equals the tokens of writing the source once (BOS and EOS included).
        let once = try MixturePipeline.run(configuration: MixtureConfiguration(
            sources: [MixtureSource(name: "big", files: [directory + "/big.jsonl"], weight: 1, epochs: 1)]),
            tokenizer: try tokenizer(), directory: directory + "/once")
        XCTAssertEqual(once.first?.tokens, results.first?.sourceTokens)
        XCTAssertEqual(once.first?.documents, 300)
    }

    func testShardsHoldPythonSentencepieceIdsAndDecodeToTheText() throws {
        let directory = try temporaryDirectory()
        let texts = ["The school was a good place to teach in.", "I said: \"No, it isn't!\" and left at 9:45.",
                     "Café au lait costs 3 euros — naïve prices.", "Line one.\nLine two follows."]
        try writeJSONL(texts, to: directory + "/docs.jsonl")
        let results = try MixturePipeline.run(configuration: MixtureConfiguration(
            sources: [MixtureSource(name: "books", files: [directory + "/docs.jsonl"], weight: 1, epochs: 2)]),
            tokenizer: try tokenizer(), directory: directory + "/out")
        XCTAssertEqual(results.first?.documents, 8)
        let written = try documents(directory + "/out/books")
        XCTAssertEqual(written.count, 8)
        // The reference: the Python sentencepiece package encoding the same texts with the same model.
        try JSONSerialization.data(withJSONObject: texts).write(to: URL(fileURLWithPath: directory + "/texts.json"))
        let script = """
            import json, sys, sentencepiece as spm
            sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
            print(json.dumps([sp.encode(t) for t in json.load(open(sys.argv[2], encoding="utf-8"))]))
            """
        let output = try runPython(script, [Self.modelPath, directory + "/texts.json"])
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [[Int]])
        XCTAssertEqual(written.map { $0.map(Int.init) }, expected + expected, "two epochs in input order")
        let model = try tokenizer()
        XCTAssertEqual(model.decode(written[0]), texts[0])
        XCTAssertEqual(model.decode(written[4]), texts[0], "the second epoch starts again with the first document")
    }

    func testBadLinesAreSkippedAndCounted() throws {
        let directory = try temporaryDirectory()
        var bytes = [UInt8]("{\"text\":\"A good school.\"}\n{\"text\": broken\n".utf8)
        bytes += [UInt8]("{\"text\":\"bad ".utf8) + [0xFF, 0xFE] + [UInt8]("\"}\n{\"title\":\"no text\"}\n{\"text\":\"\"}\n".utf8)
        bytes += [UInt8]("{\"text\":\"The old man said so.\"}\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/docs.jsonl"))
        let result = try XCTUnwrap(try MixturePipeline.run(configuration: MixtureConfiguration(
            sources: [MixtureSource(name: "web", files: [directory + "/docs.jsonl"], weight: 1, epochs: 1)]),
            tokenizer: try tokenizer(), directory: directory + "/out").first)
        XCTAssertEqual(result.documents, 2)
        XCTAssertEqual(result.skippedInvalidJSON, 1)
        XCTAssertEqual(result.skippedInvalidUTF8, 1)
        XCTAssertEqual(result.skippedNoText, 2)
        XCTAssertEqual(try documents(directory + "/out/web").count, 2)
    }

    func testInterruptedSourceResumesAfterItsLastShard() throws {
        let directory = try temporaryDirectory()
        try writeJSONL(sentences(count: 200, seed: 3), to: directory + "/a.jsonl")
        let configuration = MixtureConfiguration(sources: [MixtureSource(name: "a", files: [directory + "/a.jsonl"], weight: 1, epochs: 1.5)],
                                                 seed: 5, shardTokens: 700)
        let model = try tokenizer()
        try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: directory + "/full")
        let manifestData = try Data(contentsOf: URL(fileURLWithPath: directory + "/full/a/manifest.json"))
        let manifest = try JSONDecoder().decode(TokenShardManifest.self, from: manifestData)
        XCTAssertGreaterThan(manifest.shards.count, 3)
        // The state of a run stopped after its second shard: two shard files and progress.json.
        let partial = directory + "/partial/a"
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        var written = manifest
        written.shards = Array(manifest.shards.prefix(2))
        written.tokens = written.shards.reduce(0) { $0 + $1.tokens }
        written.documents = written.shards.reduce(0) { $0 + $1.documents }
        for shard in written.shards {
            try FileManager.default.copyItem(atPath: directory + "/full/a/" + shard.file, toPath: partial + "/" + shard.file)
        }
        let source = try XCTUnwrap(try configuration.resolved().first)
        let progress = MixturePipeline.Progress(settings: MixturePipeline.settingsKey(source, configuration: configuration, tokenizer: model),
                                                sourceTokens: nil, written: written)
        try JSONEncoder().encode(progress).write(to: URL(fileURLWithPath: partial + "/progress.json"))
        try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: directory + "/partial")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: partial + "/manifest.json")), manifestData)
        for shard in manifest.shards {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: partial + "/" + shard.file)),
                           try Data(contentsOf: URL(fileURLWithPath: directory + "/full/a/" + shard.file)), shard.file)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial + "/progress.json"))
    }

    func testTwoWorkersWriteWhatOneProcessWrites() throws {
        let directory = try temporaryDirectory()
        var sources: [MixtureSource] = []
        for (index, name) in ["c4", "github", "arxiv"].enumerated() {
            try writeJSONL(sentences(count: 50, seed: UInt64(10 + index)), to: directory + "/\(name).jsonl")
            sources.append(MixtureSource(name: name, files: [directory + "/\(name).jsonl"]))
        }
        let configuration = MixtureConfiguration(sources: sources, seed: 3)
        let model = try tokenizer()
        let single = try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: directory + "/one")
        let first = try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: directory + "/two",
                                            share: WorkShare(index: 0, count: 2, origin: "test"))
        XCTAssertEqual(first.map(\.name), ["c4", "arxiv"], "worker 0 of 2 takes positions 0 and 2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/two/mixture.json"))
        let second = try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: directory + "/two",
                                             share: WorkShare(index: 1, count: 2, origin: "test"))
        XCTAssertEqual(second, single)
        // Table 1's epochs for the names: C4 1.06, GitHub 0.64, ArXiv 1.06.
        XCTAssertEqual(single.map(\.epochsConfigured), [1.06, 0.64, 1.06])
        for name in ["c4", "github", "arxiv"] {
            XCTAssertEqual(try documents(directory + "/one/" + name), try documents(directory + "/two/" + name))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/one/mixture.json")),
                       try Data(contentsOf: URL(fileURLWithPath: directory + "/two/mixture.json")))
    }

    func testSourceSpecifications() throws {
        XCTAssertEqual(try MixtureSource.parse("c4=data/c4/*.jsonl.gz:0.15:1.06"),
                       MixtureSource(name: "c4", files: ["data/c4/*.jsonl.gz"], weight: 0.15, epochs: 1.06))
        XCTAssertEqual(try MixtureSource.parse("web=/d/x:y.jsonl:2"), MixtureSource(name: "web", files: ["/d/x:y.jsonl"], weight: 2))
        XCTAssertEqual(try MixtureSource.parse("books=b.jsonl"), MixtureSource(name: "books", files: ["b.jsonl"]))
        XCTAssertThrowsError(try MixtureSource.parse("nothing"))
        XCTAssertEqual(MixtureConfiguration.paperRow(for: "CommonCrawl")?.proportion, 0.67)
        XCTAssertEqual(MixtureConfiguration.paperRow(for: "stack-exchange")?.epochs, 1.03)
    }

    func runPython(_ script: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "MixtureTests", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "python3 with sentencepiece failed (scripts/setup.sh installs it)"])
        }
        return data
    }
}
