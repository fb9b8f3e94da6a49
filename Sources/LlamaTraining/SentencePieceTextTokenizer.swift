import LlamaCore
import Foundation
import LlamaTokenizer

/// A SentencePiece model as the tokenizer of a training run.
public struct SentencePieceTextTokenizer: TextTokenizer, @unchecked Sendable {
    public let tokenizer: SentencePieceTokenizer

    public init(_ tokenizer: SentencePieceTokenizer) { self.tokenizer = tokenizer }

    public func encode(_ text: String) -> [Int32] { tokenizer.encode(text) }
    public func decode(_ ids: [Int32]) -> String { tokenizer.decode(ids) }
    public var vocabularySize: Int { tokenizer.vocabularySize }
    public var bosId: Int32 { tokenizer.bosId ?? 1 }
    public var eosId: Int32 { tokenizer.eosId ?? 2 }

    /// LLaMA's tokenizer options (section 2.1 of the paper): BPE with numbers split into
    /// digits and unknown UTF-8 characters decomposed into bytes, no normalization (as the
    /// released LLaMA tokenizer.model: identity rule, dummy prefix, whitespace kept).
    public static func llamaOptions(vocabularySize: Int) -> BPETrainerOptions {
        var options = BPETrainerOptions()
        options.vocabSize = vocabularySize
        options.splitDigits = true
        options.byteFallback = true
        options.normalizationRuleName = "identity"
        options.removeExtraWhitespaces = false
        options.characterCoverage = 0.99995
        return options
    }

    /// Trains a LLaMA-style BPE model on `texts` and writes it to `modelPath` (atomically),
    /// or reuses the model already there when it has `vocabularySize` pieces.
    public static func trainOrLoad(texts: [String], vocabularySize: Int, modelPath: String) throws -> SentencePieceTextTokenizer {
        let url = URL(fileURLWithPath: modelPath)
        if FileManager.default.fileExists(atPath: modelPath),
           let existing = try? SentencePieceTokenizer(contentsOf: url), existing.vocabularySize == vocabularySize {
            return SentencePieceTextTokenizer(existing)
        }
        let sentences = texts.flatMap { $0.lines(omittingEmpty: true).map(String.init) }.filter { !$0.isEmpty }
        let model = try BPETrainer(options: llamaOptions(vocabularySize: vocabularySize)).train(sentences: sentences)
        try FileManager.default.createDirectory(atPath: (modelPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try SentencePieceModelFile.write(model, to: url)
        return SentencePieceTextTokenizer(try SentencePieceTokenizer(model: model, source: modelPath))
    }
}
