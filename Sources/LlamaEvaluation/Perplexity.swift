import Foundation
import LlamaModel

/// Perplexity of a model on a stream of token ids (held-out token shards, a `.bin` file).
public struct PerplexityResult: Codable, Sendable, Equatable {
    public var source: String
    /// Tokens whose probability was scored.
    public var tokens: Int
    /// Σ −log p(token | preceding tokens of its window), in nats.
    public var negativeLogLikelihood: Double
    public var nllPerToken: Double { tokens > 0 ? negativeLogLikelihood / Double(tokens) : 0 }
    /// exp(mean negative log-likelihood per token).
    public var perplexity: Double { exp(nllPerToken) }

    enum CodingKeys: String, CodingKey { case source, tokens, negativeLogLikelihood, nllPerToken, perplexity }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(negativeLogLikelihood, forKey: .negativeLogLikelihood)
        try container.encode(nllPerToken, forKey: .nllPerToken)
        try container.encode(perplexity, forKey: .perplexity)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(String.self, forKey: .source)
        tokens = try container.decode(Int.self, forKey: .tokens)
        negativeLogLikelihood = try container.decode(Double.self, forKey: .negativeLogLikelihood)
    }

    public init(source: String, tokens: Int, negativeLogLikelihood: Double) {
        self.source = source
        self.tokens = tokens
        self.negativeLogLikelihood = negativeLogLikelihood
    }
}

/// Sliding-window perplexity, as Hugging Face's perplexity guide computes it: windows of
/// `context` tokens starting every `stride` tokens; each window is run from an empty
/// cache and scores only the tokens the previous window did not. The default stride,
/// context − 1, makes consecutive windows share one token, so every token but the
/// stream's first is scored exactly once (lm-evaluation-harness's rolling windows).
public enum Perplexity {
    /// Scores ids `0 ..< count` of a stream read through `tokens(start, length)`, stopping
    /// once `maxTokens` tokens are scored (nil: all). `progress(scored)` after each window.
    public static func evaluate(session: InferenceSession, source: String, count: Int, context: Int, stride: Int? = nil,
                                maxTokens: Int? = nil, tokens: (Int, Int) -> [Int32],
                                progress: ((Int) -> Void)? = nil) throws -> PerplexityResult {
        let window = min(context, session.context)
        let step = max(1, min(stride ?? window - 1, window - 1))
        guard window >= 2 else { throw EvaluationError.modelFailure(reason: "perplexity needs windows of at least 2 tokens") }
        var result = PerplexityResult(source: source, tokens: 0, negativeLogLikelihood: 0)
        var begin = 0
        var scoredEnd = 1  // positions below this are scored already (position 0 has no context)
        while scoredEnd < count {
            let end = min(begin + window, count)
            let ids = tokens(begin, end - begin)
            guard ids.count >= 2 else { break }
            let firstTarget = max(scoredEnd, begin + 1)
            var budget = maxTokens.map { $0 - result.tokens } ?? Int.max
            session.reset()
            do {
                // Row r holds the logits predicting position begin + r + 1.
                _ = try session.forward(Array(ids.dropLast())) { row, logits in
                    let position = begin + row + 1
                    guard position >= firstTarget, budget > 0 else { return }
                    result.negativeLogLikelihood -= SessionScorer.logSoftmax(logits, at: Int(ids[row + 1]))
                    result.tokens += 1
                    budget -= 1
                }
            } catch { throw EvaluationError.modelFailure(reason: "\(error)") }
            progress?(result.tokens)
            if budget <= 0 || end == count { break }
            scoredEnd = end
            begin += step
        }
        return result
    }
}
