import Foundation
import LlamaCore

/// A set of CCNet line hashes (`CCNetNormalizer.lineHash`) in its compact file form: a
/// headerless array of 8-byte little-endian unsigned integers in strictly ascending order
/// (`.hashes` files, docs/data.md). The bytes of each entry are exactly the first 8 bytes
/// of the SHA-1 digest, and `np.fromfile(path, dtype="<u8")` reads the file back.
public struct LineHashSet: Sendable, Equatable {
    /// The hashes, ascending, without repeats.
    public private(set) var hashes: [UInt64]

    /// The set of `values` (any order, repeats allowed).
    public init<Values: Sequence>(_ values: Values) where Values.Element == UInt64 {
        var sorted = Array(values)
        sorted.sort()
        var unique: [UInt64] = []
        unique.reserveCapacity(sorted.count)
        for value in sorted where unique.last != value { unique.append(value) }
        hashes = unique
    }

    public var count: Int { hashes.count }

    /// Binary search.
    public func contains(_ hash: UInt64) -> Bool {
        var low = 0, high = hashes.count
        while low < high {
            let middle = (low + high) / 2
            if hashes[middle] < hash { low = middle + 1 } else { high = middle }
        }
        return low < hashes.count && hashes[low] == hash
    }

    /// The union of several sets (a merge of sorted arrays).
    public static func union(_ sets: [LineHashSet]) -> LineHashSet {
        LineHashSet(sets.flatMap(\.hashes))
    }

    /// Reads a `.hashes` file.
    /// - Throws: `DataError.fileNotFound`, or `DataError.invalidFile` when its size is not a
    ///   multiple of 8 or the hashes are not strictly ascending.
    public static func load(path: String) throws -> LineHashSet {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        guard data.count % 8 == 0 else {
            throw DataError.invalidFile(path: path, reason: "\(data.count) bytes is not a whole number of 8-byte hashes")
        }
        var values = [UInt64](repeating: 0, count: data.count / 8)
        _ = values.withUnsafeMutableBytes { destination in data.copyBytes(to: destination) }
        for index in values.indices {
            values[index] = UInt64(littleEndian: values[index])
            if index > 0 && values[index] <= values[index - 1] {
                throw DataError.invalidFile(path: path, reason: "hash \(index) is not above the one before: not a sorted hash set")
            }
        }
        var set = LineHashSet([])
        set.hashes = values
        return set
    }

    /// Writes the set atomically.
    public func save(path: String) throws {
        let littleEndian = hashes.map(\.littleEndian)
        do {
            try littleEndian.withUnsafeBytes { try AtomicFile.write(path: path, chunks: [$0]) }
        } catch {
            throw DataError.io(path: path, operation: "write", errno: 0)
        }
    }
}

/// CCNet's line deduplication with first occurrences kept (`cc_net/dedup.py`,
/// `DuplicatesRemover(collect=True)` followed by `finalize_doc`): documents are offered in
/// order; a line whose hash is in the set (seen in an earlier document, or earlier in this
/// one) is removed, and every hash is added. Hash sets of earlier shards are inserted first.
public final class LineDeduplicator {
    private var seen = Set<UInt64>()

    public init() {}

    /// Hashes already seen.
    public var count: Int { seen.count }

    /// Marks every hash of `set` as seen (an earlier shard of the group).
    public func insert(_ set: LineHashSet) {
        seen.reserveCapacity(seen.count + set.count)
        for hash in set.hashes { seen.insert(hash) }
    }

    /// Indices of the lines to keep, given each line's hash, in order.
    public func keep(hashes: [UInt64]) -> [Int] {
        var kept: [Int] = []
        kept.reserveCapacity(hashes.count)
        for (index, hash) in hashes.enumerated() where seen.insert(hash).inserted { kept.append(index) }
        return kept
    }
}
