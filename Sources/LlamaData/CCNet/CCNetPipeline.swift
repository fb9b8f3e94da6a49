import Foundation

/// What the CCNet pipeline does after line dedup; every part optional.
public struct CCNetConfiguration: Sendable {
    /// Language id (cc_net: lid.176 with threshold 0.5); nil leaves `language` unset.
    public var languageIdentification: LanguageIdentification?
    /// Languages to keep (nil: all).
    public var languages: Set<String>?
    /// Per-language 5-gram models; nil skips perplexity and buckets.
    public var perplexityModels: PerplexityModels?
    /// Cutoffs to use; nil: computed from the sample the hashes stage takes.
    public var cutoffs: PerplexityCutoffs?
    /// Every `sampleEvery`-th document of a shard joins the cutoff sample.
    public var sampleEvery = 10
    /// The quality classifier, nil for none.
    public var quality: QualityScoring?
    /// The line normalisation dedup hashes (default: the paper's; `.ccnet`: cc_net's code).
    public var dedupRule: CCNetNormalizer.DedupRule = .paper

    public init() {}
}

/// CCNet (Wenzek et al. 2020; facebookresearch/cc_net `mine.py`) over a group of shards, in
/// two stages so that it runs split over workers with the same result as one process:
///
/// 1. `hashes`: per shard, the set of its line hashes (`hashes/NAME.hashes`) and, when there
///    are language models and no cutoffs, the perplexities of every k-th document
///    (`samples/NAME.json`, its lines deduplicated within the document only).
/// 2. `mine`: per shard, line dedup against the hashes of every earlier shard of the group
///    and the shard's own earlier lines (first occurrence kept), language id, perplexity,
///    bucket, quality score → `NAME.jsonl` (+ `NAME.counts.json`), written atomically.
///
/// Cutoffs (`cutoffs.json`) come from the configuration, or from the merged samples.
public final class CCNetPipeline {
    public let configuration: CCNetConfiguration
    public let directory: String
    /// Writes `NAME.jsonl.gz` (one gzip member) instead of `NAME.jsonl`.
    public var gzipOutput = false

    public init(configuration: CCNetConfiguration, directory: String) {
        self.configuration = configuration
        self.directory = directory
    }

    public func files(for input: String) -> ShardFiles { ShardFiles(directory: directory, inputPath: input) }
    /// The shard's JSONL output (`.jsonl` or `.jsonl.gz`); it exists only once complete.
    public func outputPath(for input: String) -> String { files(for: input).output + (gzipOutput ? ".gz" : "") }
    public func hashesPath(for input: String) -> String {
        directory + "/hashes/" + ShardFiles.stem(of: (input as NSString).lastPathComponent) + ".hashes"
    }
    public func samplePath(for input: String) -> String {
        directory + "/samples/" + ShardFiles.stem(of: (input as NSString).lastPathComponent) + ".json"
    }
    public var cutoffsPath: String { directory + "/cutoffs.json" }

    private var wantsSample: Bool { configuration.perplexityModels != nil && configuration.cutoffs == nil }

