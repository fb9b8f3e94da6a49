import Foundation

/// Runs the books cleaner over one shard: a book file (`.txt`, plain or .gz), a directory
/// of them, or JSONL books `{"text": …, "title": …}`.
public enum BooksPipeline {
    /// Cleans the books of `inputPath` into `files`: Gutenberg headers and footers removed
    /// and MinHash signatures computed on all cores, then near-duplicates of earlier books
    /// (this run's and, through `index`, earlier shards') removed in input order. The keys stage
    /// (`files.keysOnly`) saves the signature of every non-empty book instead of the kept ones'.
    public static func run(inputPath: String, files: ShardFiles, hasher: MinHasher, index: NearDuplicateIndex,
                           progress: ProgressHandler? = nil) throws -> ShardReport {
        let sink = try ShardSink(files: files, progress: progress)
        var savedSignatures: [UInt64] = []
        typealias Book = (name: String, text: String)
        let batches = OrderedBatches<Book, (Book, GutenbergCleanResult, [UInt64])>(batchSize: 16, transform: { book in
            let cleaned = GutenbergCleaner.clean(book.text)
            return (book, cleaned, hasher.signature(of: cleaned.text))
        }, consume: { book, cleaned, signature in
            sink.report.counts.add("books.read")
            if cleaned.headerRemoved { sink.report.counts.add("books.gutenberg-header-removed") }
            if cleaned.footerRemoved { sink.report.counts.add("books.gutenberg-footer-removed") }
            guard !cleaned.text.isEmpty else { sink.report.counts.add("books.removed.empty"); return }
            if files.keysOnly { savedSignatures.append(contentsOf: signature) }
            if index.insertUnlessDuplicate(signature) != nil {
                sink.report.counts.add("books.removed.near-duplicate")
                return
            }
            if !files.keysOnly { savedSignatures.append(contentsOf: signature) }
            sink.report.counts.add("books.kept")
            try sink.write(CleanedDocument(text: cleaned.text, source: "books", meta: ["title": .string(book.name)]))
        })
        func addFile(_ path: String) throws {
            let bytes = try InputFile.open(path).readAll()
            sink.addInput(bytes: bytes.count)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                sink.report.counts.add("books.skipped.invalid-utf8")
                sink.report.warnings.append(.invalidUTF8(path: path, record: "whole file"))
                return
            }
            try batches.add(((path as NSString).lastPathComponent, text))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: inputPath, isDirectory: &isDirectory) else {
            throw DataError.fileNotFound(path: inputPath)
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: inputPath)) ?? []
            for name in names.sorted() where name.hasSuffix(".txt") || name.hasSuffix(".txt.gz") {
                try addFile((inputPath as NSString).appendingPathComponent(name))
            }
        } else if inputPath.hasSuffix(".jsonl") || inputPath.hasSuffix(".jsonl.gz") {
            let warnings = try JSONLReader.forEachObject(in: try InputFile.open(inputPath)) { object, length in
                sink.addInput(bytes: length)
                guard let text = object["text"] as? String else { return }
                try batches.add(((object["title"] as? String) ?? "", text))
            }
            sink.warn(warnings, source: "books")
        } else {
            try addFile(inputPath)
        }
        try batches.finish()
        return try sink.commit(words: savedSignatures)
    }

    /// Adds the signatures a finished shard saved to `index` (to resume a run).
    public static func restore(files: ShardFiles, hasher: MinHasher, index: NearDuplicateIndex) {
        restore(words: files.savedWords(), hasher: hasher, index: index)
    }

    /// Offers saved signatures to `index` in order, as the shard's books were offered: the kept
    /// ones a finished shard saved, or every book's from the keys stage (duplicates of earlier
    /// books are then left out again, as in the shard's own run).
    public static func restore(words: [UInt64], hasher: MinHasher, index: NearDuplicateIndex) {
        var start = 0
        while start + hasher.permutationCount <= words.count {
            _ = index.insertUnlessDuplicate(Array(words[start..<(start + hasher.permutationCount)]))
            start += hasher.permutationCount
        }
    }
}
