import ArgumentParser
import Foundation
import LlamaCore
import LlamaDistributed
import LlamaGeneration
import LlamaModel
import LlamaTraining

/// `llama train`: pre-trains a LLaMA model. Without `--data` it trains a small model on the
/// public-domain corpus embedded in the toolkit, reports validation loss against the
/// corpus's unigram entropy, and prints a sample.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Pre-train a LLaMA model (the built-in corpus when no --data is given).")

    @Option(name: .customLong("data"), help: "Token source: a shard folder (manifest.json) or a .bin file, optionally PATH:WEIGHT (default: Table 1's proportion for a source named like one of its rows, else 1). Repeatable.")
    var data: [String] = []
    @Option(name: .customLong("bin-dtype"), help: "Id type of plain .bin files: uint16 or uint32.") var binDType = "uint16"
    @Option(help: "Model preset: builtin (dim 128, 4 layers), 15M, 110M, 7B, 13B, 33B, 65B.") var preset = "builtin"
    @Option(name: .customLong("init-from"), help: "Start from this Hugging Face checkpoint folder instead of random weights.")
    var initFrom: String?
    @Option(help: "Folder for checkpoints, metrics.jsonl and loss.svg.") var output = "runs/train"
    @Option(help: "Optimizer steps (the built-in job: 600 steps, about 2 minutes on an idle 2-core machine).") var steps = 600
    @Option(name: .customLong("batch-size"), help: "Sequences per micro-batch.") var batchSize = 16
    @Option(help: "Context length (tokens per sequence).") var context = 128
    @Option(name: .customLong("batch-tokens"), help: "Tokens per optimizer step; reached by gradient accumulation (the paper: 4M).")
    var batchTokens: Int?
    @Option(help: "Peak learning rate (default: Table 2's for 7B–65B, 2e-3 for the built-in model, 6e-4 otherwise).")
    var lr: Float?
    @Option(help: "Warmup steps (default 2000, or a tenth of the run when that is shorter).") var warmup: Int?
    @Option(name: .customLong("min-lr-ratio"), help: "Final learning rate as a fraction of the peak.") var minLRRatio: Float = 0.1
    @Option(name: .customLong("weight-decay")) var weightDecay: Float = 0.1
    @Option(name: .customLong("decay-scope"), help: "Parameters weight decay applies to: matrices, all, none.") var decayScope = "matrices"
    @Option(help: "Global gradient norm to clip to (0: off).") var clip: Float = 1.0
    @Option(help: "Seed of initialisation and data order.") var seed: UInt64 = 1
    @Option(name: .customLong("eval-interval"), help: "Validation every N steps.") var evalInterval = 50
    @Option(name: .customLong("eval-batches"), help: "Validation batches.") var evalBatches = 8
    @Option(name: .customLong("validation-fraction"), help: "Share of each source held out.") var validationFraction = 0.05
    @Option(name: .customLong("checkpoint-interval")) var checkpointInterval = 100
    @Option(help: "Checkpoints kept.") var keep = 3
    @Option(name: .customLong("log-interval")) var logInterval = 10
    @Flag(name: .customLong("activation-checkpointing"), help: "Recompute cheap activations in backward to save memory.")
    var activationCheckpointing = false
    @Flag(help: "Continue from the newest checkpoint in --output.") var resume = false
    @Option(name: .customLong("sample-tokens"), help: "Tokens to generate after training (built-in corpus).") var sampleTokens = 300
    @Option(name: .customLong("stop-after"), help: "Stop after this step (the schedule still spans --steps).") var stopAfter: Int?
    @Flag(name: .customLong("zero1"), help: "Under mpirun: shard the AdamW moments over the ranks (ZeRO stage 1).")
    var zeroStage1 = false
    @Flag(name: .customLong("no-overlap"), help: "Under mpirun: reduce gradients after backward instead of during it.")
    var noOverlap = false

    /// Under mpirun every rank runs this command; a failing rank ends the whole job
    /// through MPI_Abort with a message naming it.
    func run() throws {
        DistributedSetup.divideThreadsAmongRanks()
        let communicator = try Communicator.world()
        do {
            try train(communicator: communicator)
            communicator?.finalize()
        } catch {
            if let communicator { communicator.abort(message: "error: \(error)") }
            throw error
        }
    }

    func train(communicator: Communicator?) throws {
        let isRoot = communicator?.isRoot ?? true
        let print: (String) -> Void = { line in if isRoot { Swift.print(line) } }
        let tokenizer: (any TextTokenizer)?
        let sources: [TrainingSource]
        if data.isEmpty {
            // Rank 0 trains the tokenizer and writes the shards; the others then load them.
            if let communicator, !isRoot { try communicator.barrier() }
            let corpus = EmbeddedCorpus.sources.map { $0.file }
            tokenizer = try EmbeddedCorpus.makeTokenizer(corpus: corpus, directory: output)
            print("tokenizer: SentencePiece BPE, \(EmbeddedCorpus.vocabularySize) pieces, \(output)/tokenizer.model")
            sources = try EmbeddedCorpus.writeShards(directory: output + "/data", tokenizer: tokenizer ?? ByteTokenizer())
            if let communicator, isRoot { try communicator.barrier() }
        } else {
            tokenizer = nil
            sources = try data.map { item in
                var path = item, weight: Double?
                if let colon = item.lastIndex(of: ":"), let value = Double(item[item.index(after: colon)...]) {
                    path = String(item[..<colon])
                    weight = value
                }
                let reader = try TokenShardReader(path: path, binDType: binDType)
                // Without a weight, a source named like a row of Table 1 gets the paper's proportion.
                let paper = DataSampler.paperMixture.first { $0.source.lowercased() == reader.manifest.source.lowercased() }
                return TrainingSource(name: reader.manifest.source, reader: reader, weight: weight ?? paper?.proportion ?? 1)
            }
        }
        let vocabulary = tokenizer?.vocabularySize ?? sources.map { $0.reader.manifest.vocabularySize }.max() ?? 0
        var weights: LlamaWeights
        if let initFrom {
            var options = TrainingOptions(outputDirectory: output)
            options.batchSize = batchSize
            options.sequenceLength = context
            options.activationCheckpointing = activationCheckpointing
            let config = try LlamaConfiguration(huggingFaceConfigAt: initFrom + "/config.json")
            try Trainer.checkFits(configuration: config, options: options)
            weights = try Checkpoint.load(directory: initFrom).weights.float32Copy()
        } else {
            var config = try Self.configuration(preset: preset, context: context)
            if vocabulary > 0 { config.vocabularySize = vocabulary }
            if let tokenizer { config.bosTokenId = tokenizer.bosId; config.eosTokenId = tokenizer.eosId }
            var options = TrainingOptions(outputDirectory: output)
            options.batchSize = batchSize
            options.sequenceLength = context
            options.activationCheckpointing = activationCheckpointing
            try Trainer.checkFits(configuration: config, options: options)
            weights = LlamaWeights.random(configuration: config, seed: seed)
        }
        let config = weights.configuration
        if vocabulary > config.vocabularySize {
            throw ValidationError("the data's vocabulary (\(vocabulary)) is larger than the model's (\(config.vocabularySize))")
        }
        var options = TrainingOptions(outputDirectory: output)
        options.batchSize = batchSize
        options.sequenceLength = context
        options.gradientAccumulationSteps = max(1, (batchTokens ?? batchSize * context) / (batchSize * context))
        options.steps = steps
        options.peakLearningRate = lr ?? LearningRateSchedule.paperPeakRates[preset.uppercased()] ?? (preset == "builtin" ? 2e-3 : 6e-4)
        options.warmupSteps = warmup ?? min(2000, max(1, steps / 10))
        options.minimumLearningRateRatio = minLRRatio
        guard let scope = WeightDecayScope(rawValue: decayScope) else {
            throw ValidationError("--decay-scope must be one of matrices, all, none")
        }
        options.optimizer = AdamWSettings(weightDecay: weightDecay, weightDecayScope: scope, gradientClipNorm: clip)
        options.seed = seed
        options.validationInterval = evalInterval
        options.validationBatches = evalBatches
        options.checkpointInterval = checkpointInterval
        options.keepCheckpoints = keep
        options.activationCheckpointing = activationCheckpointing
        options.logInterval = logInterval
        options.resume = resume
        options.zeroStage1 = zeroStage1
        options.overlapCommunication = !noOverlap
        let sampler = try DataSampler(sources: sources, sequenceLength: context, validationFraction: validationFraction, seed: seed)
        let entropy = EmbeddedCorpus.unigramEntropy(of: sources, vocabularySize: config.vocabularySize)
        print(String(format: "model: dim %d, %d layers, %d heads, FFN %d, vocab %d: %.2fM parameters",
                     config.hiddenSize, config.layerCount, config.headCount, config.intermediateSize, config.vocabularySize,
                     Double(config.parameterCount) / 1e6))
        print("data: " + sources.map { String(format: "%@ (%d tokens, weight %.2f)", $0.name, $0.reader.count, $0.weight) }.joined(separator: ", "))
        print(String(format: "unigram entropy of the data: %.4f nats/token", entropy))
        print(String(format: "batch: %d × %d tokens × %d accumulation = %d tokens/step; lr %.2e, warmup %d, %d steps",
                     batchSize, context, options.gradientAccumulationSteps, batchSize * context * options.gradientAccumulationSteps,
                     options.peakLearningRate, options.warmupSteps, steps))
        let trainer = try Trainer(weights: weights, sampler: sampler, options: options, dataSources: sources.map(\.name),
                                  communicator: communicator)
        if let communicator {
            let mine = Trainer.microBatches(accumulation: options.gradientAccumulationSteps, rank: 0, ranks: communicator.size)
            let overlap = options.overlapCommunication && communicator.allowsHelperThread
            print(String(format: "data parallel: %d ranks × %d threads, %d of %d micro-batches per step on rank 0%@; allreduce %@; optimizer state %.1f MiB per rank%@",
                         communicator.size, Parallel.threadCount, mine.count, options.gradientAccumulationSteps,
                         options.gradientAccumulationSteps % communicator.size == 0 ? "" : " (uneven: pick --batch-tokens so that accumulation is a multiple of the ranks)",
                         overlap ? "overlapped with backward" : "after backward",
                         Double(trainer.optimizerStateBytes) / 1048576, zeroStage1 ? " (ZeRO-1)" : ""))
        }
        if trainer.state.step > 0 { print("resumed from step \(trainer.state.step)") }
        print(String(format: "sgemm peak: %.1f GFLOP/s", trainer.peakGigaflops))
        let summary = try trainer.run(stopAfterStep: stopAfter, chartReference: ("unigram entropy", entropy)) { line in
            print(line)
            fflush(stdout)
        }
        guard isRoot else { return }
        print(String(format: "done: %d steps, %d tokens, %.0f tokens/s, MFU %.1f%%", summary.steps, summary.tokens,
                     summary.tokensPerSecond, 100 * summary.modelFlopsUtilization))
        if let last = summary.validationLosses.last {
            print(String(format: "validation loss %.4f nats/token vs unigram entropy %.4f (%.1f%% of it)", last.loss, entropy,
                         100 * Double(last.loss) / entropy))
        }
        if let checkpoint = summary.lastCheckpoint { print("checkpoint: \(checkpoint)") }
        print("metrics: \(output)/metrics.jsonl, loss curve: \(output)/loss.svg")
        print("epochs: " + sampler.epochs.sorted { $0.key < $1.key }.map { String(format: "%@ %.3f", $0.key, $0.value) }.joined(separator: ", "))
        if let tokenizer, sampleTokens > 0 {
            let prompt = "And God said"
            let session = InferenceSession(weights: trainer.model.weights, context: context)
            let promptIds = [tokenizer.bosId] + tokenizer.encode(prompt)
            let result = try Generator.generate(session: session, prompt: promptIds, maxTokens: min(sampleTokens, context - promptIds.count),
                                                sampling: SamplingParameters(temperature: 0.8, topK: 40, seed: seed))
            print("sample: " + tokenizer.decode(promptIds + result.tokens))
        }
    }

    /// The model shape of `preset` with positions for `context` tokens.
    static func configuration(preset: String, context: Int) throws -> LlamaConfiguration {
        var config: LlamaConfiguration
        if preset == "builtin" {
            config = LlamaConfiguration(hiddenSize: 128, intermediateSize: 352, layerCount: 4, headCount: 4, vocabularySize: 259,
                                        maxPositionEmbeddings: context)
        } else if preset == "tiny" {
            config = LlamaConfiguration(hiddenSize: 32, intermediateSize: 64, layerCount: 2, headCount: 2, vocabularySize: 259,
                                        maxPositionEmbeddings: context)
        } else if let known = LlamaConfiguration.presets[preset.uppercased()] {
            config = known
        } else {
            throw ValidationError("unknown preset '\(preset)' (builtin, tiny, 15M, 110M, 7B, 13B, 33B, 65B)")
        }
        config.maxPositionEmbeddings = max(config.maxPositionEmbeddings, context)
        return config
    }
}
