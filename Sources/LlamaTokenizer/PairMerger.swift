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
///
/// Storage is flat, so that the loop allocates nothing per symbol or position: symbol
/// records in one array, their characters in one arena, positions in `PositionLists`, pair
/// symbols in an open-addressing table.
struct PairMerger {
    /// What is known about one symbol (48 bytes).
    struct Symbol {
        /// The two symbols it merges (-1 for a character).
        var left: Int32
        var right: Int32
        /// Its characters: `characters[characterStart..<characterStart + length]`.
        var characterStart: Int32
        var length: Int32
        var frequency: UInt64
        /// The first three code points, 21 bits each (0 where the symbol is shorter): orders
        /// symbols of equal length like their characters, up to the third.
        var prefix: UInt64
        /// Where it was formed (pair symbols).
        var positions = PositionLists.List()
        var isUnknown: Bool
        var isActive = true
        var isPending = false
        var needsRecomputation = true
    }

    /// Symbol ids of all words, one after the other, with `separator` before, between and
    /// after them (so that no scan needs the word's bounds); -1 where a symbol was merged
    /// into its left neighbour. Word `w` occupies `starts[w] + w + 1 ..< starts[w + 1] + w + 1`
    /// for the `starts` of `TrainingWords`.
    private var wordSymbols: [Int32] = []
    private static let separator: Int32 = -2
    /// `(words)`: frequency of each word.
    private let wordFrequencies: [UInt64]
    let options: BPETrainerOptions
    /// Which new pair symbols may become pieces.
    private let validity: PieceValidity

    /// Symbols by id.
    var symbolTable: [Symbol] = []
    /// Characters of all symbols, one after the other.
    var characters: [UInt32] = []
    /// Where each pair symbol was formed.
    private var positionLists = PositionLists()

    /// `symbols_cache_` for characters: dense below U+10000, a dictionary above.
    private var basicCharacterIds = [Int32](repeating: -1, count: 0x10000)
    private var otherCharacterIds: [UInt32: Int32] = [:]
    /// Pair symbols by pair key; `invalidPair` marks pairs known to form an invalid piece
    /// (the check is a pure function of the pair).
    private var pairCache = PairTable()
    private static let invalidPair: Int32 = -2
    private var pending: [Int32] = []
    /// Scratch list of the positions of one chunk that hold the pair being merged.
    private var live = [PositionLists.Position](repeating: PositionLists.Position(word: 0, left: 0),
                                                count: PositionLists.largestCapacity)
    /// The priority queue (a binary heap, best first).
    var queue: [QueueEntry] = []

    /// - Throws: `TokenizerError.invalidTrainingOption` when the words hold more characters
    ///   than 32-bit indices address.
    init(words: consuming TrainingWords, options: BPETrainerOptions, source: String) throws {
        guard words.characters.count + words.count < Int(Int32.max) else {
            throw TokenizerError.invalidTrainingOption(
                name: "input_sentence_size",
                reason: "\(source): \(words.characters.count) characters in distinct words exceed 2^31; sample fewer sentences")
        }
        self.options = options
        validity = PieceValidity(options: options)
        wordFrequencies = words.frequencies.map { UInt64(bitPattern: $0) }
        // Character symbols: the alphabet, the unknown character and the boundary character.
        for entry in words.requiredCharacters {
            _ = characterSymbol(entry.character, frequency: entry.count > 0 ? UInt64(entry.count) : 1)
        }
        _ = characterSymbol(BPETrainer.unknownCharacter, frequency: 1)
        _ = characterSymbol(BPETrainer.boundaryCharacter, frequency: 1)
        var flat = [Int32](repeating: Self.separator, count: words.characters.count + words.count + 1)
        flat.withUnsafeMutableBufferPointer { flat in
            basicCharacterIds.withUnsafeBufferPointer { basic in
                for word in 0..<words.count {
                    for index in words.starts[word]..<words.starts[word + 1] {
                        let character = words.characters[index]
                        flat[index + word + 1] = character < 0x10000 ? basic[Int(character)] : otherCharacterIds[character] ?? -1
                    }
                }
            }
        }
        wordSymbols = flat
        positionLists.reserveCapacity(words.characters.count * 2)
        // All adjacent pairs, in word order (SentencePiece's initial `AddNewPair` calls).
        for word in 0..<words.count {
            let first = words.starts[word] + word + 1, end = words.starts[word + 1] + word + 1
            if end - first < 2 { continue }
            for index in (first + 1)..<end { addPair(word: word, left: index - 1, right: index) }
        }
        flushPending()
    }

