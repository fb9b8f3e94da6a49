import ArgumentParser
import Foundation
import LlamaCore
import LlamaModel
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
            break
        }
        print("exported \(folder) to \(output) (\(type.rawValue), \(loaded.configuration.parameterCount) parameters)")
    }
}
