import Foundation
import LlamaCore
import LlamaModel
import XCTest
@testable import LlamaTraining

/// Checkpoints, exact resumption after SIGKILL, and refusals of bad runs.
final class CheckpointResumeTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-resume-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A .bin file of byte-tokenised pseudo-text.
    func writeData(_ directory: String) throws -> String {
        var generator = SeededGenerator(seed: 11)
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "home"]
        var text = ""
        while text.utf8.count < 30_000 { text += words[generator.nextInt(below: words.count)] + (generator.nextInt(below: 9) == 0 ? ".\n" : " ") }
        let ids = ByteTokenizer().encode(text).map { UInt16($0) }
        let path = directory + "/text.bin"
        try ids.withUnsafeBytes { try AtomicFile.write(path: path, chunks: [$0]) }
        return path
    }

    func makeTrainer(output: String, data: String, hiddenSize: Int = 16, resume: Bool = false) throws -> Trainer {
        let config = LlamaConfiguration(hiddenSize: hiddenSize, intermediateSize: 32, layerCount: 2, headCount: 2,
                                        vocabularySize: 259, maxPositionEmbeddings: 16)
        let source = TrainingSource(name: "text", reader: try TokenShardReader(path: data), weight: 1)
        let sampler = try DataSampler(sources: [source], sequenceLength: 16, validationFraction: 0.05, seed: 5)
        var options = TrainingOptions(outputDirectory: output)
        options.batchSize = 2
        options.sequenceLength = 16
        options.steps = 12
        options.warmupSteps = 2
        options.peakLearningRate = 1e-2
        options.validationInterval = 6
        options.validationBatches = 2
        options.checkpointInterval = 3
        options.logInterval = 100
        options.resume = resume
        return try Trainer(weights: LlamaWeights.random(configuration: config, seed: 9), sampler: sampler, options: options,
                           dataSources: ["text"], peakGigaflops: 1)
    }

    /// In process: stopping after step 5 and resuming ends byte-identical to one run.
    func testResumeInProcessIsBitIdentical() throws {
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        let straight = try makeTrainer(output: directory + "/straight", data: data)
        let summary = try straight.run(log: { _ in })
        XCTAssertLessThan(summary.finalTrainingLoss, 5.5)
        let first = try makeTrainer(output: directory + "/interrupted", data: data)
        try first.run(stopAfterStep: 5, log: { _ in })
        // As if killed during step 6: the clean stop's checkpoint of step 5 never happened.
        try FileManager.default.removeItem(atPath: directory + "/interrupted/checkpoints/step-00000005")
        let resumed = try makeTrainer(output: directory + "/interrupted", data: data, resume: true)
        XCTAssertEqual(resumed.state.step, 3)
        try resumed.run(log: { _ in })
        for file in ["model.safetensors", "optimizer.safetensors", "state.json"] {
            let a = FileManager.default.contents(atPath: directory + "/straight/checkpoints/step-00000012/" + file)
            let b = FileManager.default.contents(atPath: directory + "/interrupted/checkpoints/step-00000012/" + file)
            XCTAssertNotNil(a)
            XCTAssertEqual(a, b, file)
        }
    }

    func testResumingADifferentConfigurationIsRefused() throws {
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        try makeTrainer(output: directory + "/run", data: data).run(stopAfterStep: 3, log: { _ in })
        XCTAssertThrowsError(try makeTrainer(output: directory + "/run", data: data, hiddenSize: 32, resume: true)) { error in
            guard case let TrainingError.configurationMismatch(_, field, checkpoint, requested) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "hidden_size")
            XCTAssertEqual(checkpoint, "16")
            XCTAssertEqual(requested, "32")
        }
        XCTAssertEqual(TrainingCheckpoint.checkpoints(in: directory + "/run/checkpoints").count, 1)
    }

    func testNonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        let directory = try temporaryDirectory()
        let trainer = try makeTrainer(output: directory + "/run", data: try writeData(directory))
        try trainer.run(stopAfterStep: 3, log: { _ in })
        trainer.model.weights.finalNorm.floats[0] = .nan
        XCTAssertThrowsError(try trainer.run(log: { _ in })) { error in
            guard case let TrainingError.nonFiniteLoss(step, _, last) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 3)
            XCTAssertEqual(last, directory + "/run/checkpoints/step-00000003")
            XCTAssertTrue("\(error)".contains("step 3"))
        }
        let saved = try Checkpoint.load(directory: directory + "/run/checkpoints/step-00000003")
        XCTAssertTrue(saved.weights.finalNorm.toFloatArray().allSatisfy(\.isFinite))
    }

    func testConfigurationThatCannotFitIsRefusedBeforeAllocating() {
        var options = TrainingOptions(outputDirectory: "/nonexistent")
        options.batchSize = 1
        options.sequenceLength = 2048
        XCTAssertThrowsError(try Trainer.checkFits(configuration: .llama65B, options: options, availableBytes: 24 << 30)) { error in
            guard case let TrainingError.doesNotFit(required, available, _) = error else { return XCTFail("\(error)") }
            XCTAssertGreaterThan(required, 65_000_000_000 * 16)
            XCTAssertEqual(available, 24 << 30)
        }
        XCTAssertNoThrow(try Trainer.checkFits(configuration: .small15M, options: options, availableBytes: 24 << 30))
    }

    /// The `llama` executable killed with SIGKILL at a random step, then resumed, ends with
    /// the same bytes as an uninterrupted run.
    func testKillAndResumeWithTheCommandLineToolIsBitIdentical() throws {
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.appendingPathComponent("llama").path, bundle.deletingLastPathComponent().appendingPathComponent("llama").path]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("llama executable not built at \(candidates)")
        }
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        func arguments(_ output: String) -> [String] {
            ["train", "--data", data, "--preset", "tiny", "--context", "16", "--batch-size", "2", "--steps", "40", "--warmup", "4",
             "--lr", "0.01", "--checkpoint-interval", "2", "--keep", "2", "--eval-interval", "10", "--eval-batches", "2",
             "--log-interval", "1", "--output", output]
        }
        func launch(_ extra: [String], output: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments(output) + extra
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        let straight = try launch([], output: directory + "/straight")
        straight.waitUntilExit()
        XCTAssertEqual(straight.terminationStatus, 0)
        let killStep = Int.random(in: 3...34)
        let victim = try launch([], output: directory + "/killed")
        let deadline = Date().addingTimeInterval(300)
        while victim.isRunning && Date() < deadline {
            let text = (try? String(contentsOfFile: directory + "/killed/metrics.jsonl", encoding: .utf8)) ?? ""
            if text.contains("{\"step\":\(killStep),") { break }
            usleep(2000)
        }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        XCTAssertEqual(victim.terminationReason, .uncaughtSignal, "the run finished before it could be killed")
        print("killed at step \(killStep) (or later)")
        let resumed = try launch(["--resume"], output: directory + "/killed")
        resumed.waitUntilExit()
        XCTAssertEqual(resumed.terminationStatus, 0)
        for file in ["model.safetensors", "optimizer.safetensors", "state.json"] {
            let a = FileManager.default.contents(atPath: directory + "/straight/checkpoints/step-00000040/" + file)
            let b = FileManager.default.contents(atPath: directory + "/killed/checkpoints/step-00000040/" + file)
            XCTAssertNotNil(a, file)
            XCTAssertEqual(a, b, file)
        }
    }
}
