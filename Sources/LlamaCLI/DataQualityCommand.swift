import ArgumentParser
import Foundation
import LlamaData

/// `llama data quality`: the Wikipedia-references classifier of LLaMA's CommonCrawl data.
struct DataQualityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Train and apply the fastText classifier of pages cited by Wikipedia (wiki) vs random pages (cc).",
        subcommands: [DataQualityTrainCommand.self, DataQualityScoreCommand.self])
}

struct DataQualityTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train __label__wiki vs __label__cc. Files: JSONL (raw_content or text) or plain text, one document a line.")

    @Option(help: "Documents like the pages Wikipedia cites.") var positive: String
    @Option(help: "Random pages.") var negative: String
    @Option(name: [.customLong("output"), .customLong("output", withSingleDash: true)], help: "Model file to write.")
    var output: String
    @OptionGroup var options: FastTextTrainingOptions

    func run() throws {
        let result = try QualityClassifier.train(positivePath: positive, negativePath: negative,
                                                 args: try options.arguments())
        try result.model.save(to: output)
        print("trained on \(result.positive) wiki and \(result.negative) cc documents (\(result.skipped) skipped); "
              + "wrote \(output)")
    }
}

struct DataQualityScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Add quality_score (probability of __label__wiki) to JSONL documents; keep those at or above the threshold.")

    @Option(help: "Quality model (.bin).") var model: String
    @Option(help: "Minimum quality_score to keep a document.") var threshold: Float = 0.5
    @Option(help: "Field holding the text (default raw_content, else text).") var field: String?
    @Option(name: .shortAndLong, help: "Output JSONL of the kept documents.") var output: String
    @Argument(help: "Input JSONL.") var input: String

    func run() throws {
        let classifier = try QualityClassifier(model: try FastTextModel.load(path: model))
        let writer = try AtomicLineWriter(path: output)
        var kept = 0, dropped = 0
        let warnings = try JSONLReader.forEachObject(in: try FileByteSource(path: input)) { object, _ in
            let text = field.flatMap { object[$0] as? String }
                ?? (object["raw_content"] as? String) ?? (object["text"] as? String) ?? ""
            let score = classifier.score(text)
            guard score >= threshold else {
                dropped += 1
                return
            }
            var record = object
            record["quality_score"] = Double(score)
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
            try writer.write(line: String(decoding: data, as: UTF8.self))
            kept += 1
        }
        try writer.commit()
        for warning in warnings.prefix(20) { ShardLoop.log("warning: \(warning)") }
        print("kept \(kept), dropped \(dropped) below \(threshold), skipped \(warnings.count) invalid; wrote \(output)")
    }
}
