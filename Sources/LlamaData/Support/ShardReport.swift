import Foundation
import LlamaCore

/// What one shard's cleaning did: counts per stage and the bad input it skipped.
public struct ShardReport: Sendable {
    /// Counts per stage, in pipeline order.
    public var counts = StageCounts()
    /// Bad input skipped (malformed records, truncated archives, …), in the order met.
    public var warnings: [DataError] = []
    /// Input bytes read (uncompressed where the cleaner sees them).
    public var inputBytes = 0
    /// Documents written (or, in the keys stage, that would be).
    public var documents = 0

    public init() {}

    /// Adds another report's counts and warnings.
    public mutating func merge(_ other: ShardReport) {
        counts.merge(other.counts)
        warnings.append(contentsOf: other.warnings)
        inputBytes += other.inputBytes
        documents += other.documents
    }
}

/// The files that make a shard's output resumable: `NAME.jsonl` is renamed into place last,
/// so its presence means the shard is complete; `NAME.counts.json` holds its stage counts
/// and `NAME.keys` the deduplication keys it added (16 bytes each, big-endian), both
/// written before the JSONL file.
///
/// Cleaners that deduplicate across shards (c4, github, books) also have a keys stage for
/// workers that run at the same time: it writes `keys/NAME.keys`, the keys of every document
/// of the shard that reaches deduplication, and nothing else (`keysOnly`). A later clean stage
/// restores the keys of all earlier shards from those files and so gives, shard for shard,
/// what one process gives.
public struct ShardFiles: Sendable {
    /// The JSONL output.
    public let output: String
    /// The stage counts of the finished shard.
    public let counts: String
    /// The deduplication keys the shard added.
    public let keys: String
    /// The keys stage's file, `keys/NAME.keys`: the keys of every document of the shard that
    /// reaches deduplication, in input order.
    public let stageKeys: String
    /// Whether this run is the keys stage: documents are cleaned and their keys saved in
    /// `stageKeys`; no JSONL or counts are written.
    public var keysOnly = false

    /// The files for input `inputPath` in `directory`: the input's name without its
    /// compression and format extensions, plus `.jsonl`.
    public init(directory: String, inputPath: String) {
        self.init(directory: directory, name: Self.stem(of: (inputPath as NSString).lastPathComponent))
    }

    /// A file name without its compression and format extensions (`a.warc.wet.gz` → `a`).
    public static func stem(of fileName: String) -> String {
        var name = fileName
        var changed = true
        while changed {
            changed = false
            for suffix in [".gz", ".bz2", ".tgz", ".jsonl", ".json", ".xml", ".wet", ".warc", ".txt", ".tar", ".tex"]
            where name.hasSuffix(suffix) && name.count > suffix.count {
                name = String(name.dropLast(suffix.count))
                changed = true
            }
        }
        return name
    }

    /// The files named `name` in `directory`.
    public init(directory: String, name: String) {
        let base = (directory as NSString).appendingPathComponent(name)
        output = base + ".jsonl"
        counts = base + ".counts.json"
        keys = base + ".keys"
        stageKeys = ((directory as NSString).appendingPathComponent("keys") as NSString).appendingPathComponent(name + ".keys")
    }

    /// True when the shard finished in an earlier run.
    public var isComplete: Bool { FileManager.default.fileExists(atPath: output) }

    /// The counts a finished shard saved.
    public func savedCounts() -> StageCounts {
        guard let text = try? String(contentsOfFile: counts, encoding: .utf8) else { return StageCounts() }
        return StageCounts.parse(jsonObject: text) ?? StageCounts()
    }

    /// Saves `keys` atomically (16 bytes each, big-endian).
    public func saveKeys(_ keys: [HashKey]) throws {
        try saveWords(keys.flatMap { [$0.high, $0.low] })
    }

    /// The keys a finished shard saved (none when it saved no file).
    public func savedKeys() -> [HashKey] {
        HashKey.keys(words: savedWords())
    }

    /// Saves 64-bit words (big-endian) atomically in the keys file, or in the keys stage's file
    /// when `keysOnly`.
    public func saveWords(_ words: [UInt64]) throws {
        let path = keysOnly ? stageKeys : keys
        var bytes = [UInt8]()
        bytes.reserveCapacity(words.count * 8)
        for word in words {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try AtomicFile.write(path: path, data: Data(bytes))
        } catch {
            throw DataError.io(path: path, operation: "write", errno: 0)
        }
    }

    /// The words of the keys file (none when there is no file).
    public func savedWords() -> [UInt64] { Self.words(path: keys) ?? [] }

    /// The words of the keys stage's file, or nil when the keys stage has not written it.
    public func stageWords() -> [UInt64]? { Self.words(path: stageKeys) }

    /// The big-endian 64-bit words of `path`, or nil when it cannot be read.
    static func words(path: String) -> [UInt64]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        var result: [UInt64] = []
        result.reserveCapacity(bytes.count / 8)
        var index = 0
        while index + 8 <= bytes.count {
            var word: UInt64 = 0
            for position in 0..<8 { word = word << 8 | UInt64(bytes[index + position]) }
            result.append(word)
            index += 8
        }
        return result
    }

    /// Saves the counts atomically.
    public func saveCounts(_ stageCounts: StageCounts) throws {
        do { try AtomicFile.write(path: counts, text: stageCounts.jsonObject() + "\n") } catch {
            throw DataError.io(path: counts, operation: "write", errno: 0)
        }
    }
}

extension HashKey {
    /// Keys from 64-bit words, high word first (as `ShardFiles.saveKeys` stores them).
    public static func keys(words: [UInt64]) -> [HashKey] {
        stride(from: 0, to: words.count - 1, by: 2).map { HashKey(high: words[$0], low: words[$0 + 1]) }
    }
}
