import Foundation
import LlamaCore

/// A tokenizer vocabulary as GGUF stores it (`tokenizer.ggml.*`, SentencePiece "llama" model).
public struct GGUFVocabulary: Equatable, Sendable {
    public var tokens: [String]
    public var scores: [Float]
    /// llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public var types: [Int32]
    public var bosId: Int32?
    public var eosId: Int32?
    public var unknownId: Int32?
    public var paddingId: Int32?
    public var addBOS = true
    public var addEOS = false
    /// `tokenizer.ggml.add_space_prefix`: a space before the text (SentencePiece's dummy prefix).
    public var addSpacePrefix = true
    /// `tokenizer.ggml.model`: "llama" for a SentencePiece vocabulary.
    public var model = "llama"
    /// `tokenizer.chat_template`: the Jinja chat template of a chat-tuned model.
    public var chatTemplate: String?

    public init(tokens: [String], scores: [Float], types: [Int32], bosId: Int32?, eosId: Int32?, unknownId: Int32?,
                paddingId: Int32? = nil, addBOS: Bool = true, addEOS: Bool = false, addSpacePrefix: Bool = true,
                model: String = "llama", chatTemplate: String? = nil) {
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.bosId = bosId
        self.eosId = eosId
        self.unknownId = unknownId
        self.paddingId = paddingId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.model = model
        self.chatTemplate = chatTemplate
    }
}

/// LLaMA models in GGUF files, with the tensor names, metadata keys and q/k row order of
/// llama.cpp's `convert_hf_to_gguf.py` (LlamaModel): q/k rows are permuted from Hugging
/// Face's rotate-half order to Meta's interleaved order on the way in and back on the way out.
public enum GGUFModel {
    /// A loaded GGUF model; the weights view the mapped file.
    public struct Loaded {
        public let configuration: LlamaConfiguration
        public let weights: LlamaWeights
        public let vocabulary: GGUFVocabulary?
        public let file: GGUFFile
    }

    /// llama.cpp's name of each Hugging Face parameter.
    public static func ggufName(_ name: String) -> String {
        var result = name
        let replacements = [
            ("model.embed_tokens.weight", "token_embd.weight"), ("model.norm.weight", "output_norm.weight"),
            ("lm_head.weight", "output.weight"), ("model.layers.", "blk."),
            (".input_layernorm.", ".attn_norm."), (".self_attn.q_proj.", ".attn_q."), (".self_attn.k_proj.", ".attn_k."),
            (".self_attn.v_proj.", ".attn_v."), (".self_attn.o_proj.", ".attn_output."),
            (".post_attention_layernorm.", ".ffn_norm."), (".mlp.gate_proj.", ".ffn_gate."),
            (".mlp.up_proj.", ".ffn_up."), (".mlp.down_proj.", ".ffn_down."),
        ]
        for (from, to) in replacements { result = result.replacingOccurrences(of: from, with: to) }
        return result
    }

