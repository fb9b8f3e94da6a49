import Foundation

/// A back-off n-gram language model with ARPA semantics, scored as KenLM's probing model scores
/// it (Heafield 2011, "KenLM: Faster and Smaller Language Model Queries"; `lm/model.cc`,
/// `GenericModel::FullScore`, `ResumeScore`).
///
/// The probability of word `w` after context `c_k … c_1` (most recent last in reading order) is
/// the log10 probability of the longest n-gram `c_j … c_1 w` in the model plus the log10
/// back-off weights of the contexts `c_i … c_1`, `i > j`, that are in the model (absent contexts
/// weigh 0). Words missing from the vocabulary are scored as `<unk>`; a model whose file lists no
/// `<unk>` gets one with log10 probability −100 and back-off 0, as KenLM's loader adds it
/// (`lm/config.cc`, `unknown_missing_logprob`).
///
/// Storage is KenLM's probing layout: one open-addressing table per order of 16-byte slots
/// (63-bit key, probability, back-off) at 1.5 slots per n-gram, so 24 bytes per n-gram, looked up
/// by keys that extend by one multiply per word of context (`NGramHash`); words are found by a
/// hash of their UTF-8 bytes, so scoring allocates nothing. A lookup stops at the first n-gram
/// not found or that no longer n-gram extends (KenLM's blanks make this exact; see
/// `NGramModelBuilder`), and the state carries only the context words the model can extend.
public struct NGramModel: Sendable {
    /// Log10 probability and log10 back-off weight of one n-gram.
    public struct Entry: Sendable, Equatable {
        public var probability: Float
        public var backoff: Float
        public init(probability: Float, backoff: Float) {
            self.probability = probability
            self.backoff = backoff
        }
    }

    /// The words of the model and the `<s>`, `</s>`, `<unk>` markers.
    public static let beginOfSentence = "<s>"
    public static let endOfSentence = "</s>"
    public static let unknownWord = "<unk>"
    /// Log10 probability KenLM gives `<unk>` when the ARPA file does not list it.
    public static let missingUnknownLogProbability: Float = -100
    /// The highest order supported: the state holds up to 7 words of context inline.
    public static let maximumOrder = 8

    /// The highest n-gram order.
    public let order: Int
    /// Word of each identifier; identifier 0 is `<unk>`.
    public let words: [String]
    /// Whether the model file listed `<unk>` itself.
    public let hasExplicitUnknown: Bool
    /// The number of n-grams of each order, unigrams first (`<unk>` counted only if listed;
    /// blanks not counted).
    public let counts: [Int]
    /// Key of each word identifier.
    let wordHashes: [UInt64]
    /// Word identifier of each unigram slot.
    let unigramIdentifiers: [Int32]
    /// The tables of all orders end to end; order n starts at `offsets[n − 1]` and has
    /// `capacities[n − 1]` slots.
    let storage: NGramSlotStorage
    let offsets: SIMD8<Int>
    let capacities: SIMD8<Int>
    let unknownHash: UInt64
    let unknownProbabilityBits: UInt32
    let unknownBackoff: Float
    let endHash: UInt64
    let begin: State
    /// The n-grams the model was built from, when built from lists (to write it as ARPA).
    let listing: [[(words: [String], entry: Entry)]]?

    /// Builds a model from n-grams in reading order; `ngrams[n - 1]` holds the n-grams of order n.
    /// The lists are kept so that `ARPAFormat.write` can write the model.
    /// - Throws: `DataError.invalidARPA` (line 0) when a higher-order n-gram uses a word that is not
    ///   a unigram or has no context, a probability is positive, or the order is not supported.
    public init(order: Int, ngrams: [[(words: [String], entry: Entry)]], path: String = "<model>") throws {
        guard ngrams.count == order else {
            throw DataError.invalidARPA(path: path, line: 0, reason: "\(ngrams.count) n-gram lists for order \(order)")
        }
        var builder = try NGramModelBuilder(order: order, expectedCounts: ngrams.map(\.count), path: path)
        for (gramWords, entry) in ngrams[0] {
            guard let word = gramWords.first, gramWords.count == 1 else {
                throw DataError.invalidARPA(path: path, line: 0, reason: "a unigram must have one word")
            }
            try builder.addUnigram(word, hash: NGramHash.word(word), probability: entry.probability,
                                   backoff: entry.backoff, line: 0)
        }
        for length in stride(from: 2, through: order, by: 1) {
            for (gramWords, entry) in ngrams[length - 1] {
                guard gramWords.count == length else {
                    throw DataError.invalidARPA(path: path, line: 0, reason: "a \(length)-gram with \(gramWords.count) words")
                }
                var reversed = SIMD8<UInt64>()
                for (position, word) in gramWords.reversed().enumerated() { reversed[position] = NGramHash.word(word) }
                try builder.addNGram(reversed: reversed, length: length, probability: entry.probability,
                                     backoff: entry.backoff, line: 0) { gramWords }
            }
        }
        self.init(builder: builder, listing: ngrams)
    }

