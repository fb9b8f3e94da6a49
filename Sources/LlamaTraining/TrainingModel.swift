import LlamaCore
import LlamaModel

/// A LLaMA model set up for training on batches of (B, T) tokens: float32 weights, their
/// gradients, and the activations the backward pass needs, all allocated once.
///
/// `forwardBackward` runs the layers' forward functions keeping activations, the
/// cross-entropy, then the layers' backward functions in reverse, accumulating into
/// `gradients`. With activation checkpointing (Korthikanti et al., 2022, as the LLaMA
/// paper describes) the cheap activations — RMSNorm outputs and the SwiGLU product — are
/// not kept per layer but recomputed in backward; the linear layers' outputs are kept.
public final class TrainingModel: @unchecked Sendable {
    public let configuration: LlamaConfiguration
    /// The parameters being trained (float32).
    public let weights: LlamaWeights
    /// ∂loss/∂parameter, same layout as `weights`; accumulated by `forwardBackward`.
    public let gradients: LlamaWeights
    /// The contiguous buffers behind `weights` and `gradients` (data-parallel training
    /// reduces and gathers ranges of them).
    public let weightStorage, gradientStorage: FlatParameters
    /// Sequences per micro-batch (B).
    public let batchSize: Int
    /// Tokens per sequence (T).
    public let sequenceLength: Int
    /// Whether cheap activations are recomputed in backward instead of kept.
    public let checkpointsActivations: Bool

    let rotary: RotaryEmbedding
    /// Activations of one block, each (B·T, width) unless noted.
    final class LayerActivations {
        /// (B·T, dim) residual stream entering the block.
        let input: Tensor
        /// (B·T, dim) input_layernorm output (shared scratch when checkpointing).
        let attentionNormed: Tensor
        /// (B·T) 1/rms of `input`.
        let attentionInverseRMS: Tensor
        /// (B·T, heads · headDim) rotated queries.
        let query: Tensor
        /// (B·T, kvHeads · headDim) rotated keys and values.
        let key, value: Tensor
        /// (B·T, heads · headDim) attention output before o_proj.
        let attended: Tensor
        /// (B, heads, T) per-row log-sum-exp of the scores.
        let logSumExp: Tensor
        /// (B·T, dim) residual stream after attention.
        let middle: Tensor
        /// (B·T, dim) post_attention_layernorm output (shared scratch when checkpointing).
        let feedForwardNormed: Tensor
        /// (B·T) 1/rms of `middle`.
        let feedForwardInverseRMS: Tensor
        /// (B·T, hidden) gate_proj and up_proj outputs.
        let gate, up: Tensor
        /// (B·T, hidden) silu(gate) ⊙ up (shared scratch when checkpointing).
        let activated: Tensor

        init(rows: Int, config: LlamaConfiguration, batch: Int, shared: (normed: Tensor, normed2: Tensor, activated: Tensor)?) {
            let d = config.hiddenSize, q = config.queryWidth, kv = config.keyValueWidth, h = config.intermediateSize
            input = Tensor(zeros: [rows, d])
            attentionNormed = shared?.normed ?? Tensor(zeros: [rows, d])
            attentionInverseRMS = Tensor(zeros: [rows])
            query = Tensor(zeros: [rows, q])
            key = Tensor(zeros: [rows, kv])
            value = Tensor(zeros: [rows, kv])
            attended = Tensor(zeros: [rows, q])
            logSumExp = Tensor(zeros: [batch, config.headCount, rows / max(batch, 1)])
            middle = Tensor(zeros: [rows, d])
            feedForwardNormed = shared?.normed2 ?? Tensor(zeros: [rows, d])
            feedForwardInverseRMS = Tensor(zeros: [rows])
            gate = Tensor(zeros: [rows, h])
            up = Tensor(zeros: [rows, h])
            activated = shared?.activated ?? Tensor(zeros: [rows, h])
        }
    }
    let layers: [LayerActivations]
    /// (B·T, dim) residual stream after the last block, and its final-norm output.
    let finalResidual, finalNormed: Tensor
    /// (B·T) 1/rms of `finalResidual`.
    let finalInverseRMS: Tensor
    /// (B·T, vocab) logits, overwritten by their gradient in backward.
    let logits: Tensor
    /// (B·T) per-position losses.
    let losses: Tensor
    /// (B·T) input ids and targets (negative = ignored).
    let tokens, targets: Tensor
    /// Backward scratch: (B·T, dim) residual gradient and normed-input gradient.
    let residualGradient, normedGradient: Tensor
    /// (B·T, heads · headDim) gradients of the attention output and queries.
    let attendedGradient, queryGradient: Tensor
    /// (B·T, kvHeads · headDim) key and value gradients.
    let keyGradient, valueGradient: Tensor
    /// (B·T, hidden) gradients of the SwiGLU output, gate and up.
    let activatedGradient, gateGradient, upGradient: Tensor

