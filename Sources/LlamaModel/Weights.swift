import Foundation
import LlamaCore

/// The parameters of one transformer block, in Hugging Face's layout (q/k rows in
/// rotate-half order, every matrix (out_features, in_features)).
public final class LayerWeights: @unchecked Sendable {
    /// (dim) RMSNorm gain before attention (`input_layernorm`).
    public var attentionNorm: Tensor
    /// (heads * headDim, dim) `q_proj`.
    public var queryProjection: Tensor
    /// (kvHeads * headDim, dim) `k_proj`.
    public var keyProjection: Tensor
    /// (kvHeads * headDim, dim) `v_proj`.
    public var valueProjection: Tensor
    /// (dim, heads * headDim) `o_proj`.
    public var outputProjection: Tensor
    /// (dim) RMSNorm gain before the feed-forward layer (`post_attention_layernorm`).
    public var feedForwardNorm: Tensor
    /// (hidden, dim) `gate_proj` (W1 in Meta's code).
    public var gateProjection: Tensor
    /// (hidden, dim) `up_proj` (W3).
    public var upProjection: Tensor
    /// (dim, hidden) `down_proj` (W2).
    public var downProjection: Tensor

    public init(attentionNorm: Tensor, queryProjection: Tensor, keyProjection: Tensor, valueProjection: Tensor,
                outputProjection: Tensor, feedForwardNorm: Tensor, gateProjection: Tensor, upProjection: Tensor,
                downProjection: Tensor) {
        self.attentionNorm = attentionNorm
        self.queryProjection = queryProjection
        self.keyProjection = keyProjection
        self.valueProjection = valueProjection
        self.outputProjection = outputProjection
        self.feedForwardNorm = feedForwardNorm
        self.gateProjection = gateProjection
        self.upProjection = upProjection
        self.downProjection = downProjection
    }
}

/// All parameters of a LLaMA model.
public final class LlamaWeights: @unchecked Sendable {
    public let configuration: LlamaConfiguration
    /// (vocab, dim) `model.embed_tokens`.
    public var tokenEmbedding: Tensor
    /// One per block.
    public var layers: [LayerWeights]
    /// (dim) `model.norm`.
    public var finalNorm: Tensor
    /// (vocab, dim) `lm_head`; the embedding itself when tied.
    public var outputProjection: Tensor
    /// Row order of the q/k projections: Hugging Face's rotate-half (the default) or Meta's
    /// interleaved order (GGUF files).
    public var queryKeyLayout: RotaryLayout = .rotateHalf

    public init(configuration: LlamaConfiguration, tokenEmbedding: Tensor, layers: [LayerWeights],
                finalNorm: Tensor, outputProjection: Tensor) {
        self.configuration = configuration
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.finalNorm = finalNorm
        self.outputProjection = outputProjection
    }

    /// The expected shape of every parameter by Hugging Face name, in model order.
    public static func parameterShapes(_ config: LlamaConfiguration) -> [(name: String, shape: [Int])] {
        let d = config.hiddenSize, q = config.queryWidth, kv = config.keyValueWidth, h = config.intermediateSize
        var shapes: [(String, [Int])] = [("model.embed_tokens.weight", [config.vocabularySize, d])]
        for i in 0..<config.layerCount {
            let prefix = "model.layers.\(i)."
            shapes += [
                (prefix + "input_layernorm.weight", [d]),
                (prefix + "self_attn.q_proj.weight", [q, d]),
                (prefix + "self_attn.k_proj.weight", [kv, d]),
                (prefix + "self_attn.v_proj.weight", [kv, d]),
                (prefix + "self_attn.o_proj.weight", [d, q]),
                (prefix + "post_attention_layernorm.weight", [d]),
                (prefix + "mlp.gate_proj.weight", [h, d]),
                (prefix + "mlp.up_proj.weight", [h, d]),
                (prefix + "mlp.down_proj.weight", [d, h]),
            ]
        }
        shapes.append(("model.norm.weight", [d]))
        if !config.tieWordEmbeddings { shapes.append(("lm_head.weight", [config.vocabularySize, d])) }
        return shapes
    }

