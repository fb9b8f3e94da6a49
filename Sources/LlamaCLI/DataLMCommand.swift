import LlamaCore
import ArgumentParser
import Dispatch
import Foundation
import LlamaData

/// `llama data lm`: the n-gram language model of CCNet's quality buckets (estimate, score,
/// bucket, benchmark).
struct DataLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Estimate, score with and bucket by a modified Kneser-Ney n-gram model (ARPA).",
        subcommands: [DataLMEstimateCommand.self, DataLMScoreCommand.self, DataLMBucketsCommand.self,
                      DataLMBenchCommand.self])
}

/// Lines of a file, or of standard input when no file is given.
private func readLines(_ path: String?) throws -> [Substring] {
    let data: Data
    if let path {
        guard let contents = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        data = contents
    } else {
        data = FileHandle.standardInput.readDataToEndOfFile()
    }
    let text = String(decoding: data, as: UTF8.self)
    return text.lines()
}

struct DataLMEstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate", abstract: "Estimate an interpolated modified Kneser-Ney model as lmplz does.")

    @Option(help: "Highest n-gram order.") var order = 5
    @Option(name: .shortAndLong, help: "Output ARPA file.") var output: String
    @Argument(help: "Text, one sentence per line, words separated by whitespace (stdin if none).")
    var input: String?

    func run() throws {
        var estimator = KneserNeyEstimator(order: order)
        for (index, line) in try readLines(input).enumerated() {
            try estimator.add(sentence: line, path: input ?? "<stdin>", line: index + 1)
        }
        let model = try estimator.estimate(path: input ?? "<stdin>")
        try ARPAFormat.write(model, to: output)
        print("\(estimator.tokenCount) tokens; n-grams per order \(model.counts); wrote \(output)")
    }
}

struct DataLMScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print per line the total log10 probability (with <s> and </s>) and the perplexity, as KenLM does.")

    @Option(help: "ARPA model.") var model: String
    @Argument(help: "Text file (stdin if none).") var input: String?

    func run() throws {
        let languageModel = try ARPAFormat.read(path: model)
        var output = ""
        for line in try readLines(input) {
            let scores = languageModel.fullScores(line)
            let total = scores.reduce(Float(0)) { $0 + $1.logProbability }
            let unknown = scores.filter(\.isUnknown).count
            output += "\(total)\t\(Float(pow(10, -Double(total) / Double(scores.count))))\tOOV: \(unknown)\n"
            if output.utf8.count > 1 << 16 { print(output, terminator: ""); output = "" }
        }
        print(output, terminator: "")
    }
}

struct DataLMBucketsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buckets",
        abstract: "Split JSONL documents into head / middle / tail by perplexity (CCNet's 30th / 60th percentiles).")

    @Option(help: "ARPA model.") var model: String
    @Option(help: "Field holding the text.") var field = "text"
    @Option(help: "Use every k-th document as the cutoff sample (1: all).") var sampleEvery = 1
    @Option(name: .shortAndLong, help: "Directory for head.jsonl, middle.jsonl, tail.jsonl.") var output: String
    @Argument(help: "JSONL input file.") var input: String

    func run() throws {
        let languageModel = try ARPAFormat.read(path: model)
        var documents: [([String: Any], Double)] = []
        let warnings = try JSONLReader.forEachObject(in: try FileByteSource(path: input)) { object, _ in
            let text = object[field] as? String ?? ""
            let score = DocumentPerplexity.documentScore(text, model: languageModel)
            documents.append((object, DocumentPerplexity.rounded(score.perplexity)))
        }
        for warning in warnings.prefix(20) { ShardLoop.log("warning: \(warning)") }
        let sample = documents.enumerated().filter { $0.offset % max(sampleEvery, 1) == 0 }.map(\.element.1)
        let cutoffs = PerplexityBucket.cutoffs(sample: sample)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var writers: [PerplexityBucket: AtomicLineWriter] = [:]
        var counts: [PerplexityBucket: Int] = [:]
        for bucket in PerplexityBucket.allCases {
            writers[bucket] = try AtomicLineWriter(path: output + "/\(bucket.rawValue).jsonl")
        }
        for (object, perplexity) in documents {
            let bucket = PerplexityBucket.bucket(perplexity: perplexity, cutoffs: cutoffs)
            var record = object
            record["perplexity"] = perplexity
            record["bucket"] = bucket.rawValue
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
            try writers[bucket]?.write(line: String(decoding: data, as: UTF8.self))
            counts[bucket, default: 0] += 1
        }
        for writer in writers.values { try writer.commit() }
        print(String(format: "cutoffs: head < %.1f, middle < %.1f", cutoffs.head, cutoffs.tail))
        print(PerplexityBucket.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", "))
    }
}

struct DataLMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Scoring speed in tokens/s, against the kenlm python package if installed.")

    @Option(help: "ARPA model.") var model: String
    @Option(help: "Times to score the text.") var repeats = 3
    @Argument(help: "Text file.") var input: String

    func run() throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let languageModel = try ARPAFormat.read(path: model)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let lines = try readLines(input)
        let tokens = lines.reduce(0) { $0 + NGramModel.wordCount($1) + 1 } * repeats
        let start = DispatchTime.now().uptimeNanoseconds
        var total = 0.0
        for _ in 0..<repeats { for line in lines { total += languageModel.score(line) } }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "swift: %d tokens in %.3f s = %.0f tokens/s (sum log10 p %.4f); load %.2f s", tokens, seconds,
                     Double(tokens) / seconds, total / Double(repeats), loadSeconds))
        // The same lines as `readLines` (cut at LF, a CR before it removed) and words as KenLM
        // splits them (bytes.split), so both sides score the same tokens.
        let script = """
            import kenlm, sys, time
            t = time.perf_counter(); m = kenlm.Model(sys.argv[1]); load = time.perf_counter() - t
            lines = open(sys.argv[2], 'rb').read().split(b'\\n')
            if lines and lines[-1] == b'': lines.pop()
            lines = [l[:-1] if l.endswith(b'\\r') else l for l in lines]
            n = int(sys.argv[3]); t = time.perf_counter(); s = 0.0
            for _ in range(n):
                for l in lines: s += m.score(l)
            d = time.perf_counter() - t
            tokens = sum(len(l.split()) + 1 for l in lines) * n
            print("kenlm python: %d tokens in %.3f s = %.0f tokens/s (sum log10 p %.4f); load %.2f s"
                  % (tokens, d, tokens / d, s / n, load))
            """
        fflush(stdout)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, model, input, String(repeats)]
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            print("kenlm python: not run (\(error))")
        }
    }
}