    /// Runs merges until `targetCount` pieces are found or no pair is left; returns the
    /// merged pieces in order (the piece at index i gets score -i).
    mutating func run(targetCount: Int) -> [[UInt32]] {
        var pieces: [[UInt32]] = []
        var produced = ProducedPieces(capacity: targetCount)
        while pieces.count < targetCount {
            guard let best = popBest() else { break }
            let symbol = symbolTable[Int(best)]
            let start = Int(symbol.characterStart), end = start + Int(symbol.length)
            let isNew = characters.withUnsafeBufferPointer { produced.insert(UnsafeBufferPointer(rebasing: $0[start..<end])) }
            if !isNew {
                retire(best)
                continue
            }
            pieces.append(Array(characters[start..<end]))
            accept(best)
            flushPending()
        }
        return pieces
    }

    /// Sizes of the storage, for `LLAMA_TOKENIZER_TRACE`.
    var storageSummary: String {
        "\(symbolTable.count) symbols (\((symbolTable.capacity * MemoryLayout<Symbol>.stride) >> 20) MiB), "
            + "\(characters.count) characters, \(positionLists.pool.count) position slots "
            + "(\((positionLists.pool.capacity * MemoryLayout<PositionLists.Position>.stride) >> 20) MiB), "
            + "pair table \(pairCache.capacity) slots (\((pairCache.capacity * 12) >> 20) MiB), "
            + "queue \(queue.count) of \(queue.capacity) (\((queue.capacity * MemoryLayout<QueueEntry>.stride) >> 20) MiB)"
    }

    // MARK: Symbols

    /// SentencePiece `GetCharSymbol`.
    private mutating func characterSymbol(_ character: UInt32, frequency: UInt64) -> Int32 {
        let known = character < 0x10000 ? basicCharacterIds[Int(character)] : otherCharacterIds[character] ?? -1
        if known >= 0 { return known }
        let id = Int32(symbolTable.count)
        symbolTable.append(Symbol(left: -1, right: -1, characterStart: Int32(characters.count), length: 1, frequency: frequency,
                                  prefix: UInt64(character & 0x1F_FFFF) << 42, isUnknown: character == BPETrainer.unknownCharacter))
        characters.append(character)
        if character < 0x10000 { basicCharacterIds[Int(character)] = id } else { otherCharacterIds[character] = id }
        return id
    }

    /// SentencePiece `GetPairSymbol`: the symbol for `left + right`, created on first use,
    /// or -1 when either side is unknown or the result is not a valid piece.
    @inline(__always)
    private mutating func pairSymbol(_ left: Int32, _ right: Int32) -> Int32 {
        if left < 0 || right < 0 { return -1 }
        let leftSymbol = symbolTable[Int(left)], rightSymbol = symbolTable[Int(right)]
        if leftSymbol.isUnknown || rightSymbol.isUnknown { return -1 }
        let key = PairTable.key(left, right)
        if let id = pairCache.value(for: key) { return id == Self.invalidPair ? -1 : id }
        let length = Int(leftSymbol.length + rightSymbol.length)
        let start = characters.count
        var valid = length <= options.maxSentencepieceLength
        if valid {
            for offset in 0..<Int(leftSymbol.length) { characters.append(characters[Int(leftSymbol.characterStart) + offset]) }
            for offset in 0..<Int(rightSymbol.length) { characters.append(characters[Int(rightSymbol.characterStart) + offset]) }
            valid = characters.withUnsafeBufferPointer {
                validity.isValid(UnsafeBufferPointer(rebasing: $0[start...]))
            }
            if !valid { characters.removeLast(length) }
        }
        if !valid {
            pairCache.set(Self.invalidPair, for: key)
            return -1
        }
        var prefix: UInt64 = 0
        for offset in 0..<3 {
            prefix <<= 21
            if offset < length { prefix |= UInt64(characters[start + offset] & 0x1F_FFFF) }
        }
        let id = Int32(symbolTable.count)
        symbolTable.append(Symbol(left: left, right: right, characterStart: Int32(start), length: Int32(length), frequency: 0,
                                  prefix: prefix, isUnknown: false))
        pairCache.set(id, for: key)
        return id
    }

    /// Removes a chosen or duplicate symbol from the cache and deactivates it.
    private mutating func retire(_ symbol: Int32) {
        let index = Int(symbol)
        pairCache.remove(PairTable.key(symbolTable[index].left, symbolTable[index].right))
        symbolTable[index].isActive = false
        releasePositions(of: index)
    }

    // MARK: Positions

    /// Empties the positions of `symbol`.
    private mutating func releasePositions(of symbol: Int) {
        positionLists.release(&symbolTable[symbol].positions)
    }

    // MARK: Merging

