import ArgumentParser
import Foundation
import LlamaEvaluation
import LlamaModel

/// `llama eval bench`: multiple-choice scoring speed with and without KV-cache reuse.
struct EvalBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Choices scored per second on a random model, with and without reusing the context's KV cache.")

    @Option(name: .long, help: "Model preset (\(LlamaConfiguration.presets.keys.sorted().joined(separator: ", "))).")
    var preset: String = "110M"

    @Option(name: .long, help: "Questions to score.")
    var questions: Int = 8

    @Option(name: .long, help: "Options per question.")
    var choices: Int = 4

    @Option(name: .long, help: "Context tokens per question.")
    var contextTokens: Int = 128

    @Option(name: .long, help: "Tokens per option.")
    var choiceTokens: Int = 12

    func run() throws {
        guard let configuration = LlamaConfiguration.presets[preset] else {
            throw ValidationError("unknown preset \(preset); have \(LlamaConfiguration.presets.keys.sorted().joined(separator: ", "))")
        }
        let weights = LlamaWeights.random(configuration: configuration, seed: 1)
        let session = InferenceSession(weights: weights, context: contextTokens + choiceTokens + 1)
        let scorer = SessionScorer(session: session, tokenizer: nil)
        var generator = SeededNumbers(seed: 7)
        let vocabulary = configuration.vocabularySize
        let batches: [[(context: [Int32], continuation: [Int32])]] = (0..<questions).map { _ in
            let context = [configuration.bosTokenId] + (0..<contextTokens).map { _ in Int32(generator.next(below: vocabulary)) }
            return (0..<choices).map { _ in (context, (0..<choiceTokens).map { _ in Int32(generator.next(below: vocabulary)) }) }
        }
        print("model \(preset) (\(configuration.parameterCount / 1_000_000)M parameters), \(questions) questions × \(choices) options, context \(contextTokens) tokens, options \(choiceTokens) tokens")
        for reuse in [true, false] {
            scorer.reusesPrefix = reuse
            _ = try scorer.scoreTokens(batches[0])  // warm-up
            let start = Date()
            for batch in batches { _ = try scorer.scoreTokens(batch) }
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "%@ KV reuse: %.2f choices/s (%.2f s)", reuse ? "with   " : "without", Double(questions * choices) / seconds, seconds))
        }
    }
}

/// A small seeded generator (SplitMix64) for the benchmark's random token ids.
private struct SeededNumbers {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
