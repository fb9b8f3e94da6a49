/// A per-thread cache of BPE results for text segments (a `▁` run and the text up to the
/// next `▁`), used when no piece can span two segments, so that segmenting each one
/// separately gives exactly the segmentation of the whole text.
///
/// Keys live in a byte arena; values are runs of `(piece length, piece id)`. The cache is
/// emptied when it holds `capacity` entries, which bounds its memory. A class, so that the
/// hot loop does not copy it; one instance per thread, never shared.
final class SegmentCache {
    /// Entries kept before the cache is emptied.
    static let capacity = 1 << 16

    private var arena: [UInt8] = []
    private var keyOffsets: [Int32] = []
    private var keyLengths: [Int32] = []
    private var hashes: [UInt64] = []
    private var valueStarts: [Int32] = []
    private var valueCounts: [Int32] = []
    /// Flattened values: piece byte lengths and ids.
    private(set) var pieceLengths: [Int32] = []
    private(set) var pieceIds: [Int32] = []
    /// Open-addressing slots holding entry indices, -1 when free; grows to `2 * capacity`.
    private var slots = [Int32](repeating: -1, count: 1024)

    /// FNV-1a over the bytes, then a final mix (wyhash-style multiply) for the table index.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in start..<end { value = (value ^ UInt64(bytes[index])) &* 0x0000_0100_0000_01B3 }
        return (value ^ (value >> 29)) &* 0xBF58_476D_1CE4_E5B9
    }

    /// Looks up `text[start..<end]`; returns the range of its pieces in `pieceLengths`/`pieceIds`.
    func lookup(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64) -> Range<Int>? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 20) & mask
        let length = end - start
        return slots.withUnsafeBufferPointer { slots -> Range<Int>? in
            while true {
                let index = Int(slots[slot])
                if index < 0 { return nil }
                if hashes[index] == hash && Int(keyLengths[index]) == length {
                    let offset = Int(keyOffsets[index])
                    let same = arena.withUnsafeBufferPointer { arena -> Bool in
                        for position in 0..<length where arena[offset + position] != text[start + position] { return false }
                        return true
                    }
                    if same {
                        let valueStart = Int(valueStarts[index])
                        return valueStart..<(valueStart + Int(valueCounts[index]))
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Stores the pieces of `text[start..<end]`.
    func store(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64,
                        pieces: ArraySlice<EncodedSegment>)
    {
        if keyOffsets.count >= Self.capacity { removeAll() }
        if (keyOffsets.count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 20) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(keyOffsets.count)
        keyOffsets.append(Int32(arena.count))
        keyLengths.append(Int32(end - start))
        hashes.append(hash)
        arena.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<end]))
        valueStarts.append(Int32(pieceIds.count))
        valueCounts.append(Int32(pieces.count))
        for piece in pieces {
            pieceLengths.append(piece.length)
            pieceIds.append(piece.id)
        }
    }

    /// Doubles the slot table and re-inserts every entry.
    private func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash >> 20) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    private func removeAll() {
        arena.removeAll(keepingCapacity: true)
        keyOffsets.removeAll(keepingCapacity: true)
        keyLengths.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        valueStarts.removeAll(keepingCapacity: true)
        valueCounts.removeAll(keepingCapacity: true)
        pieceLengths.removeAll(keepingCapacity: true)
        pieceIds.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = -1 }
    }
}
