import Foundation
import LlamaCore

/// The quality classifier of LLaMA's CommonCrawl data (paper section 2.1): a linear fastText
/// model telling pages used as references in Wikipedia (`__label__wiki`) from random pages
/// (`__label__cc`). A document's `quality_score` is the probability of `__label__wiki`.
///
/// Input formats: a JSONL file (first non-blank byte `{`) holds one document per line, text
/// in `raw_content` (CCNet) or else `text`; any other file is plain text, one document per
/// line. Newlines inside a document become spaces (a fastText example is one line).
public struct QualityClassifier: Sendable {
    public static let positiveLabel = "__label__wiki"
    public static let negativeLabel = "__label__cc"

    public let model: FastTextModel
    private let positiveIndex: Int

    public init(model: FastTextModel) throws {
        guard let index = model.labels.firstIndex(of: Self.positiveLabel) else {
            throw DataError.invalidFastTextModel(path: model.path, offset: 0,
                                                 reason: "no label \(Self.positiveLabel) in a quality model")
        }
        self.model = model
        positiveIndex = index
    }

    /// Probability of the positive label for `text` (fastText's reported value, p + 1e-5).
    public func score(_ text: String) -> Float {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        let predictions = model.predict(line, k: model.labels.count, threshold: 0)
        return predictions.first { $0.label == Self.positiveLabel }?.probability ?? 0
    }

    /// Document texts of a JSONL or plain-text file (see the type's documentation). JSONL
    /// lines that are not objects with a string `raw_content` or `text` are skipped and counted.
    public static func documents(path: String) throws -> (texts: [String], skipped: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        let isJSONL = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) } == UInt8(ascii: "{")
        var texts: [String] = [], skipped = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if isJSONL {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let text = (object["raw_content"] as? String) ?? (object["text"] as? String) else {
                    skipped += 1
                    continue
                }
                texts.append(text)
            } else {
                texts.append(String(decoding: line, as: UTF8.self))
            }
        }
        return (texts, skipped)
    }

    /// fastText training text: one `__label__wiki …` / `__label__cc …` line per document, the
    /// two classes interleaved in a seeded shuffle (SGD sees both throughout an epoch).
    public static func trainingText(positive: [String], negative: [String], seed: UInt64) -> [UInt8] {
        var lines = positive.map { (Self.positiveLabel, $0) } + negative.map { (Self.negativeLabel, $0) }
        var generator = SeededGenerator(seed: seed)
        for index in stride(from: lines.count - 1, to: 0, by: -1) {
            lines.swapAt(index, generator.nextInt(below: index + 1))
        }
        var text: [UInt8] = []
        for (label, document) in lines {
            text.append(contentsOf: label.utf8)
            text.append(0x20)
            for byte in document.utf8 { text.append(byte == 0x0A || byte == 0x0D ? 0x20 : byte) }
            text.append(0x0A)
        }
        return text
    }

    /// Trains a quality model on the documents of two files.
    public static func train(positivePath: String, negativePath: String, args: FastTextArgs) throws
        -> (model: FastTextModel, positive: Int, negative: Int, skipped: Int) {
        let positive = try documents(path: positivePath), negative = try documents(path: negativePath)
        guard !positive.texts.isEmpty, !negative.texts.isEmpty else {
            throw DataError.invalidFastTextTraining(path: positive.texts.isEmpty ? positivePath : negativePath,
                                                    reason: "no documents")
        }
        let text = trainingText(positive: positive.texts, negative: negative.texts, seed: UInt64(args.seed))
        let model = try FastTextTrainer.train(text: text, args: args, path: positivePath)
        return (model, positive.texts.count, negative.texts.count, positive.skipped + negative.skipped)
    }
}
