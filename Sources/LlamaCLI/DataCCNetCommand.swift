import ArgumentParser
import Foundation
import LlamaCore
import LlamaData

/// `llama data ccnet`: the CCNet pipeline (line dedup, language id, 5-gram perplexity buckets,
/// quality score) over a group of WET or JSONL shards.
struct DataCCNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ccnet",
        abstract: "CCNet: line dedup, language id, perplexity buckets and quality score on WET/JSONL shards.",
        discussion: """
            Stage hashes writes OUT/hashes/NAME.hashes (and perplexity samples); stage mine writes OUT/NAME.jsonl. \
            --stage all (default) runs both. Split over workers, run --stage hashes on every worker, then \
            --stage mine (docs/ccnet-slurm.sbatch): the output equals a single process's.
            """)

    enum Stage: String, ExpressibleByArgument { case hashes, mine, all }

    @Option(name: .shortAndLong, help: "Output folder.") var output: String
    @Option(help: "hashes, mine or all.") var stage: Stage = .all
    @Option(name: .customLong("lm-dir"), help: "Folder with {lang}.arpa and {lang}.sp.model per language.") var lmDirectory: String?
    @Option(help: "Perplexity cutoffs file (cutoffs.json) to use instead of computing them.") var cutoffs: String?
    @Option(name: .customLong("sample-every"), help: "Every k-th document of each shard joins the cutoff sample.")
    var sampleEvery = 10
    @Option(name: .customLong("lid-model"), help: "fastText language-id model (lid.176.bin / .ftz).") var lidModel: String?
    @Option(help: "Give every document this language instead of identifying it.") var language: String?
    @Option(name: .customLong("language-threshold"), help: "Drop documents whose language score is below it.")
    var languageThreshold = 0.5
    @Option(help: "Comma-separated languages to keep (default all).") var languages: String?
    @Option(name: .customLong("quality-model"), help: "fastText quality classifier (Wikipedia references vs random pages).")
    var qualityModel: String?
    @Option(name: .customLong("quality-label"), help: "Label of the reference-like class.") var qualityLabel = "__label__wiki"
    @Option(name: .customLong("quality-threshold"), help: "Drop documents whose quality score is below it.")
    var qualityThreshold: Double?
    @Option(help: "A hash set (.hashes) of lines seen before this group (an earlier dump).") var hashes: String?
    @Option(name: .customLong("dedup-normalization"),
            help: "paper (lower case, digits → 0, accents, punctuation removed, whitespace collapsed) or ccnet (cc_net's normalize_for_dedup code).")
    var dedupNormalization: CCNetNormalizer.DedupRule = .paper
    @OptionGroup var worker: WorkerOptions
    @Flag(help: "Write NAME.jsonl.gz instead of NAME.jsonl.") var gzip = false
    @Flag(help: "Print no progress.") var quiet = false
    @Argument(help: "WET (.warc.wet[.gz]) or JSONL shards of one group, in order.") var inputs: [String]

    func run() throws {
        var configuration = CCNetConfiguration()
        configuration.sampleEvery = sampleEvery
        configuration.dedupRule = dedupNormalization
        if let lidModel {
            configuration.languageIdentification = LanguageIdentification(classifier: try ClassifierLoading.load(lidModel),
                                                                          threshold: languageThreshold)
        } else if let language {
            configuration.languageIdentification = LanguageIdentification(classifier: FixedLanguage(language), threshold: 0)
        }
        if let languages { configuration.languages = Set(languages.split(separator: ",").map(String.init)) }
        if let lmDirectory { configuration.perplexityModels = try PerplexityModels.load(directory: lmDirectory) }
        if let cutoffs { configuration.cutoffs = try PerplexityCutoffs.load(path: cutoffs) }
        if let qualityModel {
            configuration.quality = QualityScoring(classifier: try ClassifierLoading.load(qualityModel), label: qualityLabel,
                                                   threshold: qualityThreshold)
        }
        let pipeline = CCNetPipeline(configuration: configuration, directory: output)
        pipeline.gzipOutput = gzip
        let share = try worker.share()
        let start = Date()
        var counts = StageCounts()
        // A progress bar per stage over the shards it still has to read.
        let owned = share.select(inputs)
        func bar(_ name: String, pending: (String) -> Bool) -> ProgressBar? {
            guard !quiet else { return nil }
            let bar = ProgressBar(label: "ccnet \(name)", totalBytes: ProgressBar.size(of: owned.filter(pending)))
            bar.start()
            return bar
        }
        if stage != .mine {
            let progress = bar("hashes") { !FileManager.default.fileExists(atPath: pipeline.hashesPath(for: $0)) }
            counts.merge(try pipeline.hashes(inputs: inputs, share: share, log: progress.map { bar in { bar.log($0) } }))
            progress?.finish()
        }
        if stage != .hashes {
            let extra = try hashes.map { try LineHashSet.load(path: $0) }
            let progress = bar("mine") { !FileManager.default.fileExists(atPath: pipeline.outputPath(for: $0)) }
            counts.merge(try pipeline.mine(inputs: inputs, share: share, extraHashes: extra, log: progress.map { bar in { bar.log($0) } }))
            progress?.finish()
        }
        print("ccnet: \(inputs.count) shard(s), \(share), in \(output)")
        print(counts.description)
        print(String(format: "%.1f s", Date().timeIntervalSince(start)))
    }
}

extension CCNetNormalizer.DedupRule: ExpressibleByArgument {}

/// Loading fastText classifiers for the CCNet pipeline.
enum ClassifierLoading {
    /// A fastText `.bin` or `.ftz` model (lid.176, a quality classifier).
    static func load(_ path: String) throws -> DocumentClassifier {
        try FastTextModel.load(path: path)
    }
}
