import Foundation
import LlamaCore
import LlamaModel

/// AdamW whose moments cover only one contiguous part (`shard`) of the flattened
/// parameters: ZeRO stage 1 (Rajbhandari et al., 2020, "ZeRO: Memory Optimizations Toward
/// Training Trillion Parameter Models", §5.1, P_os). Each rank updates its own part with
/// the fully reduced gradients and the global norm, element by element exactly as
/// `AdamW.step` does, then the ranks all-gather the parameters; the moments of a model
/// are split over the ranks instead of repeated on each.
public final class ShardedAdamW: @unchecked Sendable {
    public let settings: AdamWSettings
    /// Floats of the flat buffer this rank updates.
    public let shard: Range<Int>
    /// (shard.count) first and second moments of the shard.
    public let firstMoment, secondMoment: UnsafeMutablePointer<Float>
    public private(set) var stepCount = 0
    private let entries: [FlatParameters.Entry]

    public init(layout: FlatParameters, shard: Range<Int>, settings: AdamWSettings) {
        self.settings = settings
        self.shard = shard
        entries = layout.entries
        firstMoment = .allocate(capacity: max(shard.count, 1))
        firstMoment.initialize(repeating: 0, count: max(shard.count, 1))
        secondMoment = .allocate(capacity: max(shard.count, 1))
        secondMoment.initialize(repeating: 0, count: max(shard.count, 1))
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// Bytes of optimizer state this rank holds (two float32 moments over its shard).
    public var stateBytes: Int { 2 * 4 * shard.count }

    /// Restores the step counter (moments are restored with `loadMoments`).
    public func restore(stepCount: Int) { self.stepCount = stepCount }

    /// The parts of parameters inside the shard: (entry, flat range) pairs.
    private var pieces: [(entry: FlatParameters.Entry, range: Range<Int>)] {
        entries.compactMap { entry in
            let range = entry.range.clamped(to: shard)
            return range.isEmpty ? nil : (entry, range)
        }
    }

    /// Updates the shard of `weights` with `gradients`, whose global norm (before
    /// clipping) is `norm`, at learning rate `learningRate`.
    public func step(weights: FlatParameters, gradients: FlatParameters, norm: Float, learningRate: Float) {
        stepCount += 1
        let constants = AdamW.constants(settings: settings, norm: norm, stepCount: stepCount, learningRate: learningRate)
        for (entry, range) in pieces {
            let decay: Float = settings.weightDecayScope.applies(toShape: entry.shape) ? 1 - learningRate * settings.weightDecay : 1
            let local = range.lowerBound - shard.lowerBound
            AdamW.update(parameters: weights.base + range.lowerBound, gradients: gradients.base + range.lowerBound,
                         first: firstMoment + local, second: secondMoment + local, count: range.count, decay: decay,
                         constants: constants)
        }
    }

    /// Copies the shard's part of full moments (a checkpoint's, loaded into `full`).
    public func loadMoments(from full: AdamW) {
        let firsts = full.firstMoment.namedParameters, seconds = full.secondMoment.namedParameters
        for (index, entry) in entries.enumerated() {
            let range = entry.range.clamped(to: shard)
            guard !range.isEmpty, index < firsts.count else { continue }
            let inTensor = range.lowerBound - entry.offset, local = range.lowerBound - shard.lowerBound
            (firstMoment + local).update(from: firsts[index].tensor.floats + inTensor, count: range.count)
            (secondMoment + local).update(from: seconds[index].tensor.floats + inTensor, count: range.count)
        }
    }
}
