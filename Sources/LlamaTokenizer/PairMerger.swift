import Foundation

/// The merge loop of SentencePiece's BPE trainer (`bpe::Trainer::Train` in
/// src/bpe_model_trainer.cc of sentencepiece 0.2.3, the version the tests compare with).
///
/// Symbols are characters or pairs of symbols; each pair symbol records the positions
/// `(word, left index, right index)` where it was formed and keeps an exact frequency,
/// updated as merges remove and create neighbours. A priority queue holds
/// `(frequency, symbol)` entries; outdated entries are skipped when they reach the top.
///
/// Tie rules, as in SentencePiece: highest frequency, then fewest characters, then the
/// smallest UTF-8 byte string (then, where SentencePiece's heap order decides between two
/// symbols with the same text, the older symbol). A piece already produced along another
/// merge path is dropped. Frequencies use wrapping unsigned arithmetic like the original.
struct PairMerger {
    /// A place where a pair symbol was formed: the word and the indices of its two parts
    /// in `symbols` (the flattened words).
    struct Position {
        var word: Int32
        var left: Int32
        var right: Int32
    }

    /// A queue entry: the symbol and its frequency when pushed.
    private struct QueueEntry {
        var frequency: UInt64
        var symbol: Int32
    }

    /// Symbol ids of all words, one after the other; -1 where a symbol was merged into its
    /// left neighbour. Word `w` occupies `wordStarts[w]..<wordStarts[w + 1]`.
    private var symbols: [Int32] = []
    private var wordStarts: [Int32] = []
    /// Frequency of each word.
    private let wordFrequencies: [UInt64]
    private let options: BPETrainerOptions

    // Symbol storage, indexed by symbol id.
    private var leftOf: [Int32] = []
    private var rightOf: [Int32] = []
    private var charactersOf: [[UInt32]] = []
    /// Number of characters of each symbol (compared before the characters themselves).
    private var lengthOf: [Int32] = []
    private var isUnknown: [Bool] = []
    private var frequencyOf: [UInt64] = []
    private var positionsOf: [[Position]] = []
    private var isActive: [Bool] = []
    private var isPending: [Bool] = []
    private var needsRecomputation: [Bool] = []

    /// `symbols_cache_` for characters and for pairs (keyed `left << 32 | right`).
    private var characterCache: [UInt32: Int32] = [:]
    /// Pair symbols by pair key; `invalidPair` marks pairs known to form an invalid piece
    /// (the check is a pure function of the pair).
    private var pairCache = MutableIntegerTable()
    private static let invalidPair: Int32 = -2
    private var pending: [Int32] = []
    private var queue: [QueueEntry] = []

    init(words: [(characters: [UInt32], frequency: Int64)], requiredCharacters: [(character: UInt32, count: Int64)],
         options: BPETrainerOptions)
    {
        self.options = options
        wordFrequencies = words.map { UInt64(bitPattern: $0.frequency) }
        // Character symbols: the alphabet, the unknown character and the boundary character.
        for entry in requiredCharacters {
            _ = characterSymbol(entry.character, frequency: entry.count > 0 ? UInt64(entry.count) : 1)
        }
        _ = characterSymbol(BPETrainer.unknownCharacter, frequency: 1)
        _ = characterSymbol(BPETrainer.boundaryCharacter, frequency: 1)
        let characterIds = characterCache
        var flat: [Int32] = []
        var starts: [Int32] = [0]
        flat.reserveCapacity(words.reduce(0) { $0 + $1.characters.count })
        starts.reserveCapacity(words.count + 1)
        var lastCharacter: UInt32 = .max, lastId: Int32 = -1
        for word in words {
            for character in word.characters {
                if character != lastCharacter {
                    lastCharacter = character
                    lastId = characterIds[character] ?? -1
                }
                flat.append(lastId)
            }
            starts.append(Int32(flat.count))
        }
        symbols = flat
        wordStarts = starts
        collectInitialPairs()
    }

