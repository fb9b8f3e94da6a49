import Foundation
import LlamaCore
import LlamaTokenizer

/// CCNet's per-language language models: `DIR/{lang}.arpa` (5-gram, KenLM's ARPA) with the
/// SentencePiece model its text was tokenised with, `DIR/{lang}.sp.model` (cc_net's
/// `lm_sp/{lang}.arpa.bin` and `{lang}.sp.model`). A document's perplexity is computed as in
/// cc_net's `mine.py`: `MultiSentencePiece(normalize=True)` then `DocLM(normalize=False)` —
/// the whole text normalised by `CCNetNormalizer.normalize` (which removes newlines, so the
/// document is one paragraph), cut into pieces joined by spaces, scored with `<s>`/`</s>`,
/// perplexity `10^(−log10 p / (pieces + 1))` rounded to one decimal.
public struct PerplexityModels: Sendable {
    public struct Model: Sendable {
        public let languageModel: NGramModel
        public let tokenizer: SentencePieceTokenizer
    }

    /// Models by language code.
    public let models: [String: Model]

    public init(models: [String: Model]) { self.models = models }

    /// Loads every `{lang}.arpa` of `directory` with its `{lang}.sp.model` (the language is
    /// the file name before its first dot, as cc_net takes it).
    /// - Throws: `DataError.fileNotFound` for a missing folder or `.sp.model`, the ARPA and
    ///   tokenizer readers' errors for damaged files.
    public static func load(directory: String) throws -> PerplexityModels {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw DataError.fileNotFound(path: directory)
        }
        var models: [String: Model] = [:]
        for name in names.sorted() where name.hasSuffix(".arpa") {
            let language = String(name.prefix { $0 != "." })
            let tokenizerPath = directory + "/" + language + ".sp.model"
            guard FileManager.default.fileExists(atPath: tokenizerPath) else { throw DataError.fileNotFound(path: tokenizerPath) }
            models[language] = Model(languageModel: try ARPAFormat.read(path: directory + "/" + name),
                                     tokenizer: try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: tokenizerPath)))
        }
        guard !models.isEmpty else {
            throw DataError.invalidConfiguration(path: directory, reason: "no {lang}.arpa language models")
        }
        return PerplexityModels(models: models)
    }

    /// The text the language model scores: normalised, SentencePiece pieces joined by spaces.
    public static func tokenized(_ text: String, tokenizer: SentencePieceTokenizer) -> String {
        tokenizer.encodeAsPieces(CCNetNormalizer.normalize(text)).joined(separator: " ")
    }

    /// The rounded perplexity of `text` in `language`, or nil without a model for it.
    public func perplexity(_ text: String, language: String) -> Double? {
        guard let model = models[language] else { return nil }
        let score = DocumentPerplexity.documentScore(Self.tokenized(text, tokenizer: model.tokenizer), model: model.languageModel)
        return DocumentPerplexity.rounded(score.perplexity)
    }
}

/// Per-language head/tail cutoffs (CCNet's 30th and 60th percentiles of a sample of document
/// perplexities), saved as `cutoffs.json`:
/// `{"percentiles": [30, 60], "languages": {"en": {"head": 211.3, "tail": 402.7, "sample": 1000}}}`.
public struct PerplexityCutoffs: Codable, Equatable, Sendable {
    public struct Cutoff: Codable, Equatable, Sendable {
        public var head: Double
        public var tail: Double
        /// Documents the percentiles were computed from.
        public var sample: Int
    }

    public var percentiles: [Double] = [PerplexityBucket.headPercentile, PerplexityBucket.tailPercentile]
    public var languages: [String: Cutoff]

    public init(languages: [String: Cutoff]) { self.languages = languages }

    /// Cutoffs from perplexity samples per language.
    public init(samples: [String: [Double]]) {
        languages = samples.compactMapValues { values in
            guard !values.isEmpty else { return nil }
            let cut = PerplexityBucket.cutoffs(sample: values)
            return Cutoff(head: cut.head, tail: cut.tail, sample: values.count)
        }
    }

    /// `head`, `middle` or `tail`; `all` for a language without cutoffs or a document without
    /// perplexity (cc_net's `PerplexityBucket.get_bucket`).
    public func bucket(perplexity: Double?, language: String?) -> String {
        guard let perplexity, perplexity >= 0, let language, let cutoff = languages[language] else { return "all" }
        return PerplexityBucket.bucket(perplexity: perplexity, cutoffs: (cutoff.head, cutoff.tail)).rawValue
    }

    public static func load(path: String) throws -> PerplexityCutoffs {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        do { return try JSONDecoder().decode(PerplexityCutoffs.self, from: data) } catch {
            throw DataError.invalidFile(path: path, reason: "not a cutoffs file: \(error)")
        }
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(path: path, data: try encoder.encode(self))
    }

    /// A sample file (`samples/NAME.json`): perplexities per language.
    public static func loadSample(path: String) throws -> [String: [Double]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        do { return try JSONDecoder().decode([String: [Double]].self, from: data) } catch {
            throw DataError.invalidFile(path: path, reason: "not a perplexity sample: \(error)")
        }
    }

    public static func saveSample(_ sample: [String: [Double]], path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(path: path, data: try encoder.encode(sample))
    }

    /// The union of sample files, values per language in file order.
    public static func mergeSamples(paths: [String]) throws -> [String: [Double]] {
        var merged: [String: [Double]] = [:]
        for path in paths {
            for (language, values) in try loadSample(path: path) { merged[language, default: []] += values }
        }
        return merged
    }
}
