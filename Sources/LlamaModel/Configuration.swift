import Foundation

/// The shape of a LLaMA model: the hyper-parameters of Touvron et al. (2023), Table 2, and
/// the fields of a Hugging Face `config.json` (`LlamaConfig`) that define the same thing.
public struct LlamaConfiguration: Codable, Equatable, Sendable {
    /// Width of the residual stream (`hidden_size`, the paper's "dimension").
    public var hiddenSize: Int
    /// Width of the SwiGLU feed-forward layer (`intermediate_size`).
    public var intermediateSize: Int
    /// Number of transformer blocks (`num_hidden_layers`).
    public var layerCount: Int
    /// Number of query heads (`num_attention_heads`).
    public var headCount: Int
    /// Number of key/value heads (`num_key_value_heads`; equal to `headCount` in LLaMA 1).
    public var keyValueHeadCount: Int
    /// Width of one head (`head_dim`; `hiddenSize / headCount` unless given).
    public var headDimension: Int
    /// Number of tokens in the vocabulary (`vocab_size`).
    public var vocabularySize: Int
    /// Longest context the model was trained for (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Epsilon added to the mean square in RMSNorm (`rms_norm_eps`).
    public var rmsNormEpsilon: Float
    /// Base of the rotary embedding frequencies (`rope_theta`).
    public var ropeTheta: Float
    /// Whether the output projection shares the embedding matrix (`tie_word_embeddings`).
    public var tieWordEmbeddings: Bool
    /// Id of the beginning-of-sequence token.
    public var bosTokenId: Int32
    /// Id of the end-of-sequence token.
    public var eosTokenId: Int32

