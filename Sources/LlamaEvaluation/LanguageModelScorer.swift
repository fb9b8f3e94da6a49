/// The log-likelihood of one continuation given its context.
public struct ContinuationScore: Sendable, Equatable {
    /// Sum over the continuation's tokens of log p(token | everything before it), in nats.
    public var logLikelihood: Double
    /// Number of continuation tokens scored.
    public var tokenCount: Int
    /// Whether every continuation token was the model's most likely token (greedy match).
    public var isGreedy: Bool
    public init(logLikelihood: Double, tokenCount: Int, isGreedy: Bool = false) {
        self.logLikelihood = logLikelihood
        self.tokenCount = tokenCount
        self.isGreedy = isGreedy
    }
}

/// What the evaluation needs from a language model: likelihoods of continuations and
/// greedy or sampled generation. `SessionScorer` implements it over `InferenceSession`;
/// tests use a stub whose log-likelihoods they choose.
public protocol LanguageModelScorer: AnyObject {
    /// Scores each `(context, continuation)` pair. The pairs of one call usually share a
    /// context (the options of one question), which an implementation may compute once.
    func score(_ requests: [Choice]) throws -> [ContinuationScore]
    /// Continues `prompt` for at most `maxTokens` tokens and returns the new text, cut at
    /// the first of `stop` (exclusive). Temperature 0 is greedy; otherwise `seed` fixes the draw.
    func generate(prompt: String, maxTokens: Int, stop: [String], temperature: Float, seed: UInt64) throws -> String
}

extension LanguageModelScorer {
    /// Cuts `text` at the earliest occurrence of any stop sequence.
    public static func truncate(_ text: String, at stop: [String]) -> String {
        var end = text.endIndex
        for sequence in stop where !sequence.isEmpty {
            if let range = text.range(of: sequence), range.lowerBound < end { end = range.lowerBound }
        }
        return String(text[..<end])
    }
}
