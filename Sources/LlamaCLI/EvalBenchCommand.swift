import ArgumentParser
import Foundation
import LlamaCore
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
        let context = contextTokens + choiceTokens + 1
        var generator = SeededGenerator(seed: 7)
        let vocabulary = configuration.vocabularySize
        let batches: [[(context: [Int32], continuation: [Int32])]] = (0..<questions).map { _ in
            let context = [configuration.bosTokenId] + (0..<contextTokens).map { _ in Int32(generator.nextInt(below: vocabulary)) }
            return (0..<choices).map { _ in (context, (0..<choiceTokens).map { _ in Int32(generator.nextInt(below: vocabulary)) }) }
        }
        print("model \(preset) (\(configuration.parameterCount / 1_000_000)M parameters), \(questions) questions × \(choices) options, context \(contextTokens) tokens, options \(choiceTokens) tokens")
        let modes: [(name: String, slots: Int, reuse: Bool)] = [
            ("KV reuse, options side by side", choices, true), ("KV reuse, options in turn", 1, true), ("no KV reuse", 1, false)]
        for mode in modes {
            let session = InferenceSession(weights: weights, context: context, slotCount: mode.slots)
            let scorer = SessionScorer(session: session, tokenizer: nil, reusesPrefix: mode.reuse)
            _ = try scorer.scoreTokens(batches[0])  // warm-up
            let start = Date()
            for batch in batches { _ = try scorer.scoreTokens(batch) }
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "%@: %.2f choices/s (%.2f s)", mode.name.padding(toLength: 31, withPad: " ", startingAt: 0),
                         Double(questions * choices) / seconds, seconds))
        }
    }
}
