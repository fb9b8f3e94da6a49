import ArgumentParser
import Foundation
import LlamaCore
import LlamaEvaluation
import LlamaModel
import LlamaTraining

/// `llama eval perplexity`: perplexity on held-out token shards (docs/token-shards.md).
struct EvalPerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a model on token shards or .bin files, per source and over all.")

    @Option(name: .long, help: "Model: a Hugging Face checkpoint folder or a .gguf file.")
    var model: String

    @Option(name: .long, help: "Token shards: a folder with manifest.json, a manifest, or a .bin file (repeatable).")
    var data: [String] = []

    @Option(name: .long, help: "Element type of plain .bin files: uint16 or uint32.")
    var binDtype: String = "uint16"

    @Option(name: .long, help: "Score only the last fraction of each source (the validation part `llama train --validation-fraction` holds out); 0: all of it.")
    var heldOutFraction: Double = 0

    @Option(name: .long, help: "Tokens per window.")
    var context: Int = 512

    @Option(name: .long, help: "Tokens between window starts (default: context − 1, every token scored once).")
    var stride: Int?

    @Option(name: .long, help: "Stop each source after this many scored tokens.")
    var maxTokens: Int?

    @Option(name: .long, help: "Write the results as JSON to this file.")
    var output: String?

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data") }
        guard context >= 2 else { throw ValidationError("--context must be at least 2") }
        guard heldOutFraction >= 0 && heldOutFraction < 1 else { throw ValidationError("--held-out-fraction must be in [0, 1)") }
        if let stride, stride < 1 { throw ValidationError("--stride must be positive") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be positive") }
    }

    func run() throws {
        let opened = try OpenedModel.open(model)
        let session = InferenceSession(weights: opened.weights, context: context, maxChunk: min(context, 512))
        var results: [PerplexityResult] = []
        for path in data {
            let reader = try TokenShardReader(path: path, binDType: binDtype)
            let vocabulary = opened.configuration.vocabularySize
            if reader.manifest.vocabularySize > vocabulary {
                throw ValidationError("\(path): made with a vocabulary of \(reader.manifest.vocabularySize) ids, the model has \(vocabulary)")
            }
            let held = heldOutFraction > 0 ? max(context, Int(Double(reader.count) * heldOutFraction)) : reader.count
            let first = max(0, reader.count - held)
            let count = reader.count - first
            let start = Date()
            let result: PerplexityResult
            do {
                result = try Perplexity.evaluate(
                session: session, source: reader.manifest.source, count: count, context: context, stride: stride,
                maxTokens: maxTokens,
                tokens: { begin, length in reader.tokens(from: first + begin, count: length)},
                progress: { scored in
                    let seconds = Date().timeIntervalSince(start)
                    FileHandle.standardError.write(Data(String(format: "\r%@: %d tokens, %.1f tokens/s", reader.manifest.source, scored,
                                                               Double(scored) / max(seconds, 1e-9)).utf8))
                })
            } catch { throw ValidationError("\(path): \(error)") }
            FileHandle.standardError.write(Data("\n".utf8))
            results.append(result)
            print(String(format: "%@  %d tokens  nll/token %.4f  perplexity %.3f", result.source, result.tokens, result.nllPerToken, result.perplexity))
        }
        let total = PerplexityResult(source: "all", tokens: results.reduce(0) { $0 + $1.tokens },
                                     negativeLogLikelihood: results.reduce(0) { $0 + $1.negativeLogLikelihood })
        if results.count > 1 {
            print(String(format: "all  %d tokens  nll/token %.4f  perplexity %.3f", total.tokens, total.nllPerToken, total.perplexity))
        }
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(path: output, data: try encoder.encode(results + (results.count > 1 ? [total] : [])))
        }
    }
}
