import Foundation
import LlamaCore
import XCTest
@testable import LlamaTraining

final class DataTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-training-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testShardWriterAndReaderRoundTrip() throws {
        let directory = try temporaryDirectory() + "/source"
        let writer = try TokenShardWriter(directory: directory, source: "demo", vocabularySize: 300, bosId: 1, eosId: 2, shardTokens: 7)
        try writer.append(document: [10, 11, 12])
        try writer.append(document: [299])
        try writer.append(document: [20, 21, 22, 23, 24, 25])
        let manifest = try writer.finish()
        XCTAssertEqual(manifest.tokens, 16)
        XCTAssertEqual(manifest.documents, 3)
        XCTAssertEqual(manifest.dtype, "uint16")
        XCTAssertEqual(manifest.shards.map(\.tokens), [8, 8])
        let reader = try TokenShardReader(path: directory)
        XCTAssertEqual(reader.count, 16)
        XCTAssertEqual(reader.tokens(from: 0, count: 16), [1, 10, 11, 12, 2, 1, 299, 2, 1, 20, 21, 22, 23, 24, 25, 2])
        XCTAssertEqual(reader.tokens(from: 6, count: 4), [299, 2, 1, 20])
        XCTAssertThrowsError(try writer.append(document: [300]))
    }

    func testPlainBinFiles() throws {
        let directory = try temporaryDirectory()
        let values: [UInt32] = [5, 70000, 3]
        try values.withUnsafeBytes { try AtomicFile.write(path: directory + "/ids.bin", chunks: [$0]) }
        XCTAssertEqual(try TokenShardReader(path: directory + "/ids.bin", binDType: "uint32").tokens(from: 0, count: 3), [5, 70000, 3])
        let short: [UInt16] = [9, 8, 7, 6]
        try short.withUnsafeBytes { try AtomicFile.write(path: directory + "/short.bin", chunks: [$0]) }
        XCTAssertEqual(try TokenShardReader(path: directory + "/short.bin").tokens(from: 1, count: 3), [8, 7, 6])
    }

    func testMissingShardIsAClearError() throws {
        let directory = try temporaryDirectory() + "/source"
        let writer = try TokenShardWriter(directory: directory, source: "gone", vocabularySize: 50, bosId: 1, eosId: 2)
        try writer.append(document: [3, 4, 5])
        try writer.finish()
        try FileManager.default.removeItem(atPath: directory + "/gone-00000.bin")
        XCTAssertThrowsError(try TokenShardReader(path: directory)) { error in
            guard case let TrainingError.missingData(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("gone-00000.bin"))
        }
        XCTAssertThrowsError(try TokenShardReader(path: directory + "/nothing-here"))
    }

    /// Same seed, same batches; a restored position continues with the same batch; the
    /// mixture follows the weights; validation windows never overlap training windows.
    func testSamplerIsDeterministicAndWeighted() throws {
        let directory = try temporaryDirectory()
        var sources: [TrainingSource] = []
        for (name, weight, base) in [("a", 3.0, 10), ("b", 1.0, 200)] {
            let writer = try TokenShardWriter(directory: directory + "/" + name, source: name, vocabularySize: 300, bosId: 1, eosId: 2)
            for d in 0..<50 { try writer.append(document: (0..<40).map { Int32(base + ($0 + d) % 50) }) }
            try writer.finish()
            sources.append(TrainingSource(name: name, reader: try TokenShardReader(path: directory + "/" + name), weight: weight))
        }
        let first = try DataSampler(sources: sources, sequenceLength: 16, validationFraction: 0.1, seed: 7)
        let second = try DataSampler(sources: sources, sequenceLength: 16, validationFraction: 0.1, seed: 7)
        for _ in 0..<5 { XCTAssertEqual(first.nextBatch(batchSize: 4).inputs, second.nextBatch(batchSize: 4).inputs) }
        let saved = first.position
        let expected = first.nextBatch(batchSize: 4)
        second.restore(saved)
        let again = second.nextBatch(batchSize: 4)
        XCTAssertEqual(expected.inputs, again.inputs)
        XCTAssertEqual(expected.targets, again.targets)
        XCTAssertEqual(Array(expected.inputs[1..<16]), Array(expected.targets[0..<15]))
        for _ in 0..<200 { _ = first.nextBatch(batchSize: 4) }
        let drawnA = Double(first.position.tokensDrawn["a"] ?? 0), drawnB = Double(first.position.tokensDrawn["b"] ?? 0)
        XCTAssertEqual(drawnA / (drawnA + drawnB), 0.75, accuracy: 0.05)
        XCTAssertGreaterThan(first.epochs["a"] ?? 0, 0)
        let validation = first.validationBatches(batches: 2, batchSize: 4)
        XCTAssertEqual(validation.count, 2)
    }
}

final class MetricsLogTests: XCTestCase {
    /// Records after the resumed step are dropped; the SVG is well-formed enough to hold
    /// one dot per validation.
    func testResumeDropsLaterRecordsAndSVGIsWritten() throws {
        let directory = NSTemporaryDirectory() + "llama-metrics-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let log = try MetricsLog(directory: directory, keepThroughStep: 0)
            for step in 1...5 { log.append(["loss": 5 - Double(step) * 0.5], step: step) }
            log.append(["validation_loss": 3.1], step: 2)
            log.append(["validation_loss": 2.9], step: 4)
        }
        let resumed = try MetricsLog(directory: directory, keepThroughStep: 3)
        XCTAssertEqual(resumed.trainingLoss.map(\.step), [1, 2, 3])
        XCTAssertEqual(resumed.validationLoss.map(\.step), [2])
        try resumed.writeSVG(title: "test", reference: ("unigram entropy", 3.5))
        let svg = try String(contentsOfFile: directory + "/loss.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 1)
        let lines = try String(contentsOfFile: directory + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
    }
}
