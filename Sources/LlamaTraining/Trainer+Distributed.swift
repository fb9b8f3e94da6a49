import Foundation
import LlamaCore
import LlamaDistributed
import LlamaModel

/// Data-parallel training over MPI ranks, and the optimizer and checkpoint steps that
/// differ with ZeRO-1.
///
/// A step's global batch is `gradientAccumulationSteps` micro-batches drawn from one
/// sample stream. Rank r computes the contiguous run `microBatches(…)` of them and only
/// advances the sampler over the others, so the ranks together see exactly the batches a
/// single process would, each micro-batch scaled by 1 / (all micro-batches); the
/// allreduce sum of the ranks' gradients is then the single process's gradient up to
/// float summation order. All ranks apply the same update to the same parameters and
/// stay identical (checked at every checkpoint); rank 0 alone writes files.
extension Trainer {
    /// The micro-batches of a step that `rank` of `ranks` computes: a contiguous run, the
    /// first `accumulation % ranks` ranks taking one more.
    public static func microBatches(accumulation: Int, rank: Int, ranks: Int) -> Range<Int> {
        let base = accumulation / ranks, extra = accumulation % ranks
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// The newest checkpoint as rank 0 sees it (every rank then loads the same one).
    func latestCheckpoint() throws -> String? {
        let latest = TrainingCheckpoint.checkpoints(in: checkpointDirectory).last
        guard let communicator else { return latest }
        let chosen = String(decoding: try communicator.broadcast(Data((latest ?? "").utf8)), as: UTF8.self)
        return chosen.isEmpty ? nil : chosen
    }

    /// Loads parameters and moments of the checkpoint at `path` (with ZeRO-1, this rank's
    /// part of the moments); returns its state.
    func loadCheckpoint(path: String) throws -> TrainingState {
        if let optimizer { return try TrainingCheckpoint.load(path: path, into: model.weights, optimizer: optimizer) }
        let full = AdamW(configuration: configuration, settings: options.optimizer)
        let state = try TrainingCheckpoint.load(path: path, into: model.weights, optimizer: full)
        shardedOptimizer?.loadMoments(from: full)
        shardedOptimizer?.restore(stepCount: state.step)
        return state
    }

    /// Sums the gradients and the loss over the ranks once this rank's backward is done.
    func reduceGradients(reducer: GradientReducer, localLoss: Float, idle: Bool) throws -> Float {
        if idle { for bucket in model.gradientStorage.backwardBuckets { reducer.submit(bucket) } }
        try reducer.finish()
        guard let communicator else { return localLoss }
        return Float(try communicator.allreduceSum([Double(localLoss)])[0])
    }

    /// One optimizer update: every parameter, or with ZeRO-1 this rank's part followed by
    /// an all-gather of the parameters.
    func update(norm: Float, learningRate: Float) throws {
        if let optimizer {
            optimizer.step(weights: model.weights, gradients: model.gradients, learningRate: learningRate)
        } else if let shardedOptimizer {
            shardedOptimizer.step(weights: model.weightStorage, gradients: model.gradientStorage, norm: norm, learningRate: learningRate)
            try communicator?.allgather(model.weightStorage.base, ranges: model.weightStorage.shards(communicator?.size ?? 1))
        }
    }

    /// Bytes of optimizer moments this process holds.
    public var optimizerStateBytes: Int {
        shardedOptimizer?.stateBytes ?? 2 * 4 * configuration.parameterCount
    }

    /// Writes a checkpoint on rank 0 (after checking that all ranks hold the same
    /// parameters, and with ZeRO-1 after gathering the moments); nil on other ranks.
    func saveCheckpoint() throws -> String? {
        if let communicator {
            let prints = try communicator.allgather(model.weightStorage.fingerprint())
            if let other = prints.firstIndex(where: { $0 != prints[0] }) {
                throw DistributedError.ranksDisagree(what: "parameters at step \(state.step)",
                                                     detail: "rank \(other) holds different values than rank 0")
            }
        }
        let isRoot = communicator?.isRoot ?? true
        if let optimizer {
            guard isRoot else { return nil }
            return try TrainingCheckpoint.save(root: checkpointDirectory, state: state, weights: model.weights, optimizer: optimizer,
                                               keep: options.keepCheckpoints)
        }
        guard let shardedOptimizer else { return nil }
        let first = isRoot ? FlatParameters(configuration: configuration) : nil
        let second = isRoot ? FlatParameters(configuration: configuration) : nil
        let ranges = model.weightStorage.shards(communicator?.size ?? 1)
        for (moments, full) in [(shardedOptimizer.firstMoment, first), (shardedOptimizer.secondMoment, second)] {
            if let communicator {
                try communicator.gather(part: moments, into: full?.base, ranges: ranges)
            } else if let full {
                (full.base + shardedOptimizer.shard.lowerBound).update(from: moments, count: shardedOptimizer.shard.count)
            }
        }
        guard let first, let second else { return nil }
        return try TrainingCheckpoint.save(root: checkpointDirectory, state: state, weights: model.weights, firstMoment: first.weights,
                                           secondMoment: second.weights, optimizerStep: shardedOptimizer.stepCount,
                                           keep: options.keepCheckpoints)
    }
}
