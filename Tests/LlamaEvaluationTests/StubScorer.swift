import Foundation
@testable import LlamaEvaluation

/// A language model whose log-likelihoods and generations the test chooses.
final class StubScorer: LanguageModelScorer {
    /// "context|continuation" → (log-likelihood, token count). Unknown pairs fail the call.
    var likelihoods: [String: (Double, Int)] = [:]
    /// Prompt suffix → generations, one per call in turn (the last repeats).
    var generations: [(suffix: String, outputs: [String])] = []
    private var calls: [String: Int] = [:]
    /// Every request seen, in order.
    var requests: [Choice] = []
    var prompts: [String] = []

    struct Unknown: Error, CustomStringConvertible { let description: String }

    func set(_ context: String, _ continuation: String, _ value: Double, tokens: Int = 1) {
        likelihoods[context + "|" + continuation] = (value, tokens)
    }

    func score(_ requests: [Choice]) throws -> [ContinuationScore] {
        self.requests += requests
        return try requests.map { request in
            guard let (value, tokens) = likelihoods[request.context + "|" + request.continuation] else {
                throw Unknown(description: "no likelihood for \(request.context.debugDescription) | \(request.continuation.debugDescription)")
            }
            return ContinuationScore(logLikelihood: value, tokenCount: tokens)
        }
    }

    func generate(prompt: String, maxTokens: Int, stop: [String], temperature: Float, seed: UInt64) throws -> String {
        prompts.append(prompt)
        guard let entry = generations.first(where: { prompt.hasSuffix($0.suffix) }) else {
            throw Unknown(description: "no generation for prompt ending \(prompt.suffix(40).debugDescription)")
        }
        let count = calls[entry.suffix, default: 0]
        calls[entry.suffix] = count + 1
        return Self.truncate(entry.outputs[min(count, entry.outputs.count - 1)], at: stop)
    }
}

enum EvalFixtures {
    static let repository: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()
    static let directory = repository + "/Tests/Fixtures/eval"
    static let tinyLlama = repository + "/Tests/Fixtures/tiny-llama"
    static func path(_ name: String) -> String { directory + "/" + name }
}
