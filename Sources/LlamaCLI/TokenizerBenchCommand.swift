import ArgumentParser
import Foundation
import LlamaTokenizer

/// `llama tokenizer bench`: speed figures of this implementation (Benchmarks/tokenizer.sh
/// runs it next to python `sentencepiece`). Never part of `swift test`.
struct TokenizerBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure encode throughput (1 and 2 threads) or training time; prints JSON.",
        discussion: """
            --model=M --corpus=FILE [--repeat=3]: encode every line of FILE. \
            --train=FILE --vocab_size=8000 [--repeat=3] [other spm_train flags]: train and report seconds \
            and peak resident memory of this process.
            """)

    @Argument(parsing: .captureForPassthrough, help: "flags")
    var flags: [String] = []

    func run() throws {
        try TokenizerCommand.reportingErrors {
            var parsed = try SentencePieceFlags(flags, booleanNames: TokenizerTrainCommand.booleanFlags)
            let repeats = try parsed.integer("repeat") ?? 3
            if let corpus = parsed.string("train") {
                var options = try TokenizerTrainCommand.options(from: &parsed)
                if options.numThreads == BPETrainerOptions().numThreads { options.numThreads = ProcessInfo.processInfo.activeProcessorCount }
                try parsed.checkAllUsed()
                var best = Double.infinity
                var pieces = 0
                for _ in 0..<max(1, repeats) {
                    let start = Date()
                    let model = try BPETrainer(options: options).train(inputFiles: [URL(fileURLWithPath: corpus)])
                    best = min(best, Date().timeIntervalSince(start))
                    pieces = model.pieces.count
                }
                print("{\"train_seconds\":\(String(format: "%.4f", best)),\"pieces\":\(pieces),\"peak_rss_mb\":\(String(format: "%.1f", Self.peakResidentMegabytes()))}")
                return
            }
            guard let modelPath = parsed.string("model"), let corpus = parsed.string("corpus") else {
                throw TokenizerCLIError.usage("give --model and --corpus, or --train")
            }
            try parsed.checkAllUsed()
            let tokenizer = try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: modelPath))
            let lines = try TokenizerIO.readLines([corpus])
            let bytes = lines.reduce(0) { $0 + $1.count + 1 }
            var results: [String] = []
            for threads in [1, 2] {
                var best = Double.infinity
                var tokens = 0
                for _ in 0..<max(1, repeats) {
                    let start = Date()
                    let encoded = tokenizer.encode(batchOfBytes: lines, threadCount: threads)
                    best = min(best, Date().timeIntervalSince(start))
                    tokens = encoded.reduce(0) { $0 + $1.count }
                }
                results.append("\"threads_\(threads)\":{\"seconds\":\(String(format: "%.4f", best)),"
                    + "\"mb_per_s\":\(String(format: "%.2f", Double(bytes) / 1e6 / best)),"
                    + "\"tokens_per_s\":\(String(format: "%.0f", Double(tokens) / best)),\"tokens\":\(tokens)}")
            }
            print("{\"bytes\":\(bytes),\"lines\":\(lines.count)," + results.joined(separator: ",") + "}")
        }
    }

    /// Peak resident set size of this process (getrusage; kilobytes on Linux).
    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
