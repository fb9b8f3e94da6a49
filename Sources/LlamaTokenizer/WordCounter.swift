import Foundation

/// Counts byte strings (words) without allocating per word.
///
/// An open-addressing table of 32-byte slots, two per cache line: a slot holds the first 16
/// bytes of its word, so a word of up to 16 bytes (`▁` and 13 ASCII letters) is found or
/// counted by reading one slot; longer words also live in an arena, and the slot keeps
/// their first 8 bytes and arena offset. Linear probing; the table doubles at half load.
///
/// Reading words: `add` loads 8 bytes at a time and may read up to 15 bytes past the end of a
/// word, so every buffer given to `add`/`addWords` must stay readable for `paddingBytes` past
/// its `end` (the bytes there do not matter).
struct WordCounter {
    /// Readable bytes required past the end of the text given to `add` and `addWords`.
    static let paddingBytes = 16

    /// One table slot (32 bytes).
    struct Slot {
        /// Bytes 0..<8 of the word, little-endian, zero-padded.
        var head: UInt64 = 0
        /// Bytes 8..<16 (zero-padded) for a word of at most 16 bytes; the arena offset of
        /// the whole word for a longer one.
        var tail: UInt64 = 0
        /// High 32 bits: the word's hash; low 32 bits: its length in bytes. 0 marks a free slot.
        var meta: UInt64 = 0
        /// Occurrences, each weighted by the frequency of its sentence.
        var count: Int64 = 0
    }

    /// `(capacity)`, a power of two.
    private var slots = [Slot](repeating: Slot(), count: 1 << 12)
    /// Number of occupied slots (distinct words).
    private(set) var count = 0
    /// Bytes of the words longer than 16 bytes, one after the other.
    private var arena: [UInt8] = []

    /// The bytes `text[start..<start + length]` (length ≤ 8) as a little-endian integer, zero-padded.
    @inline(__always)
    private static func load(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> UInt64 {
        guard let base = text.baseAddress else { return 0 }
        let word = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self).littleEndian
        return length >= 8 ? word : word & ((1 << (UInt64(length) * 8)) &- 1)
    }

