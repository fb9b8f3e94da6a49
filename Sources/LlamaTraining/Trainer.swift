import Dispatch
import Foundation
import LlamaCore
import LlamaDistributed
import LlamaModel

/// How a run trains: sizes, schedule, optimizer, validation and checkpoint cadence.
public struct TrainingOptions: Sendable {
    /// Folder for checkpoints/, metrics.jsonl and loss.svg.
    public var outputDirectory: String
    /// Sequences per micro-batch (B) and tokens per sequence (T).
    public var batchSize = 16
    public var sequenceLength = 128
    /// Micro-batches summed per optimizer step (the batch in tokens is B · T · this).
    public var gradientAccumulationSteps = 1
    /// Optimizer steps of the whole run (the schedule's end).
    public var steps = 400
    public var peakLearningRate: Float = 3e-4
    public var warmupSteps = 2000
    public var minimumLearningRateRatio: Float = 0.1
    public var optimizer = AdamWSettings()
    public var seed: UInt64 = 1
    /// Validation every this many steps (0: never), over this many fixed batches.
    public var validationInterval = 50
    public var validationBatches = 8
    /// Checkpoint every this many steps (and at the end); keep this many.
    public var checkpointInterval = 100
    public var keepCheckpoints = 3
    public var activationCheckpointing = false
    /// Progress line every this many steps.
    public var logInterval = 10
    /// Continue from the newest checkpoint in the output folder.
    public var resume = false
    /// Data-parallel runs: shard the AdamW moments over the ranks (ZeRO stage 1).
    public var zeroStage1 = false
    /// Data-parallel runs: reduce gradient buckets on a helper thread while backward runs.
    public var overlapCommunication = true

    public init(outputDirectory: String) { self.outputDirectory = outputDirectory }

    /// The learning-rate schedule these options describe.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: peakLearningRate, warmupSteps: warmupSteps, totalSteps: steps, minimumRatio: minimumLearningRateRatio)
    }
}

/// What a finished run reports.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var tokens: Int
    public var finalTrainingLoss: Float
    public var validationLosses: [(step: Int, loss: Float)]
    public var tokensPerSecond: Double
    public var modelFlopsUtilization: Double
    public var lastCheckpoint: String?
}

/// The training loop: gradient accumulation, AdamW with clipping, the schedule, periodic
/// validation, checkpoints and metrics. Deterministic: batches, float reductions and thread
/// splits depend only on the seed and sizes, so a resumed run continues bit-identically.
public final class Trainer {
    public let options: TrainingOptions
    public let model: TrainingModel
    /// The optimizer: full moments (`optimizer`), or this rank's part of them with ZeRO-1.
    public let optimizer: AdamW?
    public let shardedOptimizer: ShardedAdamW?
    /// The ranks of a data-parallel run (nil: a single process).
    public let communicator: Communicator?
    public let sampler: DataSampler
    public let configuration: LlamaConfiguration
    /// Measured float32 GEMM peak in GFLOP/s, the MFU denominator.
    public let peakGigaflops: Double
    public private(set) var state: TrainingState
    private let validationSet: [(inputs: [Int32], targets: [Int32])]

    /// Floating-point operations per trained token: 6 · (parameters used in matrix products)
    /// for forward and backward, plus attention's 6 · layers · T · heads · headDim (q·kᵀ and
    /// P·v over the causal half of a T × T score matrix, forward ×1, backward ×2).
    public static func flopsPerToken(configuration c: LlamaConfiguration, sequenceLength: Int) -> Double {
        let matrixParameters = Double(c.parameterCount - c.vocabularySize * c.hiddenSize)
            + (c.tieWordEmbeddings ? Double(c.vocabularySize * c.hiddenSize) : 0)
        return 6 * matrixParameters + 6 * Double(c.layerCount * sequenceLength * c.queryWidth)
    }

    /// Estimated bytes of a run: weights, gradients, two moments (16 bytes per parameter)
    /// plus activations.
    public static func memoryBytes(configuration: LlamaConfiguration, options: TrainingOptions) -> Int {
        configuration.parameterCount * 16 + TrainingModel.activationBytes(
            configuration: configuration, batchSize: options.batchSize, sequenceLength: options.sequenceLength,
            checkpointsActivations: options.activationCheckpointing)
    }

