/// Called now and then while a shard runs with the input bytes and documents so far.
public typealias ProgressHandler = (_ inputBytes: Int, _ documents: Int) -> Void

/// The shared tail of every cleaner's shard run: documents written in order to an atomic
/// JSONL file, counts and keys saved before the JSONL file is renamed into place. In the keys
/// stage (`files.keysOnly`) only the keys are saved.
final class ShardSink {
    let files: ShardFiles
    let writer: AtomicLineWriter?
    var report = ShardReport()
    var documents = 0
    private let progress: ProgressHandler?
    private var lastProgressBytes = 0

    init(files: ShardFiles, progress: ProgressHandler?) throws {
        self.files = files
        self.progress = progress
        writer = files.keysOnly ? nil : try AtomicLineWriter(path: files.output)
    }

    func write(_ document: CleanedDocument) throws {
        try writer?.write(line: document.jsonLine())
        documents += 1
        if documents % 64 == 0 { progress?(report.inputBytes, documents) }
    }

    /// Adds input bytes and reports progress every 4 MB (and every 64 documents written).
    func addInput(bytes: Int) {
        report.inputBytes += bytes
        if report.inputBytes - lastProgressBytes >= 4 << 20 {
            lastProgressBytes = report.inputBytes
            progress?(report.inputBytes, documents)
        }
    }

    func warn(_ warnings: [DataError], source: String) {
        report.warnings.append(contentsOf: warnings)
        if !warnings.isEmpty { report.counts.add("\(source).warnings", warnings.count) }
    }

    /// Saves counts (and `keys`, when given) and commits the JSONL file.
    func commit(words: [UInt64]?) throws -> ShardReport {
        if let words { try files.saveWords(words) }
        if let writer {
            try files.saveCounts(report.counts)
            try writer.commit()
        }
        progress?(report.inputBytes, documents)
        report.documents = documents
        return report
    }
}
