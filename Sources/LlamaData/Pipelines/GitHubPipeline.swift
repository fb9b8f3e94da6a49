/// Exact deduplication by content key, in input order (the first copy is kept).
public final class ExactDeduplicator {
    private var seen: Set<HashKey> = []
    private var added: [HashKey] = []

    public init() {}

    /// Marks keys as seen (from shards finished in an earlier run).
    public func insert(keys: [HashKey]) { seen.formUnion(keys) }

    /// True (and remembered) the first time `key` is offered.
    public func isFirst(_ key: HashKey) -> Bool {
        guard seen.insert(key).inserted else { return false }
        added.append(key)
        return true
    }

    /// The keys added since the last call.
    public func takeAddedKeys() -> [HashKey] {
        defer { added.removeAll() }
        return added
    }
}

/// Runs the GitHub cleaner over one JSONL shard of source files.
public enum GitHubPipeline {
    /// Cleans `inputPath` into `files`: lines parsed and filtered on all cores in batches,
    /// then deduplicated (SHA-256 of the cleaned content) in input order.
    public static func run(inputPath: String, files: ShardFiles, cleaner: GitHubCleaner, deduplicator: ExactDeduplicator,
                           progress: ProgressHandler? = nil) throws -> ShardReport {
        let sink = try ShardSink(files: files, progress: progress)
        let path = inputPath
        let batches = OrderedBatches<([UInt8], Int), GitHubLineResult>(batchSize: 512, transform: { line, number in
            cleaner.clean(line: line, lineNumber: number, path: path)
        }, consume: { result in
            sink.report.counts.add("github.files.read")
            switch result {
            case let .kept(document, key):
                if deduplicator.isFirst(key) {
                    sink.report.counts.add("github.files.kept")
                    try sink.write(document)
                } else {
                    sink.report.counts.add("github.files.removed.duplicate")
                }
            case let .removed(stage): sink.report.counts.add(stage)
            case let .skipped(stage, warning):
                sink.report.counts.add(stage)
                sink.report.warnings.append(warning)
            }
        })
        let source = try InputFile.open(inputPath)
        let readError = try JSONLReader.forEachLine(in: source) { line, number in
            sink.addInput(bytes: line.count + 1)
            try batches.add((line, number))
        }
        try batches.finish()
        if let readError { sink.warn([readError], source: "github") }
        return try sink.commit(words: deduplicator.takeAddedKeys().flatMap { [$0.high, $0.low] })
    }
}