    init(builder: NGramModelBuilder, listing: [[(words: [String], entry: Entry)]]?) {
        order = builder.order
        words = builder.words
        hasExplicitUnknown = builder.explicitUnknown
        counts = builder.counts
        wordHashes = builder.wordHashes
        unigramIdentifiers = builder.unigramIdentifiers()
        let storage = builder.tables.storage
        let base = UnsafePointer(storage.base)
        let offsets = NGramTables.vector(builder.tables.offsets), capacities = NGramTables.vector(builder.tables.capacities)
        let unknownHash = NGramHash.word(NGramModel.unknownWord)
        var unknownBits = NGramModel.missingUnknownLogProbability.bitPattern
        var unknownBack = NGramSlot.noExtension
        var begin = State()
        if let slot = NGramTables.find(unknownHash, in: base, capacity: capacities[0]) {
            unknownBits = slot.pointee.probability.bitPattern
            unknownBack = slot.pointee.backoff
        }
        let beginHash = NGramHash.word(NGramModel.beginOfSentence)
        if builder.order > 1, let slot = NGramTables.find(beginHash, in: base, capacity: capacities[0]) {
            begin.words[0] = beginHash
            begin.backoffs[0] = slot.pointee.backoff
            begin.length = 1
        }
        (self.storage, self.offsets, self.capacities) = (storage, offsets, capacities)
        self.listing = listing
        self.unknownHash = unknownHash
        endHash = NGramHash.word(NGramModel.endOfSentence)
        unknownProbabilityBits = unknownBits
        unknownBackoff = unknownBack
        self.begin = begin
    }

    /// The unigram slot index of `word`, if it is in the vocabulary.
    private func unigramSlot(_ word: String) -> Int? {
        let base = UnsafePointer(storage.base)
        return NGramTables.find(NGramHash.word(word), in: base, capacity: capacities[0]).map { $0 - base }
    }

    /// The identifier of `word`, or 0 (`<unk>`) for a word outside the vocabulary.
    public func identifier(of word: String) -> Int32 {
        unigramSlot(word).map { unigramIdentifiers[$0] } ?? 0
    }

    /// Whether `word` is in the vocabulary (`<unk>` itself counts only when the file listed it).
    public func contains(_ word: String) -> Bool { unigramSlot(word) != nil }

    /// The entry of an n-gram given by word identifiers in reading order, if the model has it (a
    /// blank, an n-gram a longer one implies, reports the probability backing off gives it).
    public func entry(_ gram: [Int32]) -> Entry? {
        guard let last = gram.last, gram.count <= order,
              gram.allSatisfy({ $0 >= 0 && Int($0) < wordHashes.count }) else { return nil }
        if gram.count == 1, last == 0, !hasExplicitUnknown {
            return Entry(probability: NGramModel.missingUnknownLogProbability, backoff: 0)
        }
        var key = wordHashes[Int(last)]
        for word in gram.dropLast().reversed() { key = NGramHash.combine(key, wordHashes[Int(word)]) }
        let index = gram.count - 1
        guard let slot = NGramTables.find(key, in: storage.base + offsets[index], capacity: capacities[index]) else {
            return nil
        }
        return Entry(probability: NGramSlot.plain(NGramSlot.probability(bits: slot.pointee.probability.bitPattern)),
                     backoff: NGramSlot.plain(slot.pointee.backoff))
    }

