import ArgumentParser
import Foundation
import LlamaCore
import LlamaModel
import LlamaTokenizer
import LlamaTraining

/// `llama export`: writes a training checkpoint's parameters as a Hugging Face folder
/// (config.json + safetensors) that the inference core, transformers and llama.cpp's
/// convert_hf_to_gguf.py load.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a training checkpoint as a Hugging Face model folder.")

    @Option(help: "A checkpoint folder (step-NNNNNNNN) or a run's --output folder (its newest checkpoint).") var checkpoint: String
    @Option(help: "Destination folder.") var output: String
    @Option(help: "Element type: f32, f16 or bf16.") var dtype = "f32"

    func run() throws {
        var folder = checkpoint
        if !FileManager.default.fileExists(atPath: folder + "/config.json"),
           let latest = TrainingCheckpoint.checkpoints(in: checkpoint + "/checkpoints").last {
            folder = latest
        }
        guard let type = ["f32": DType.f32, "f16": .f16, "bf16": .bf16][dtype.lowercased()] else {
            throw ValidationError("--dtype must be f32, f16 or bf16")
        }
        let loaded = try Checkpoint.load(directory: folder)
        try Checkpoint.save(loaded.weights, directory: output, dtype: type)
        // The run's tokenizer travels with the model, as in a Hugging Face folder.
        for candidate in [folder + "/tokenizer.model", checkpoint + "/tokenizer.model",
                          (checkpoint as NSString).deletingLastPathComponent + "/../tokenizer.model"]
        where FileManager.default.fileExists(atPath: candidate) {
            let data = try Data(contentsOf: URL(fileURLWithPath: candidate))
            try AtomicFile.write(path: output + "/tokenizer.model", data: data)
            try Self.writeTokenizerConfiguration(model: candidate, output: output,
                                                 maximumLength: loaded.configuration.maxPositionEmbeddings)
            break
        }
        print("exported \(folder) to \(output) (\(type.rawValue), \(loaded.configuration.parameterCount) parameters)")
    }

    /// `tokenizer_config.json` and `special_tokens_map.json` beside `tokenizer.model`, as Meta's
    /// Hugging Face LLaMA folders have them, so that transformers' `AutoTokenizer` makes a
    /// `LlamaTokenizer` that adds BOS (without them it picks a generic tokenizer without BOS).
    static func writeTokenizerConfiguration(model path: String, output: String, maximumLength: Int) throws {
        let tokenizer = try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: path))
        var special: [String: String] = ["unk_token": tokenizer.piece(for: tokenizer.unkId)]
        if let bos = tokenizer.bosId { special["bos_token"] = tokenizer.piece(for: bos) }
        if let eos = tokenizer.eosId { special["eos_token"] = tokenizer.piece(for: eos) }
        var configuration: [String: Any] = special
        configuration["tokenizer_class"] = "LlamaTokenizer"
        configuration["add_bos_token"] = tokenizer.bosId != nil
        configuration["add_eos_token"] = false
        configuration["legacy"] = true
        configuration["model_max_length"] = maximumLength
        configuration["clean_up_tokenization_spaces"] = false
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(path: output + "/tokenizer_config.json",
                             data: try JSONSerialization.data(withJSONObject: configuration, options: options))
        try AtomicFile.write(path: output + "/special_tokens_map.json",
                             data: try JSONSerialization.data(withJSONObject: special, options: options))
    }
}
