import Foundation

extension Datasets {
    /// NaturalQuestions-open JSONL: question, answer (a list). The paper's prompt (appendix A).
    static func naturalQuestions(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let answers = try record.strings("answer")
            return Example(source: record.source, prompt: "Q: \(try record.string("question"))\nA:", answers: answers,
                           target: " " + (answers.first ?? ""), header: "Answer these questions:")
        }
    }

    /// TriviaQA: the official JSON ({"Data": [{Question, Answer: {Value, Aliases}}]}) or a
    /// JSONL export with question and answer.value/answer.aliases.
    static func triviaQA(_ path: String) throws -> [Example] {
        let official = path.hasSuffix(".json")
        let records = try RecordReader.records(path, listKey: official ? "Data" : nil)
        return try records.map { record in
            let question = try record.has("Question") ? record.string("Question") : record.string("question")
            let answerField = record.has("Answer") ? "Answer" : "answer"
            let value = try record.string(answerField + (record.has(answerField + ".Value") ? ".Value" : ".value"))
            let aliasesField = answerField + (record.has(answerField + ".Aliases") ? ".Aliases" : ".aliases")
            let aliases = record.has(aliasesField) ? try record.strings(aliasesField) : []
            return Example(source: record.source, prompt: "Q: \(question)\nA:", answers: [value] + aliases,
                           target: " " + value, header: "Answer these questions:")
        }
    }

    /// GSM8K (Cobbe et al., 2021) JSONL: question, answer (a solution ending "#### N").
    static func gsm8k(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let solution = try record.string("answer")
            guard let answer = Metrics.extractGSM8KAnswer(solution) else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "answer", reason: "no final answer after ####")
            }
            return Example(source: record.source, prompt: "Question: \(try record.string("question"))\nAnswer:",
                           answers: [answer], target: " " + solution)
        }
    }

    /// MATH (Hendrycks et al., 2021): one JSON file per problem (problem, solution with a
    /// \boxed answer, type, level), a directory of them, or JSONL.
    static func math(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let solution = try record.string("solution")
            guard let answer = Metrics.extractBoxedAnswer(solution) else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "solution", reason: "no \\boxed{} answer")
            }
            return Example(source: record.source, prompt: "Problem:\n\(try record.string("problem"))\n\nSolution:",
                           answers: [answer], target: " " + solution, group: record.has("type") ? try record.string("type") : nil)
        }
    }

    /// HumanEval (Chen et al., 2021) JSONL: task_id, prompt, test, entry_point. The
    /// program is prompt + completion + test + check(entry_point).
    static func humanEval(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            var example = Example(source: record.source, prompt: try record.string("prompt"),
                                  target: record.has("canonical_solution") ? try record.string("canonical_solution") : "",
                                  test: "\n\(try record.string("test"))\ncheck(\(try record.string("entry_point")))\n")
            example.programIncludesPrompt = true
            return example
        }
    }

    /// MBPP (Austin et al., 2021) JSONL: text, code, test_list, test_setup_code. The
    /// prompt is the paper's (Austin et al., 2021, fig. 1 with [BEGIN]/[DONE] markers).
    static func mbpp(_ path: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let tests = try record.strings("test_list")
            let setup = record.has("test_setup_code") ? try record.string("test_setup_code") : ""
            let prompt = "You are an expert Python programmer, and here is your task: \(try record.string("text")) "
                + "Your code should pass these tests:\n\n\(tests.joined(separator: "\n"))\n[BEGIN]\n"
            return Example(source: record.source, prompt: prompt,
                           target: (record.has("code") ? try record.string("code") : "") + "\n[DONE]",
                           test: "\n" + setup + "\n" + tests.joined(separator: "\n") + "\n")
        }
    }

    /// MMLU (Hendrycks et al., 2021) CSV without header: question, A, B, C, D, answer;
    /// the subject is the file name before "_test.csv"/"_dev.csv"/"_val.csv". A
    /// directory loads every CSV in it.
    static func mmlu(_ path: String) throws -> [Example] {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return try files.filter { $0.hasSuffix(".csv") }.sorted().flatMap { try mmlu(path + "/" + $0) }
        }
        var subject = (path as NSString).lastPathComponent.replacingOccurrences(of: ".csv", with: "")
        for suffix in ["_test", "_dev", "_val"] where subject.hasSuffix(suffix) { subject = String(subject.dropLast(suffix.count)) }
        let header = "The following are multiple choice questions (with answers) about \(subject.replacingOccurrences(of: "_", with: " "))."
        return try RecordReader.delimited(path, separator: ",", columns: ["question", "A", "B", "C", "D", "answer"]).map { record in
            let letters = ["A", "B", "C", "D"]
            var prompt = try record.string("question")
            for letter in letters { prompt += "\n\(letter). \(try record.string(letter))" }
            prompt += "\nAnswer:"
            let key = try record.string("answer").trimmingCharacters(in: .whitespaces)
            guard let gold = letters.firstIndex(of: key) else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "answer", reason: "'\(key)' is not A-D")
            }
            var example = Example.multipleChoice(source: record.source, prompt: prompt, options: letters.map { " " + $0 },
                                                 gold: gold, group: subject)
            example.header = header
            return example
        }
    }

    /// CrowS-Pairs (Nangia et al., 2020) CSV: sent_more, sent_less, bias_type. Each
    /// sentence is scored whole; "accuracy" is the share of pairs where the model gives
    /// the more stereotypical sentence the higher likelihood (50 is unbiased, higher is worse).
    static func crowsPairs(_ path: String) throws -> [Example] {
        try RecordReader.delimited(path, separator: ",").map { record in
            Example(source: record.source, prompt: "",
                    choices: [Choice(context: "", continuation: try record.string("sent_more")),
                              Choice(context: "", continuation: try record.string("sent_less"))],
                    gold: 0, group: try record.string("bias_type"))
        }
    }

    /// WinoGender (Rudinger et al., 2018) templates.tsv: occupation(0),
    /// other-participant(1), answer (0 occupation, 1 participant), sentence with
    /// $OCCUPATION, $PARTICIPANT and pronoun slots. Each template is filled with male,
    /// female and neutral pronouns and followed by "'his' refers to", as in the LLaMA
    /// paper (§5.3); the options are " the <occupation>" and " the <participant>".
    static func winoGender(_ path: String) throws -> [Example] {
        let pronouns: [(String, [String: String])] = [
            ("male", ["$NOM_PRONOUN": "he", "$POSS_PRONOUN": "his", "$ACC_PRONOUN": "him"]),
            ("female", ["$NOM_PRONOUN": "she", "$POSS_PRONOUN": "her", "$ACC_PRONOUN": "her"]),
            ("neutral", ["$NOM_PRONOUN": "they", "$POSS_PRONOUN": "their", "$ACC_PRONOUN": "them"]),
        ]
        var examples: [Example] = []
        for record in try RecordReader.delimited(path, separator: "\t") {
            let occupation = try record.string("occupation(0)"), participant = try record.string("other-participant(1)")
            let template = try record.string("sentence")
            let gold = try checked(record.integer("answer"), count: 2, record, "answer")
            guard let slot = ["$NOM_PRONOUN", "$POSS_PRONOUN", "$ACC_PRONOUN"]
                .compactMap({ name in template.range(of: name).map { (name, $0.lowerBound) } }).min(by: { $0.1 < $1.1 })?.0 else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: "sentence", reason: "has no pronoun slot")
            }
            for (gender, table) in pronouns {
                var sentence = template.replacingOccurrences(of: "$OCCUPATION", with: occupation)
                    .replacingOccurrences(of: "$PARTICIPANT", with: participant)
                for (name, word) in table { sentence = sentence.replacingOccurrences(of: name, with: word) }
                sentence = sentence.prefix(1).uppercased() + sentence.dropFirst()
                let prompt = "\(sentence) '\(table[slot] ?? "")' refers to"
                examples.append(.multipleChoice(source: record.source + "#\(gender)", prompt: prompt,
                                                options: [" the \(occupation)", " the \(participant)"], gold: gold, group: gender))
            }
        }
        return examples
    }

    /// TruthfulQA multiple choice (Lin et al., 2021): mc_task.json
    /// ([{question, mc1_targets: {answer: 0/1}, mc2_targets: …}]) or the Hugging Face
    /// export ({choices, labels}). Answers are ordered by text for determinism. MC1
    /// (`mc1_targets`, one true answer) scores the argmax; MC2 (`mc2_targets`, several
    /// true answers) also records every true answer for the probability-mass metric.
    static func truthfulQA(_ path: String, targets field: String) throws -> [Example] {
        try RecordReader.records(path).map { record in
            let targets = try record.object(field)
            var pairs: [(String, Int)]
            if let choices = targets["choices"] as? [String], let labels = targets["labels"] as? [Int] {
                pairs = Array(zip(choices, labels))
            } else {
                pairs = targets.compactMap { key, value in (value as? NSNumber).map { (key, $0.intValue) } }.sorted { $0.0 < $1.0 }
            }
            guard let gold = pairs.firstIndex(where: { $0.1 == 1 }) else {
                throw EvaluationError.invalidField(path: record.path, line: record.line, field: field, reason: "no answer is labelled 1")
            }
            var example = Example.multipleChoice(source: record.source, prompt: "Q: \(try record.string("question"))\nA:",
                                                 options: pairs.map { " " + $0.0 }, gold: gold)
            if field == "mc2_targets" { example.trueChoices = pairs.indices.filter { pairs[$0].1 == 1 } }
            return example
        }
    }
}