    /// The context KenLM carries from word to word (`lm/state.hh`): up to `order − 1` words, most
    /// recent first, kept only as far as the model has n-grams extending them, and the log10
    /// back-off of each context suffix (`backoffs[i]` belongs to the n-gram of `words[i] … words[0]`
    /// in reading order).
    public struct State: Sendable, Equatable {
        var words = SIMD8<UInt64>()
        var backoffs = SIMD8<Float>()
        /// The number of context words carried.
        public internal(set) var length = 0
        public init() {}

        /// States are equal when they carry the same words (the back-offs follow from them).
        public static func == (lhs: State, rhs: State) -> Bool {
            lhs.length == rhs.length && (0..<lhs.length).allSatisfy { lhs.words[$0] == rhs.words[$0] }
        }
    }

    /// The state after `<s>`: KenLM's `BeginSentenceState`.
    public var beginSentenceState: State { begin }

    /// One scored word: its log10 probability, the length of the n-gram matched (blanks count, as
    /// KenLM counts them), and whether it was out of the vocabulary (as python
    /// `kenlm.Model.full_scores` reports it).
    public struct WordScore: Sendable, Equatable {
        public var logProbability: Float
        public var ngramLength: Int
        public var isUnknown: Bool
    }

    /// A word looked up in the unigram table: its key (that of `<unk>` for a word outside the
    /// vocabulary), stored probability and back-off; and, when `hasBigram`, the bigram of it
    /// after the word the state it will be scored from ends with, if the model has that bigram.
    struct Unigram {
        var hash: UInt64
        var probabilityBits: UInt32
        var backoff: Float
        var isUnknown: Bool
        var hasBigram = false
        var bigram: UnsafePointer<NGramSlot>?
    }

    /// The unigram of the word keyed `wordHash`, with its bigram after `context` (the last word of
    /// the state it will be scored from, nil if the state is empty) looked up ahead when the
    /// unigram is extended to the left; `slots` is `storage.base`.
    @inline(__always)
    func unigram(_ wordHash: UInt64, after context: UInt64?, slots: UnsafePointer<NGramSlot>) -> Unigram {
        guard let slot = NGramTables.find(wordHash, in: slots, capacity: capacities[0]) else {
            return Unigram(hash: unknownHash, probabilityBits: unknownProbabilityBits, backoff: unknownBackoff,
                           isUnknown: true, hasBigram: context != nil,
                           bigram: context.flatMap { bigram(of: unknownHash, after: $0, bits: unknownProbabilityBits, slots: slots) })
        }
        let bits = slot.pointee.probability.bitPattern
        return Unigram(hash: wordHash, probabilityBits: bits, backoff: slot.pointee.backoff,
                       isUnknown: wordHash == unknownHash, hasBigram: context != nil,
                       bigram: context.flatMap { bigram(of: wordHash, after: $0, bits: bits, slots: slots) })
    }

    /// The bigram `context word` if the unigram of `word` (stored probability `bits`) is extended
    /// to the left and the model has it.
    @inline(__always)
    private func bigram(of word: UInt64, after context: UInt64, bits: UInt32,
                        slots: UnsafePointer<NGramSlot>) -> UnsafePointer<NGramSlot>? {
        guard order > 1, bits & NGramSlot.signBit == 0 else { return nil }
        return NGramTables.find(NGramHash.combine(word, context), in: slots + offsets[1], capacity: capacities[1])
    }

    /// Scores `word` after `state` and writes the state after it to `next` (KenLM's `FullScore`);
    /// `slots` is `storage.base`.
    @inline(__always)
    func advance(_ word: Unigram, from state: State, to next: inout State, slots: UnsafePointer<NGramSlot>) -> WordScore {
        let hash = word.hash
        var probabilityBits = word.probabilityBits
        let backoff = word.backoff
        next.words[0] = hash
        next.backoffs[0] = backoff
        var nextLength = order > 1 && NGramSlot.hasExtension(backoff) ? 1 : 0
        var matched = 1
        var key = hash
        var index = 0
        // Longer n-grams while the context lasts and the last one found is extended to the left.
        while index < state.length, probabilityBits & NGramSlot.signBit == 0 {
            key = NGramHash.combine(key, state.words[index])
            let length = index + 2
            let found = index == 0 && word.hasBigram ? word.bigram
                : NGramTables.find(key, in: slots + offsets[length - 1], capacity: capacities[length - 1])
            guard let slot = found else { break }
            probabilityBits = slot.pointee.probability.bitPattern
            matched = length
            if length == order { break }
            next.backoffs[index + 1] = slot.pointee.backoff
            if NGramSlot.hasExtension(slot.pointee.backoff) { nextLength = length }
            index += 1
        }
        var position = 1
        while position < nextLength {
            next.words[position] = state.words[position - 1]
            position += 1
        }
        next.length = nextLength
        // Back-offs of the contexts longer than the matched n-gram's.
        var probability = NGramSlot.probability(bits: probabilityBits)
        var context = matched - 1
        while context < state.length {
            probability += state.backoffs[context]
            context += 1
        }
        return WordScore(logProbability: probability, ngramLength: matched, isUnknown: word.isUnknown)
    }

