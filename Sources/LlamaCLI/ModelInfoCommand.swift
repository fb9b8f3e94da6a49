import ArgumentParser
import Foundation
import LlamaModel

/// `llama model-info`: parameter count and memory estimates of a configuration.
struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-info", abstract: "Parameter count and memory estimate of a model configuration.")

    @Option(help: "Preset: 7B, 13B, 33B, 65B, 15M or 110M.") var preset: String?
    @Option(help: "Hugging Face checkpoint folder (its config.json).") var model: String?
    @Option(help: "Context length for the KV-cache estimate.") var context: Int?

    func run() throws {
        let config: LlamaConfiguration
        if let model {
            config = try LlamaConfiguration(huggingFaceConfigAt: model + "/config.json")
        } else if let preset {
            guard let found = LlamaConfiguration.presets[preset.uppercased()] else {
                throw ValidationError("unknown preset '\(preset)'; choose one of \(LlamaConfiguration.presets.keys.sorted())")
            }
            config = found
        } else {
            throw ValidationError("give --preset or --model")
        }
        let length = context ?? config.maxPositionEmbeddings
        func gib(_ bytes: Int) -> String { String(format: "%.2f GiB", Double(bytes) / Double(1 << 30)) }
        print("""
        dim \(config.hiddenSize), layers \(config.layerCount), heads \(config.headCount) (kv \(config.keyValueHeadCount)), \
        head dim \(config.headDimension), ffn hidden \(config.intermediateSize), vocab \(config.vocabularySize), context \(config.maxPositionEmbeddings)
        parameters: \(config.parameterCount) (\(String(format: "%.2fB", Double(config.parameterCount) / 1e9)))
        weights: F32 \(gib(config.parameterCount * 4)), F16/BF16 \(gib(config.parameterCount * 2))
        KV cache (\(length) positions): F16 \(gib(config.keyValueCacheBytes(context: length, bytesPerValue: 2))), F32 \(gib(config.keyValueCacheBytes(context: length)))
        inference memory (F16 weights, \(length) positions): \(gib(config.inferenceMemoryBytes(bytesPerParameter: 2, context: length)))
        training memory (F32 AdamW, one sequence of \(length)): \(gib(config.trainingMemoryBytes(tokensPerMicroBatch: length)))
        """)
    }
}
