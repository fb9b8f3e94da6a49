import LlamaCore
import Foundation

/// Loaders for the published formats of the paper's benchmarks. Each turns a file (or
/// directory) into formatted `Example`s; prompts follow lm-evaluation-harness (Gao et
/// al., 2021) and, for closed-book QA, the LLaMA paper's appendix A.
public enum Datasets {
    /// Names of the built-in loaders.
    public static let names = ["boolq", "piqa", "siqa", "hellaswag", "winogrande", "arc", "openbookqa",
                               "naturalquestions", "triviaqa", "race", "gsm8k", "math", "humaneval", "mbpp",
                               "mmlu", "crowspairs", "winogender", "truthfulqa_mc", "truthfulqa_mc2"]

    /// Loads `path` with the loader `name`.
    public static func load(_ name: String, path: String) throws -> [Example] {
        switch name {
        case "boolq": return try boolQ(path)
        case "piqa": return try piqa(path)
        case "siqa": return try socialIQA(path)
        case "hellaswag": return try hellaSwag(path)
        case "winogrande": return try winoGrande(path)
        case "arc", "openbookqa": return try arc(path)
        case "naturalquestions": return try naturalQuestions(path)
        case "triviaqa": return try triviaQA(path)
        case "race": return try race(path)
        case "gsm8k": return try gsm8k(path)
        case "math": return try math(path)
        case "humaneval": return try humanEval(path)
        case "mbpp": return try mbpp(path)
        case "mmlu": return try mmlu(path)
        case "crowspairs": return try crowsPairs(path)
        case "winogender": return try winoGender(path)
        case "truthfulqa_mc": return try truthfulQA(path, targets: "mc1_targets")
        case "truthfulqa_mc2": return try truthfulQA(path, targets: "mc2_targets")
        default: throw EvaluationError.invalidTask(path: path, field: "dataset", reason: "unknown loader '\(name)' (have \(names.joined(separator: ", ")))")
        }
    }