    /// Stage 1 for this worker's shards; shards whose hash set exists are skipped.
    public func hashes(inputs: [String], share: WorkShare = .everything, log: ((String) -> Void)? = nil) throws -> StageCounts {
        try FileManager.default.createDirectory(atPath: directory + "/hashes", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/samples", withIntermediateDirectories: true)
        var counts = StageCounts()
        for (position, input) in inputs.enumerated() where share.owns(position: position) {
            let label = "[\(position + 1)/\(inputs.count)] ccnet hashes \(input)"
            if FileManager.default.fileExists(atPath: hashesPath(for: input)) {
                log?("\(label): complete in an earlier run, skipped")
                continue
            }
            var hashes: [UInt64] = []
            var sample: [String: [Double]] = [:]
            var index = 0
            let rule = configuration.dedupRule
            let batches = OrderedBatches<CCNetDocument, [UInt64]>(transform: { document in
                CCNetDocument.lines(document.rawContent).map { CCNetNormalizer.lineHash(String($0), rule: rule) }
            }, consume: { hashes += $0 })
            let sampled = OrderedBatches<CCNetDocument, (String, Double)?>(transform: { [configuration] document in
                var document = document
                Self.deduplicateWithin(&document, rule: configuration.dedupRule)
                return Self.sampleScore(document, configuration: configuration)
            }, consume: { if let (language, perplexity) = $0 { sample[language, default: []].append(perplexity) } })
            let warnings = try Self.forEachDocument(in: input) { document in
                try batches.add(document)
                if wantsSample && index % max(configuration.sampleEvery, 1) == 0 { try sampled.add(document) }
                index += 1
            }
            try batches.finish()
            try sampled.finish()
            if wantsSample { try PerplexityCutoffs.saveSample(sample, path: samplePath(for: input)) }
            try LineHashSet(hashes).save(path: hashesPath(for: input))
            counts.add("ccnet.hashes.documents", index)
            counts.add("ccnet.hashes.lines", hashes.count)
            log?("\(label): \(index) documents, \(hashes.count) lines, \(warnings.count) warning(s)")
        }
        return counts
    }

    /// The cutoffs: configured, saved in `cutoffs.json`, or merged from every shard's sample
    /// (then saved); nil without language models.
    /// - Throws: `DataError.invalidConfiguration` when a shard's sample is missing.
    public func resolveCutoffs(inputs: [String]) throws -> PerplexityCutoffs? {
        if let cutoffs = configuration.cutoffs { return cutoffs }
        guard configuration.perplexityModels != nil else { return nil }
        if FileManager.default.fileExists(atPath: cutoffsPath) { return try PerplexityCutoffs.load(path: cutoffsPath) }
        let paths = inputs.map(samplePath(for:))
        if let missing = paths.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            throw DataError.invalidConfiguration(path: missing, reason: "perplexity sample missing: run the hashes stage for every shard first, or give --cutoffs")
        }
        let cutoffs = PerplexityCutoffs(samples: try PerplexityCutoffs.mergeSamples(paths: paths))
        try cutoffs.save(path: cutoffsPath)
        return cutoffs
    }

    /// Stage 2 for this worker's shards; finished shards are skipped (their counts restored).
    /// `extraHashes` (earlier dumps, say) count as seen before the first shard.
    public func mine(inputs: [String], share: WorkShare = .everything, extraHashes: LineHashSet? = nil,
                     log: ((String) -> Void)? = nil) throws -> StageCounts {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cutoffs = try resolveCutoffs(inputs: inputs)
        let deduplicator = LineDeduplicator()
        if let extraHashes { deduplicator.insert(extraHashes) }
        var inserted = 0
        var total = StageCounts()
        for (position, input) in inputs.enumerated() where share.owns(position: position) {
            let files = self.files(for: input)
            let label = "[\(position + 1)/\(inputs.count)] ccnet \(input)"
            if FileManager.default.fileExists(atPath: outputPath(for: input)) {
                total.merge(files.savedCounts())
                log?("\(label): complete in an earlier run, skipped")
                continue
            }
            while inserted < position {
                let path = hashesPath(for: inputs[inserted])
                guard FileManager.default.fileExists(atPath: path) else {
                    throw DataError.invalidConfiguration(path: path, reason: "hash set of an earlier shard missing: run the hashes stage for every shard first")
                }
                deduplicator.insert(try LineHashSet.load(path: path))
                inserted += 1
            }
            let counts = try mineShard(input: input, output: outputPath(for: input), files: files, deduplicator: deduplicator,
                                       cutoffs: cutoffs)
            log?("\(label): \(counts["ccnet.documents.kept"]) of \(counts["ccnet.documents.read"]) documents kept")
            total.merge(counts)
        }
        return total
    }

