/// A text classifier as the CCNet pipeline uses one: fastText's `predict` (the `k` most
/// probable labels with probability at least `threshold`, most probable first; labels as the
/// model names them, e.g. `__label__en`). Language identification (lid.176) and the
/// Wikipedia-reference quality classifier are both this shape; implementations must be
/// safe to call from several threads at once.
public protocol DocumentClassifier: Sendable {
    func predict(_ text: String, k: Int, threshold: Float) -> [(label: String, probability: Float)]
}

/// Language identification as `cc_net/split_by_lang.py` `Classifier` does it: newlines
/// removed from the text, the top label without its `__label__` prefix, its probability
/// rounded to 2 decimals; a document below `threshold` (after rounding) is dropped.
public struct LanguageIdentification: Sendable {
    public let classifier: DocumentClassifier
    /// CCNet's `lang_threshold`, 0.5.
    public let threshold: Double

    public init(classifier: DocumentClassifier, threshold: Double = 0.5) {
        self.classifier = classifier
        self.threshold = threshold
    }

    /// The language and its rounded score, or nil when the classifier gives no label or the
    /// score is below the threshold.
    public func identify(_ text: String) -> (language: String, score: Double)? {
        let flat = text.replacingNewlines(with: "")
        guard let top = classifier.predict(flat, k: 1, threshold: 0).first else { return nil }
        let score = (Double(top.probability) * 100).rounded() / 100
        guard score >= threshold else { return nil }
        let label = top.label.hasPrefix("__label__") ? String(top.label.dropFirst(9)) : top.label
        return (label, score)
    }
}

/// The quality score of the paper's Wikipedia-reference classifier: the probability the
/// classifier gives `label` (newlines replaced by spaces, as fastText reads one line).
public struct QualityScoring: Sendable {
    public let classifier: DocumentClassifier
    /// The label of the "like pages Wikipedia cites" class.
    public let label: String
    /// Documents scoring below it are dropped; nil keeps every document (the score is still written).
    public let threshold: Double?

    public init(classifier: DocumentClassifier, label: String = "__label__wiki", threshold: Double? = nil) {
        self.classifier = classifier
        self.label = label
        self.threshold = threshold
    }

    /// Probability of `label` (0 when the classifier does not list it).
    public func score(_ text: String) -> Double {
        let predictions = classifier.predict(text.replacingNewlines(with: " "), k: 16, threshold: 0)
        return Double(predictions.first { $0.label == label }?.probability ?? 0)
    }
}

/// Every document gets one language with probability 1: for monolingual input (say C4's
/// English pages) run without a language-id model.
public struct FixedLanguage: DocumentClassifier {
    public let label: String
    public init(_ language: String) { label = "__label__" + language }
    public func predict(_ text: String, k: Int, threshold: Float) -> [(label: String, probability: Float)] {
        [(label, 1)]
    }
}

extension String {
    /// The text with every `\n` replaced.
    func replacingNewlines(with replacement: String) -> String {
        guard utf8.contains(0x0A) else { return self }
        return CCNetDocument.lines(self).joined(separator: replacement)
    }
}

/// fastText models (lid.176, the quality classifier) are what CCNet classifies with.
extension FastTextModel: DocumentClassifier {}
