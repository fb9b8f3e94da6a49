import Foundation

/// Language identification of whole documents with a fastText model (such as lid.176), as
/// CCNet does it (cc_net/split_by_lang.py): the document text with newlines replaced by
/// spaces, the top prediction; below the threshold the document gets no language.
public struct LanguageIdentifier: Sendable {
    /// CCNet's default minimum `language_score`.
    public static let defaultThreshold: Float = 0.5

    public let model: FastTextModel
    public let threshold: Float
    /// Prefix removed from labels to give the language code.
    public let labelPrefix: String

    public init(model: FastTextModel, threshold: Float = LanguageIdentifier.defaultThreshold,
                labelPrefix: String = "__label__") {
        self.model = model
        self.threshold = threshold
        self.labelPrefix = labelPrefix
    }

    public init(modelPath: String, threshold: Float = LanguageIdentifier.defaultThreshold) throws {
        self.init(model: try FastTextModel.load(path: modelPath), threshold: threshold)
    }

    /// The language (label without its prefix) and score of `text`, or nil when the best
    /// label's probability is below the threshold.
    public func identify(_ text: String) -> (language: String, score: Float)? {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        guard let best = model.predict(line, k: 1, threshold: threshold).first else { return nil }
        let language = best.label.hasPrefix(labelPrefix) ? String(best.label.dropFirst(labelPrefix.count)) : best.label
        return (language, best.probability)
    }

    /// Adds `language` and `language_score` to a JSON document whose text is in `field`;
    /// returns false (document unchanged) when no language reaches the threshold.
    public func annotate(_ document: inout [String: Any], field: String = "raw_content") -> Bool {
        guard let text = document[field] as? String, let result = identify(text) else { return false }
        document["language"] = result.language
        document["language_score"] = (Double(result.score) * 100).rounded() / 100
        return true
    }
}
