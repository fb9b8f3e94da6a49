/// Runs the arXiv cleaner over one shard: a paper's directory, `.tex`, `.tar`/`.tar.gz`, or
/// a bulk archive of many papers.
public enum ArxivPipeline {
    /// Cleans the papers of `inputPath` into `files`, on all cores in batches, in order.
    public static func run(inputPath: String, files: ShardFiles, progress: ProgressHandler? = nil) throws -> ShardReport {
        let sink = try ShardSink(files: files, progress: progress)
        let batches = OrderedBatches<ArxivPaper, (ArxivPaper, String?, [String], Bool)>(batchSize: 32, transform: { paper in
            let (latex, skipped) = ArxivReader.combinedLatex(of: paper)
            return (paper, latex.flatMap(LatexCleaner.clean), skipped, latex != nil)
        }, consume: { paper, text, skipped, hadLatex in
            sink.report.counts.add("arxiv.papers.read")
            for name in skipped {
                sink.report.counts.add("arxiv.files.skipped.not-utf8-text")
                sink.report.warnings.append(.invalidUTF8(path: inputPath, record: paper.identifier + "/" + name))
            }
            guard hadLatex else { sink.report.counts.add("arxiv.papers.removed.no-latex"); return }
            guard let text, !text.isEmpty else { sink.report.counts.add("arxiv.papers.removed.no-section"); return }
            sink.report.counts.add("arxiv.papers.kept")
            try sink.write(CleanedDocument(text: text, source: "arxiv", meta: ["identifier": .string(paper.identifier)]))
        })
        let warnings = try ArxivReader.forEachPaper(at: inputPath) { paper in
            sink.addInput(bytes: paper.files.reduce(0) { $0 + $1.bytes.count })
            try batches.add(paper)
        }
        try batches.finish()
        sink.warn(warnings, source: "arxiv")
        return try sink.commit(words: nil)
    }
}