    /// SentencePiece `AcceptSymbol`: merges `best` at each of its positions that still
    /// holds its two parts, updating the neighbouring pairs. No position is added to
    /// `best` itself meanwhile (new pairs contain `best`, which is younger than its parts).
    private mutating func accept(_ best: Int32) {
        let left = symbolTable[Int(best)].left, right = symbolTable[Int(best)].right
        let list = symbolTable[Int(best)].positions
        var chunk = list.firstChunk
        while chunk >= 0 {
            let start = Int(positionLists.chunkStart[Int(chunk)])
            let end = start + Int(chunk == list.lastChunk ? list.lastCount : positionLists.capacity(of: chunk))
            // First the positions whose left part is still there: independent reads, so the
            // cache misses on `wordSymbols` overlap. Merging one may undo a later one (`aaa`),
            // so each is checked again below.
            let liveCount = positionLists.pool.withUnsafeBufferPointer { pool in
                wordSymbols.withUnsafeBufferPointer { wordSymbols in
                    live.withUnsafeMutableBufferPointer { live in
                        var count = 0
                        for slot in start..<end {
                            let position = pool[slot]
                            live[count] = position
                            count += wordSymbols[Int(position.left)] == left ? 1 : 0
                        }
                        return count
                    }
                }
            }
            for position in live[..<liveCount] {
                let leftIndex = Int(position.left)
                if wordSymbols[leftIndex] != left { continue }
                let rightIndex = nextIndex(after: leftIndex)
                if rightIndex < 0 || wordSymbols[rightIndex] != right { continue }
                let word = Int(position.word)
                let next = nextIndex(after: rightIndex)
                let previous = previousIndex(before: leftIndex)
                resetFrequency(word: word, left: previous, right: leftIndex, best: best)
                resetFrequency(word: word, left: rightIndex, right: next, best: best)
                wordSymbols[leftIndex] = best
                wordSymbols[rightIndex] = -1
                addPair(word: word, left: previous, right: leftIndex)
                addPair(word: word, left: leftIndex, right: next)
            }
            chunk = positionLists.chunkNext[Int(chunk)]
        }
        retire(best)
    }

    /// The next unmerged symbol after `index` in its word, or -1.
    @inline(__always)
    private func nextIndex(after index: Int) -> Int {
        var position = index + 1
        while wordSymbols[position] == -1 { position += 1 }
        return wordSymbols[position] == Self.separator ? -1 : position
    }

    /// The previous unmerged symbol before `index` in its word, or -1.
    @inline(__always)
    private func previousIndex(before index: Int) -> Int {
        var position = index - 1
        while wordSymbols[position] == -1 { position -= 1 }
        return wordSymbols[position] == Self.separator ? -1 : position
    }

    /// SentencePiece `AddNewPair`.
    @inline(__always)
    private mutating func addPair(word: Int, left: Int, right: Int) {
        if left < 0 || right < 0 { return }
        let symbol = pairSymbol(wordSymbols[left], wordSymbols[right])
        if symbol < 0 { return }
        let index = Int(symbol)
        positionLists.append(PositionLists.Position(word: Int32(word), left: Int32(left)),
                             to: &symbolTable[index].positions)
        symbolTable[index].frequency &+= wordFrequencies[word]
        markPending(symbol)
    }

    /// SentencePiece `ResetFreq`.
    @inline(__always)
    private mutating func resetFrequency(word: Int, left: Int, right: Int, best: Int32) {
        if left < 0 || right < 0 { return }
        let symbol = pairSymbol(wordSymbols[left], wordSymbols[right])
        if symbol >= 0 && symbol != best {
            symbolTable[Int(symbol)].frequency &-= wordFrequencies[word]
            symbolTable[Int(symbol)].needsRecomputation = true
        }
    }

    /// SentencePiece `ComputeFreq`: a symbol whose frequency fell to zero drops its positions.
    mutating func computeFrequency(_ symbol: Int32) {
        let index = Int(symbol)
        if !symbolTable[index].needsRecomputation { return }
        if symbolTable[index].frequency == 0 { releasePositions(of: index) }
        symbolTable[index].needsRecomputation = false
    }

    @inline(__always)
    private mutating func markPending(_ symbol: Int32) {
        if !symbolTable[Int(symbol)].isPending {
            symbolTable[Int(symbol)].isPending = true
            pending.append(symbol)
        }
    }

    /// Pushes the symbols that changed during the last merge.
    private mutating func flushPending() {
        for symbol in pending {
            symbolTable[Int(symbol)].isPending = false
            if symbolTable[Int(symbol)].isActive {
                computeFrequency(symbol)
                push(entry(for: symbol))
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