    /// Scores the word with identifier `word` after `state` and returns the state after it.
    public func score(word: Int32, state: State, next: inout State) -> WordScore {
        let hash = word >= 0 && Int(word) < wordHashes.count ? wordHashes[Int(word)] : unknownHash
        let base = UnsafePointer(storage.base)
        return advance(unigram(hash, after: nil, slots: base), from: state, to: &next, slots: base)
    }

    /// Calls `body` with the score of each word of `sentence` (split on ASCII whitespace) and of
    /// `</s>`; returns the number of words.
    @inline(__always)
    private func scoreWords(_ sentence: Substring, beginOfSentence: Bool, endOfSentence: Bool,
                            _ body: (WordScore) -> Void) -> Int {
        var text = sentence
        let base = UnsafePointer(storage.base)
        return text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            var state = beginOfSentence ? begin : State()
            var next = State()
            var offset = 0
            var count = 0
            // Each word is looked up, with its bigram after the word before, before the longer
            // n-grams of the word before it are, so that their cache misses overlap.
            var context: UInt64? = state.length > 0 ? state.words[0] : nil
            var pending = NGramModel.nextWord(in: bytes, from: &offset).map {
                unigram(NGramHash.word($0), after: context, slots: base)
            }
            while let word = pending {
                context = order > 1 && NGramSlot.hasExtension(word.backoff) ? word.hash : nil
                pending = NGramModel.nextWord(in: bytes, from: &offset).map {
                    unigram(NGramHash.word($0), after: context, slots: base)
                }
                body(advance(word, from: state, to: &next, slots: base))
                swap(&state, &next)
                count += 1
            }
            if endOfSentence {
                body(advance(unigram(endHash, after: context, slots: base), from: state, to: &next, slots: base))
            }
            return count
        }
    }

    /// Scores of each word and of `</s>` of a sentence split on ASCII whitespace, from `<s>`
    /// (python `kenlm.Model.full_scores` with `bos` and `eos`).
    public func fullScores(_ sentence: Substring, beginOfSentence: Bool = true,
                           endOfSentence: Bool = true) -> [WordScore] {
        var scores: [WordScore] = []
        _ = scoreWords(sentence, beginOfSentence: beginOfSentence, endOfSentence: endOfSentence) { scores.append($0) }
        return scores
    }

    /// Total log10 probability of a sentence and its word count; the total is summed in single
    /// precision, as python `kenlm.Model.score` sums it.
    public func scoreAndWordCount(_ sentence: Substring, beginOfSentence: Bool = true,
                                  endOfSentence: Bool = true) -> (logProbability: Double, words: Int) {
        var total: Float = 0
        let words = scoreWords(sentence, beginOfSentence: beginOfSentence, endOfSentence: endOfSentence) {
            total += $0.logProbability
        }
        return (Double(total), words)
    }

    /// Total log10 probability of a sentence with `<s>` context and `</s>` (`kenlm.Model.score`).
    public func score(_ sentence: Substring, beginOfSentence: Bool = true, endOfSentence: Bool = true) -> Double {
        scoreAndWordCount(sentence, beginOfSentence: beginOfSentence, endOfSentence: endOfSentence).logProbability
    }

    /// `10^(−score / (words + 1))`, as `kenlm.Model.perplexity` computes it.
    public func perplexity(_ sentence: Substring) -> Double {
        let (total, words) = scoreAndWordCount(sentence)
        return pow10(-total / Double(words + 1))
    }
}

/// 10 to the power `exponent` (libm's `pow`, as python's `10.0 ** x`).
func pow10(_ exponent: Double) -> Double { pow(10, exponent) }
