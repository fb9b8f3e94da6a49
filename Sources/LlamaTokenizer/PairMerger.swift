/// The merge loop of SentencePiece's BPE trainer (src/bpe_model_trainer.cc `Train`).
///
/// Symbols are characters or pairs of symbols. Each pair symbol knows the positions
/// `(word, left index, right index)` where it occurs; its frequency is recomputed lazily
/// after neighbouring merges invalidate it. Only "active" symbols are scanned for the best
/// pair: every 100 pieces the active set is rebuilt from the most frequent symbols
/// (at least 1000, or 5% of all symbols), and new pairs join it as they appear.
///
/// Tie rules, as in SentencePiece: the best symbol has the highest frequency, then the
/// fewest characters, then the smallest UTF-8 byte string; a piece already produced along
/// another merge path is dropped. Where SentencePiece's choice depends on hash-table order
/// (which of several equally frequent symbols at the cut-off enter the active set), this
/// implementation admits all of them.
struct PairMerger {
    /// Symbol ids of each word; -1 where a symbol was merged into its left neighbour.
    private var words: [[Int32]]
    /// Frequency of each word.
    private let wordFrequencies: [Int64]
    private let options: BPETrainerOptions
    /// Required characters and their counts (frequency of a character symbol).
    private let characterCounts: [UInt32: Int64]

    // Symbol storage, indexed by symbol id.
    private var leftOf: [Int32] = []
    private var rightOf: [Int32] = []
    private var charactersOf: [[UInt32]] = []
    private var isUnknown: [Bool] = []
    private var frequencyOf: [Int64] = []
    private var positionsOf: [[UInt64]] = []
    private var positionsSorted: [Bool] = []
    private var inCache: [Bool] = []
    private var isActive: [Bool] = []

    /// `symbols_cache_`: characters and pairs that currently exist.
    private var characterCache: [UInt32: Int32] = [:]
    private var pairCache: [UInt64: Int32] = [:]
    /// Pairs known to form an invalid piece (the check is a pure function of the pair).
    private var invalidPairs: Set<UInt64> = []
    private var cachedCount = 0
    private var activeList: [Int32] = []

    init(words: [(characters: [UInt32], frequency: Int64)], requiredCharacters: [(character: UInt32, count: Int64)],
         options: BPETrainerOptions)
    {
        self.options = options
        wordFrequencies = words.map(\.frequency)
        var counts: [UInt32: Int64] = [:]
        for entry in requiredCharacters { counts[entry.character] = entry.count }
        characterCounts = counts
        self.words = []
        self.words.reserveCapacity(words.count)
        for word in words {
            self.words.append(word.characters.map { characterSymbol($0) })
        }
        for (wordIndex, word) in self.words.enumerated() where word.count > 1 {
            for index in 1..<word.count { addPair(word: wordIndex, left: index - 1, right: index) }
        }
    }

    /// Runs merges until `targetCount` pieces are found or no pair is left; returns the
    /// merged pieces in order (the piece at index i gets score -i).
    mutating func run(targetCount: Int) -> [[UInt32]] {
        var pieces: [[UInt32]] = []
        var produced = Set<[UInt32]>()
        while pieces.count < targetCount {
            if pieces.count % 100 == 0 { updateActiveSymbols() }
            guard let best = bestActiveSymbol() else { break }
            let characters = charactersOf[Int(best)]
            if !produced.insert(characters).inserted {
                retire(best)
                continue
            }
            pieces.append(characters)
            sortPositions(of: best)
            let positions = positionsOf[Int(best)]
            for encoded in positions {
                let word = Int(encoded >> 32), left = Int((encoded >> 16) & 0xFFFF), right = Int(encoded & 0xFFFF)
                if words[word][left] < 0 { continue }  // consumed by an overlapping merge of the same pair
                if words[word][right] < 0 { continue }
                let next = nextIndex(word: word, after: right)
                let previous = previousIndex(word: word, before: left)
                resetFrequency(word: word, left: previous, right: left, best: best)
                resetFrequency(word: word, left: right, right: next, best: best)
                words[word][left] = best
                words[word][right] = -1
                addPair(word: word, left: previous, right: left)
                addPair(word: word, left: left, right: next)
            }
            retire(best)
        }
        return pieces
    }

