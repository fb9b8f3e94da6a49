import Foundation
import LlamaCore

extension GGUFModel {
    /// Loads a llama-architecture GGUF file: configuration from `llama.*` metadata, weights
    /// viewed in place (q/k in the interleaved order the file holds), and the vocabulary.
    public static func load(path: String) throws -> Loaded {
        let file = try GGUFFile(path: path)
        func fail(_ field: String, _ reason: String) -> ModelError { .invalidConfiguration(path: path, field: field, reason: reason) }
        guard file["general.architecture"]?.string == "llama" else {
            throw fail("general.architecture", "'\(file["general.architecture"]?.string ?? "missing")' is not llama")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = file["llama." + key]?.integer else { throw fail("llama." + key, "missing or not an integer") }
            return value
        }
        let embedding = file.tensors.first { $0.name == "token_embd.weight" }
        let hidden = try integer("embedding_length"), heads = try integer("attention.head_count")
        let vocabularySize = file["llama.vocab_size"]?.integer ?? embedding?.shape.first
            ?? file["tokenizer.ggml.tokens"]?.array?.count ?? 0
        let vocabulary = try readVocabulary(file)
        let config = LlamaConfiguration(
            hiddenSize: hidden, intermediateSize: try integer("feed_forward_length"), layerCount: try integer("block_count"),
            headCount: heads, keyValueHeadCount: file["llama.attention.head_count_kv"]?.integer ?? heads,
            headDimension: file["llama.attention.key_length"]?.integer ?? (heads > 0 ? hidden / heads : 0),
            vocabularySize: vocabularySize, maxPositionEmbeddings: try integer("context_length"),
            rmsNormEpsilon: Float(file["llama.attention.layer_norm_rms_epsilon"]?.real ?? 1e-6),
            ropeTheta: Float(file["llama.rope.freq_base"]?.real ?? 10000),
            tieWordEmbeddings: !file.tensors.contains { $0.name == "output.weight" },
            bosTokenId: vocabulary?.bosId ?? 1, eosTokenId: vocabulary?.eosId ?? 2)
        try config.validate(path: path)
        let expected = Dictionary(uniqueKeysWithValues: LlamaWeights.parameterShapes(config).map { ($0.name, $0.shape) })
        let weights = try LlamaWeights(configuration: config) { hfName in
            let name = ggufName(hfName)
            let tensor = try file.tensor(name)
            let shape = expected[hfName] ?? []
            guard tensor.shape == shape else {
                throw ModelError.invalidTensor(path: path, name: name, reason: "shape \(tensor.shape) does not match the metadata, which implies \(shape)")
            }
            return shape.count == 1 && tensor.dtype != .f32 ? tensor.float32Copy() : tensor
        }
        weights.queryKeyLayout = .interleaved
        return Loaded(configuration: config, weights: weights, vocabulary: vocabulary, file: file)
    }

    /// The `tokenizer.ggml.*` vocabulary, when the file has one.
    static func readVocabulary(_ file: GGUFFile) throws -> GGUFVocabulary? {
        guard let tokens = file["tokenizer.ggml.tokens"]?.array else { return nil }
        let strings = tokens.compactMap(\.string)
        let scores = file["tokenizer.ggml.scores"]?.array?.compactMap { $0.real.map(Float.init) } ?? []
        let types = file["tokenizer.ggml.token_type"]?.array?.compactMap { $0.integer.map { Int32($0) } } ?? []
        guard strings.count == tokens.count, scores.isEmpty || scores.count == tokens.count,
              types.isEmpty || types.count == tokens.count else {
            throw ModelError.invalidConfiguration(path: file.path, field: "tokenizer.ggml.tokens",
                                                  reason: "tokens, scores and token types disagree in length or type")
        }
        func id(_ key: String) -> Int32? { file["tokenizer.ggml." + key]?.integer.map { Int32($0) } }
        return GGUFVocabulary(tokens: strings, scores: scores.isEmpty ? [Float](repeating: 0, count: strings.count) : scores,
                              types: types.isEmpty ? [Int32](repeating: 1, count: strings.count) : types,
                              bosId: id("bos_token_id"), eosId: id("eos_token_id"), unknownId: id("unknown_token_id"),
                              paddingId: id("padding_token_id"),
                              addBOS: file["tokenizer.ggml.add_bos_token"]?.bool ?? true,
                              addEOS: file["tokenizer.ggml.add_eos_token"]?.bool ?? false,
                              addSpacePrefix: file["tokenizer.ggml.add_space_prefix"]?.bool ?? true,
                              model: file["tokenizer.ggml.model"]?.string ?? "llama",
                              chatTemplate: file["tokenizer.chat_template"]?.string)
    }

    /// The `tokenizer.ggml.*` vocabulary of the GGUF file at `path`, when it has one.
    public static func vocabulary(path: String) throws -> GGUFVocabulary? {
        try readVocabulary(GGUFFile(path: path))
    }

    /// Float weights in Hugging Face's layout (q/k back in rotate-half order), e.g. to save
    /// a GGUF model as a Hugging Face folder. 16-bit matrices stay 16-bit; quantized ones are
    /// dequantized to F32.
    public static func huggingFaceWeights(_ weights: LlamaWeights) -> LlamaWeights {
        let config = weights.configuration
        func plain(_ tensor: Tensor) -> Tensor { tensor.dtype.isQuantized ? tensor.float32Copy() : tensor }
        func restore(_ tensor: Tensor, heads: Int) -> Tensor {
            weights.queryKeyLayout == .interleaved ? permuteRows(plain(tensor), heads: heads, toInterleaved: false) : plain(tensor)
        }
        let layers = weights.layers.map { layer in
            LayerWeights(attentionNorm: layer.attentionNorm,
                         queryProjection: restore(layer.queryProjection, heads: config.headCount),
                         keyProjection: restore(layer.keyProjection, heads: config.keyValueHeadCount),
                         valueProjection: plain(layer.valueProjection), outputProjection: plain(layer.outputProjection),
                         feedForwardNorm: layer.feedForwardNorm, gateProjection: plain(layer.gateProjection),
                         upProjection: plain(layer.upProjection), downProjection: plain(layer.downProjection))
        }
        let embedding = plain(weights.tokenEmbedding)
        return LlamaWeights(configuration: config, tokenEmbedding: embedding, layers: layers, finalNorm: weights.finalNorm,
                            outputProjection: config.tieWordEmbeddings ? embedding : plain(weights.outputProjection))
    }
}
