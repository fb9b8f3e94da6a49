import ArgumentParser
import Foundation
import LlamaCore
import LlamaModel

/// `llama convert`: Hugging Face folders ↔ GGUF files, in any supported weight type.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between Hugging Face checkpoint folders and GGUF files.",
        discussion: """
        An output ending in .gguf is written as GGUF (llama.cpp's names, metadata and q/k row order); \
        any other output is a Hugging Face folder (config.json + safetensors).
        """)

    @Option(help: "Input: a Hugging Face folder or a .gguf file.") var input: String
    @Option(help: "Output: a .gguf file or a folder.") var output: String
    @Option(help: "Weight type: f32, f16, bf16, q8_0 or q4_0 (GGUF only for the last two).") var type: String = "f32"
    @Option(help: "SentencePiece tokenizer.model to embed in a GGUF (default: the input folder's).") var tokenizer: String?

    func run() throws {
        try convert(input: input, output: output, typeName: type, tokenizerPath: tokenizer)
    }
}

/// `llama quantize`: a model to a Q8_0 or Q4_0 GGUF file.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Quantize a model to a Q8_0 or Q4_0 GGUF file (llama.cpp's block layouts).")

    @Option(help: "Input: a Hugging Face folder or a .gguf file.") var input: String
    @Option(help: "Output .gguf file.") var output: String
    @Option(help: "q8_0 or q4_0.") var type: String = "q8_0"
    @Option(help: "SentencePiece tokenizer.model to embed (default: the input folder's).") var tokenizer: String?

    func run() throws {
        guard ["q8_0", "q4_0"].contains(type.lowercased()) else { throw ValidationError("--type must be q8_0 or q4_0") }
        guard output.hasSuffix(".gguf") else { throw ValidationError("--output must be a .gguf file") }
        try convert(input: input, output: output, typeName: type, tokenizerPath: tokenizer)
    }
}

/// Converts `input` to `output` with weights of type `typeName`.
private func convert(input: String, output: String, typeName: String, tokenizerPath: String?) throws {
    guard let dtype = DType(rawValue: typeName.uppercased()), [.f32, .f16, .bf16, .q8_0, .q4_0].contains(dtype) else {
        throw ValidationError("unknown --type '\(typeName)'; use f32, f16, bf16, q8_0 or q4_0")
    }
    let model = try OpenedModel.open(input)
    if output.hasSuffix(".gguf") {
        var vocabulary = model.vocabulary
        let candidate = tokenizerPath ?? (input.hasSuffix(".gguf") ? nil : input + "/tokenizer.model")
        if let candidate, FileManager.default.fileExists(atPath: candidate) {
            vocabulary = try ggufVocabulary(fromSentencePiece: candidate)
            vocabulary?.chatTemplate = try chatTemplateText(model: input)
        }
        let name = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
        try GGUFModel.save(model.weights, path: output, dtype: dtype, name: name, vocabulary: vocabulary)
    } else {
        guard !dtype.isQuantized else { throw ValidationError("Hugging Face folders hold f32, f16 or bf16 weights") }
        try Checkpoint.save(GGUFModel.huggingFaceWeights(model.weights), directory: output, dtype: dtype)
    }
    FileHandle.standardError.write(Data("wrote \(output) (\(dtype.rawValue))\n".utf8))
}