    // MARK: Symbols

    private mutating func newSymbol(left: Int32, right: Int32, characters: [UInt32], unknown: Bool, frequency: Int64) -> Int32 {
        let id = Int32(leftOf.count)
        leftOf.append(left)
        rightOf.append(right)
        charactersOf.append(characters)
        isUnknown.append(unknown)
        frequencyOf.append(frequency)
        positionsOf.append([])
        positionsSorted.append(true)
        inCache.append(true)
        isActive.append(false)
        cachedCount += 1
        return id
    }

    /// SentencePiece `GetCharSymbol`.
    private mutating func characterSymbol(_ character: UInt32) -> Int32 {
        if let id = characterCache[character] { return id }
        let id = newSymbol(left: -1, right: -1, characters: [character], unknown: character == BPETrainer.unknownCharacter,
                           frequency: characterCounts[character] ?? 1)
        characterCache[character] = id
        return id
    }

    /// SentencePiece `GetPairSymbol`: the symbol for `left + right`, created on first use,
    /// or nil when either side is unknown or the result is not a valid piece.
    private mutating func pairSymbol(_ left: Int32, _ right: Int32) -> Int32? {
        if left < 0 || right < 0 || isUnknown[Int(left)] || isUnknown[Int(right)] { return nil }
        let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
        if let id = pairCache[key] { return id }
        if invalidPairs.contains(key) { return nil }
        let characters = charactersOf[Int(left)] + charactersOf[Int(right)]
        if !PieceValidity.isValid(characters, options: options) {
            invalidPairs.insert(key)
            return nil
        }
        let id = newSymbol(left: left, right: right, characters: characters, unknown: false, frequency: 0)
        pairCache[key] = id
        return id
    }

    /// Removes a chosen (or duplicate) symbol from the cache and the active set.
    private mutating func retire(_ symbol: Int32) {
        let index = Int(symbol)
        if inCache[index] {
            inCache[index] = false
            cachedCount -= 1
            pairCache[UInt64(UInt32(leftOf[index])) << 32 | UInt64(UInt32(rightOf[index]))] = nil
        }
        isActive[index] = false
    }

    // MARK: Positions and frequencies

    private mutating func sortPositions(of symbol: Int32) {
        let index = Int(symbol)
        if !positionsSorted[index] {
            positionsOf[index].sort()
            // A set in SentencePiece: drop repeated positions.
            var unique: [UInt64] = []
            unique.reserveCapacity(positionsOf[index].count)
            for position in positionsOf[index] where unique.last != position { unique.append(position) }
            positionsOf[index] = unique
            positionsSorted[index] = true
        }
    }

    /// SentencePiece `ComputeFreq`: when the frequency was reset, drop positions that no
    /// longer hold this pair and sum the frequencies of the words at the others.
    private mutating func computeFrequency(_ symbol: Int32) {
        let index = Int(symbol)
        if frequencyOf[index] > 0 { return }
        sortPositions(of: symbol)
        let left = leftOf[index], right = rightOf[index]
        var frequency: Int64 = 0
        var kept: [UInt64] = []
        kept.reserveCapacity(positionsOf[index].count)
        for encoded in positionsOf[index] {
            let word = Int(encoded >> 32), leftIndex = Int((encoded >> 16) & 0xFFFF), rightIndex = Int(encoded & 0xFFFF)
            if words[word][leftIndex] == left && words[word][rightIndex] == right {
                kept.append(encoded)
                frequency += wordFrequencies[word]
            }
        }
        positionsOf[index] = kept
        frequencyOf[index] = frequency
    }

