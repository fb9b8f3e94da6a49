/// Counts byte strings without allocating per occurrence: words are stored once in an
/// arena and found again through an open-addressing table on a 64-bit hash.
struct WordCounter {
    /// Concatenated bytes of the distinct words.
    private(set) var arena: [UInt8] = []
    /// Distinct words: where they are in the arena, and their counts.
    private(set) var offsets: [Int32] = []
    private(set) var lengths: [Int32] = []
    private(set) var counts: [Int64] = []
    private var hashes: [UInt64] = []
    /// Table slots: the high 32 bits of a word's hash and its index + 1 (0 when free), in
    /// one word so that a probe touches one cache line before the arena.
    private var slots: [UInt64] = [UInt64](repeating: 0, count: 1 << 12)
    /// A small direct-mapped table in front of `slots` (same entry format), which stays in
    /// the processor cache: frequent words are found without touching the large table.
    private var recent: [UInt64] = [UInt64](repeating: 0, count: 1 << 12)

    /// Number of distinct words.
    var count: Int { offsets.count }

    /// The bytes of word `index`.
    func word(_ index: Int) -> ArraySlice<UInt8> {
        arena[Int(offsets[index])..<Int(offsets[index] + lengths[index])]
    }

    /// FNV-1a over the bytes, then a final mix (wyhash-style multiply) for the table index.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in start..<end { value = (value ^ UInt64(bytes[index])) &* 0x0000_0100_0000_01B3 }
        return (value ^ (value >> 29)) &* 0xBF58_476D_1CE4_E5B9
    }

    /// Adds `count` occurrences of `bytes[start..<end]`.
    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, count: Int64) {
        let hashValue = Self.hash(bytes, start, end)
        let tag = hashValue & 0xFFFF_FFFF_0000_0000
        let length = end - start
        let recentSlot = Int(truncatingIfNeeded: hashValue) & (recent.count - 1)
        let recentEntry = recent[recentSlot]
        if recentEntry & 0xFFFF_FFFF_0000_0000 == tag && recentEntry != 0 {
            let index = Int(recentEntry & 0xFFFF_FFFF) - 1
            if Int(lengths[index]) == length {
                let offset = Int(offsets[index])
                let same = arena.withUnsafeBufferPointer { arena -> Bool in
                    for position in 0..<length where arena[offset + position] != bytes[start + position] { return false }
                    return true
                }
                if same {
                    counts.withUnsafeMutableBufferPointer { $0[index] += count }
                    return
                }
            }
        }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hashValue >> 20) & mask
        let found: Int = slots.withUnsafeBufferPointer { slots in
            lengths.withUnsafeBufferPointer { lengths in
                offsets.withUnsafeBufferPointer { offsets in
                    arena.withUnsafeBufferPointer { arena in
                        while true {
                            let entry = slots[slot]
                            if entry == 0 { return -1 - slot }
                            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                                let index = Int(entry & 0xFFFF_FFFF) - 1
                                if Int(lengths[index]) == length {
                                    let offset = Int(offsets[index])
                                    var same = true
                                    for position in 0..<length where arena[offset + position] != bytes[start + position] {
                                        same = false
                                        break
                                    }
                                    if same { return index }
                                }
                            }
                            slot = (slot + 1) & mask
                        }
                    }
                }
            }
        }
        if found >= 0 {
            counts.withUnsafeMutableBufferPointer { $0[found] += count }
            recent[recentSlot] = tag | UInt64(found + 1)
            return
        }
        slots[-1 - found] = tag | UInt64(offsets.count + 1)
        recent[recentSlot] = tag | UInt64(offsets.count + 1)
        offsets.append(Int32(arena.count))
        lengths.append(Int32(length))
        counts.append(count)
        hashes.append(hashValue)
        arena.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
        if offsets.count * 2 > slots.count {
            slots = [UInt64](repeating: 0, count: slots.count * 2)
            let mask = slots.count - 1
            for (index, hashValue) in hashes.enumerated() {
                var slot = Int(truncatingIfNeeded: hashValue >> 20) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = (hashValue & 0xFFFF_FFFF_0000_0000) | UInt64(index + 1)
            }
        }
    }

    /// Adds all words of `other`.
    mutating func merge(_ other: WordCounter) {
        other.arena.withUnsafeBufferPointer { arena in
            for index in 0..<other.count {
                let start = Int(other.offsets[index])
                add(arena, start, start + Int(other.lengths[index]), count: other.counts[index])
            }
        }
    }

    /// Splits `text` into words the way SentencePiece's `SplitIntoWords` does (on `▁`,
    /// U+2581, stepping by `OneCharLen`) and counts each with `count`.
    mutating func addWords(of text: UnsafeBufferPointer<UInt8>, count: Int64, treatWhitespaceAsSuffix: Bool,
                           allowWhitespaceOnlyPieces: Bool)
    {
        let end = text.count
        if end == 0 { return }
        var wordStart = 0
        var position = 0
        var inWhitespaceRun = false
        @inline(__always) func isSpace(_ at: Int, _ length: Int) -> Bool {
            length == 3 && text[at] == 0xE2 && text[at + 1] == 0x96 && text[at + 2] == 0x81
        }
        if treatWhitespaceAsSuffix {
            while position < end {
                let length = min(UTF8Scanning.characterLength(leadByte: text[position]), end - position)
                let space = isSpace(position, length)
                if space {
                    inWhitespaceRun = true
                } else if inWhitespaceRun {
                    if allowWhitespaceOnlyPieces {
                        add(text, wordStart, position, count: count)
                        wordStart = position
                    }
                    inWhitespaceRun = false
                }
                position += length
                if position < end && space && !allowWhitespaceOnlyPieces {
                    add(text, wordStart, position, count: count)
                    wordStart = position
                }
            }
        } else {
            while position < end {
                let length = min(UTF8Scanning.characterLength(leadByte: text[position]), end - position)
                let space = isSpace(position, length)
                if position == 0 || (space && (!inWhitespaceRun || !allowWhitespaceOnlyPieces)) {
                    if position > 0 { add(text, wordStart, position, count: count) }
                    wordStart = position
                    inWhitespaceRun = true
                }
                if inWhitespaceRun && !space { inWhitespaceRun = false }
                position += length
            }
        }
        add(text, wordStart, end, count: count)
    }
}
