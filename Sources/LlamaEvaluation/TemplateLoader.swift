import Foundation

/// Turns records into examples with a task file's templates (dataset "template"), so a
/// user adds a task without writing Swift.
public enum TemplateLoader {
    /// Fills `{field}` / `{nested.field}` placeholders from `record`; `{{` and `}}` are literal braces.
    public static func fill(_ template: String, _ record: Record) throws -> String {
        var output = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            let next = template.index(after: index)
            if character == "{", next < template.endIndex, template[next] == "{" {
                output.append("{"); index = template.index(after: next); continue
            }
            if character == "}", next < template.endIndex, template[next] == "}" {
                output.append("}"); index = template.index(after: next); continue
            }
            if character == "{", let close = template[next...].firstIndex(of: "}") {
                output += try record.string(String(template[next..<close]))
                index = template.index(after: close)
                continue
            }
            output.append(character)
            index = next
        }
        return output
    }

    /// Loads the task's data file with its templates.
    public static func load(_ task: TaskDefinition, path: String) throws -> [Example] {
        let records: [Record]
        switch task.format ?? (path as NSString).pathExtension {
        case "csv": records = try RecordReader.delimited(path, separator: ",", columns: task.columns)
        case "tsv": records = try RecordReader.delimited(path, separator: "\t", columns: task.columns)
        default: records = try RecordReader.records(path, listKey: task.listKey)
        }
        guard let promptTemplate = task.prompt else { throw EvaluationError.invalidTask(path: path, field: "prompt", reason: "is missing") }
        return try records.map { record in
            let prompt = try fill(promptTemplate, record)
            let group = try task.groupField.map { try record.string($0) }
            switch task.kind {
            case .multipleChoice:
                let options: [String]
                if let field = task.optionsField { options = try record.strings(field).map { task.optionPrefix + $0 } } else if let templates = task.options {
                    options = try templates.map { try fill($0, record) }
                } else { throw EvaluationError.invalidTask(path: path, field: "options", reason: "a multiple-choice task needs options or optionsField") }
                guard let goldField = task.goldField else { throw EvaluationError.invalidTask(path: path, field: "goldField", reason: "is missing") }
                let gold = try goldIndex(record, field: goldField, kind: task.goldKind, options: options, prefix: task.optionPrefix)
                var example = Example.multipleChoice(source: record.source, prompt: prompt, options: options,
                                                     gold: try Datasets.checked(gold, count: options.count, record, goldField), group: group)
                example.header = task.header
                return example
            case .generation, .math, .code:
                guard let answersField = task.answersField else { throw EvaluationError.invalidTask(path: path, field: "answersField", reason: "is missing") }
                var answers = try record.strings(answersField)
                if task.kind == .math {
                    let extract = task.answerExtraction == "boxed" ? Metrics.extractBoxedAnswer : Metrics.extractGSM8KAnswer
                    answers = answers.map { extract($0) ?? $0 }
                }
                let target = try task.target.map { try fill($0, record) } ?? " " + (answers.first ?? "")
                return Example(source: record.source, prompt: prompt, answers: answers, target: target, group: group, header: task.header)
            }
        }
    }

    static func goldIndex(_ record: Record, field: String, kind: String, options: [String], prefix: String) throws -> Int {
        switch kind {
        case "index": return try record.integer(field)
        case "index1": return try record.integer(field) - 1
        case "bool": return try record.boolean(field) ? 1 : 0
        case "letter":
            let letter = try record.string(field).trimmingCharacters(in: .whitespaces).uppercased()
            return Int(letter.unicodeScalars.first?.value ?? 0) - 65
        case "text":
            let text = try record.string(field)
            guard let index = options.firstIndex(where: { $0 == text || $0 == prefix + text }) else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: field, reason: "'\(text)' is not one of the options")
            }
            return index
        default:
            throw EvaluationError.invalidTask(path: record.path, field: "goldKind", reason: "'\(kind)' is not index, index1, letter, text or bool")
        }
    }
}
