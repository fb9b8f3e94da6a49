/// The priority queue of the merge loop: a binary heap of `(frequency, symbol)` entries in
/// SentencePiece's order, with outdated entries skipped when they reach the top.
extension PairMerger {
    /// A queue entry: the symbol, its frequency when pushed, and (copied so that most
    /// comparisons stay within the entry) its length and character prefix.
    struct QueueEntry {
        var frequency: UInt64
        var prefix: UInt64
        var length: Int32
        var symbol: Int32
    }

    /// The entry for `symbol` at its current frequency.
    @inline(__always)
    func entry(for symbol: Int32) -> QueueEntry {
        let record = symbolTable[Int(symbol)]
        return QueueEntry(frequency: record.frequency, prefix: record.prefix, length: record.length, symbol: symbol)
    }

    /// The best current symbol, skipping inactive and outdated entries.
    mutating func popBest() -> Int32? {
        while let top = queue.first {
            let index = Int(top.symbol)
            if !symbolTable[index].isActive {
                pop()
                continue
            }
            if symbolTable[index].needsRecomputation {
                pop()
                computeFrequency(top.symbol)
                push(entry(for: top.symbol))
                continue
            }
            if top.frequency != symbolTable[index].frequency {
                pop()
                continue
            }
            pop()
            return top.symbol
        }
        return nil
    }

    /// Whether `first` comes out of the queue before `second`: higher frequency, then
    /// fewer characters, then smaller characters, then the older symbol.
    @inline(__always)
    private func precedes(_ first: QueueEntry, _ second: QueueEntry) -> Bool {
        if first.frequency != second.frequency { return first.frequency > second.frequency }
        if first.length != second.length { return first.length < second.length }
        if first.prefix != second.prefix { return first.prefix < second.prefix }
        if first.length > 3 {
            let firstStart = Int(symbolTable[Int(first.symbol)].characterStart)
            let secondStart = Int(symbolTable[Int(second.symbol)].characterStart)
            for offset in 3..<Int(first.length) {
                let a = characters[firstStart + offset], b = characters[secondStart + offset]
                if a != b { return a < b }
            }
        }
        return first.symbol < second.symbol
    }

    mutating func push(_ entry: QueueEntry) {
        queue.append(entry)
        var child = queue.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !precedes(entry, queue[parent]) { break }
            queue[child] = queue[parent]
            child = parent
        }
        queue[child] = entry
    }

    private mutating func pop() {
        guard let last = queue.popLast() else { return }
        let count = queue.count
        if count == 0 { return }
        var parent = 0
        while true {
            let leftChild = 2 * parent + 1
            if leftChild >= count { break }
            var best = leftChild
            if leftChild + 1 < count && precedes(queue[leftChild + 1], queue[leftChild]) { best = leftChild + 1 }
            if !precedes(queue[best], last) { break }
            queue[parent] = queue[best]
            parent = best
        }
        queue[parent] = last
    }
}

/// The set of pieces already produced (SentencePiece skips a symbol whose text was produced
/// along another merge path): their characters in an arena, found through a hash table.
struct ProducedPieces {
    private var characters: [UInt32] = []
    private var starts: [Int] = [0]
    /// Open-addressing slots holding a piece index, -1 when free.
    private var slots: [Int32]

    init(capacity: Int) {
        var size = 64
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
    }

    /// Adds `piece`; returns false when it was already there.
    mutating func insert(_ piece: UnsafeBufferPointer<UInt32>) -> Bool {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for character in piece { hash = (hash ^ UInt64(character)) &* 0x0000_0100_0000_01B3 }
        hash = (hash ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
        if (starts.count - 1) * 2 >= slots.count { grow() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 32) & mask
        while slots[slot] >= 0 {
            let index = Int(slots[slot])
            if starts[index + 1] - starts[index] == piece.count && characters[starts[index]..<starts[index + 1]].elementsEqual(piece) {
                return false
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(starts.count - 1)
        characters.append(contentsOf: piece)
        starts.append(characters.count)
        return true
    }

    /// Doubles the table (re-hashing every piece).
    private mutating func grow() {
        let pieces = starts.count - 1
        let oldCharacters = characters, oldStarts = starts
        slots = [Int32](repeating: -1, count: slots.count * 2)
        characters = []
        starts = [0]
        oldCharacters.withUnsafeBufferPointer { buffer in
            for index in 0..<pieces { _ = insert(UnsafeBufferPointer(rebasing: buffer[oldStarts[index]..<oldStarts[index + 1]])) }
        }
    }
}
