import Foundation

/// The ways of turning the options' log-likelihoods into a choice (the LLaMA paper, §3).
public enum ChoiceNormalization: String, Codable, Sendable, CaseIterable {
    /// Highest log-likelihood.
    case none = "raw"
    /// Highest log-likelihood divided by the number of characters of the option
    /// (Gao et al., 2021, lm-evaluation-harness `acc_norm`).
    case perCharacter = "char"
    /// Highest log-likelihood divided by the number of tokens of the option.
    case perToken = "token"
    /// Highest log p(option | context) − log p(option | "Answer:") (Brown et al., 2020, §2.4),
    /// used for OpenBookQA and BoolQ.
    case unconditional = "unconditional"
}

/// Multiple-choice decisions and free-form answer checks.
public enum Metrics {
    /// Index of the best option under `normalization`. Ties go to the lowest index.
    /// `unconditional` holds log p(option | "Answer:") and is needed only for that rule.
    public static func choose(_ scores: [ContinuationScore], options: [String], normalization: ChoiceNormalization,
                              unconditional: [ContinuationScore]? = nil) -> Int {
        var best = 0
        var bestValue = -Double.infinity
        for (index, score) in scores.enumerated() {
            let value: Double
            switch normalization {
            case .none: value = score.logLikelihood
            case .perCharacter: value = score.logLikelihood / Double(max(1, options[index].count))
            case .perToken: value = score.logLikelihood / Double(max(1, score.tokenCount))
            case .unconditional: value = score.logLikelihood - (unconditional?[index].logLikelihood ?? 0)
            }
            if value > bestValue { best = index; bestValue = value }
        }
        return best
    }

    /// TruthfulQA MC2 (Lin et al., 2021): the share of probability the model gives the
    /// true answers among all answers, Σ_true p_i / Σ_all p_i with p_i = exp(log-likelihood
    /// of option i), unnormalised by length as in the TruthfulQA release.
    public static func trueProbabilityMass(_ scores: [ContinuationScore], trueChoices: [Int]) -> Double {
        let maximum = scores.map(\.logLikelihood).max() ?? 0
        let weights = scores.map { exp($0.logLikelihood - maximum) }
        let total = weights.reduce(0, +)
        let truthful = trueChoices.filter(weights.indices.contains).reduce(0) { $0 + weights[$1] }
        return total > 0 ? truthful / total : 0
    }

    /// The standard answer normalisation of SQuAD/TriviaQA evaluation scripts: lower
    /// case, punctuation removed, the articles a/an/the removed, whitespace collapsed.
    public static func normalizeAnswer(_ text: String) -> String {
        let lower = text.lowercased()
        let noPunctuation = String(lower.unicodeScalars.filter { !CharacterSet.punctuationCharacters.contains($0)
            && !CharacterSet.symbols.contains($0) }.map(Character.init))
        let words = noPunctuation.split(whereSeparator: { $0.isWhitespace }).filter { !["a", "an", "the"].contains($0) }
        return words.joined(separator: " ")
    }

    /// Exact match of a prediction against any accepted answer, after normalisation.
    public static func exactMatch(_ prediction: String, answers: [String]) -> Bool {
        let normalized = normalizeAnswer(prediction)
        return answers.contains { normalizeAnswer($0) == normalized }
    }

    /// The first line of a free-form answer (NaturalQuestions/TriviaQA generations stop there).
    public static func firstLine(_ text: String) -> String {
        String(text.trimmingCharacters(in: .whitespaces).split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }

    /// The answer of a GSM8K solution: the text after "####", else the last number.
    public static func extractGSM8KAnswer(_ text: String) -> String? {
        if let range = text.range(of: "####") {
            let rest = text[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
            let line = rest.split(separator: "\n").first.map(String.init) ?? rest
            return canonicalNumber(line)
        }
        let pattern = try? NSRegularExpression(pattern: "-?[0-9][0-9,]*(\\.[0-9]+)?")
        let matches = pattern?.matches(in: text, range: NSRange(text.startIndex..., in: text)) ?? []
        guard let last = matches.last, let range = Range(last.range, in: text) else { return nil }
        return canonicalNumber(String(text[range]))
    }

    /// A number written without thousands separators, "$" or a trailing ".0"/".".
    public static func canonicalNumber(_ text: String) -> String {
        var value = text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "$", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        while value.hasSuffix(".") { value.removeLast() }
        if value.contains("."), !value.contains(where: { $0.isLetter }) {
            while value.hasSuffix("0") { value.removeLast() }
            if value.hasSuffix(".") { value.removeLast() }
        }
        return value
    }

    /// The answer of a MATH solution: the contents of the last `\boxed{…}` (balanced
    /// braces), as in Hendrycks et al. (2021)'s `last_boxed_only_string`; spaces removed.
    public static func extractBoxedAnswer(_ text: String) -> String? {
        guard let range = text.range(of: "\\boxed", options: .backwards) else { return nil }
        var index = range.upperBound
        while index < text.endIndex && text[index] == " " { index = text.index(after: index) }
        guard index < text.endIndex, text[index] == "{" else {
            // "\boxed 5" form.
            let rest = text[index...].split(separator: "$").first.map(String.init) ?? ""
            return rest.isEmpty ? nil : rest.replacingOccurrences(of: " ", with: "")
        }
        var depth = 0
        var content = ""
        for character in text[index...] {
            if character == "{" { depth += 1; if depth == 1 { continue } }
            if character == "}" { depth -= 1; if depth == 0 { break } }
            content.append(character)
        }
        return depth == 0 ? content.replacingOccurrences(of: " ", with: "") : nil
    }

    /// The most frequent answer (maj1@k, Lewkowycz et al., 2022); nil answers do not
    /// vote. Ties go to the answer that appeared first.
    public static func majorityVote(_ answers: [String?]) -> String? {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for case let answer? in answers {
            if counts[answer] == nil { order.append(answer) }
            counts[answer, default: 0] += 1
        }
        var best: String?
        var bestCount = 0
        for answer in order where counts[answer, default: 0] > bestCount {
            best = answer
            bestCount = counts[answer, default: 0]
        }
        return best
    }

    /// The unbiased pass@k estimator of Chen et al. (2021), eq. 1: with n samples of
    /// which c pass, 1 − C(n−c, k) / C(n, k), computed as the stable product
    /// 1 − Π_{i=n−c+1}^{n} (1 − k / i) from the paper's numpy listing.
    public static func passAtK(samples n: Int, correct c: Int, k: Int) -> Double {
        precondition(k >= 1 && k <= n && c >= 0 && c <= n, "pass@k needs 1 ≤ k ≤ n and 0 ≤ c ≤ n")
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)...max(n - c + 1, n) where i <= n { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }
}