    private func mineShard(input: String, output: String, files: ShardFiles, deduplicator: LineDeduplicator,
                           cutoffs: PerplexityCutoffs?) throws -> StageCounts {
        let writer = try AtomicLineWriter(path: output, gzip: gzipOutput)
        var counts = StageCounts()
        for name in ["documents.read", "lines.read", "lines.removed.duplicate", "documents.removed.duplicate",
                     "documents.removed.language", "documents.removed.quality", "documents.kept", "lines.kept"] {
            counts.add("ccnet." + name, 0)
        }
        let configuration = self.configuration
        let scored = OrderedBatches<CCNetDocument, (CCNetDocument, String?)>(transform: { document in
            Self.annotate(document, configuration: configuration, cutoffs: cutoffs)
        }, consume: { document, dropped in
            if let dropped {
                counts.add("ccnet.documents.removed." + dropped)
                return
            }
            counts.add("ccnet.documents.kept")
            counts.add("ccnet.lines.kept", document.nlines)
            if let language = document.language { counts.add("ccnet.language." + language) }
            if let bucket = document.bucket { counts.add("ccnet.bucket." + bucket) }
            try writer.write(line: document.jsonLine())
        })
        let rule = configuration.dedupRule
        let hashed = OrderedBatches<CCNetDocument, (CCNetDocument, [Substring], [UInt64])>(transform: { document in
            let lines = CCNetDocument.lines(document.rawContent)
            return (document, lines, lines.map { CCNetNormalizer.lineHash(String($0), rule: rule) })
        }, consume: { document, lines, hashes in
            counts.add("ccnet.documents.read")
            counts.add("ccnet.lines.read", lines.count)
            let kept = deduplicator.keep(hashes: hashes)
            counts.add("ccnet.lines.removed.duplicate", lines.count - kept.count)
            var document = document
            document.keepLines(kept, of: lines)
            // cc_net's DuplicatesRemover drops a document with nothing left (or nothing at all).
            guard !kept.isEmpty, !document.rawContent.isEmpty else {
                counts.add("ccnet.documents.removed.duplicate")
                return
            }
            try scored.add(document)
        })
        let warnings = try Self.forEachDocument(in: input) { try hashed.add($0) }
        try hashed.finish()
        try scored.finish()
        if !warnings.isEmpty { counts.add("ccnet.warnings", warnings.count) }
        try files.saveCounts(counts)
        try writer.commit()
        return counts
    }

    /// Language id, language filter, perplexity, bucket and quality of one deduplicated
    /// document; the second value names the stage that dropped it.
    static func annotate(_ document: CCNetDocument, configuration: CCNetConfiguration,
                         cutoffs: PerplexityCutoffs?) -> (CCNetDocument, String?) {
        var document = document
        if let identification = configuration.languageIdentification {
            guard let (language, score) = identification.identify(document.rawContent) else { return (document, "language") }
            document.language = language
            document.languageScore = score
        }
        if let wanted = configuration.languages, !wanted.contains(document.language ?? "") { return (document, "language") }
        if let models = configuration.perplexityModels, let language = document.language {
            document.perplexity = models.perplexity(document.rawContent, language: language)
        }
        if configuration.perplexityModels != nil {
            document.bucket = cutoffs?.bucket(perplexity: document.perplexity, language: document.language) ?? "all"
        }
        if let quality = configuration.quality {
            let score = quality.score(document.rawContent)
            document.qualityScore = score
            if let threshold = quality.threshold, score < threshold { return (document, "quality") }
        }
        return (document, nil)
    }

    /// The language and perplexity of a sampled document, nil when it has neither.
    static func sampleScore(_ document: CCNetDocument, configuration: CCNetConfiguration) -> (String, Double)? {
        let annotated = annotate(document, configuration: configuration, cutoffs: nil)
        guard annotated.1 == nil, let language = annotated.0.language, let perplexity = annotated.0.perplexity else { return nil }
        return (language, perplexity)
    }

    /// Removes the repeated lines of one document (cc_net `finalize_doc`).
    static func deduplicateWithin(_ document: inout CCNetDocument, rule: CCNetNormalizer.DedupRule) {
        let lines = CCNetDocument.lines(document.rawContent)
        document.keepLines(LineDeduplicator().keep(hashes: lines.map { CCNetNormalizer.lineHash(String($0), rule: rule) }), of: lines)
    }

    /// The documents of a WET file (name containing `.wet` or `.warc`) or a JSONL file.
    public static func forEachDocument(in input: String, _ body: (CCNetDocument) throws -> Void) throws -> [DataError] {
        let source = try InputFile.open(input)
        if input.contains(".wet") || input.contains(".warc") {
            return try WETReader.forEachRecord(in: source) { try body(CCNetDocument(record: $0)) }
        }
        var warnings: [DataError] = []
        warnings += try JSONLReader.forEachObject(in: source) { object, _ in
            guard let document = CCNetDocument(object: object) else {
                warnings.append(.invalidJSON(path: input, line: 0, reason: "no raw_content or text field"))
                return
            }
            try body(document)
        }
        return warnings
    }
}
