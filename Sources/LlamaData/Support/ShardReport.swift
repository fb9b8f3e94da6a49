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
        var name = (inputPath as NSString).lastPathComponent
        for suffix in [".gz", ".bz2", ".jsonl", ".json", ".xml", ".wet", ".warc", ".txt", ".tar", ".tex"] where name.hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
        }
        if name.hasSuffix(".warc") { name = String(name.dropLast(5)) }
        self.init(directory: directory, name: name)
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

    /// Saves `keys` atomically.
    public func saveKeys(_ keys: [HashKey]) throws {
        var bytes = [UInt8]()
        bytes.reserveCapacity(keys.count * 16)
        for key in keys {
            for word in [key.high, key.low] {
                for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
            }
        }
        do { try AtomicFile.write(path: self.keys, data: Data(bytes)) } catch {
            throw DataError.io(path: self.keys, operation: "write", errno: 0)
        }
    }

    /// The keys a finished shard saved (none when it saved no file).
    public func savedKeys() -> [HashKey] {
        guard let data = FileManager.default.contents(atPath: keys) else { return [] }
        let bytes = [UInt8](data)
        var result: [HashKey] = []
        result.reserveCapacity(bytes.count / 16)
        var index = 0
        while index + 16 <= bytes.count {
            var high: UInt64 = 0, low: UInt64 = 0
            for position in 0..<8 {
                high = high << 8 | UInt64(bytes[index + position])
                low = low << 8 | UInt64(bytes[index + 8 + position])
            }
            result.append(HashKey(high: high, low: low))
            index += 16
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