    /// The final mix of the hash (splitmix64's), so that all bits depend on all input bits.
    @inline(__always)
    private static func finish(_ value: UInt64) -> UInt64 {
        var mixed = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// The hash of a word before `finish`: its first 8 bytes and its length, then each
    /// further 8-byte chunk (`chunkAt(offset)` for offsets 8, 16, … below `length`).
    /// Returns the hash and the chunk at offset 8 (0 when there is none).
    @inline(__always)
    private static func hash(head: UInt64, length: Int, _ chunkAt: (Int) -> UInt64) -> (hash: UInt64, tail: UInt64) {
        var hash = (head &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(length)
        var tail: UInt64 = 0
        var offset = 8
        while offset < length {
            let chunk = chunkAt(offset)
            if offset == 8 { tail = chunk }
            let mixed = hash ^ (chunk &* 0xC2B2_AE3D_27D4_EB4F)
            hash = ((mixed << 29) | (mixed >> 35)) &* 0x1656_67B1_9E37_79F9
            offset += 8
        }
        return (finish(hash), tail)
    }

    /// Adds `count` occurrences of `text[start..<end]` (a non-empty range).
    @inline(__always)
    mutating func add(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, count occurrences: Int64) {
        let length = end - start
        let head = Self.load(text, start, min(length, 8))
        let (hash, tail) = Self.hash(head: head, length: length) { offset in
            Self.load(text, start + offset, min(length - offset, 8))
        }
        let meta = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(length)
        if length > 16 {
            insert(head: head, tail: 0, meta: meta, count: occurrences, longWord: UnsafeBufferPointer(rebasing: text[start..<end]))
        } else {
            insert(head: head, tail: tail, meta: meta, count: occurrences, longWord: nil)
        }
    }

    /// Adds `count` occurrences of `▁` (E2 96 81) followed by `text[start..<end]`, without
    /// copying: the same word, hash and slot as `add` on those bytes.
    @inline(__always)
    private mutating func addSpacePrefixed(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, count occurrences: Int64) {
        let length = end - start + 3
        // Byte j >= 3 of the word is text[start + j - 3].
        let head = 0x81_96E2 | (Self.load(text, start, min(end - start, 5)) << 24)
        let (hash, tail) = Self.hash(head: head, length: length) { offset in
            Self.load(text, start + offset - 3, min(length - offset, 8))
        }
        let meta = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(length)
        if length > 16 {
            var word: [UInt8] = [0xE2, 0x96, 0x81]
            word.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<end]))
            word.withUnsafeBufferPointer { insert(head: head, tail: 0, meta: meta, count: occurrences, longWord: $0) }
        } else {
            insert(head: head, tail: tail, meta: meta, count: occurrences, longWord: nil)
        }
    }

    /// Counts `▁` + each run of non-space bytes of `text[0..<end]`: the words that
    /// normalizing and splitting give for ASCII text whose bytes a normalizer copies
    /// unchanged, with add_dummy_prefix and remove_extra_whitespaces on and whitespace as
    /// prefix (the caller checks this). `text` must be readable `paddingBytes` past `end`.
    mutating func addSpacePrefixedWords(of text: UnsafeBufferPointer<UInt8>, end: Int, count: Int64) {
        var position = 0
        while position < end {
            while position < end && text[position] == 0x20 { position += 1 }
            if position == end { return }
            let start = position
            while position < end && text[position] != 0x20 { position += 1 }
            addSpacePrefixed(text, start, position, count: count)
        }
    }

    /// Finds the word described by `head`, `tail` (short words) or `longWord` and adds
    /// `occurrences`, inserting it first when new.
    @inline(__always)
    private mutating func insert(head: UInt64, tail: UInt64, meta: UInt64, count occurrences: Int64,
                                 longWord: UnsafeBufferPointer<UInt8>?)
    {
        let inserted: Bool = slots.withUnsafeMutableBufferPointer { slots in
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: meta >> 32) & mask
            while true {
                let entry = slots[slot]
                if entry.meta == 0 { break }
                if entry.meta == meta && entry.head == head {
                    if let longWord {
                        let same = arena.withUnsafeBufferPointer { arena in
                            UnsafeBufferPointer(rebasing: arena[Int(entry.tail)..<(Int(entry.tail) + longWord.count)])
                                .elementsEqual(longWord)
                        }
                        if same {
                            slots[slot].count += occurrences
                            return false
                        }
                    } else if entry.tail == tail {
                        slots[slot].count += occurrences
                        return false
                    }
                }
                slot = (slot + 1) & mask
            }
            var newSlot = Slot(head: head, tail: tail, meta: meta, count: occurrences)
            if let longWord {
                newSlot.tail = UInt64(arena.count)
                arena.append(contentsOf: longWord)
            }
            slots[slot] = newSlot
            return true
        }
        if inserted {
            count += 1
            if count * 2 > slots.count { grow() }
        }
    }

    /// Doubles the table.
    private mutating func grow() {
        var larger = [Slot](repeating: Slot(), count: slots.count * 2)
        larger.withUnsafeMutableBufferPointer { larger in
            let mask = larger.count - 1
            for entry in slots where entry.meta != 0 {
                var slot = Int(truncatingIfNeeded: entry.meta >> 32) & mask
                while larger[slot].meta != 0 { slot = (slot + 1) & mask }
                larger[slot] = entry
            }
        }
        slots = larger
    }

    /// Adds all words of `other`.
    mutating func merge(_ other: WordCounter) {
        other.arena.withUnsafeBufferPointer { otherArena in
            for entry in other.slots where entry.meta != 0 {
                let length = Int(entry.meta & 0xFFFF_FFFF)
                if length > 16 {
                    let start = Int(entry.tail)
                    insert(head: entry.head, tail: 0, meta: entry.meta, count: entry.count,
                           longWord: UnsafeBufferPointer(rebasing: otherArena[start..<(start + length)]))
                } else {
                    insert(head: entry.head, tail: entry.tail, meta: entry.meta, count: entry.count, longWord: nil)
                }
            }
        }
    }

    /// Calls `body` with the bytes and count of every distinct word, in table order.
    func forEachWord(_ body: (UnsafeBufferPointer<UInt8>, Int64) -> Void) {
        arena.withUnsafeBufferPointer { arena in
            var short: (UInt64, UInt64) = (0, 0)
            for entry in slots where entry.meta != 0 {
                let length = Int(entry.meta & 0xFFFF_FFFF)
                if length > 16 {
                    let start = Int(entry.tail)
                    body(UnsafeBufferPointer(rebasing: arena[start..<(start + length)]), entry.count)
                } else {
                    short = (entry.head.littleEndian, entry.tail.littleEndian)
                    withUnsafeBytes(of: &short) { raw in
                        body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: length),
                             entry.count)
                    }
                }
            }
        }
    }

    /// Splits `text[0..<end]` into words the way SentencePiece's `SplitIntoWords` does (at
    /// `▁`, U+2581, stepping by `OneCharLen`) and counts each with `count`. `text` must be
    /// readable for `paddingBytes` past `end`.
    mutating func addWords(of text: UnsafeBufferPointer<UInt8>, end: Int, count: Int64, treatWhitespaceAsSuffix: Bool,
                           allowWhitespaceOnlyPieces: Bool)
    {
        if end == 0 { return }
        @inline(__always) func isSpace(_ at: Int) -> Bool {
            at + 2 < end && text[at] == 0xE2 && text[at + 1] == 0x96 && text[at + 2] == 0x81
        }
        var wordStart = 0
        if treatWhitespaceAsSuffix {
            var position = 0
            var inWhitespaceRun = false
            while position < end {
                let length = min(UTF8Scanning.characterLength(leadByte: text[position]), end - position)
                let space = length == 3 && isSpace(position)
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
            // A word starts at every `▁`, except (with allowWhitespaceOnlyPieces) at a `▁`
            // that continues a run of them. ASCII bytes are single characters and never `▁`.
            var previousIsSpace = isSpace(0)
            var position = min(UTF8Scanning.characterLength(leadByte: text[0]), end)
            while position < end {
                let byte = text[position]
                if byte < 0x80 {
                    previousIsSpace = false
                    position += 1
                    continue
                }
                let space = byte == 0xE2 && isSpace(position)
                if space && (!previousIsSpace || !allowWhitespaceOnlyPieces) {
                    add(text, wordStart, position, count: count)
                    wordStart = position
                }
                previousIsSpace = space
                position += UTF8Scanning.characterLength(leadByte: byte)
            }
        }
        add(text, wordStart, end, count: count)
    }
}