    private func nextIndex(word: Int, after index: Int) -> Int {
        let symbols = words[word]
        var position = index + 1
        while position < symbols.count {
            if symbols[position] >= 0 { return position }
            position += 1
        }
        return -1
    }

    private func previousIndex(word: Int, before index: Int) -> Int {
        let symbols = words[word]
        var position = index - 1
        while position >= 0 {
            if symbols[position] >= 0 { return position }
            position -= 1
        }
        return -1
    }

    /// SentencePiece `AddNewPair`.
    private mutating func addPair(word: Int, left: Int, right: Int) {
        if left < 0 || right < 0 { return }
        guard let symbol = pairSymbol(words[word][left], words[word][right]) else { return }
        let index = Int(symbol)
        if !isActive[index] {
            isActive[index] = true
            activeList.append(symbol)
        }
        let encoded = UInt64(word) << 32 | UInt64(left) << 16 | UInt64(right)
        if let last = positionsOf[index].last, last >= encoded { positionsSorted[index] = false }
        positionsOf[index].append(encoded)
    }

    /// SentencePiece `ResetFreq`.
    private mutating func resetFrequency(word: Int, left: Int, right: Int, best: Int32) {
        if left < 0 || right < 0 { return }
        if let symbol = pairSymbol(words[word][left], words[word][right]), symbol != best {
            frequencyOf[Int(symbol)] = 0
        }
    }

    // MARK: Active set

    /// SentencePiece `UpdateActiveSymbols`: recompute all pair frequencies and keep the
    /// most frequent max(1000, 5% of all symbols) as the active set.
    private mutating func updateActiveSymbols() {
        var candidates: [Int32] = []
        for index in 0..<leftOf.count where inCache[index] && leftOf[index] >= 0 {
            computeFrequency(Int32(index))
            candidates.append(Int32(index))
        }
        let size = min(max(1000, Int(Float(cachedCount) * 0.05)), candidates.count)
        for symbol in activeList { isActive[Int(symbol)] = false }
        activeList.removeAll(keepingCapacity: true)
        if size == 0 { return }
        // The frequency of the size-th most frequent symbol; every symbol at least that
        // frequent becomes active.
        var frequencies = candidates.map { frequencyOf[Int($0)] }
        let threshold = Self.kthLargest(&frequencies, k: size)
        for symbol in candidates where frequencyOf[Int(symbol)] >= threshold {
            isActive[Int(symbol)] = true
            activeList.append(symbol)
        }
    }

    /// The k-th largest value (1-based) of `values` (which is reordered), by quickselect.
    static func kthLargest(_ values: inout [Int64], k: Int) -> Int64 {
        var low = 0, high = values.count - 1
        let target = k - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return values[target] }
        }
        return values[target]
    }

    /// The best active symbol, dropping inactive entries from the list on the way.
    private mutating func bestActiveSymbol() -> Int32? {
        var best: Int32 = -1
        var write = 0
        for read in 0..<activeList.count {
            let symbol = activeList[read]
            if !isActive[Int(symbol)] { continue }
            activeList[write] = symbol
            write += 1
            computeFrequency(symbol)
            if best < 0 || isBetter(symbol, than: best) { best = symbol }
        }
        activeList.removeLast(activeList.count - write)
        return best < 0 ? nil : best
    }

    @inline(__always)
    private func isBetter(_ candidate: Int32, than current: Int32) -> Bool {
        let candidateFrequency = frequencyOf[Int(candidate)], currentFrequency = frequencyOf[Int(current)]
        if candidateFrequency != currentFrequency { return candidateFrequency > currentFrequency }
        let candidateCharacters = charactersOf[Int(candidate)], currentCharacters = charactersOf[Int(current)]
        if candidateCharacters.count != currentCharacters.count { return candidateCharacters.count < currentCharacters.count }
        if candidateCharacters != currentCharacters { return candidateCharacters.lexicographicallyPrecedes(currentCharacters) }
        return candidate < current
    }
}