    /// Bytes of activations and backward scratch for these sizes (weights, gradients and
    /// optimizer moments not included).
    public static func activationBytes(configuration config: LlamaConfiguration, batchSize: Int, sequenceLength: Int,
                                       checkpointsActivations: Bool) -> Int {
        let rows = batchSize * sequenceLength
        let d = config.hiddenSize, q = config.queryWidth, kv = config.keyValueWidth, h = config.intermediateSize
        let kept = 2 * d + 2 * q + 2 * kv + 2 * h + 2 + config.headCount
        let cheap = 2 * d + h
        let perLayer = kept + (checkpointsActivations ? 0 : cheap)
        let shared = checkpointsActivations ? cheap : 0
        let scratch = 2 * d + 2 * q + 2 * kv + 3 * h
        let head = 2 * d + 1 + config.vocabularySize + 3
        return 4 * rows * (config.layerCount * perLayer + shared + scratch + head)
    }

    /// Training state for a float32 copy of `source` (never the caller's tensors, which may
    /// be read-only memory-mapped checkpoint files).
    ///
    /// Sets OpenBLAS to one thread for the whole process: training splits every product
    /// over the cores itself (`Linear.splitGemm`, attention per head), with fixed ranges,
    /// which is faster than OpenBLAS's own threads (whose spin-waiting competes with the
    /// workers) and keeps results independent of thread timing.
    public init(weights source: LlamaWeights, batchSize: Int, sequenceLength: Int, checkpointsActivations: Bool = false) {
        BLAS.setThreadCount(1)
        let config = source.configuration
        configuration = config
        weightStorage = FlatParameters(copying: source.float32Copy())
        weights = weightStorage.weights
        gradientStorage = FlatParameters(configuration: config)
        gradients = gradientStorage.weights
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.checkpointsActivations = checkpointsActivations
        rotary = RotaryEmbedding(headDimension: config.headDimension, theta: config.ropeTheta, maxPositions: sequenceLength)
        let rows = batchSize * sequenceLength
        let d = config.hiddenSize, h = config.intermediateSize
        let shared = checkpointsActivations
            ? (normed: Tensor(zeros: [rows, d]), normed2: Tensor(zeros: [rows, d]), activated: Tensor(zeros: [rows, h])) : nil
        layers = (0..<config.layerCount).map { _ in LayerActivations(rows: rows, config: config, batch: batchSize, shared: shared) }
        finalResidual = Tensor(zeros: [rows, d])
        finalNormed = Tensor(zeros: [rows, d])
        finalInverseRMS = Tensor(zeros: [rows])
        logits = Tensor(zeros: [rows, config.vocabularySize])
        losses = Tensor(zeros: [rows])
        tokens = Tensor(zeros: [rows], dtype: .i32)
        targets = Tensor(zeros: [rows], dtype: .i32)
        residualGradient = Tensor(zeros: [rows, d])
        normedGradient = Tensor(zeros: [rows, d])
        attendedGradient = Tensor(zeros: [rows, config.queryWidth])
        queryGradient = Tensor(zeros: [rows, config.queryWidth])
        keyGradient = Tensor(zeros: [rows, config.keyValueWidth])
        valueGradient = Tensor(zeros: [rows, config.keyValueWidth])
        activatedGradient = Tensor(zeros: [rows, h])
        gateGradient = Tensor(zeros: [rows, h])
        upGradient = Tensor(zeros: [rows, h])
    }

    var rowCount: Int { batchSize * sequenceLength }
    var tokenPointer: UnsafeMutablePointer<Int32> { tokens.rawPointer.assumingMemoryBound(to: Int32.self) }
    var targetPointer: UnsafeMutablePointer<Int32> { targets.rawPointer.assumingMemoryBound(to: Int32.self) }

    /// Copies `inputIds` and `targetIds` (B·T each, row-major (B, T)) into the model's
    /// buffers, checking that ids are in the vocabulary.
    func load(inputIds: [Int32], targetIds: [Int32]) throws {
        let rows = rowCount, vocabulary = Int32(configuration.vocabularySize)
        guard inputIds.count == rows, targetIds.count == rows else {
            throw TrainingError.invalidOption(name: "batch", reason: "expected \(rows) ids, got \(inputIds.count) and \(targetIds.count)")
        }
        if let bad = inputIds.first(where: { $0 < 0 || $0 >= vocabulary }) ?? targetIds.first(where: { $0 >= vocabulary }) {
            throw TrainingError.invalidData(path: "batch", field: "token id", reason: "\(bad) is outside the vocabulary (0..<\(vocabulary))")
        }
        for i in 0..<rows {
            tokenPointer[i] = inputIds[i]
            targetPointer[i] = targetIds[i]
        }
    }

    /// The mean cross-entropy of the batch without touching gradients (validation).
    public func loss(inputIds: [Int32], targetIds: [Int32]) throws -> Float {
        try load(inputIds: inputIds, targetIds: targetIds)
        return forward()
    }

    /// Forward and backward over one micro-batch; adds `lossScale` · ∂(mean loss)/∂θ to
    /// `gradients` and returns the mean loss. `bucketReady` is called with each range of
    /// `gradientStorage.backwardBuckets` as soon as backward has finished writing it.
    @discardableResult
    public func forwardBackward(inputIds: [Int32], targetIds: [Int32], lossScale: Float = 1,
                                bucketReady: ((Range<Int>) -> Void)? = nil) throws -> Float {
        try load(inputIds: inputIds, targetIds: targetIds)
        let loss = forward()
        backward(lossScale: lossScale, bucketReady: bucketReady)
        return loss
    }
}
