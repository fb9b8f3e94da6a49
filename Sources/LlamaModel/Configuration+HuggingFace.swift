import Foundation

extension LlamaConfiguration {
    /// Reads a Hugging Face `config.json` of a `LlamaForCausalLM` model.
    ///
    /// Missing optional fields take transformers' `LlamaConfig` defaults (num_key_value_heads
    /// = num_attention_heads, head_dim = hidden_size / heads, rope_theta 10000, rms_norm_eps
    /// 1e-6, tie_word_embeddings false). Fields that would change the computation in ways
    /// this implementation does not (biases, rope scaling, another activation) are refused.
    public init(huggingFaceConfigAt path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.missingFile(path: path, reason: "config.json not found")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ModelError.invalidConfiguration(path: path, field: "(file)", reason: "not a JSON object")
        }
        func integer(_ key: String, default value: Int? = nil) throws -> Int {
            guard let raw = json[key], !(raw is NSNull) else {
                if let value { return value }
                throw ModelError.invalidConfiguration(path: path, field: key, reason: "missing")
            }
            guard let number = raw as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
                  abs(number.doubleValue) < 1e12 else {
                throw ModelError.invalidConfiguration(path: path, field: key, reason: "not an integer: \(raw)")
            }
            return number.intValue
        }
        func real(_ key: String, default value: Double) throws -> Double {
            guard let raw = json[key], !(raw is NSNull) else { return value }
            guard let number = raw as? NSNumber else {
                throw ModelError.invalidConfiguration(path: path, field: key, reason: "not a number: \(raw)")
            }
            return number.doubleValue
        }
        if let type = json["model_type"] as? String, !["llama", "mistral"].contains(type) {
            throw ModelError.invalidConfiguration(path: path, field: "model_type", reason: "'\(type)' is not a LLaMA model")
        }
        if let activation = json["hidden_act"] as? String, activation != "silu" {
            throw ModelError.invalidConfiguration(path: path, field: "hidden_act", reason: "'\(activation)' is not supported (LLaMA uses silu)")
        }
        for key in ["attention_bias", "mlp_bias"] where (json[key] as? Bool) == true {
            throw ModelError.invalidConfiguration(path: path, field: key, reason: "biases are not part of LLaMA")
        }
        if let scaling = json["rope_scaling"], !(scaling is NSNull) {
            let type = (scaling as? [String: Any])?["rope_type"] as? String ?? (scaling as? [String: Any])?["type"] as? String
            if type != "default" {
                throw ModelError.invalidConfiguration(path: path, field: "rope_scaling", reason: "rope scaling '\(type ?? "?")' is not supported")
            }
        }
        var theta = try real("rope_theta", default: 10000)
        if let parameters = json["rope_parameters"] as? [String: Any], let value = parameters["rope_theta"] as? NSNumber {
            theta = value.doubleValue
        }
        let hidden = try integer("hidden_size")
        let heads = try integer("num_attention_heads")
        func tokenId(_ key: String, default value: Int) throws -> Int32 {
            if let list = json[key] as? [NSNumber], let first = list.first { return first.int32Value }
            return Int32(clamping: try integer(key, default: value))
        }
        self.init(hiddenSize: hidden,
                  intermediateSize: try integer("intermediate_size", default: Self.feedForwardSize(hiddenSize: hidden)),
                  layerCount: try integer("num_hidden_layers"),
                  headCount: heads,
                  keyValueHeadCount: try integer("num_key_value_heads", default: heads),
                  headDimension: try integer("head_dim", default: heads > 0 ? hidden / heads : 0),
                  vocabularySize: try integer("vocab_size"),
                  maxPositionEmbeddings: try integer("max_position_embeddings", default: 2048),
                  rmsNormEpsilon: Float(try real("rms_norm_eps", default: 1e-6)),
                  ropeTheta: Float(theta),
                  tieWordEmbeddings: (json["tie_word_embeddings"] as? Bool) ?? false,
                  bosTokenId: try tokenId("bos_token_id", default: 1),
                  eosTokenId: try tokenId("eos_token_id", default: 2))
        try validate(path: path)
    }

    /// The `config.json` transformers writes for this model (LlamaForCausalLM, float32).
    public func huggingFaceConfigJSON(dtype: String = "float32") -> String {
        """
        {
          "architectures": ["LlamaForCausalLM"],
          "model_type": "llama",
          "hidden_size": \(hiddenSize),
          "intermediate_size": \(intermediateSize),
          "num_hidden_layers": \(layerCount),
          "num_attention_heads": \(headCount),
          "num_key_value_heads": \(keyValueHeadCount),
          "head_dim": \(headDimension),
          "vocab_size": \(vocabularySize),
          "max_position_embeddings": \(maxPositionEmbeddings),
          "rms_norm_eps": \(rmsNormEpsilon),
          "rope_theta": \(ropeTheta),
          "rope_scaling": null,
          "hidden_act": "silu",
          "attention_bias": false,
          "attention_dropout": 0.0,
          "mlp_bias": false,
          "pretraining_tp": 1,
          "tie_word_embeddings": \(tieWordEmbeddings),
          "bos_token_id": \(bosTokenId),
          "eos_token_id": \(eosTokenId),
          "torch_dtype": "\(dtype)"
        }

        """
    }
}
