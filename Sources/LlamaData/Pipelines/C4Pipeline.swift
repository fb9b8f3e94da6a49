/// Runs the C4 cleaner over one shard: a Common Crawl WET file (plain or .gz), or JSONL
/// pages `{"text": …, "url": …}`.
public enum C4Pipeline {
    /// Cleans `inputPath` into `files`; pages are cleaned on all cores in batches, then
    /// deduplicated against `deduplicator` in input order.
    public static func run(inputPath: String, files: ShardFiles, cleaner: C4Cleaner, deduplicator: C4SpanDeduplicator,
                           progress: ProgressHandler? = nil) throws -> ShardReport {
        let sink = try ShardSink(files: files, progress: progress)
        let batches = OrderedBatches<WETRecord, (C4Page?, StageCounts)>(transform: { record in
            var counts = StageCounts()
            let page = cleaner.clean(url: record.url, text: record.text, counts: &counts)
            return (page, counts)
        }, consume: { page, counts in
            sink.report.counts.merge(counts)
            guard let page, let text = deduplicator.deduplicate(page, counts: &sink.report.counts) else { return }
            try sink.write(CleanedDocument(text: text, source: "c4", meta: ["url": .string(page.url)]))
        })
        let source = try InputFile.open(inputPath)
        let isWARC = inputPath.contains(".wet") || inputPath.contains(".warc")
        if isWARC {
            let warnings = try WETReader.forEachRecord(in: source) { record in
                sink.addInput(bytes: record.text.utf8.count)
                try batches.add(record)
            }
            sink.warn(warnings, source: "c4")
        } else {
            let warnings = try JSONLReader.forEachObject(in: source) { object, line in
                sink.addInput(bytes: line)
                guard let text = object["text"] as? String else { return }
                try batches.add(WETRecord(url: (object["url"] as? String) ?? "", text: text))
            }
            sink.warn(warnings, source: "c4")
        }
        try batches.finish()
        return try sink.commit(words: deduplicator.takeAddedKeys().flatMap { [$0.high, $0.low] })
    }
}