    /// Counts all adjacent pairs, in parallel over contiguous ranges of words, then creates
    /// their symbols in range order so that positions stay in word order.
    private mutating func collectInitialPairs() {
        let wordCount = wordStarts.count - 1
        let workers = max(1, min(options.numThreads, wordCount))
        var partial = [PairCounts](repeating: PairCounts(), count: workers)
        let symbols = self.symbols, starts = wordStarts, frequencies = wordFrequencies, unknown = isUnknown
        partial.withUnsafeMutableBufferPointer { tables in
            let tables = tables
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let begin = wordCount * worker / workers, end = wordCount * (worker + 1) / workers
                tables[worker] = PairCounts(symbols: symbols, starts: starts, frequencies: frequencies, unknown: unknown,
                                            words: begin..<end)
            }
        }
        // Symbol ids in a deterministic order (by pair key) within each range; positions
        // stay in word order because the ranges are taken in order.
        for counts in partial {
            for local in counts.keys.indices.sorted(by: { counts.keys[$0] < counts.keys[$1] }) {
                let key = counts.keys[local]
                guard let symbol = pairSymbol(Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key & 0xFFFF_FFFF))
                else { continue }
                let index = Int(symbol)
                frequencyOf[index] &+= counts.frequencies[local]
                let range = Int(counts.positionStarts[local])..<Int(counts.positionStarts[local + 1])
                if positionsOf[index].isEmpty {
                    positionsOf[index] = Array(counts.positions[range])
                } else {
                    positionsOf[index].append(contentsOf: counts.positions[range])
                }
                markPending(symbol)
            }
        }
        flushPending()
    }

    /// Runs merges until `targetCount` pieces are found or no pair is left; returns the
    /// merged pieces in order (the piece at index i gets score -i).
    mutating func run(targetCount: Int) -> [[UInt32]] {
        var pieces: [[UInt32]] = []
        var produced = Set<[UInt32]>()
        while pieces.count < targetCount {
            guard let best = popBest() else { break }
            let index = Int(best)
            if !produced.insert(charactersOf[index]).inserted {
                retire(best)
                continue
            }
            pieces.append(charactersOf[index])
            accept(best)
            flushPending()
        }
        return pieces
    }

    // MARK: Symbols

    private mutating func newSymbol(left: Int32, right: Int32, characters: [UInt32], unknown: Bool, frequency: UInt64) -> Int32 {
        let id = Int32(leftOf.count)
        leftOf.append(left)
        rightOf.append(right)
        charactersOf.append(characters)
        lengthOf.append(Int32(characters.count))
        isUnknown.append(unknown)
        frequencyOf.append(frequency)
        positionsOf.append([])
        isActive.append(true)
        isPending.append(false)
        needsRecomputation.append(true)
        return id
    }

    /// SentencePiece `GetCharSymbol`.
    private mutating func characterSymbol(_ character: UInt32, frequency: UInt64) -> Int32 {
        if let id = characterCache[character] { return id }
        let id = newSymbol(left: -1, right: -1, characters: [character], unknown: character == BPETrainer.unknownCharacter,
                           frequency: frequency)
        characterCache[character] = id
        return id
    }

    /// SentencePiece `GetPairSymbol`: the symbol for `left + right`, created on first use,
    /// or nil when either side is unknown or the result is not a valid piece.
    private mutating func pairSymbol(_ left: Int32, _ right: Int32) -> Int32? {
        if left < 0 || right < 0 || isUnknown[Int(left)] || isUnknown[Int(right)] { return nil }
        let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
        if let id = pairCache.value(for: key) { return id == Self.invalidPair ? nil : id }
        let characters = charactersOf[Int(left)] + charactersOf[Int(right)]
        if !PieceValidity.isValid(characters, options: options) {
            pairCache.set(Self.invalidPair, for: key)
            return nil
        }
        let id = newSymbol(left: left, right: right, characters: characters, unknown: false, frequency: 0)
        pairCache.set(id, for: key)
        return id
    }

    /// Removes a chosen or duplicate symbol from the cache and deactivates it.
    private mutating func retire(_ symbol: Int32) {
        let index = Int(symbol)
        pairCache.remove(UInt64(UInt32(leftOf[index])) << 32 | UInt64(UInt32(rightOf[index])))
        isActive[index] = false
        positionsOf[index] = []
    }

    // MARK: Merging

    /// SentencePiece `AcceptSymbol`: merges `best` at each of its positions that still
    /// holds its two parts, updating the neighbouring pairs.
    private mutating func accept(_ best: Int32) {
        let index = Int(best)
        let left = leftOf[index], right = rightOf[index]
        let positions = positionsOf[index]
        for position in positions {
            let leftIndex = Int(position.left), rightIndex = Int(position.right)
            if symbols[leftIndex] != left || symbols[rightIndex] != right { continue }
            let word = Int(position.word)
            let next = nextIndex(after: rightIndex, end: Int(wordStarts[word + 1]))
            let previous = previousIndex(before: leftIndex, start: Int(wordStarts[word]))
            resetFrequency(word: word, left: previous, right: leftIndex, best: best)
            resetFrequency(word: word, left: rightIndex, right: next, best: best)
            symbols[leftIndex] = best
            symbols[rightIndex] = -1
            addPair(word: word, left: previous, right: leftIndex)
            addPair(word: word, left: leftIndex, right: next)
        }
        retire(best)
    }

    /// The next unmerged symbol after `index` in its word, or -1.
    private func nextIndex(after index: Int, end: Int) -> Int {
        var position = index + 1
        while position < end {
            if symbols[position] >= 0 { return position }
            position += 1
        }
        return -1
    }

    /// The previous unmerged symbol before `index` in its word, or -1.
    private func previousIndex(before index: Int, start: Int) -> Int {
        var position = index - 1
        while position >= start {
            if symbols[position] >= 0 { return position }
            position -= 1
        }
        return -1
    }

    /// SentencePiece `AddNewPair`.
    private mutating func addPair(word: Int, left: Int, right: Int) {
        if left < 0 || right < 0 { return }
        guard let symbol = pairSymbol(symbols[left], symbols[right]) else { return }
        let index = Int(symbol)
        positionsOf[index].append(Position(word: Int32(word), left: Int32(left), right: Int32(right)))
        frequencyOf[index] &+= wordFrequencies[word]
        markPending(symbol)
    }

    /// SentencePiece `ResetFreq`.
    private mutating func resetFrequency(word: Int, left: Int, right: Int, best: Int32) {
        if left < 0 || right < 0 { return }
        if let symbol = pairSymbol(symbols[left], symbols[right]), symbol != best {
            frequencyOf[Int(symbol)] &-= wordFrequencies[word]
            needsRecomputation[Int(symbol)] = true
        }
    }

    /// SentencePiece `ComputeFreq`: a symbol whose frequency fell to zero drops its positions.
    private mutating func computeFrequency(_ symbol: Int32) {
        let index = Int(symbol)
        if !needsRecomputation[index] { return }
        if frequencyOf[index] == 0 { positionsOf[index] = [] }
        needsRecomputation[index] = false
    }

    private mutating func markPending(_ symbol: Int32) {
        if !isPending[Int(symbol)] {
            isPending[Int(symbol)] = true
            pending.append(symbol)
        }
    }

    /// Pushes the symbols that changed during the last merge.
    private mutating func flushPending() {
        for symbol in pending {
            isPending[Int(symbol)] = false
            if isActive[Int(symbol)] {
                computeFrequency(symbol)
                push(QueueEntry(frequency: frequencyOf[Int(symbol)], symbol: symbol))
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: Priority queue

    /// The best current symbol, skipping inactive and outdated entries.
    private mutating func popBest() -> Int32? {
        while let entry = queue.first {
            let index = Int(entry.symbol)
            if !isActive[index] {
                pop()
                continue
            }
            if needsRecomputation[index] {
                pop()
                computeFrequency(entry.symbol)
                push(QueueEntry(frequency: frequencyOf[index], symbol: entry.symbol))
                continue
            }
            if entry.frequency != frequencyOf[index] {
                pop()
                continue
            }
            pop()
            return entry.symbol
        }
        return nil
    }

    /// Whether `first` comes out of the queue before `second`.
    @inline(__always)
    private func precedes(_ first: QueueEntry, _ second: QueueEntry) -> Bool {
        if first.frequency != second.frequency { return first.frequency > second.frequency }
        let firstLength = lengthOf[Int(first.symbol)], secondLength = lengthOf[Int(second.symbol)]
        if firstLength != secondLength { return firstLength < secondLength }
        let firstCharacters = charactersOf[Int(first.symbol)], secondCharacters = charactersOf[Int(second.symbol)]
        if firstCharacters != secondCharacters { return firstCharacters.lexicographicallyPrecedes(secondCharacters) }
        return first.symbol < second.symbol
    }

    private mutating func push(_ entry: QueueEntry) {
        queue.append(entry)
        var child = queue.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !precedes(queue[child], queue[parent]) { break }
            queue.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() {
        guard let last = queue.popLast() else { return }
        if queue.isEmpty { return }
        queue[0] = last
        var parent = 0
        let count = queue.count
        while true {
            let leftChild = 2 * parent + 1
            if leftChild >= count { break }
            var best = leftChild
            if leftChild + 1 < count && precedes(queue[leftChild + 1], queue[leftChild]) { best = leftChild + 1 }
            if !precedes(queue[best], queue[parent]) { break }
            queue.swapAt(best, parent)
            parent = best
        }
    }
}
