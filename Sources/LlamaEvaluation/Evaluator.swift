import Foundation
import LlamaCore

/// Scores of one task at one number of shots.
public struct TaskResult: Codable, Sendable, Equatable {
    public var task: String
    public var shots: Int
    public var itemCount: Int
    /// The headline metric's name (a key of `metrics`).
    public var primaryMetric: String
    /// Metric name → value in percent (acc, acc_char, acc_token, acc_unconditional,
    /// exact_match, maj1@1, maj1@k, pass@1, pass@k).
    public var metrics: [String: Double]
    /// Group → metric → value, for tasks with groups (MMLU subjects, bias categories).
    public var groups: [String: [String: Double]]
    public var seconds: Double

    public var primaryValue: Double { metrics[primaryMetric] ?? 0 }
}

/// Runs tasks against a `LanguageModelScorer` (the paper's protocol, §3).
public struct Evaluator {
    public var scorer: LanguageModelScorer
    public var sandbox = Sandbox()
    /// Called after each item with (done, total).
    public var progress: ((Int, Int) -> Void)?

    public init(scorer: LanguageModelScorer) { self.scorer = scorer }

    /// The demonstrations for item `index`: `shots` items of `pool` drawn without
    /// replacement by a partial Fisher–Yates shuffle seeded with seed + index (so the
    /// choice does not depend on the order items are run in), skipping the item itself
    /// and, with `sameGroup`, items of other groups.
    public static func demonstrations(for example: Example, index: Int, pool: [Example], shots: Int, seed: UInt64,
                                      sameGroup: Bool) -> [Example] {
        guard shots > 0 else { return [] }
        var candidates = pool.filter { $0.source != example.source && (!sameGroup || $0.group == example.group) }
        var generator = SeededGenerator(seed: seed &+ UInt64(index))
        let count = min(shots, candidates.count)
        for position in 0..<count {
            let pick = position + generator.nextInt(below: candidates.count - position)
            candidates.swapAt(position, pick)
        }
        return Array(candidates.prefix(count))
    }

    /// The text of a solved demonstration.
    static func demonstrationText(_ example: Example) -> String {
        if example.choices.indices.contains(example.gold) {
            let choice = example.choices[example.gold]
            return choice.context + choice.continuation
        }
        return example.prompt + example.target
    }

    /// What precedes an item's own text: header, demonstrations, separators.
    static func prefix(_ example: Example, demonstrations: [Example], separator: String) -> String {
        var parts = demonstrations.map(demonstrationText)
        if let header = example.header { parts.insert(header, at: 0) }
        return parts.isEmpty ? "" : parts.joined(separator: separator) + separator
    }

    /// Evaluates `examples` with `shots` demonstrations from `pool` (nil: the examples themselves).
    public func evaluate(_ task: TaskDefinition, examples allExamples: [Example], pool: [Example]? = nil, shots: Int) throws -> TaskResult {
        let start = Date()
        let examples = task.limit.map { Array(allExamples.prefix($0)) } ?? allExamples
        var correct: [String: [Double]] = [:]  // metric → per-item scores (0...1)
        var groupScores: [String: [String: [Double]]] = [:]
        func record(_ metric: String, _ value: Double, _ group: String?) {
            correct[metric, default: []].append(value)
            if let group { groupScores[group, default: [:]][metric, default: []].append(value) }
        }
        for (index, example) in examples.enumerated() {
            let demonstrations = Self.demonstrations(for: example, index: index, pool: pool ?? allExamples, shots: shots,
                                                     seed: task.seed, sameGroup: task.sameGroupShots)
            let prefix = Self.prefix(example, demonstrations: demonstrations, separator: task.separator)
            switch task.kind {
            case .multipleChoice:
                for (metric, value) in try scoreChoices(example, prefix: prefix, task: task) { record(metric, value, example.group) }
            case .generation:
                let output = try scorer.generate(prompt: prefix + example.prompt, maxTokens: task.maxTokens, stop: task.stop,
                                                 temperature: 0, seed: task.seed)
                record("exact_match", Metrics.exactMatch(Metrics.firstLine(output), answers: example.answers) ? 1 : 0, example.group)
            case .math:
                for (metric, value) in try solveMath(example, prefix: prefix, task: task, index: index) { record(metric, value, example.group) }
            case .code:
                for (metric, value) in try solveCode(example, prefix: prefix, task: task, index: index) { record(metric, value, example.group) }
            }
            progress?(index + 1, examples.count)
        }
        func percent(_ values: [Double]) -> Double { values.isEmpty ? 0 : 100 * values.reduce(0, +) / Double(values.count) }
        var metrics = correct.mapValues(percent)
        let groups = groupScores.mapValues { $0.mapValues(percent) }
        let primary: String
        switch task.kind {
        case .multipleChoice: primary = metrics["mc2"] != nil ? "mc2" : Self.metricName(task.normalization)
        case .generation: primary = "exact_match"
        case .math: primary = "maj1@\(max(1, task.samples))"
        case .code: primary = "pass@1"
        }
        if groups.count > 1 {
            // Macro average over groups next to the item average (MMLU reports both ways in the literature).
            metrics[primary + "_group_mean"] = groups.values.map { $0[primary] ?? 0 }.reduce(0, +) / Double(groups.count)
        }
        return TaskResult(task: task.name, shots: shots, itemCount: examples.count, primaryMetric: primary, metrics: metrics,
                          groups: groups, seconds: Date().timeIntervalSince(start))
    }

