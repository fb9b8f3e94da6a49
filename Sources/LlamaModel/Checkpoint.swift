import Foundation
import LlamaCore

/// Hugging Face LLaMA checkpoint folders: `config.json` plus `model.safetensors`, or shards
/// `model-0000N-of-0000M.safetensors` listed in `model.safetensors.index.json`.
///
/// Tensors are memory-mapped and used in place (F32, F16 or BF16); only the small RMSNorm
/// gains are converted to float32. q/k projections stay in Hugging Face's rotate-half row
/// order, which the rotary embedding here applies directly, so results equal transformers'.
public enum Checkpoint {
    /// The loaded model and the files that back its tensors.
    public struct Loaded {
        public let configuration: LlamaConfiguration
        public let weights: LlamaWeights
        public let files: [SafetensorsFile]
    }

    /// Loads the checkpoint in `directory`, validating every tensor against config.json.
    public static func load(directory: String) throws -> Loaded {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.missingFile(path: directory, reason: "not a checkpoint directory")
        }
        let config = try LlamaConfiguration(huggingFaceConfigAt: directory + "/config.json")
        let single = directory + "/model.safetensors"
        let index = directory + "/model.safetensors.index.json"
        var fileOfTensor: [String: SafetensorsFile] = [:]
        var files: [SafetensorsFile] = []
        if FileManager.default.fileExists(atPath: single) {
            let file = try SafetensorsFile(path: single)
            files = [file]
            for name in file.entries.keys { fileOfTensor[name] = file }
        } else if FileManager.default.fileExists(atPath: index) {
            let weightMap = try readIndex(path: index)
            var opened: [String: SafetensorsFile] = [:]
            for (name, fileName) in weightMap.sorted(by: { $0.key < $1.key }) {
                guard !fileName.contains("/") else {
                    throw ModelError.invalidTensor(path: index, name: name, reason: "shard name '\(fileName)' leaves the folder")
                }
                if opened[fileName] == nil {
                    let file = try SafetensorsFile(path: directory + "/" + fileName)
                    opened[fileName] = file
                    files.append(file)
                }
                fileOfTensor[name] = opened[fileName]
            }
        } else {
            throw ModelError.missingFile(path: directory, reason: "neither model.safetensors nor model.safetensors.index.json exists")
        }
        let expected = Dictionary(uniqueKeysWithValues: LlamaWeights.parameterShapes(config).map { ($0.name, $0.shape) })
        let weights = try LlamaWeights(configuration: config) { name in
            guard let file = fileOfTensor[name] else {
                throw ModelError.invalidTensor(path: directory, name: name, reason: "missing from the checkpoint")
            }
            guard let entry = file.entries[name] else {
                throw ModelError.invalidTensor(path: file.path, name: name, reason: "listed in the index but missing from the shard")
            }
            let shape = expected[name] ?? []
            guard entry.shape == shape else {
                throw ModelError.invalidTensor(path: file.path, name: name,
                                               reason: "shape \(entry.shape) does not match config.json, which implies \(shape)")
            }
            guard [.f32, .f16, .bf16].contains(entry.dtype) else {
                throw ModelError.invalidTensor(path: file.path, name: name, reason: "dtype \(entry.dtype.rawValue) is not F32, F16 or BF16")
            }
            let tensor = try file.tensor(name)
            return shape.count == 1 && tensor.dtype != .f32 ? tensor.float32Copy() : tensor
        }
        return Loaded(configuration: config, weights: weights, files: files)
    }

    /// The `weight_map` of a sharded checkpoint's index.
    static func readIndex(path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.invalidConfiguration(path: path, field: "(file)", reason: "not a JSON object")
        }
        guard let map = object["weight_map"] as? [String: String] else {
            throw ModelError.invalidConfiguration(path: path, field: "weight_map", reason: "missing or not a map of strings")
        }
        return map
    }

    /// Writes `weights` as a Hugging Face folder: config.json, generation_config.json and
    /// safetensors in `dtype` (F32, F16 or BF16), sharded with an index when larger than
    /// `maximumShardBytes`, exactly as `save_pretrained` lays it out.
    public static func save(_ weights: LlamaWeights, directory: String, dtype: DType = .f32,
                            maximumShardBytes: Int = 5 << 30) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = weights.configuration
        let dtypeName = ["F32": "float32", "F16": "float16", "BF16": "bfloat16"][dtype.rawValue] ?? "float32"
        try AtomicFile.write(path: directory + "/config.json", text: config.huggingFaceConfigJSON(dtype: dtypeName))
        try AtomicFile.write(path: directory + "/generation_config.json",
                             text: "{\n  \"bos_token_id\": \(config.bosTokenId),\n  \"eos_token_id\": \(config.eosTokenId)\n}\n")
        let converted = weights.namedParameters.map { (name: $0.name, tensor: convert($0.tensor, to: dtype)) }
        var shards: [[(name: String, tensor: Tensor)]] = [[]]
        var shardBytes = 0
        for item in converted {
            if shardBytes > 0 && shardBytes + item.tensor.byteCount > maximumShardBytes {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(item)
            shardBytes += item.tensor.byteCount
        }
        let metadata = ["format": "pt"]
        if shards.count == 1 {
            try SafetensorsWriter.write(path: directory + "/model.safetensors", tensors: converted, metadata: metadata)
            try? FileManager.default.removeItem(atPath: directory + "/model.safetensors.index.json")
            return
        }
        var weightMap: [String] = []
        let total = converted.reduce(0) { $0 + $1.tensor.byteCount }
        for (index, shard) in shards.enumerated() {
            let name = String(format: "model-%05d-of-%05d.safetensors", index + 1, shards.count)
            try SafetensorsWriter.write(path: directory + "/" + name, tensors: shard, metadata: metadata)
            weightMap += shard.map { "    \(SafetensorsWriter.jsonString($0.name)): \"\(name)\"" }
        }
        let index = "{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n"
            + weightMap.sorted().joined(separator: ",\n") + "\n  }\n}\n"
        try AtomicFile.write(path: directory + "/model.safetensors.index.json", text: index)
        try? FileManager.default.removeItem(atPath: directory + "/model.safetensors")
    }

    /// `tensor` in `dtype` (the same object when it already is).
    static func convert(_ tensor: Tensor, to dtype: DType) -> Tensor {
        if tensor.dtype == dtype { return tensor }
        let source = tensor.dtype == .f32 ? tensor : tensor.float32Copy()
        let result = Tensor(zeros: tensor.shape, dtype: dtype)
        let destination = result.rawPointer.assumingMemoryBound(to: UInt16.self)
        switch dtype {
        case .f16: convertFloatToHalf(source.floats, destination, tensor.count)
        case .bf16: convertFloatToBFloat16(source.floats, destination, tensor.count)
        default: return source
        }
        return result
    }
}