    public init(hiddenSize: Int, intermediateSize: Int? = nil, layerCount: Int, headCount: Int,
                keyValueHeadCount: Int? = nil, headDimension: Int? = nil, vocabularySize: Int = 32000,
                maxPositionEmbeddings: Int = 2048, rmsNormEpsilon: Float = 1e-6, ropeTheta: Float = 10000,
                tieWordEmbeddings: Bool = false, bosTokenId: Int32 = 1, eosTokenId: Int32 = 2) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize ?? Self.feedForwardSize(hiddenSize: hiddenSize)
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount ?? headCount
        self.headDimension = headDimension ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.vocabularySize = vocabularySize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
    }

    /// The LLaMA feed-forward width: 2/3 · 4 · dim, rounded up to a multiple of 256
    /// (Meta's `ModelArgs.multiple_of`), as in the reference `FeedForward.__init__`.
    public static func feedForwardSize(hiddenSize: Int, multipleOf: Int = 256) -> Int {
        let raw = 2 * (4 * hiddenSize) / 3
        return multipleOf * ((raw + multipleOf - 1) / multipleOf)
    }

    /// Width of all query heads together.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of all key (or value) heads together.
    public var keyValueWidth: Int { keyValueHeadCount * headDimension }

    /// Checks that the values describe a model that can exist; `path` names the source.
    public func validate(path: String = "configuration") throws {
        func check(_ condition: Bool, _ field: String, _ reason: String) throws {
            if !condition { throw ModelError.invalidConfiguration(path: path, field: field, reason: reason) }
        }
        try check(hiddenSize > 0, "hidden_size", "must be positive, is \(hiddenSize)")
        try check(intermediateSize > 0, "intermediate_size", "must be positive, is \(intermediateSize)")
        try check(layerCount > 0, "num_hidden_layers", "must be positive, is \(layerCount)")
        try check(headCount > 0, "num_attention_heads", "must be positive, is \(headCount)")
        try check(keyValueHeadCount > 0 && headCount % keyValueHeadCount == 0, "num_key_value_heads",
                  "must divide num_attention_heads (\(headCount)), is \(keyValueHeadCount)")
        try check(headDimension > 0 && headDimension % 2 == 0, "head_dim", "must be a positive even number, is \(headDimension)")
        try check(vocabularySize > 0, "vocab_size", "must be positive, is \(vocabularySize)")
        try check(maxPositionEmbeddings > 0, "max_position_embeddings", "must be positive, is \(maxPositionEmbeddings)")
        try check(rmsNormEpsilon > 0 && rmsNormEpsilon.isFinite, "rms_norm_eps", "must be a positive number, is \(rmsNormEpsilon)")
        try check(ropeTheta > 0 && ropeTheta.isFinite, "rope_theta", "must be a positive number, is \(ropeTheta)")
        try check(bosTokenId >= 0 && Int(bosTokenId) < vocabularySize, "bos_token_id", "must be a token id below vocab_size")
        try check(eosTokenId >= 0 && Int(eosTokenId) < vocabularySize, "eos_token_id", "must be a token id below vocab_size")
        let parameters = Double(hiddenSize) * Double(vocabularySize) + Double(layerCount) * Double(hiddenSize) * Double(intermediateSize)
        try check(parameters < 1e13, "hidden_size", "the model would have more than 10^13 parameters")
    }

    // MARK: Presets

    /// LLaMA-7B (Table 2): dim 4096, 32 heads, 32 layers.
    public static let llama7B = LlamaConfiguration(hiddenSize: 4096, layerCount: 32, headCount: 32)
    /// LLaMA-13B: dim 5120, 40 heads, 40 layers.
    public static let llama13B = LlamaConfiguration(hiddenSize: 5120, layerCount: 40, headCount: 40)
    /// LLaMA-33B: dim 6656, 52 heads, 60 layers.
    public static let llama33B = LlamaConfiguration(hiddenSize: 6656, layerCount: 60, headCount: 52)
    /// LLaMA-65B: dim 8192, 64 heads, 80 layers.
    public static let llama65B = LlamaConfiguration(hiddenSize: 8192, layerCount: 80, headCount: 64)
    /// About 15M parameters, for quick CPU training runs.
    public static let small15M = LlamaConfiguration(hiddenSize: 288, intermediateSize: 768, layerCount: 6, headCount: 6,
                                                    vocabularySize: 8000, maxPositionEmbeddings: 256)
    /// About 110M parameters (dim 768, 12 layers, 12 heads, hidden 2048, vocab 32000).
    public static let small110M = LlamaConfiguration(hiddenSize: 768, intermediateSize: 2048, layerCount: 12, headCount: 12,
                                                     vocabularySize: 32000, maxPositionEmbeddings: 1024)

    /// Presets by name: 7B, 13B, 33B, 65B, 15M, 110M.
    public static let presets: [String: LlamaConfiguration] = [
        "7B": llama7B, "13B": llama13B, "33B": llama33B, "65B": llama65B, "15M": small15M, "110M": small110M,
    ]

    // MARK: Size

    /// Number of parameters (untied output projection counted separately).
    public var parameterCount: Int {
        let attention = hiddenSize * queryWidth * 2 + hiddenSize * keyValueWidth * 2
        let feedForward = 3 * hiddenSize * intermediateSize
        let perLayer = attention + feedForward + 2 * hiddenSize
        let embeddings = vocabularySize * hiddenSize * (tieWordEmbeddings ? 1 : 2)
        return embeddings + layerCount * perLayer + hiddenSize
    }

    /// Bytes of the key/value cache for `context` positions of `bytesPerValue` (4: float32, 2: half).
    public func keyValueCacheBytes(context: Int, bytesPerValue: Int = 4) -> Int { 2 * layerCount * context * keyValueWidth * bytesPerValue }

    /// Estimated bytes to run inference with weights of `bytesPerParameter` and a cache of
    /// `context` positions, with scratch for `batch` tokens at a time.
    public func inferenceMemoryBytes(bytesPerParameter: Int, context: Int, batch: Int = 512) -> Int {
        let scratch = batch * (3 * hiddenSize + 2 * queryWidth + 2 * keyValueWidth + 2 * intermediateSize + vocabularySize) * 4
        return parameterCount * bytesPerParameter + keyValueCacheBytes(context: context) + scratch
    }

    /// Estimated bytes to train in float32 with AdamW (weights, gradients, two moments) on
    /// `tokens` tokens per micro-batch, keeping the activations backward needs.
    public func trainingMemoryBytes(tokensPerMicroBatch tokens: Int) -> Int {
        let perLayer = 6 * hiddenSize + 4 * queryWidth + 2 * keyValueWidth + 3 * intermediateSize
        let activations = tokens * (layerCount * perLayer + 2 * hiddenSize + 2 * vocabularySize) * 4
        return parameterCount * 16 + activations
    }
}