    /// Every parameter with its Hugging Face name, in model order (the tied head once).
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = [("model.embed_tokens.weight", tokenEmbedding)]
        for (i, layer) in layers.enumerated() {
            let prefix = "model.layers.\(i)."
            result += [
                (prefix + "input_layernorm.weight", layer.attentionNorm),
                (prefix + "self_attn.q_proj.weight", layer.queryProjection),
                (prefix + "self_attn.k_proj.weight", layer.keyProjection),
                (prefix + "self_attn.v_proj.weight", layer.valueProjection),
                (prefix + "self_attn.o_proj.weight", layer.outputProjection),
                (prefix + "post_attention_layernorm.weight", layer.feedForwardNorm),
                (prefix + "mlp.gate_proj.weight", layer.gateProjection),
                (prefix + "mlp.up_proj.weight", layer.upProjection),
                (prefix + "mlp.down_proj.weight", layer.downProjection),
            ]
        }
        result.append(("model.norm.weight", finalNorm))
        if !configuration.tieWordEmbeddings { result.append(("lm_head.weight", outputProjection)) }
        return result
    }

    /// Builds weights from tensors looked up by Hugging Face name.
    public convenience init(configuration config: LlamaConfiguration, tensor: (String) throws -> Tensor) rethrows {
        let embedding = try tensor("model.embed_tokens.weight")
        var layers: [LayerWeights] = []
        for i in 0..<config.layerCount {
            let prefix = "model.layers.\(i)."
            layers.append(LayerWeights(
                attentionNorm: try tensor(prefix + "input_layernorm.weight"),
                queryProjection: try tensor(prefix + "self_attn.q_proj.weight"),
                keyProjection: try tensor(prefix + "self_attn.k_proj.weight"),
                valueProjection: try tensor(prefix + "self_attn.v_proj.weight"),
                outputProjection: try tensor(prefix + "self_attn.o_proj.weight"),
                feedForwardNorm: try tensor(prefix + "post_attention_layernorm.weight"),
                gateProjection: try tensor(prefix + "mlp.gate_proj.weight"),
                upProjection: try tensor(prefix + "mlp.up_proj.weight"),
                downProjection: try tensor(prefix + "mlp.down_proj.weight")))
        }
        let finalNorm = try tensor("model.norm.weight")
        let head = config.tieWordEmbeddings ? embedding : try tensor("lm_head.weight")
        self.init(configuration: config, tokenEmbedding: embedding, layers: layers, finalNorm: finalNorm, outputProjection: head)
    }

    /// Float32 weights drawn at random: matrices N(0, std²), norm gains 1 (as transformers'
    /// `LlamaPreTrainedModel._init_weights` with `initializer_range` = std), from `seed`.
    public static func random(configuration config: LlamaConfiguration, seed: UInt64, standardDeviation: Float = 0.02) -> LlamaWeights {
        var generator = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for (name, shape) in parameterShapes(config) {
            let tensor = Tensor(zeros: shape)
            let values = tensor.floats
            if shape.count == 1 {
                for i in 0..<tensor.count { values[i] = 1 }
            } else {
                for i in 0..<tensor.count { values[i] = generator.nextNormal() * standardDeviation }
            }
            tensors[name] = tensor
        }
        return LlamaWeights(configuration: config) { name in tensors[name] ?? Tensor(zeros: [0]) }
    }

    /// A float32 copy of every parameter (for training from a 16-bit checkpoint).
    public func float32Copy() -> LlamaWeights { mapTensors { $0.float32Copy() } }

    /// A copy of every parameter in memory of its own, types kept, all packed into one
    /// `TensorArena`: weights read from 2 MiB pages instead of a file mapping's (or small
    /// allocations') 4 KiB ones (decode is bandwidth-bound; see `OpenedModel`). With
    /// `repacking`, Q8_0 / Q4_0 / Q4_K / Q6_K projection matrices are stored `.interleaved8` (eight rows per
    /// record, as llama.cpp repacks them), which the integer kernels read faster; the token
    /// embedding, looked up row by row, keeps GGML's order.
    public func residentCopy(repacking: Bool = LlamaWeights.repacksQuantizedMatrices) -> LlamaWeights {
        let originals = namedParameters.map(\.tensor)
        let matrices = repacking ? linearMatrices.filter { $0 !== tokenEmbedding } : []
        let copies = TensorArena.copies(of: originals, interleaving: matrices)
        var byIdentity: [ObjectIdentifier: Tensor] = [:]
        for (original, copy) in zip(originals, copies) { byIdentity[ObjectIdentifier(original)] = copy }
        return mapTensors { byIdentity[ObjectIdentifier($0)] ?? $0.residentCopy() }
    }

    /// Whether `residentCopy()` interleaves quantized matrices by default (`LLAMA_REPACK=0`
    /// keeps GGML's row order, for comparison).
    nonisolated(unsafe) public static var repacksQuantizedMatrices =
        ProcessInfo.processInfo.environment["LLAMA_REPACK"] != "0"

    /// Every projection matrix (the seven of each layer and the output projection).
    var linearMatrices: [Tensor] {
        layers.flatMap { layer in
            [layer.queryProjection, layer.keyProjection, layer.valueProjection, layer.outputProjection,
             layer.gateProjection, layer.upProjection, layer.downProjection]
        } + [outputProjection]
    }

    /// The weights with every tensor replaced by `transform(tensor)`; a tensor used twice (tied
    /// embeddings) is transformed once.
    func mapTensors(_ transform: (Tensor) -> Tensor) -> LlamaWeights {
        var copies: [ObjectIdentifier: Tensor] = [:]
        func copy(_ tensor: Tensor) -> Tensor {
            if let existing = copies[ObjectIdentifier(tensor)] { return existing }
            let result = transform(tensor)
            copies[ObjectIdentifier(tensor)] = result
            return result
        }
        let result = LlamaWeights(
            configuration: configuration, tokenEmbedding: copy(tokenEmbedding),
            layers: layers.map { layer in
                LayerWeights(attentionNorm: copy(layer.attentionNorm), queryProjection: copy(layer.queryProjection),
                             keyProjection: copy(layer.keyProjection), valueProjection: copy(layer.valueProjection),
                             outputProjection: copy(layer.outputProjection), feedForwardNorm: copy(layer.feedForwardNorm),
                             gateProjection: copy(layer.gateProjection), upProjection: copy(layer.upProjection),
                             downProjection: copy(layer.downProjection))
            },
            finalNorm: copy(finalNorm), outputProjection: copy(outputProjection))
        result.queryKeyLayout = queryKeyLayout
        return result
    }
}
