import ArgumentParser
import Dispatch
import Foundation
import LlamaCore
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

    @Option(help: "all, keys or clean: for workers running at the same time, keys on every worker, then clean (c4, github, books).")
    var stage: ShardStage = .all

    @Flag(help: "Print no progress.") var quiet = false

    @OptionGroup var worker: WorkerOptions

    @Argument(help: "Input files (one shard each).") var inputs: [String]
}

/// The stages of a cleaner that deduplicates across shards. `all` cleans the shards in order,
/// each deduplicated against the shards before it that are finished. Workers that run at the
/// same time first run `keys` (every shard's deduplication keys, `OUT/keys/NAME.keys`), then
/// `clean`, which restores the keys of all earlier shards and so writes what one process writes.
enum ShardStage: String, ExpressibleByArgument, CaseIterable { case all, keys, clean }

/// Runs shards one after another (each uses every core inside), skipping those finished in
/// an earlier run, and prints warnings and progress to stderr and the summed stage counts
/// to stdout at the end.
enum ShardLoop {
    /// - Parameter restore: adds the saved deduplication state of an earlier shard (the words
    ///   of its keys file); nil for cleaners that do not deduplicate across shards.
    static func run(source: String, options: DataShardOptions, shardName: ((String) -> String)? = nil,
                    restore: (([UInt64]) -> Void)? = nil,
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
        let share = try options.worker.share()
        let stage = options.stage
        guard let restore else {
            guard stage != .keys else {
                print("\(source): no deduplication across shards, nothing to do in the keys stage")
                return
            }
            return try runShards(source: source, options: options, shards: shards, share: share, shard: shard)
        }
        // The deduplication state before each shard: from the keys stage's files (clean), or
        // from the shards finished so far (all).
        let restoreEarlier = { (input: String, files: ShardFiles, owned: Bool) throws -> Bool in
            switch stage {
            case .keys:
                return true
            case .clean:
                // A shard finished by an earlier run without stages saved its kept keys: restoring
                // them leaves the same state as its keys stage's (the rest were duplicates).
                guard let words = files.stageWords() ?? (files.isComplete ? files.savedWords() : nil) else {
                    throw ValidationError("\(files.stageKeys) is missing: run --stage keys for every shard (\(input)) before --stage clean")
                }
                restore(words)
                return true
            case .all:
                if files.isComplete {
                    restore(files.savedWords())
                    return true
                }
                if !owned, !options.quiet {
                    log("[\(source)] \(input): another worker's shard, not finished yet: dedup across it is not applied " +
                        "(run --stage keys on every worker, then --stage clean)")
                }
                return false
            }
        }
        try runShards(source: source, options: options, shards: shards, share: share, before: restoreEarlier, shard: shard)
    }

    /// Runs this worker's shards; `before` is called for every shard in order, with whether it is
    /// this worker's, and returns whether the shard's saved state stands in for running it.
    private static func runShards(source: String, options: DataShardOptions, shards: [(String, ShardFiles)], share: WorkShare,
                                  before: ((String, ShardFiles, Bool) throws -> Bool)? = nil,
                                  shard: (String, ShardFiles, ProgressHandler?) throws -> ShardReport) throws {
        var total = StageCounts()
        var bytes = 0
        var warningCount = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let keysOnly = options.stage == .keys
        let pending = shards.enumerated().filter { index, shard in
            share.owns(position: index) && !(keysOnly ? shard.1.stageWords() != nil : shard.1.isComplete)
        }
        let bar = options.quiet ? nil : ProgressBar(label: source, totalBytes: ProgressBar.size(of: pending.map(\.element.0)))
        let say = { (message: String) in if let bar { bar.log(message) } else { log(message) } }
        bar?.start()
        defer { bar?.finish() }
        var documentsBefore = 0
        for (index, (input, shardFiles)) in shards.enumerated() {
            var files = shardFiles
            files.keysOnly = keysOnly
            let label = "[\(index + 1)/\(shards.count)] \(source) \(input)"
            let owned = share.owns(position: index)
            let done = keysOnly ? files.stageWords() != nil : files.isComplete
            if !owned || done {
                // Another worker's shard, or one finished earlier: its state still counts for the shards after it.
                _ = try before?(input, files, owned)
                if owned {
                    if !keysOnly { total.merge(files.savedCounts()) }
                    if !options.quiet { say("\(label): complete in an earlier run, skipped") }
                }
                continue
            }
            bar?.label = "\(source)\(keysOnly ? " keys" : "") [\(index + 1)/\(shards.count)] \((input as NSString).lastPathComponent)"
            let before = documentsBefore
            let progress: ProgressHandler? = bar.map { bar in { _, documents in bar.set(items: before + documents) } }
            let report = try shard(input, files, progress)
            documentsBefore += report.documents
            for warning in report.warnings.prefix(20) { say("warning: \(warning)") }
            if report.warnings.count > 20 { say("warning: … and \(report.warnings.count - 20) more in \(input)") }
            warningCount += report.warnings.count
            total.merge(report.counts)
            bytes += report.inputBytes
        }
        bar?.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("\(source): \(shards.count) shard(s) in \(options.output) (\(share)\(keysOnly ? ", keys stage" : ""))")
        if !keysOnly { print(total.description) }
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
        try ShardLoop.run(source: "c4", options: options, restore: { deduplicator.insert(keys: HashKey.keys(words: $0)) }) {
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
        try ShardLoop.run(source: "github", options: options, restore: { deduplicator.insert(keys: HashKey.keys(words: $0)) }) {
            try GitHubPipeline.run(inputPath: $0, files: $1, cleaner: cleaner, deduplicator: deduplicator, progress: $2)
        }
    }
}
