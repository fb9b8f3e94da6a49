import ArgumentParser
import Foundation
import LlamaEvaluation
import LlamaModel
import LlamaTokenizer

/// `llama eval`: the paper's benchmarks (docs/evaluation.md).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model or a series of training checkpoints on benchmark tasks.",
        subcommands: [EvalRunCommand.self, EvalPerplexityCommand.self, EvalBenchCommand.self],
        defaultSubcommand: EvalRunCommand.self)
}

/// One model's (or checkpoint's) results in results.json.
private struct ModelResults: Codable {
    var model: String
    var trainingTokens: Double?
    var results: [TaskResult]
}

/// Evaluates one model, or every checkpoint of a training run, on the given tasks.
struct EvalRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Score tasks; write results.md and results.json (and performance.svg for --checkpoints).")

    @Option(name: .long, help: "Model: a Hugging Face checkpoint folder or a .gguf file.")
    var model: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Training checkpoints (folders) to evaluate in turn and plot against training tokens.")
    var checkpoints: [String] = []

    @Option(name: .long, help: "SentencePiece tokenizer.model (default: beside the model).")
    var tokenizer: String?

    @Option(name: .long, help: "A built-in task and its data: NAME=DATA[,TRAIN] (names: \(TaskDefinition.builtInNames.joined(separator: ", "))).")
    var task: [String] = []

    @Option(name: .long, help: "A task file (JSON, docs/evaluation.md).")
    var taskFile: [String] = []

    @Option(name: .long, help: "Numbers of shots, comma-separated (overrides the tasks' own, e.g. 0,1,5,64).")
    var shots: String?

    @Option(name: .long, help: "Evaluate only the first N items of each task.")
    var limit: Int?

    @Option(name: .long, help: "Samples per item for math (maj1@k) and code (pass@k) tasks.")
    var samples: Int?

    @Option(name: .long, help: "Context length of the inference session.")
    var context: Int = 2048

    @Option(name: .long, help: "Options of a question scored side by side in one pass over the weights (KV cache slots; 1: one after another).")
    var optionSlots: Int = 4

    @Option(name: .long, help: "Training tokens per step, for checkpoints named by step (e.g. step-1000).")
    var tokensPerStep: Double?

    @Option(name: .long, help: "Directory for results.md, results.json and performance.svg.")
    var output: String = "eval-results"

    func tasks() throws -> [TaskDefinition] {
        var definitions: [TaskDefinition] = []
        for spec in task {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let files = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
            guard parts.count == 2, let first = files.first,
                  let definition = TaskDefinition.builtIn(parts[0], data: first, train: files.count > 1 ? files[1] : nil) else {
                throw ValidationError("--task \(spec): expected NAME=DATA[,TRAIN] with NAME one of \(TaskDefinition.builtInNames.joined(separator: ", "))")
            }
            definitions.append(definition)
        }
        definitions += try taskFile.map { try TaskDefinition.load(path: $0) }
        guard !definitions.isEmpty else { throw ValidationError("give at least one --task or --task-file") }
        return definitions.map { definition in
            var definition = definition
            if let shots { definition.shots = shots.split(separator: ",").compactMap { Int($0) } }
            if let limit { definition.limit = limit }
            if let samples { definition.samples = samples }
            return definition
        }
    }

    func run() throws {
        let definitions = try tasks()
        let loaded = try definitions.map { try Evaluator.loadExamples($0) }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let models = checkpoints.isEmpty ? [model].compactMap { $0 } : checkpoints
        guard !models.isEmpty else { throw ValidationError("give --model or --checkpoints") }
        var series: [String: [Report.Point]] = [:]
        var allResults: [[TaskResult]] = []
        for (index, path) in models.enumerated() {
            let opened = try OpenedModel.open(path)
            let tokenizerModel = try openTokenizer(model: path, explicit: tokenizer)
            let session = InferenceSession(weights: opened.weights, context: context, slotCount: max(1, optionSlots))
            let evaluator = Evaluator(scorer: SessionScorer(session: session, tokenizer: tokenizerModel))
            var results: [TaskResult] = []
            for (definition, data) in zip(definitions, loaded) {
                for shotCount in definition.shots {
                    let result = try evaluator.evaluate(definition, examples: data.examples, pool: data.pool, shots: shotCount)
                    print("\(path)  \(definition.name) \(shotCount)-shot  \(result.primaryMetric) \(String(format: "%.1f", result.primaryValue))  (\(result.itemCount) items, \(String(format: "%.1f", result.seconds)) s)")
                    results.append(result)
                    series["\(definition.name) \(shotCount)-shot", default: []].append(
                        Report.Point(tokens: trainingTokens(path, index: index), value: result.primaryValue))
                }
            }
            allResults.append(results)
        }
        var markdown = ""
        for (path, results) in zip(models, allResults) { markdown += Report.markdown(results, title: path) + "\n" }
        try markdown.write(toFile: output + "/results.md", atomically: true, encoding: .utf8)
        let entries = zip(models, allResults).enumerated().map { index, pair in
            ModelResults(model: pair.0, trainingTokens: checkpoints.isEmpty ? nil : trainingTokens(pair.0, index: index), results: pair.1)
        }
        try Report.json(entries).write(toFile: output + "/results.json", atomically: true, encoding: .utf8)
        if !checkpoints.isEmpty {
            let svg = Report.svg(series.keys.sorted().map { Report.Series(name: $0, points: series[$0] ?? []) })
            try svg.write(toFile: output + "/performance.svg", atomically: true, encoding: .utf8)
        }
        print(markdown)
        print("wrote \(output)/results.md, results.json\(checkpoints.isEmpty ? "" : ", performance.svg")")
    }

    /// Training tokens of a checkpoint: a "tokens"/"trainingTokens"/"num_input_tokens_seen"
    /// number in its training_state.json or trainer_state.json, else the step in its name
    /// times --tokens-per-step, else its position in the list.
    func trainingTokens(_ path: String, index: Int) -> Double {
        for file in ["training_state.json", "trainer_state.json"] {
            if let data = FileManager.default.contents(atPath: path + "/" + file),
               let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                for key in ["tokens", "trainingTokens", "num_input_tokens_seen"] {
                    if let number = object[key] as? NSNumber { return number.doubleValue }
                }
            }
        }
        let name = (path as NSString).lastPathComponent
        if let tokensPerStep, let step = Double(name.filter(\.isNumber)) { return step * tokensPerStep }
        return Double(index + 1)
    }
}