    /// BoolQ (Clark et al., 2019) JSONL: question, passage, answer (true/false).
    static func boolQ(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let prompt = "\(try record.string("passage"))\nQuestion: \(try record.string("question"))?\nAnswer:"
            return .multipleChoice(source: record.source, prompt: prompt, options: [" no", " yes"],
                                   gold: try record.boolean("answer") ? 1 : 0)
        }
    }

    /// Labels of PIQA/SIQA: a "label" field (Hugging Face export) or the official
    /// `*-labels.lst` beside the JSONL file, one label per line.
    private static func labels(for path: String, records: [Record]) throws -> [Int]? {
        if records.allSatisfy({ $0.has("label") }) { return nil }
        let labelsPath = path.replacingOccurrences(of: ".jsonl", with: "-labels.lst")
        guard labelsPath != path, FileManager.default.fileExists(atPath: labelsPath) else {
            let record = records.first { !$0.has("label") }
            throw EvaluationError.missingField(path: path, line: record?.line ?? 0, field: "label")
        }
        let lines = try RecordReader.text(labelsPath).lines(omittingEmpty: true).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count >= records.count else {
            throw EvaluationError.malformedLine(path: labelsPath, line: lines.count + 1, reason: "fewer labels than records (\(records.count))")
        }
        return try lines.enumerated().map { index, line in
            guard let value = Int(line) else { throw EvaluationError.malformedLine(path: labelsPath, line: index + 1, reason: "not an integer label") }
            return value
        }
    }

    /// PIQA (Bisk et al., 2020): goal, sol1, sol2 and a 0-based label.
    static func piqa(_ path: String) throws -> [Example] {
        let records = try RecordReader.records(path)
        let external = try labels(for: path, records: records)
        return try records.enumerated().map { index, record in
            let gold = try external?[index] ?? record.integer("label")
            return .multipleChoice(source: record.source, prompt: "Question: \(try record.string("goal"))\nAnswer:",
                                   options: [" " + (try record.string("sol1")), " " + (try record.string("sol2"))],
                                   gold: try checked(gold, count: 2, record, "label"))
        }
    }

    /// SocialIQA (Sap et al., 2019): context, question, answerA/B/C and a 1-based label.
    static func socialIQA(_ path: String) throws -> [Example] {
        let records = try RecordReader.records(path)
        let external = try labels(for: path, records: records)
        return try records.enumerated().map { index, record in
            let gold = try (external?[index] ?? record.integer("label")) - 1
            let prompt = "Question: \(try record.string("context")) \(try record.string("question"))\nAnswer:"
            let options = try ["answerA", "answerB", "answerC"].map { " " + (try record.string($0)) }
            return .multipleChoice(source: record.source, prompt: prompt, options: options, gold: try checked(gold, count: 3, record, "label"))
        }
    }

    /// HellaSwag (Zellers et al., 2019) JSONL: activity_label, ctx_a, ctx_b, endings, label.
    static func hellaSwag(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let contextB = try record.string("ctx_b")
            let prompt = "\(try record.string("activity_label")): \(try record.string("ctx_a")) \(contextB.prefix(1).uppercased() + contextB.dropFirst())"
            let endings = try record.strings("endings")
            return .multipleChoice(source: record.source, prompt: prompt.trimmingCharacters(in: .whitespaces),
                                   options: endings.map { " " + $0 }, gold: try checked(record.integer("label"), count: endings.count, record, "label"))
        }
    }

    /// WinoGrande (Sakaguchi et al., 2020) JSONL: sentence with "_", option1, option2,
    /// answer "1"/"2". Partial scoring (Trinh & Le, 2018): the option fills the blank in
    /// the context and the rest of the sentence is the scored continuation.
    static func winoGrande(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let sentence = try record.string("sentence")
            guard let blank = sentence.firstIndex(of: "_") else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "sentence", reason: "has no blank '_'")
            }
            let before = String(sentence[..<blank])
            let rest = " " + sentence[sentence.index(after: blank)...].trimmingCharacters(in: .whitespaces)
            let options = try [record.string("option1"), record.string("option2")]
            let gold = try checked(record.integer("answer") - 1, count: 2, record, "answer")
            return Example(source: record.source, prompt: before,
                           choices: options.map { Choice(context: before + $0, continuation: rest) }, gold: gold,
                           target: options[gold] + rest)
        }
    }

    /// ARC (Clark et al., 2018) and OpenBookQA (Mihaylov et al., 2018) JSONL:
    /// question.stem, question.choices[{text,label}], answerKey.
    static func arc(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let choices = try record.list("question.choices").compactMap { $0 as? [String: Any] }
            let texts = choices.compactMap { $0["text"] as? String }
            let labels = choices.map { "\($0["label"] ?? "")" }
            guard texts.count == choices.count, !texts.isEmpty else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "question.choices", reason: "expected objects with text and label")
            }
            let key = try record.string("answerKey")
            guard let gold = labels.firstIndex(of: key) else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "answerKey", reason: "'\(key)' is not a choice label")
            }
            return .multipleChoice(source: record.source, prompt: "Question: \(try record.string("question.stem"))\nAnswer:",
                                   options: texts.map { " " + $0 }, gold: gold)
        }
    }

    /// RACE (Lai et al., 2017): one JSON object per article (article, questions,
    /// options, answers) as released, or one question per line (question, options, answer).
    static func race(_ path: String) throws -> [Example] {
        var examples: [Example] = []
        for record in try RecordReader.records(path) {
            let article = try record.string("article")
            let questions = record.has("questions") ? try record.strings("questions") : [try record.string("question")]
            let options = record.has("questions") ? try record.list("options") : [try record.list("options")]
            let answers = record.has("questions") ? try record.strings("answers") : [try record.string("answer")]
            guard options.count == questions.count, answers.count == questions.count else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "options", reason: "one list of options and one answer per question are needed")
            }
            for (index, question) in questions.enumerated() {
                guard let texts = options[index] as? [String] else {
                    throw EvaluationError.invalidField(path: record.path, line: record.line, field: "options", reason: "expected lists of texts")
                }
                let gold = Int(answers[index].unicodeScalars.first.map { $0.value } ?? 0) - 65
                examples.append(.multipleChoice(source: record.source + "#\(index + 1)",
                                                prompt: "Article: \(article)\n\nQuestion: \(question)\nAnswer:",
                                                options: texts.map { " " + $0 }, gold: try checked(gold, count: texts.count, record, "answers")))
            }
        }
        return examples
    }

    static func checked(_ gold: Int, count: Int, _ record: Record, _ field: String) throws -> Int {
        guard gold >= 0 && gold < count else {
            throw EvaluationError.invalidField(path: record.path, line: record.line, field: field, reason: "answer index \(gold) outside 0..<\(count)")
        }
        return gold
    }
}
