import Foundation
import LlamaCore
import LlamaModel
import XCTest
@testable import LlamaTraining

final class ScheduleAndOptimizerTests: XCTestCase {
    /// Step 0, end of warmup, midpoint of the decay and end against the closed forms.
    func testScheduleClosedForm() {
        let schedule = LearningRateSchedule(peak: 3e-4, warmupSteps: 2000, totalSteps: 102_000, minimumRatio: 0.1)
        XCTAssertEqual(schedule.rate(atStep: 0), 3e-4 / 2000, accuracy: 1e-12)
        XCTAssertEqual(schedule.rate(atStep: 1999), 3e-4, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(atStep: 2000), 3e-4, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(atStep: 52_000), 0.55 * 3e-4, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(atStep: 102_000), 3e-5, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(atStep: 200_000), 3e-5, accuracy: 1e-10)
        let quarter = Float(3e-5 + 0.5 * 2.7e-4 * (1 + cos(Double.pi / 4)))
        XCTAssertEqual(schedule.rate(atStep: 27_000), quarter, accuracy: 1e-10)
        XCTAssertEqual(LearningRateSchedule.paperPeakRates["7B"], 3.0e-4)
        XCTAssertEqual(LearningRateSchedule.paperPeakRates["65B"], 1.5e-4)
    }

    func testWeightDecayScopeSkipsNormsByDefault() {
        XCTAssertTrue(WeightDecayScope.matrices.applies(toShape: [4, 4]))
        XCTAssertFalse(WeightDecayScope.matrices.applies(toShape: [4]))
        XCTAssertTrue(WeightDecayScope.all.applies(toShape: [4]))
        XCTAssertEqual(AdamWSettings().beta2, 0.95)
        XCTAssertEqual(AdamWSettings().weightDecay, 0.1)
    }

    static let tiny = LlamaConfiguration(hiddenSize: 16, intermediateSize: 24, layerCount: 2, headCount: 2, keyValueHeadCount: 1,
                                         vocabularySize: 19, maxPositionEmbeddings: 16)

    /// Whole-model finite differences on a few parameters, and activation checkpointing
    /// giving bit-identical gradients.
    func testModelGradientAndActivationCheckpointing() throws {
        let weights = LlamaWeights.random(configuration: Self.tiny, seed: 3, standardDeviation: 0.3)
        var generator = SeededGenerator(seed: 4)
        let ids = (0..<25).map { _ in Int32(generator.nextInt(below: 19)) }
        let inputs = Array(ids[0..<24]), targets = Array(ids[1...])
        let model = TrainingModel(weights: weights, batchSize: 2, sequenceLength: 12)
        try model.forwardBackward(inputIds: inputs, targetIds: targets)
        let checkpointed = TrainingModel(weights: weights, batchSize: 2, sequenceLength: 12, checkpointsActivations: true)
        try checkpointed.forwardBackward(inputIds: inputs, targetIds: targets)
        for ((name, a), (_, b)) in zip(model.gradients.namedParameters, checkpointed.gradients.namedParameters) {
            XCTAssertEqual(a.toFloatArray(), b.toFloatArray(), name)
        }
        for (name, parameter) in model.weights.namedParameters {
            let analytic = model.gradients.namedParameters.first { $0.name == name }?.tensor.toFloatArray() ?? []
            GradientCheck.check(name, parameter: parameter.floats, count: parameter.count, analytic: analytic, step: 1e-2,
                                tolerance: 3e-2, samples: 6) {
                Double((try? model.loss(inputIds: inputs, targetIds: targets)) ?? .nan)
            }
        }
        let bytes = TrainingModel.activationBytes(configuration: .small110M, batchSize: 1, sequenceLength: 1024, checkpointsActivations: false)
        let saved = TrainingModel.activationBytes(configuration: .small110M, batchSize: 1, sequenceLength: 1024, checkpointsActivations: true)
        XCTAssertLessThan(saved, bytes)
    }
}

/// The training forward and the inference core agree, and an exported checkpoint loads.
final class ExportTests: XCTestCase {
    func testTrainingLossMatchesInferenceLogitsAfterExport() throws {
        let config = ScheduleAndOptimizerTests.tiny
        let weights = LlamaWeights.random(configuration: config, seed: 21, standardDeviation: 0.2)
        let directory = NSTemporaryDirectory() + "llama-export-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Checkpoint.save(weights, directory: directory)
        let loaded = try Checkpoint.load(directory: directory)
        var generator = SeededGenerator(seed: 22)
        let ids = (0..<13).map { _ in Int32(generator.nextInt(below: config.vocabularySize)) }
        let model = TrainingModel(weights: weights, batchSize: 1, sequenceLength: 12)
        let trainingLoss = try model.loss(inputIds: Array(ids[0..<12]), targetIds: Array(ids[1...]))
        let session = InferenceSession(weights: loaded.weights, context: 16)
        var total = 0.0
        try session.forward(Array(ids[0..<12])) { t, row in
            let maximum = row.max() ?? 0
            let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1 - maximum)) }
            total += Foundation.log(sum) + Double(maximum) - Double(row[Int(ids[t + 1])])
        }
        XCTAssertEqual(Double(trainingLoss), total / 12, accuracy: 1e-5)
    }
}

/// Gradient accumulation: two micro-batches of one sequence, each scaled by ½, give the
/// gradients of one batch of two.
final class AccumulationTests: XCTestCase {
    func testAccumulatedGradientsEqualTheWholeBatch() throws {
        let config = ScheduleAndOptimizerTests.tiny
        let weights = LlamaWeights.random(configuration: config, seed: 31, standardDeviation: 0.2)
        var generator = SeededGenerator(seed: 32)
        let ids = (0..<26).map { _ in Int32(generator.nextInt(below: config.vocabularySize)) }
        let first = Array(ids[0..<13]), second = Array(ids[13..<26])
        let whole = TrainingModel(weights: weights, batchSize: 2, sequenceLength: 12)
        let wholeLoss = try whole.forwardBackward(inputIds: Array(first[0..<12]) + Array(second[0..<12]),
                                                  targetIds: Array(first[1...]) + Array(second[1...]))
        let micro = TrainingModel(weights: weights, batchSize: 1, sequenceLength: 12)
        var loss = try micro.forwardBackward(inputIds: Array(first[0..<12]), targetIds: Array(first[1...]), lossScale: 0.5) / 2
        loss += try micro.forwardBackward(inputIds: Array(second[0..<12]), targetIds: Array(second[1...]), lossScale: 0.5) / 2
        XCTAssertEqual(loss, wholeLoss, accuracy: 1e-5)
        for ((name, a), (_, b)) in zip(whole.gradients.namedParameters, micro.gradients.namedParameters) {
            let x = a.toFloatArray(), y = b.toFloatArray()
            let scale = max(x.map(abs).max() ?? 0, 1e-12)
            let difference = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(difference / scale, 1e-5, name)
        }
    }
}
