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

    public init() {}

    /// Adds another report's counts and warnings.
    public mutating func merge(_ other: ShardReport) {
        counts.merge(other.counts)
        warnings.append(contentsOf: other.warnings)
        inputBytes += other.inputBytes
    }
}

/// The files that make a shard's output resumable: `NAME.jsonl` is renamed into place last,
/// so its presence means the shard is complete; `NAME.counts.json` holds its stage counts
/// and `NAME.keys` the deduplication keys it added (16 bytes each, big-endian), both
/// written before the JSONL file.
public struct ShardFiles: Sendable {
    /// The JSONL output.
    public let output: String
    /// The stage counts of the finished shard.
    public let counts: String
    /// The deduplication keys the shard added.
    public let keys: String

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
        let words = savedWords()
        return stride(from: 0, to: words.count - 1, by: 2).map { HashKey(high: words[$0], low: words[$0 + 1]) }
    }

    /// Saves 64-bit words (big-endian) atomically in the keys file.
    public func saveWords(_ words: [UInt64]) throws {
        var bytes = [UInt8]()
        bytes.reserveCapacity(words.count * 8)
        for word in words {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        do { try AtomicFile.write(path: keys, data: Data(bytes)) } catch {
            throw DataError.io(path: keys, operation: "write", errno: 0)
        }
    }

    /// The words of the keys file (none when there is no file).
    public func savedWords() -> [UInt64] {
        guard let data = FileManager.default.contents(atPath: keys) else { return [] }
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
