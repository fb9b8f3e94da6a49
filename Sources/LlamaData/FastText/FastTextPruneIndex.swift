/// The bucket → row map of a pruned (quantized with a cutoff) dictionary, fastText's
/// `pruneidx_`: an open-addressing table of Int32 keys (linear probing, load ≤ 0.5), because
/// every character and word n-gram of a line is looked up in it.
struct FastTextPruneIndex: Sendable {
    private let keys: [Int32]
    private let values: [Int32]
    private let mask: Int
    /// One more than the largest row.
    let rowCount: Int

    /// Later pairs win over earlier ones with the same bucket (as fastText's map assignment).
    init(_ pairs: [(Int32, Int32)]) {
        var size = 16
        while size < pairs.count * 2 { size <<= 1 }
        var keys = [Int32](repeating: -1, count: size)
        var values = [Int32](repeating: 0, count: size)
        mask = size - 1
        var rows = 0
        for (bucket, row) in pairs where bucket >= 0 {
            var slot = Self.slot(bucket, mask)
            while keys[slot] != -1 && keys[slot] != bucket { slot = (slot + 1) & mask }
            keys[slot] = bucket
            values[slot] = row
            rows = max(rows, Int(row) + 1)
        }
        self.keys = keys
        self.values = values
        rowCount = rows
    }

    @inline(__always)
    private static func slot(_ key: Int32, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: key)) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    @inline(__always)
    subscript(bucket: Int32) -> Int32? {
        var slot = Self.slot(bucket, mask)
        while true {
            let key = keys[slot]
            if key == bucket { return values[slot] }
            if key == -1 { return nil }
            slot = (slot + 1) & mask
        }
    }
}
