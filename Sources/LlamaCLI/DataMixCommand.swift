import ArgumentParser
import Foundation
import LlamaCore
import LlamaData
import LlamaTokenizer
import LlamaTraining

/// `--shard-index` / `--shard-count`: this process's share of the tasks (also taken from
/// Slurm job-array and MPI variables, `WorkShare.resolve`).
struct WorkerOptions: ParsableArguments {
    @Option(name: .customLong("shard-index"), help: "This worker's index, 0 ..< --shard-count (default: SLURM_ARRAY_TASK_ID, OMPI_COMM_WORLD_RANK or PMI_RANK, else 0).")
    var shardIndex: Int?
    @Option(name: .customLong("shard-count"), help: "Number of workers sharing the inputs (default: SLURM_ARRAY_TASK_COUNT, OMPI_COMM_WORLD_SIZE or PMI_SIZE, else 1).")
    var shardCount: Int?

    func share() throws -> WorkShare { try WorkShare.resolve(index: shardIndex, count: shardCount) }
}

/// `llama data mix`: cleaned JSONL documents of several sources → token shards per source, as
/// the paper's Table 1 mixes them.
struct DataMixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mix",
        abstract: "Tokenise cleaned JSONL sources into token shards with Table 1's weights and epochs.",
        discussion: """
            Sources: --source name=PATTERN[:weight[:epochs]] (repeatable; PATTERN a file, a directory of \
            *.jsonl[.gz] or a glob) or --mixture FILE.json. Weights and epochs default to the paper's Table 1 \
            for its source names (commoncrawl, c4, github, wikipedia, books, arxiv, stackexchange), else 1. \
            Without --total-tokens each source is written `epochs` times; with it, each gets weight × total tokens.
            """)

    @Option(name: .shortAndLong, help: "Output folder: NAME/ (shards, manifest.json, mix.json) per source and mixture.json.")
    var output: String
    @Option(help: "SentencePiece .model file.") var tokenizer: String
    @Option(name: .customLong("source"), help: "name=PATTERN[:weight[:epochs]]") var sources: [String] = []
    @Option(help: "Mixture JSON file (sources, seed, total_tokens, shard_tokens).") var mixture: String?
    @Option(help: "Seed of the partial-epoch sampling.") var seed: UInt64?
    @Option(name: .customLong("total-tokens"), help: "Tokens of the whole mixture; each source gets its weight's share.")
    var totalTokens: Int?
    @Option(name: .customLong("shard-tokens"), help: "Tokens per shard file.") var shardTokens: Int?
    @Option(help: "JSON field with the text for --source sources (default: text, else raw_content as CCNet writes it).")
    var field: String?
    @OptionGroup var worker: WorkerOptions
    @Flag(help: "Print no progress.") var quiet = false

    func run() throws {
        var configuration = try mixture.map(MixtureConfiguration.load(path:)) ?? MixtureConfiguration(sources: [])
        for spec in sources {
            var source = try MixtureSource.parse(spec)
            source.field = field
            configuration.sources.append(source)
        }
        guard !configuration.sources.isEmpty else { throw ValidationError("give --source or --mixture") }
        if let seed { configuration.seed = seed }
        if let totalTokens { configuration.totalTokens = totalTokens }
        if let shardTokens { configuration.shardTokens = shardTokens }
        let model = SentencePieceTextTokenizer(try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: tokenizer)))
        let share = try worker.share()
        let start = Date()
        let bar = quiet ? nil : ProgressBar(label: "mix", totalBytes: 0)
        bar?.start()
        let results = try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: output, share: share,
                                              log: bar.map { bar in { bar.log($0) } }, bar: bar)
        bar?.finish()
        let total = results.reduce(0) { $0 + $1.tokens }
        print("mix: \(results.count) of \(configuration.sources.count) source(s) complete in \(output) (\(share))")
        for result in results {
            print(String(format: "%@: %d documents, %d tokens (%.1f%%), %.2f epochs; skipped %d invalid JSON, %d invalid UTF-8, %d without text",
                         result.name, result.documents, result.tokens, 100 * Double(result.tokens) / Double(max(total, 1)),
                         result.epochsPlanned, result.skippedInvalidJSON, result.skippedInvalidUTF8, result.skippedNoText))
        }
        if results.count == configuration.sources.count {
            let data = results.map { "\(output)/\($0.name):\($0.weight)" }.joined(separator: " --data ")
            print("train on it with: llama train --data \(data) …")
        }
        print(String(format: "%.1f s", Date().timeIntervalSince(start)))
    }
}
