import ArgumentParser
import Foundation
import LlamaGeneration
import LlamaModel
import LlamaTokenizer

/// Options shared by the commands that sample text.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Softmax temperature; 0 is greedy.") var temperature: Float = 0.8
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).") var topK: Int = 40
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1: all).") var topP: Float = 0.95
    @Option(name: .customLong("repetition-penalty"), help: "CTRL repetition penalty (1: none).") var repetitionPenalty: Float = 1.0
    @Option(help: "Seed of the sampler.") var seed: UInt64 = 0
    @Flag(help: "Greedy decoding (same as --temperature 0).") var greedy = false

    var parameters: SamplingParameters {
        SamplingParameters(temperature: greedy ? 0 : temperature, topK: topK, topP: topP,
                           repetitionPenalty: repetitionPenalty, seed: seed)
    }

    func validate() throws {
        guard temperature >= 0 else { throw ValidationError("--temperature must be ≥ 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard repetitionPenalty > 0 else { throw ValidationError("--repetition-penalty must be > 0") }
    }
}

extension KVCacheType: ExpressibleByArgument {}

/// The `--cache-type` option of the commands that decode (llama.cpp's `--cache-type-k/-v`).
struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-type"),
            help: "How the KV cache stores keys and values: f16 (half the memory and cache reads; llama.cpp's default) or f32.")
    var cacheType: KVCacheType = .f16
}

/// `llama generate`: text (or ids) from a checkpoint, streamed as it is produced.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate a continuation of a prompt with a KV cache.")

    @Option(help: "Hugging Face checkpoint folder or .gguf file.") var model: String
    @Option(help: "Prompt text (tokenized with the model's tokenizer.model, BOS first).") var prompt: String?
    @Option(name: .customLong("prompt-ids"), help: "Prompt as comma-separated token ids; output is ids too.") var promptIds: String?
    @Option(help: "SentencePiece tokenizer.model (default: the model folder's).") var tokenizer: String?
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens: Int = 128
    @Flag(name: .customLong("ignore-eos"), help: "Do not stop at the end-of-sequence token.") var ignoreEOS = false
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var cache: CacheOptions

    func run() throws {
        let loaded = try OpenedModel.open(model)
        var textTokenizer: SentencePieceTokenizer?
        let promptTokens: [Int32]
        if let promptIds {
            promptTokens = try parseIds(promptIds, option: "--prompt-ids")
        } else if let prompt {
            let opened = try openTokenizer(model: model, explicit: tokenizer)
            textTokenizer = opened
            promptTokens = opened.encode(prompt, addBOS: true)
        } else {
            throw ValidationError("give --prompt or --prompt-ids")
        }
        let session = InferenceSession(weights: loaded.weights,
                                       context: min(loaded.configuration.maxPositionEmbeddings, promptTokens.count + maxTokens),
                                       cacheType: cache.cacheType)
        var decoder = textTokenizer.map { StreamingDecoder(tokenizer: $0, continuing: !(prompt ?? "").isEmpty) }
        if let prompt, decoder != nil { print(prompt, terminator: "") }
        var first = true
        let result = try Generator.generate(session: session, prompt: promptTokens, maxTokens: maxTokens,
                                            sampling: sampling.parameters, stopAtEOS: !ignoreEOS) { token in
            if decoder != nil {
                if token != loaded.configuration.eosTokenId, let text = decoder?.append(token) { print(text, terminator: "") }
            } else {
                print(first ? "\(token)" : ",\(token)", terminator: "")
            }
            first = false
            fflush(stdout)
            return true
        }
        if let rest = decoder?.finish() { print(rest, terminator: "") }
        print("")
        fflush(stdout)
        reportSpeed(result)
    }
}

/// Prints prompt and generation speed to stderr.
func reportSpeed(_ result: GenerationResult) {
    let line = String(format: "prompt: %d tokens, %.1f tokens/s; generated: %d tokens, %.1f tokens/s\n",
                      result.promptTokenCount, result.prefillTokensPerSecond, result.tokens.count, result.decodeTokensPerSecond)
    FileHandle.standardError.write(Data(line.utf8))
}
