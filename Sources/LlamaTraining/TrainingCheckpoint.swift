import Foundation
import LlamaCore
import LlamaModel

/// Everything besides tensors that a run needs to continue exactly: `state.json`.
public struct TrainingState: Codable, Equatable, Sendable {
    public var formatVersion = 1
    /// Optimizer steps completed.
    public var step: Int
    /// Tokens trained on so far.
    public var tokensProcessed: Int
    public var configuration: LlamaConfiguration
    public var optimizer: AdamWSettings
    public var schedule: LearningRateSchedule
    public var batchSize: Int
    public var sequenceLength: Int
    public var gradientAccumulationSteps: Int
    public var seed: UInt64
    /// The sampler's random state and per-source counts.
    public var dataPosition: DataPosition
    /// Names of the data sources, in order.
    public var dataSources: [String]
    /// Last validation loss measured, if any.
    public var validationLoss: Float?
}

/// Training checkpoints: a folder `step-NNNNNNNN` per checkpoint holding a Hugging Face
/// model folder (config.json, model.safetensors — `Checkpoint.load` and transformers read
/// it), `optimizer.safetensors` (`exp_avg/NAME`, `exp_avg_sq/NAME`) and `state.json`.
/// Each file is written atomically (temporary file, fsync, rename) into a hidden
/// `.step-NNNNNNNN.partial` folder that is renamed into place only when complete, so a
/// crash at any moment leaves the previous checkpoints intact.
public enum TrainingCheckpoint {
    /// Folder name of the checkpoint after `step` steps.
    public static func folderName(step: Int) -> String { String(format: "step-%08d", step) }

    /// Writes a checkpoint under `root` and deletes all but the newest `keep`; returns its path.
    @discardableResult
    public static func save(root: String, state: TrainingState, weights: LlamaWeights, optimizer: AdamW, keep: Int) throws -> String {
        try save(root: root, state: state, weights: weights, firstMoment: optimizer.firstMoment, secondMoment: optimizer.secondMoment,
                 optimizerStep: optimizer.stepCount, keep: keep)
    }

    /// Writes a checkpoint from the moments themselves (ZeRO-1 gathers them from the ranks first).
    @discardableResult
    public static func save(root: String, state: TrainingState, weights: LlamaWeights, firstMoment: LlamaWeights,
                            secondMoment: LlamaWeights, optimizerStep: Int, keep: Int) throws -> String {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: root, withIntermediateDirectories: true)
        let final = root + "/" + folderName(step: state.step)
        let partial = root + "/." + folderName(step: state.step) + ".partial"
        try? fileManager.removeItem(atPath: partial)
        try Checkpoint.save(weights, directory: partial)
        var moments: [(name: String, tensor: Tensor)] = []
        for (name, tensor) in firstMoment.namedParameters { moments.append(("exp_avg/" + name, tensor)) }
        for (name, tensor) in secondMoment.namedParameters { moments.append(("exp_avg_sq/" + name, tensor)) }
        try SafetensorsWriter.write(path: partial + "/optimizer.safetensors", tensors: moments,
                                    metadata: ["step": String(optimizerStep)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(path: partial + "/state.json", data: try encoder.encode(state))
        try? fileManager.removeItem(atPath: final)
        guard rename(partial, final) == 0 else { throw CoreError.io(path: final, operation: "rename", errno: errno) }
        let descriptor = open(root, O_RDONLY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
        let all = checkpoints(in: root)
        for old in all.dropLast(max(keep, 1)) { try? fileManager.removeItem(atPath: old) }
        return final
    }

    /// Complete checkpoint folders under `root`, oldest first.
    public static func checkpoints(in root: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { $0.hasPrefix("step-") && FileManager.default.fileExists(atPath: root + "/" + $0 + "/state.json") }
            .sorted().map { root + "/" + $0 }
    }

    /// Reads `state.json` of the checkpoint at `path`.
    public static func readState(path: String) throws -> TrainingState {
        guard let data = FileManager.default.contents(atPath: path + "/state.json") else {
            throw TrainingError.invalidCheckpoint(path: path, reason: "state.json is missing")
        }
        do { return try JSONDecoder().decode(TrainingState.self, from: data) } catch {
            throw TrainingError.invalidCheckpoint(path: path + "/state.json", reason: "\(error)")
        }
    }

    /// Checks that a checkpoint made with `saved` can continue a run configured as `requested`.
    public static func checkCompatible(path: String, saved: TrainingState, requested: TrainingState) throws {
        let a = saved.configuration, b = requested.configuration
        let fields: [(String, String, String)] = [
            ("hidden_size", "\(a.hiddenSize)", "\(b.hiddenSize)"), ("intermediate_size", "\(a.intermediateSize)", "\(b.intermediateSize)"),
            ("num_hidden_layers", "\(a.layerCount)", "\(b.layerCount)"), ("num_attention_heads", "\(a.headCount)", "\(b.headCount)"),
            ("num_key_value_heads", "\(a.keyValueHeadCount)", "\(b.keyValueHeadCount)"), ("vocab_size", "\(a.vocabularySize)", "\(b.vocabularySize)"),
            ("head_dim", "\(a.headDimension)", "\(b.headDimension)"), ("tie_word_embeddings", "\(a.tieWordEmbeddings)", "\(b.tieWordEmbeddings)"),
            ("batch size", "\(saved.batchSize)", "\(requested.batchSize)"), ("context", "\(saved.sequenceLength)", "\(requested.sequenceLength)"),
            ("gradient accumulation", "\(saved.gradientAccumulationSteps)", "\(requested.gradientAccumulationSteps)"),
            ("data sources", saved.dataSources.joined(separator: ","), requested.dataSources.joined(separator: ",")),
        ]
        for (field, old, new) in fields where old != new {
            throw TrainingError.configurationMismatch(path: path, field: field, checkpoint: old, requested: new)
        }
        if a != b {
            throw TrainingError.configurationMismatch(path: path, field: "configuration", checkpoint: "\(a)", requested: "\(b)")
        }
    }

    /// Loads the parameters and optimizer moments of the checkpoint at `path` into
    /// `weights` and `optimizer`; returns its state.
    public static func load(path: String, into weights: LlamaWeights, optimizer: AdamW) throws -> TrainingState {
        let state = try readState(path: path)
        let loaded = try Checkpoint.load(directory: path)
        for ((name, target), (_, source)) in zip(weights.namedParameters, loaded.weights.namedParameters) {
            guard source.dtype == .f32, source.shape == target.shape else {
                throw TrainingError.invalidCheckpoint(path: path, reason: "parameter \(name) is \(source.dtype.rawValue) \(source.shape), expected F32 \(target.shape)")
            }
            target.floats.update(from: source.floats, count: target.count)
        }
        let moments = try SafetensorsFile(path: path + "/optimizer.safetensors")
        for (prefix, set) in [("exp_avg/", optimizer.firstMoment), ("exp_avg_sq/", optimizer.secondMoment)] {
            for (name, target) in set.namedParameters {
                let source = try moments.tensor(prefix + name)
                guard source.dtype == .f32, source.shape == target.shape else {
                    throw TrainingError.invalidCheckpoint(path: path, reason: "optimizer tensor \(prefix + name) has the wrong shape or type")
                }
                target.floats.update(from: source.floats, count: target.count)
            }
        }
        optimizer.restore(stepCount: state.step)
        return state
    }
}