    /// Reorders the rows of a (heads · headDim, in) projection between the two layouts:
    /// rotate-half row h·d + j·d/2 + i ↔ interleaved row h·d + 2i + j.
    public static func permuteRows(_ original: Tensor, heads: Int, toInterleaved: Bool) -> Tensor {
        let tensor = original.rowMajor()
        let rows = tensor.shape[0], rowBytes = tensor.dtype.storageBytes(count: tensor.shape[1])
        let headDimension = rows / heads, half = headDimension / 2
        let result = Tensor(zeros: tensor.shape, dtype: tensor.dtype)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let halfRow = h * headDimension + j * half + i, interleavedRow = h * headDimension + 2 * i + j
                    let (to, from) = toInterleaved ? (interleavedRow, halfRow) : (halfRow, interleavedRow)
                    (result.rawPointer + to * rowBytes).copyMemory(from: tensor.rawPointer + from * rowBytes, byteCount: rowBytes)
                }
            }
        }
        return result
    }

    /// ggml's `general.file_type` (llama_ftype) of a weight type.
    static func fileType(_ dtype: DType) -> UInt32 {
        switch dtype {
        case .f16: return 1
        case .q4_0: return 2
        case .q8_0: return 7
        case .bf16: return 32
        default: return 0
        }
    }

    /// The size label llama.cpp's converter writes (`gguf.utility.model_weight_count_rounded_notation`):
    /// the count in K, M, B or T with at least two significant digits (1,328,256 → "1.3M",
    /// 110 M → "110M", 6.74 B → "6.7B").
    public static func sizeLabel(parameters: Int) -> String {
        let count = Double(parameters)
        let (scale, suffix): (Double, String) = count > 1e12 ? (1e12, "T") : count > 1e9 ? (1e9, "B") : count > 1e6 ? (1e6, "M") : (1e3, "K")
        let scaled = count / scale
        let digits = String(Int(scaled.rounded(.toNearestOrEven))).drop { $0 == "0" }.count
        return String(format: "%.\(max(2 - digits, 0))f", scaled) + suffix
    }

    /// Writes `weights` (in rotate-half order) as a GGUF file with matrices in `dtype`
    /// (norm gains stay F32, matrices whose rows are not whole blocks stay F16, as llama.cpp).
    public static func save(_ weights: LlamaWeights, path: String, dtype: DType, name: String = "llama",
                            vocabulary: GGUFVocabulary?) throws {
        let config = weights.configuration
        var metadata: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("general.type", .string("model")),
            ("general.name", .string(name)),
            ("general.size_label", .string(sizeLabel(parameters: config.parameterCount))),
            ("llama.vocab_size", .uint32(UInt32(config.vocabularySize))),
            ("llama.context_length", .uint32(UInt32(config.maxPositionEmbeddings))),
            ("llama.embedding_length", .uint32(UInt32(config.hiddenSize))),
            ("llama.block_count", .uint32(UInt32(config.layerCount))),
            ("llama.feed_forward_length", .uint32(UInt32(config.intermediateSize))),
            ("llama.rope.dimension_count", .uint32(UInt32(config.headDimension))),
            ("llama.attention.head_count", .uint32(UInt32(config.headCount))),
            ("llama.attention.head_count_kv", .uint32(UInt32(config.keyValueHeadCount))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(config.rmsNormEpsilon)),
            ("llama.rope.freq_base", .float32(config.ropeTheta)),
            ("llama.attention.key_length", .uint32(UInt32(config.headDimension))),
            ("llama.attention.value_length", .uint32(UInt32(config.headDimension))),
            ("general.file_type", .uint32(fileType(dtype))),
            ("general.quantization_version", .uint32(2)),
        ]
        if let vocabulary {
            metadata += [
                ("tokenizer.ggml.model", .string("llama")),
                ("tokenizer.ggml.pre", .string("default")),
                ("tokenizer.ggml.tokens", .array(elementType: 8, values: vocabulary.tokens.map { .string($0) })),
                ("tokenizer.ggml.scores", .array(elementType: 6, values: vocabulary.scores.map { .float32($0) })),
                ("tokenizer.ggml.token_type", .array(elementType: 5, values: vocabulary.types.map { .int32($0) })),
            ]
            for (key, id) in [("bos_token_id", vocabulary.bosId), ("eos_token_id", vocabulary.eosId),
                              ("unknown_token_id", vocabulary.unknownId), ("padding_token_id", vocabulary.paddingId)] {
                if let id { metadata.append(("tokenizer.ggml." + key, .uint32(UInt32(id)))) }
            }
            metadata.append(("tokenizer.ggml.add_bos_token", .bool(vocabulary.addBOS)))
            metadata.append(("tokenizer.ggml.add_eos_token", .bool(vocabulary.addEOS)))
            if let template = vocabulary.chatTemplate { metadata.append(("tokenizer.chat_template", .string(template))) }
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        for (hfName, tensor) in weights.namedParameters {
            var stored = tensor
            if weights.queryKeyLayout == .rotateHalf {
                if hfName.hasSuffix("q_proj.weight") { stored = permuteRows(tensor, heads: config.headCount, toInterleaved: true) }
                if hfName.hasSuffix("k_proj.weight") { stored = permuteRows(tensor, heads: config.keyValueHeadCount, toInterleaved: true) }
            }
            tensors.append((ggufName(hfName), convert(stored, to: stored.shape.count == 1 ? .f32 : dtype)))
        }
        try GGUFWriter.write(path: path, metadata: metadata, tensors: tensors)
    }

    /// `tensor` in `dtype`; quantized types only for whole blocks (else F16).
    static func convert(_ tensor: Tensor, to dtype: DType) -> Tensor {
        if tensor.dtype == dtype { return tensor }
        if dtype.isQuantized {
            return Quantization.canQuantize(shape: tensor.shape) ? Quantization.quantize(tensor, to: dtype)
                : Checkpoint.convert(tensor.float32Copy(), to: .f16)
        }
        return Checkpoint.convert(tensor.dtype == .f32 ? tensor : tensor.float32Copy(), to: dtype)
    }
}
