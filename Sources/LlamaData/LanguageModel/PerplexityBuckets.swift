import Foundation

/// Document perplexity and head / middle / tail buckets as CCNet computes them (Wenzek et al.
/// 2020, "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data", section 3.3;
/// `cc_net/perplexity.py`, `DocLM` and `PerplexityBucket`).
public enum DocumentPerplexity {
    /// Log10 probability and token count (words + `</s>`) of a text, one paragraph per line.
    public struct Score: Sendable, Equatable {
        public var logProbability: Double
        public var tokenCount: Int
        /// `10^(−logProbability / tokenCount)` (CCNet's `pp`).
        public var perplexity: Double { tokenCount == 0 ? 0 : pow10(-logProbability / Double(tokenCount)) }
    }

    /// The score of each paragraph (line) of `text`: `model.score(line)` with `<s>` and `</s>`,
    /// over `len(line.split()) + 1` tokens.
    public static func paragraphScores(_ text: String, model: NGramModel) -> [Score] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let (logProbability, words) = model.scoreAndWordCount(line)
            return Score(logProbability: logProbability, tokenCount: words + 1)
        }
    }

    /// The score of a whole document: the sums over its paragraphs.
    public static func documentScore(_ text: String, model: NGramModel) -> Score {
        paragraphScores(text, model: model).reduce(Score(logProbability: 0, tokenCount: 0)) {
            Score(logProbability: $0.logProbability + $1.logProbability, tokenCount: $0.tokenCount + $1.tokenCount)
        }
    }

    /// CCNet rounds the document perplexity to one decimal before bucketing.
    public static func rounded(_ perplexity: Double) -> Double { (perplexity * 10).rounded() / 10 }
}

/// The three quality buckets of CCNet: perplexity below the head cutoff, below the tail cutoff,
/// or above.
public enum PerplexityBucket: String, Sendable, CaseIterable {
    case head, middle, tail

    /// CCNet's percentiles for the cutoffs.
    public static let headPercentile = 30.0
    public static let tailPercentile = 60.0

    /// The cutoffs (head, tail) as the 30th and 60th percentiles of a sample of perplexities.
    public static func cutoffs(sample: [Double]) -> (head: Double, tail: Double) {
        let sorted = sample.sorted()
        return (percentile(sorted, headPercentile), percentile(sorted, tailPercentile))
    }

    /// The bucket of `perplexity`: head if below `head`, middle if below `tail`, else tail
    /// (`PerplexityBucket.get_bucket`).
    public static func bucket(perplexity: Double, cutoffs: (head: Double, tail: Double)) -> PerplexityBucket {
        if perplexity < cutoffs.head { return .head }
        if perplexity < cutoffs.tail { return .middle }
        return .tail
    }

    /// The `percent`-th percentile of sorted values with linear interpolation between closest
    /// ranks (numpy's default `percentile` method); 0 for no values.
    public static func percentile(_ sorted: [Double], _ percent: Double) -> Double {
        guard let first = sorted.first else { return 0 }
        let rank = percent / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return lower >= sorted.count - 1 ? (sorted.last ?? first)
            : sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