    static func metricName(_ normalization: ChoiceNormalization) -> String {
        switch normalization {
        case .none: return "acc"
        case .perCharacter: return "acc_char"
        case .perToken: return "acc_token"
        case .unconditional: return "acc_unconditional"
        }
    }

    /// Accuracies of one multiple-choice item under every normalisation.
    func scoreChoices(_ example: Example, prefix: String, task: TaskDefinition) throws -> [(String, Double)] {
        let requests = example.choices.map { Choice(context: prefix + $0.context, continuation: $0.continuation) }
        let scores = try scorer.score(requests)
        let options = example.choices.map(\.continuation)
        var result: [(String, Double)] = []
        for normalization in [ChoiceNormalization.none, .perCharacter, .perToken] {
            let pick = Metrics.choose(scores, options: options, normalization: normalization)
            result.append((Self.metricName(normalization), pick == example.gold ? 1 : 0))
        }
        if let trueChoices = example.trueChoices {
            result.append(("mc2", Metrics.trueProbabilityMass(scores, trueChoices: trueChoices)))
        }
        if task.normalization == .unconditional {
            let unconditional = try scorer.score(example.choices.map { Choice(context: task.unconditionalContext, continuation: $0.continuation) })
            let pick = Metrics.choose(scores, options: options, normalization: .unconditional, unconditional: unconditional)
            result.append(("acc_unconditional", pick == example.gold ? 1 : 0))
        }
        return result
    }

    /// maj1@1 (the first sample) and maj1@k (majority of k samples) of one math item.
    func solveMath(_ example: Example, prefix: String, task: TaskDefinition, index: Int) throws -> [(String, Double)] {
        let samples = max(1, task.samples)
        let extract = task.answerExtraction == "boxed" ? Metrics.extractBoxedAnswer : Metrics.extractGSM8KAnswer
        let canonical: (String) -> String = task.answerExtraction == "boxed" ? { $0.replacingOccurrences(of: " ", with: "") } : Metrics.canonicalNumber
        let accepted = Set(example.answers.map(canonical))
        var answers: [String?] = []
        for sample in 0..<samples {
            let temperature = samples == 1 ? task.temperature : (task.temperature > 0 ? task.temperature : 0.6)
            let output = try scorer.generate(prompt: prefix + example.prompt, maxTokens: task.maxTokens, stop: task.stop,
                                             temperature: temperature, seed: task.seed &+ UInt64(index * samples + sample))
            answers.append(extract(output).map(canonical))
        }
        let first = answers.first.flatMap { $0 }.map { accepted.contains($0) } ?? false
        let majority = Metrics.majorityVote(answers).map { accepted.contains($0) } ?? false
        var result: [(String, Double)] = [("maj1@1", first ? 1 : 0)]
        if samples > 1 { result.append(("maj1@\(samples)", majority ? 1 : 0)) }
        return result
    }

    /// pass@1 from `samples` programs at temperature 0.1 and pass@k from `samples`
    /// programs at 0.8 (the paper's §3.4 protocol), with Chen et al.'s estimator.
    func solveCode(_ example: Example, prefix: String, task: TaskDefinition, index: Int) throws -> [(String, Double)] {
        let samples = max(1, task.samples)
        func passes(temperature: Float, offset: Int) throws -> Int {
            var programs: [String] = []
            for sample in 0..<samples {
                let completion = try scorer.generate(prompt: prefix + example.prompt, maxTokens: task.maxTokens, stop: task.stop,
                                                     temperature: temperature, seed: task.seed &+ UInt64(offset + index * samples + sample))
                programs.append((example.programIncludesPrompt ? example.prompt : "") + completion + (example.test ?? ""))
            }
            return sandbox.run(programs).filter(\.passed).count
        }
        let lowTemperature = try passes(temperature: 0.1, offset: 0)
        var result: [(String, Double)] = [("pass@1", Metrics.passAtK(samples: samples, correct: lowTemperature, k: 1))]
        if samples > 1 {
            let highTemperature = try passes(temperature: 0.8, offset: 1 << 20)
            result.append(("pass@\(samples)", Metrics.passAtK(samples: samples, correct: highTemperature, k: samples)))
        }
        return result
    }

    /// Loads a task's data (and training split) with its loader.
    public static func loadExamples(_ task: TaskDefinition) throws -> (examples: [Example], pool: [Example]?) {
        func load(_ path: String) throws -> [Example] {
            task.dataset == "template" ? try TemplateLoader.load(task, path: path) : try Datasets.load(task.dataset, path: path)
        }
        return (try load(task.data), try task.train.map(load))
    }
}
