import ArgumentParser
import Foundation
import LlamaData

struct DataWikipediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wikipedia", abstract: "MediaWiki pages-articles XML dumps (plain or .bz2) to plain text.")

    @OptionGroup var options: DataShardOptions
    @Option(help: "Language code for the documents' meta (default: from the dump's <dbname>).") var language: String?

    func run() throws {
        try ShardLoop.run(source: "wikipedia", options: options) {
            try WikipediaPipeline.run(inputPath: $0, files: $1, language: language, progress: $2)
        }
    }
}

struct DataBooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "books", abstract: "Books: Gutenberg header/footer removal, near-duplicate removal (MinHash LSH).")

    @OptionGroup var options: DataShardOptions
    @Option(help: "Jaccard similarity above which a later book is a near-duplicate.") var threshold = 0.9
    @Option(help: "Seed of the MinHash permutations.") var seed: UInt64 = 1
    @Option(name: .customLong("shingle-words"), help: "Words per shingle.") var shingleWords = 5

    func run() throws {
        let hasher = MinHasher(permutationCount: 128, shingleWords: shingleWords, seed: seed)
        let index = NearDuplicateIndex(bandCount: 8, rowsPerBand: 16, threshold: threshold)
        try ShardLoop.run(source: "books", options: options,
                          restore: { BooksPipeline.restore(words: $0, hasher: hasher, index: index) }) {
            try BooksPipeline.run(inputPath: $0, files: $1, hasher: hasher, index: index, progress: $2)
        }
    }
}

struct DataArxivCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arxiv", abstract: "arXiv LaTeX sources (directory, .tex, .tar, .tar.gz, bulk tar) to text.")

    @OptionGroup var options: DataShardOptions

    func run() throws {
        try ShardLoop.run(source: "arxiv", options: options) {
            try ArxivPipeline.run(inputPath: $0, files: $1, progress: $2)
        }
    }
}

struct DataStackExchangeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stackexchange", abstract: "StackExchange Posts.xml: one document per question, answers by score.")

    @OptionGroup var options: DataShardOptions
    @Option(help: "Keep only the N largest sites by Posts.xml size (the paper keeps the 28 largest).") var largest: Int?

    func run() throws {
        var options = options
        if let largest {
            let sizes = Dictionary(options.inputs.map { input in
                (input, ((try? FileManager.default.attributesOfItem(atPath: input))?[.size] as? NSNumber)?.intValue ?? 0)
            }, uniquingKeysWith: { first, _ in first })
            // Largest first; equal sizes in argument order.
            let ranked = options.inputs.enumerated().sorted {
                (sizes[$0.element] ?? 0, -$0.offset) > (sizes[$1.element] ?? 0, -$1.offset)
            }.map(\.element)
            for dropped in ranked.dropFirst(largest) { ShardLoop.log("stackexchange: \(dropped) is not among the \(largest) largest sites, skipped") }
            let kept = Set(ranked.prefix(largest))
            options.inputs = options.inputs.filter(kept.contains)
        }
        // Posts.xml files are told apart by their site directory (math.stackexchange.com/Posts.xml).
        try ShardLoop.run(source: "stackexchange", options: options, shardName: StackExchangePipeline.siteName) {
            try StackExchangePipeline.run(inputPath: $0, files: $1, site: StackExchangePipeline.siteName(for: $0), progress: $2)
        }
    }
}
