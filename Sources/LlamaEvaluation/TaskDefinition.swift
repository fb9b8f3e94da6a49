import Foundation

/// How a task's items are scored.
public enum TaskKind: String, Codable, Sendable {
    /// Pick the most likely option (accuracy under each normalisation).
    case multipleChoice = "multiple_choice"
    /// Greedy generation, exact match against any accepted answer.
    case generation
    /// k samples, answer extracted, majority vote (maj1@k).
    case math
    /// Program synthesis run in the sandbox: pass@1 and pass@k.
    case code
}

/// A task as a JSON file (docs/evaluation.md "Task files"): which data, which loader or
/// templates, how to score. Every field but `name`, `kind` and `data` has a default.
public struct TaskDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var kind: TaskKind
    /// A built-in loader (`Datasets.names`) or "template" for the template fields below.
    public var dataset: String = "template"
    /// The evaluated split: a file or directory (relative paths are relative to the task file).
    public var data: String = ""
    /// Split the few-shot demonstrations are drawn from; the evaluated split minus the item itself if absent.
    public var train: String?
    /// Numbers of demonstrations to evaluate with (the paper: 0, 1, 5, 64).
    public var shots: [Int] = [0]
    /// Demonstrations from the item's own group only (MMLU: the subject's dev split).
    public var sameGroupShots: Bool = false
    /// Seed of the demonstration draw and of sampling.
    public var seed: UInt64 = 1234
    /// Evaluate only the first `limit` items.
    public var limit: Int?
    /// The headline normalisation of a multiple-choice task (all are reported).
    public var normalization: ChoiceNormalization = .perCharacter
    /// Context of the unconditional likelihood of the `unconditional` normalisation.
    public var unconditionalContext: String = "Answer:"
    /// Text between demonstrations and before the query.
    public var separator: String = "\n\n"
    /// Generation budget, stop sequences, samples per item and sampling temperature.
    public var maxTokens: Int = 32
    public var stop: [String] = ["\n"]
    public var samples: Int = 1
    public var temperature: Float = 0
    /// "gsm8k" (text after ####, else last number) or "boxed" (last \boxed{}) for math tasks.
    public var answerExtraction: String = "gsm8k"

    // Template loader (dataset "template").
    /// "jsonl", "json", "csv" or "tsv".
    public var format: String?
    /// Key of the record list in a JSON document.
    public var listKey: String?
    /// Column names of a CSV/TSV file without a header row.
    public var columns: [String]?
    /// Templates with {field} and {nested.field} placeholders.
    public var prompt: String?
    public var options: [String]?
    /// A field holding the options as a list of texts (each is prefixed by `optionPrefix`).
    public var optionsField: String?
    public var optionPrefix: String = " "
    /// The field naming the correct option, read as `goldKind`: "index" (0-based),
    /// "index1" (1-based), "letter" (A, B, …), "text" (equal to an option) or "bool" (false → 0, true → 1).
    public var goldField: String?
    public var goldKind: String = "index"
    /// Field with the accepted answers (a text or list) of a generation task.
    public var answersField: String?
    /// Template of the demonstration's completion of a generation task.
    public var target: String?
    public var groupField: String?
    public var header: String?

    public init(name: String, kind: TaskKind, dataset: String = "template", data: String = "") {
        self.name = name
        self.kind = kind
        self.dataset = dataset
        self.data = data
    }

    /// Reads a task file, naming the file and field on failure; resolves relative paths.
    public static func load(path: String) throws -> TaskDefinition {
        let text = try RecordReader.text(path)
        var definition: TaskDefinition
        do { definition = try JSONDecoder().decode(TaskDefinition.self, from: Data(text.utf8)) } catch let DecodingError.keyNotFound(key, _) {
            throw EvaluationError.invalidTask(path: path, field: key.stringValue, reason: "is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw EvaluationError.invalidTask(path: path, field: context.codingPath.map(\.stringValue).joined(separator: "."), reason: context.debugDescription)
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw EvaluationError.invalidTask(path: path, field: field.isEmpty ? "(file)" : field, reason: context.debugDescription)
        } catch {
            throw EvaluationError.invalidTask(path: path, field: "(file)", reason: "\(error)")
        }
        let base = (path as NSString).deletingLastPathComponent
        func resolve(_ file: String) -> String { file.hasPrefix("/") || base.isEmpty ? file : base + "/" + file }
        guard !definition.data.isEmpty else { throw EvaluationError.invalidTask(path: path, field: "data", reason: "is missing") }
        definition.data = resolve(definition.data)
        definition.train = definition.train.map(resolve)
        guard definition.dataset == "template" || Datasets.names.contains(definition.dataset) else {
            throw EvaluationError.invalidTask(path: path, field: "dataset", reason: "unknown loader '\(definition.dataset)'")
        }
        return definition
    }

    /// The built-in task `name` with its data and optional training split, set up as the paper evaluates it.
    public static func builtIn(_ name: String, data: String, train: String? = nil) -> TaskDefinition? {
        let table: [String: (TaskKind, String)] = [
            "boolq": (.multipleChoice, "boolq"), "piqa": (.multipleChoice, "piqa"), "siqa": (.multipleChoice, "siqa"),
            "hellaswag": (.multipleChoice, "hellaswag"), "winogrande": (.multipleChoice, "winogrande"),
            "arc_easy": (.multipleChoice, "arc"), "arc_challenge": (.multipleChoice, "arc"),
            "openbookqa": (.multipleChoice, "openbookqa"), "naturalquestions": (.generation, "naturalquestions"),
            "triviaqa": (.generation, "triviaqa"), "race_middle": (.multipleChoice, "race"), "race_high": (.multipleChoice, "race"),
            "gsm8k": (.math, "gsm8k"), "math": (.math, "math"), "humaneval": (.code, "humaneval"), "mbpp": (.code, "mbpp"),
            "mmlu": (.multipleChoice, "mmlu"), "crowspairs": (.multipleChoice, "crowspairs"),
            "winogender": (.multipleChoice, "winogender"), "truthfulqa_mc": (.multipleChoice, "truthfulqa_mc"),
            "truthfulqa_mc2": (.multipleChoice, "truthfulqa_mc2"),
        ]
        guard let (kind, loader) = table[name] else { return nil }
        var task = TaskDefinition(name: name, kind: kind, dataset: loader, data: data)
        task.train = train
        switch name {
        case "boolq", "openbookqa": task.normalization = .unconditional
        case "crowspairs", "winogender", "truthfulqa_mc", "truthfulqa_mc2", "winogrande": task.normalization = .none
        case "mmlu": task.shots = [5]; task.sameGroupShots = true; task.normalization = .none; task.separator = "\n\n"
        case "gsm8k": task.maxTokens = 256; task.stop = ["\n\n", "Question:"]; task.shots = [8]
        case "math": task.maxTokens = 512; task.stop = ["\n\nProblem:"]; task.shots = [4]; task.answerExtraction = "boxed"
        case "humaneval": task.maxTokens = 384; task.stop = ["\ndef ", "\nclass ", "\nif __name__", "\nprint("]
        case "mbpp": task.maxTokens = 384; task.stop = ["[DONE]"]; task.shots = [3]
        default: break
        }
        return task
    }

    public static let builtInNames = ["boolq", "piqa", "siqa", "hellaswag", "winogrande", "arc_easy", "arc_challenge", "openbookqa",
                                      "naturalquestions", "triviaqa", "race_middle", "race_high", "gsm8k", "math", "humaneval",
                                      "mbpp", "mmlu", "crowspairs", "winogender", "truthfulqa_mc", "truthfulqa_mc2"]

    enum CodingKeys: String, CodingKey {
        case name, kind, dataset, data, train, shots, sameGroupShots, seed, limit, normalization, unconditionalContext, separator
        case maxTokens, stop, samples, temperature, answerExtraction, format, listKey, columns, prompt, options, optionsField
        case optionPrefix, goldField, goldKind, answersField, target, groupField, header
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(TaskKind.self, forKey: .kind)
        let defaults = TaskDefinition(name: name, kind: kind)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try container.decodeIfPresent(T.self, forKey: key) ?? fallback }
        dataset = try value(.dataset, defaults.dataset)
        data = try value(.data, "")
        train = try container.decodeIfPresent(String.self, forKey: .train)
        shots = try value(.shots, defaults.shots)
        sameGroupShots = try value(.sameGroupShots, false)
        seed = try value(.seed, defaults.seed)
        limit = try container.decodeIfPresent(Int.self, forKey: .limit)
        normalization = try value(.normalization, defaults.normalization)
        unconditionalContext = try value(.unconditionalContext, defaults.unconditionalContext)
        separator = try value(.separator, defaults.separator)
        maxTokens = try value(.maxTokens, defaults.maxTokens)
        stop = try value(.stop, defaults.stop)
        samples = try value(.samples, 1)
        temperature = try value(.temperature, Float(0))
        answerExtraction = try value(.answerExtraction, defaults.answerExtraction)
        format = try container.decodeIfPresent(String.self, forKey: .format)
        listKey = try container.decodeIfPresent(String.self, forKey: .listKey)
        columns = try container.decodeIfPresent([String].self, forKey: .columns)
        prompt = try container.decodeIfPresent(String.self, forKey: .prompt)
        options = try container.decodeIfPresent([String].self, forKey: .options)
        optionsField = try container.decodeIfPresent(String.self, forKey: .optionsField)
        optionPrefix = try value(.optionPrefix, " ")
        goldField = try container.decodeIfPresent(String.self, forKey: .goldField)
        goldKind = try value(.goldKind, "index")
        answersField = try container.decodeIfPresent(String.self, forKey: .answersField)
        target = try container.decodeIfPresent(String.self, forKey: .target)
        groupField = try container.decodeIfPresent(String.self, forKey: .groupField)
        header = try container.decodeIfPresent(String.self, forKey: .header)
    }
}