    /// Bytes of memory the system reports as available (MemAvailable), or nil if unknown.
    public static func availableMemoryBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kilobytes = Int(parts[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// Refuses, before anything is allocated, a run that would not fit in memory.
    public static func checkFits(configuration: LlamaConfiguration, options: TrainingOptions, availableBytes: Int? = availableMemoryBytes()) throws {
        let needed = memoryBytes(configuration: configuration, options: options)
        if let availableBytes, needed > availableBytes {
            throw TrainingError.doesNotFit(requiredBytes: needed, availableBytes: availableBytes,
                                           detail: String(format: "%.1fM parameters × 16 bytes + activations of %d × %d tokens",
                                                          Double(configuration.parameterCount) / 1e6, options.batchSize, options.sequenceLength))
        }
    }

    /// Sets up a run from `weights` (copied) and `sampler`; resumes when asked and a
    /// checkpoint exists. Throws before allocating when the run cannot fit.
    public init(weights: LlamaWeights, sampler: DataSampler, options: TrainingOptions, dataSources: [String],
                peakGigaflops: Double? = nil, communicator: Communicator? = nil) throws {
        let config = weights.configuration
        try config.validate()
        guard options.batchSize > 0, options.sequenceLength > 1, options.gradientAccumulationSteps > 0, options.steps > 0 else {
            throw TrainingError.invalidOption(name: "batch", reason: "batch size, context, accumulation and steps must be positive")
        }
        guard options.sequenceLength == sampler.sequenceLength else {
            throw TrainingError.invalidOption(name: "--context", reason: "the sampler draws \(sampler.sequenceLength) tokens, the model expects \(options.sequenceLength)")
        }
        try Self.checkFits(configuration: config, options: options)
        self.options = options
        configuration = config
        self.sampler = sampler
        model = TrainingModel(weights: weights, batchSize: options.batchSize, sequenceLength: options.sequenceLength,
                              checkpointsActivations: options.activationCheckpointing)
        self.communicator = communicator
        if options.zeroStage1 {
            let shards = model.weightStorage.shards(communicator?.size ?? 1)
            shardedOptimizer = ShardedAdamW(layout: model.weightStorage, shard: shards[communicator?.rank ?? 0], settings: options.optimizer)
            optimizer = nil
        } else {
            optimizer = AdamW(configuration: config, settings: options.optimizer)
            shardedOptimizer = nil
        }
        self.peakGigaflops = peakGigaflops ?? MachineLimits.sgemmGigaflops(m: 1024, n: 1024, k: 1024, repeats: 3)
        state = TrainingState(step: 0, tokensProcessed: 0, configuration: config, optimizer: options.optimizer,
                              schedule: options.schedule, batchSize: options.batchSize, sequenceLength: options.sequenceLength,
                              gradientAccumulationSteps: options.gradientAccumulationSteps, seed: options.seed,
                              dataPosition: sampler.position, dataSources: dataSources, validationLoss: nil)
        validationSet = sampler.validationBatches(batches: options.validationBatches, batchSize: options.batchSize)
        if options.resume, let latest = try latestCheckpoint() {
            let saved = try TrainingCheckpoint.readState(path: latest)
            try TrainingCheckpoint.checkCompatible(path: latest, saved: saved, requested: state)
            state = try loadCheckpoint(path: latest)
            state.schedule = options.schedule
            sampler.restore(state.dataPosition)
        }
        try communicator?.broadcast(UnsafeMutableRawPointer(model.weightStorage.base), bytes: model.weightStorage.count * 4)
    }

    /// Folder of the checkpoints.
    public var checkpointDirectory: String { options.outputDirectory + "/checkpoints" }

    /// The mean loss over the fixed validation batches (nil when there are none).
    public func validationLoss() throws -> Float? {
        guard !validationSet.isEmpty else { return nil }
        var total = 0.0
        for batch in validationSet { total += Double(try model.loss(inputIds: batch.inputs, targetIds: batch.targets)) }
        return Float(total / Double(validationSet.count))
    }

    /// Trains until `options.steps` (or `stopAfterStep`), printing progress through `log`.
    @discardableResult
    public func run(stopAfterStep: Int? = nil, chartReference: (label: String, value: Double)? = nil,
                    log: (String) -> Void = { print($0) }) throws -> TrainingSummary {
        let isRoot = communicator?.isRoot ?? true
        if isRoot { try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true) }
        let metrics = isRoot ? try MetricsLog(directory: options.outputDirectory, keepThroughStep: state.step) : nil
        let reducer = communicator.map { GradientReducer(communicator: $0, buffer: model.gradientStorage.base, overlap: options.overlapCommunication) }
        defer { reducer?.close() }
        let mine = Self.microBatches(accumulation: options.gradientAccumulationSteps, rank: communicator?.rank ?? 0,
                                     ranks: communicator?.size ?? 1)
        let accumulation = options.gradientAccumulationSteps
        let tokensPerStep = options.batchSize * options.sequenceLength * accumulation
        let flops = Self.flopsPerToken(configuration: configuration, sequenceLength: options.sequenceLength)
        let schedule = options.schedule
        let lastStep = min(options.steps, stopAfterStep ?? options.steps)
        var lastCheckpoint = TrainingCheckpoint.checkpoints(in: checkpointDirectory).last
        var validations: [(step: Int, loss: Float)] = []
        let runStart = DispatchTime.now().uptimeNanoseconds
        var intervalStart = runStart, intervalTokens = 0, trainedTokens = 0
        var lastLoss: Float = .nan, rate = 0.0, utilization = 0.0
        let title = String(format: "dim %d, %d layers, %.2fM parameters, %d tokens/step", configuration.hiddenSize,
                           configuration.layerCount, Double(configuration.parameterCount) / 1e6, tokensPerStep)
        while state.step < lastStep {
            let step = state.step
            let learningRate = schedule.rate(atStep: step)
            model.gradients.setZero()
            var loss: Float = 0
            for index in 0..<accumulation {
                guard mine.contains(index) else {
                    sampler.skipBatch(batchSize: options.batchSize)
                    continue
                }
                let batch = sampler.nextBatch(batchSize: options.batchSize)
                let ready: ((Range<Int>) -> Void)? = index == mine.upperBound - 1 ? reducer.map { reducer in { reducer.submit($0) } } : nil
                loss += try model.forwardBackward(inputIds: batch.inputs, targetIds: batch.targets,
                                                  lossScale: 1 / Float(accumulation), bucketReady: ready) / Float(accumulation)
            }
            if let reducer { loss = try reduceGradients(reducer: reducer, localLoss: loss, idle: mine.isEmpty) }
            let norm = AdamW.globalNorm(model.gradients)
            guard loss.isFinite, norm.isFinite else {
                throw TrainingError.nonFiniteLoss(step: step, loss: loss.isFinite ? norm : loss, lastCheckpoint: lastCheckpoint)
            }
            try update(norm: norm, learningRate: learningRate)
            state.step += 1
            state.tokensProcessed += tokensPerStep
            state.dataPosition = sampler.position
            lastLoss = loss
            intervalTokens += tokensPerStep
            trainedTokens += tokensPerStep
            let done = state.step
            if done % max(options.logInterval, 1) == 0 || done == lastStep {
                let now = DispatchTime.now().uptimeNanoseconds
                let seconds = Double(now - intervalStart) / 1e9
                rate = seconds > 0 ? Double(intervalTokens) / seconds : 0
                utilization = rate * flops / (peakGigaflops * 1e9)
                let remaining = rate > 0 ? Double((options.steps - done) * tokensPerStep) / rate : 0
                if isRoot { log(String(format: "step %d/%d | loss %.4f | lr %.3e | grad norm %.3f | %.0f tokens/s | MFU %.1f%% | ETA %@",
                           done, options.steps, loss, learningRate, norm, rate, 100 * utilization, Self.duration(remaining))) }
                var fields = ["loss": Double(loss), "learning_rate": Double(learningRate), "grad_norm": Double(norm),
                              "tokens_per_second": rate, "mfu": utilization, "tokens": Double(state.tokensProcessed)]
                for (source, epochs) in sampler.epochs { fields["epochs_" + source] = epochs }
                metrics?.append(fields, step: done)
                intervalStart = now
                intervalTokens = 0
            }
            if isRoot, options.validationInterval > 0 && (done % options.validationInterval == 0 || done == lastStep),
               let validation = try validationLoss() {
                state.validationLoss = validation
                validations.append((done, validation))
                log(String(format: "step %d | validation loss %.4f", done, validation))
                metrics?.append(["validation_loss": Double(validation)], step: done)
                try metrics?.writeSVG(title: title, reference: chartReference)
                intervalStart = DispatchTime.now().uptimeNanoseconds
            }
            if done % max(options.checkpointInterval, 1) == 0 || done == lastStep {
                lastCheckpoint = try saveCheckpoint() ?? lastCheckpoint
                try metrics?.writeSVG(title: title, reference: chartReference)
                intervalStart = DispatchTime.now().uptimeNanoseconds
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - runStart) / 1e9
        let overall = seconds > 0 ? Double(trainedTokens) / seconds : 0
        return TrainingSummary(steps: state.step, tokens: state.tokensProcessed, finalTrainingLoss: lastLoss,
                               validationLosses: validations, tokensPerSecond: overall,
                               modelFlopsUtilization: overall * flops / (peakGigaflops * 1e9), lastCheckpoint: lastCheckpoint)
    }

    /// "1h02m", "3m10s", "12s".
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%dh%02dm", total / 3600, total % 3600 / 60) }
        if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return "\(total)s"
    }
}
