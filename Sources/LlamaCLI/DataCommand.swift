import ArgumentParser
import Dispatch
import Foundation
import LlamaData

/// `llama data`: the source cleaners of the LLaMA training mixture (paper section 2.1).
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Clean the sources of the training mixture into JSONL documents.",
        subcommands: [DataC4Command.self, DataGitHubCommand.self, DataWikipediaCommand.self, DataBooksCommand.self,
                      DataArxivCommand.self, DataStackExchangeCommand.self, DataBenchCommand.self,
                      DataLMCommand.self, DataLangIdCommand.self, DataQualityCommand.self, DataMixCommand.self,
                      DataCCNetCommand.self, DataMergeCommand.self])
}

/// Options every cleaner shares.
struct DataShardOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Directory for NAME.jsonl (+ NAME.counts.json, NAME.keys) per input shard.")
    var output: String

    @Flag(help: "Print no progress.") var quiet = false

    @OptionGroup var worker: WorkerOptions

    @Argument(help: "Input files (one shard each).") var inputs: [String]
}

/// Runs shards one after another (each uses every core inside), skipping those finished in
/// an earlier run, and prints warnings and progress to stderr and the summed stage counts
/// to stdout at the end.
enum ShardLoop {
    static func run(source: String, options: DataShardOptions, shardName: ((String) -> String)? = nil,
                    restore: (ShardFiles) -> Void = { _ in },
                    shard: (String, ShardFiles, ProgressHandler?) throws -> ShardReport) throws {
        try FileManager.default.createDirectory(atPath: options.output, withIntermediateDirectories: true)
        let shards = options.inputs.map { input in
            (input, shardName.map { ShardFiles(directory: options.output, name: $0(input)) }
                ?? ShardFiles(directory: options.output, inputPath: input))
        }
        var seen: Set<String> = []
        for (input, files) in shards where !seen.insert(files.output).inserted {
            throw ValidationError("two inputs write the same shard \(files.output) (\(input)): rename one")
        }
        var total = StageCounts()
        var bytes = 0
        var warningCount = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let share = try options.worker.share()
        for (index, (input, files)) in shards.enumerated() {
            let label = "[\(index + 1)/\(shards.count)] \(source) \(input)"
            // Another worker's shard: its dedup state still counts for the shards after it.
            if !share.owns(position: index) {
                if files.isComplete {
                    restore(files)
                } else if !options.quiet {
                    log("\(label): another worker's shard, not finished yet: dedup across it is not applied")
                }
                continue
            }
            if files.isComplete {
                restore(files)
                total.merge(files.savedCounts())
                if !options.quiet { log("\(label): complete in an earlier run, skipped") }
                continue
            }
            let shardStart = DispatchTime.now().uptimeNanoseconds
            let progress: ProgressHandler? = options.quiet ? nil : { inputBytes, documents in
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - shardStart) / 1e9
                log(String(format: "%@: %.1f MB read, %d documents, %.1f MB/s", label, Double(inputBytes) / 1e6, documents,
                           Double(inputBytes) / 1e6 / max(seconds, 1e-9)))
            }
            let report = try shard(input, files, progress)
            for warning in report.warnings.prefix(20) { log("warning: \(warning)") }
            if report.warnings.count > 20 { log("warning: … and \(report.warnings.count - 20) more in \(input)") }
            warningCount += report.warnings.count
            total.merge(report.counts)
            bytes += report.inputBytes
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("\(source): \(shards.count) shard(s) in \(options.output) (\(share))")
        print(total.description)
        if bytes > 0 {
            print(String(format: "read %.1f MB in %.1f s (%.1f MB/s); %d warning(s)", Double(bytes) / 1e6, seconds,
                         Double(bytes) / 1e6 / max(seconds, 1e-9), warningCount))
        }
    }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

struct DataC4Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "c4", abstract: "C4 rules (Raffel et al., 2020) on Common Crawl WET files or JSONL pages.")

    @OptionGroup var options: DataShardOptions
    @Option(name: .customLong("bad-words"), help: "Bad-words list file, one phrase per line (default: LDNOOBW en, as C4).")
    var badWords: String?
    @Flag(name: .customLong("reference-extras"),
          help: "Also apply the TFDS implementation's rules the paper does not state (policy lines, citations, long words, ellipses).")
    var referenceExtras = false

    func run() throws {
        var configuration = C4Configuration()
        configuration.referenceImplementationExtras = referenceExtras
        if let badWords {
            guard let text = try? String(contentsOfFile: badWords, encoding: .utf8) else {
                throw ValidationError("cannot read bad-words list \(badWords)")
            }
            configuration.badWords = BadWordsFilter(listText: text)
        }
        let cleaner = C4Cleaner(configuration: configuration)
        let deduplicator = C4SpanDeduplicator(configuration: configuration)
        try ShardLoop.run(source: "c4", options: options, restore: { deduplicator.insert(keys: $0.savedKeys()) }) {
            try C4Pipeline.run(inputPath: $0, files: $1, cleaner: cleaner, deduplicator: deduplicator, progress: $2)
        }
    }
}

struct DataGitHubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "github", abstract: "GitHub source files (JSONL): licences, extensions, line-length filters, dedup.")

    @OptionGroup var options: DataShardOptions
    @Option(name: .customLong("max-line-length")) var maximumLineLength = 1000
    @Option(name: .customLong("max-mean-line-length")) var maximumMeanLineLength = 100.0
    @Option(name: .customLong("min-alphanumeric-fraction")) var minimumAlphanumericFraction = 0.25
    @Option(help: "Comma-separated extensions to keep (with dots; bare names like makefile), replacing the default list.")
    var extensions: String?
    @Option(help: "Comma-separated licences to keep, replacing the default (Apache, BSD, MIT).") var licenses: String?

    func run() throws {
        var configuration = GitHubConfiguration()
        configuration.maximumLineLength = maximumLineLength
        configuration.maximumMeanLineLength = maximumMeanLineLength
        configuration.minimumAlphanumericFraction = minimumAlphanumericFraction
        if let extensions { configuration.extensions = Set(extensions.lowercased().split(separator: ",").map(String.init)) }
        if let licenses { configuration.licenses = Set(licenses.lowercased().split(separator: ",").map(String.init)) }
        let cleaner = GitHubCleaner(configuration: configuration)
        let deduplicator = ExactDeduplicator()
        try ShardLoop.run(source: "github", options: options, restore: { deduplicator.insert(keys: $0.savedKeys()) }) {
            try GitHubPipeline.run(inputPath: $0, files: $1, cleaner: cleaner, deduplicator: deduplicator, progress: $2)
        }
    }
}
