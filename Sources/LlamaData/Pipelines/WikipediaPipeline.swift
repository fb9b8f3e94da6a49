/// Runs the Wikipedia cleaner over one pages-articles dump.
public enum WikipediaPipeline {
    /// Cleans `inputPath` into `files`. Redirects and pages outside the article namespace
    /// (ns ≠ 0) are skipped; the wikitext of the rest is converted on all cores in batches.
    /// `language` overrides the dump's `<dbname>`.
    public static func run(inputPath: String, files: ShardFiles, language: String? = nil, minimumCharacters: Int = 1,
                           progress: ProgressHandler? = nil) throws -> ShardReport {
        let sink = try ShardSink(files: files, progress: progress)
        let reader = WikipediaDumpReader(path: inputPath)
        var batches: OrderedBatches<WikipediaPage, (WikipediaPage, String)>?
        var writeError: Error?
        let warnings = try reader.read { page in
            guard writeError == nil else { return }
            sink.addInput(bytes: page.wikitext.utf8.count)
            sink.report.counts.add("wikipedia.pages.read")
            if page.namespace != 0 { sink.report.counts.add("wikipedia.pages.skipped.namespace"); return }
            if page.isRedirect { sink.report.counts.add("wikipedia.pages.skipped.redirect"); return }
            if batches == nil {
                // The siteinfo (namespace names, language) has been read by the first page.
                var names = WikipediaNamespaces.fileAndCategoryNames
                for key in [6, 14] { if let name = reader.namespaceNames[key] { names.insert(name.lowercased()) } }
                let pageCleaner = WikitextCleaner(removedNamespaces: names)
                let pageLanguage = language ?? reader.language ?? ""
                batches = OrderedBatches(batchSize: 128, transform: { page in (page, pageCleaner.plainText(page.wikitext)) },
                                         consume: { page, text in
                    guard text.count >= minimumCharacters else {
                        sink.report.counts.add("wikipedia.pages.removed.empty")
                        return
                    }
                    sink.report.counts.add("wikipedia.pages.kept")
                    try sink.write(CleanedDocument(text: page.title + "\n\n" + text, source: "wikipedia", meta: [
                        "title": .string(page.title), "id": .string(page.identifier), "language": .string(pageLanguage),
                    ]))
                })
            }
            do { try batches?.add(page) } catch { writeError = error }
        }
        if let writeError { throw writeError }
        try batches?.finish()
        sink.warn(warnings, source: "wikipedia")
        return try sink.commit(words: nil)
    }
}
