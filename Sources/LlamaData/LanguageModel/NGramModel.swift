import Foundation

/// A back-off n-gram language model with ARPA semantics, scored as KenLM scores it
/// (Heafield 2011, "KenLM: Faster and Smaller Language Model Queries"; `lm/model.cc`,
/// `GenericModel::FullScore`).
///
/// The probability of word `w` after context `c_k … c_1` (most recent last in reading order) is
/// the log10 probability of the longest n-gram `c_j … c_1 w` in the model plus the log10
/// back-off weights of the contexts `c_i … c_1`, `i > j`, that are in the model (absent contexts
/// weigh 0). Words missing from the vocabulary are scored as `<unk>`; a model whose file lists no
/// `<unk>` gets one with log10 probability −100 and back-off 0, as KenLM's loader adds it
/// (`lm/config.cc`, `unknown_missing_logprob`).
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

    /// The highest n-gram order.
    public let order: Int
    /// Word of each identifier; identifier 0 is `<unk>`.
    public private(set) var words: [String]
    /// Whether the model file listed `<unk>` itself.
    public let hasExplicitUnknown: Bool
    var identifiers: [String: Int32]
    /// Unigram entries by word identifier.
    var unigrams: [Entry]
    /// Entries of orders 2 … `order` (index `n - 2`), keyed by `NGramKey`.
    var higherOrders: [[UInt128: Entry]]

    /// Builds a model from n-grams in reading order; `ngrams[n - 1]` holds the n-grams of order n.
    /// - Throws: `DataError.invalidARPA` (line 0) when a higher-order n-gram uses a word that is not
    ///   a unigram or the vocabulary is too large to key.
    public init(order: Int, ngrams: [[(words: [String], entry: Entry)]], path: String = "<model>") throws {
        precondition(order >= 1 && ngrams.count == order, "one n-gram list per order")
        self.order = order
        var words: [String] = [NGramModel.unknownWord]
        var identifiers: [String: Int32] = [NGramModel.unknownWord: 0]
        var unigrams: [Entry] = [Entry(probability: NGramModel.missingUnknownLogProbability, backoff: 0)]
        var explicitUnknown = false
        for (gramWords, entry) in ngrams[0] {
            guard let word = gramWords.first, gramWords.count == 1 else {
                throw DataError.invalidARPA(path: path, line: 0, reason: "a unigram must have one word")
            }
            if word == NGramModel.unknownWord { explicitUnknown = true }
            if let identifier = identifiers[word] {
                unigrams[Int(identifier)] = entry
            } else {
                identifiers[word] = Int32(words.count)
                words.append(word)
                unigrams.append(entry)
            }
        }
        guard words.count < 1 << NGramKey.bitsPerWord(order: order) else {
            throw DataError.invalidARPA(path: path, line: 0,
                                        reason: "vocabulary of \(words.count) words too large for order \(order)")
        }
        self.words = words
        self.identifiers = identifiers
        self.unigrams = unigrams
        self.hasExplicitUnknown = explicitUnknown
        var higherOrders: [[UInt128: Entry]] = []
        for length in stride(from: 2, through: order, by: 1) {
            var table: [UInt128: Entry] = [:]
            table.reserveCapacity(ngrams[length - 1].count)
            for (gramWords, entry) in ngrams[length - 1] {
                var gram: [Int32] = []
                for word in gramWords {
                    guard let identifier = identifiers[word] else {
                        throw DataError.invalidARPA(path: path, line: 0,
                                                    reason: "word \"\(word)\" of a \(length)-gram is not a unigram")
                    }
                    gram.append(identifier)
                }
                guard gram.count == length else {
                    throw DataError.invalidARPA(path: path, line: 0, reason: "a \(length)-gram with \(gram.count) words")
                }
                table[NGramKey.key(gram, order: order)] = entry
            }
            higherOrders.append(table)
        }
        self.higherOrders = higherOrders
    }

    /// The identifier of `word`, or 0 (`<unk>`) for a word outside the vocabulary.
    public func identifier(of word: String) -> Int32 { identifiers[word] ?? 0 }

    /// Whether `word` is in the vocabulary (`<unk>` itself counts only when the file listed it).
    public func contains(_ word: String) -> Bool {
        guard let identifier = identifiers[word] else { return false }
        return identifier != 0 || hasExplicitUnknown
    }

    /// The number of n-grams of each order, unigrams first (`<unk>` counted only if listed).
    public var counts: [Int] {
        [unigrams.count - (hasExplicitUnknown ? 0 : 1)] + higherOrders.map(\.count)
    }

    /// The entry of an n-gram given by word identifiers in reading order, if the model has it.
    public func entry(_ gram: [Int32]) -> Entry? {
        if gram.count == 1 { return unigrams[Int(gram[0])] }
        guard gram.count >= 2, gram.count <= order else { return nil }
        return higherOrders[gram.count - 2][NGramKey.key(gram, order: order)]
    }

    /// The context KenLM carries from word to word: the most recent words first and the log10
    /// back-off of each context suffix (`backoffs[i]` belongs to `words[i] … words[0]` in reverse).
    public struct State: Sendable, Equatable {
        public var words: [Int32] = []
        public var backoffs: [Float] = []
        public init() {}
    }

    /// The state after `<s>`: KenLM's `BeginSentenceState`.
    public var beginSentenceState: State {
        var state = State()
        if let identifier = identifiers[NGramModel.beginOfSentence], order > 1 {
            state.words = [identifier]
            state.backoffs = [unigrams[Int(identifier)].backoff]
        }
        return state
    }

    /// One scored word: its log10 probability, the length of the n-gram matched, and whether it
    /// was out of the vocabulary (as python `kenlm.Model.full_scores` reports it).
    public struct WordScore: Sendable, Equatable {
        public var logProbability: Float
        public var ngramLength: Int
        public var isUnknown: Bool
    }

    /// Scores `word` after `state` and returns the state after it (KenLM's `FullScore`).
    public func score(word: Int32, state: State, next: inout State) -> WordScore {
        let bits = NGramKey.bitsPerWord(order: order)
        var probability = unigrams[Int(word)].probability
        var matched = 1
        var nextWords: [Int32] = [word]
        var nextBackoffs: [Float] = [unigrams[Int(word)].backoff]
        var key = UInt128(UInt32(bitPattern: word))
        // A missing n-gram inside a longer one that exists is a "blank" to KenLM (its loader fills
        // such holes with back-off 0), so the search goes on past a miss.
        var foundBackoffs: [Float?] = []
        for index in 0..<state.words.count {
            key |= UInt128(UInt32(bitPattern: state.words[index])) << (bits * (index + 1))
            let entry = higherOrders[index][key]
            foundBackoffs.append(entry?.backoff)
            guard let entry else { continue }
            probability = entry.probability
            matched = index + 2
        }
        for index in stride(from: 0, to: min(matched, order) - 1, by: 1) where index + 2 < order {
            nextWords.append(state.words[index])
            nextBackoffs.append(foundBackoffs[index] ?? 0)
        }
        // Back-off weights of the contexts longer than the matched n-gram's context.
        for index in stride(from: matched - 1, to: state.backoffs.count, by: 1) {
            probability += state.backoffs[index]
        }
        next.words = nextWords
        next.backoffs = nextBackoffs
        return WordScore(logProbability: probability, ngramLength: matched, isUnknown: word == 0)
    }

    /// Scores of each word and of `</s>` of a sentence split on ASCII whitespace, from `<s>`
    /// (python `kenlm.Model.full_scores` with `bos` and `eos`).
    public func fullScores(_ sentence: Substring, beginOfSentence: Bool = true,
                           endOfSentence: Bool = true) -> [WordScore] {
        var state = beginOfSentence ? beginSentenceState : State()
        var next = State()
        var scores: [WordScore] = []
        for word in NGramModel.split(sentence) {
            scores.append(score(word: identifier(of: String(word)), state: state, next: &next))
            swap(&state, &next)
        }
        if endOfSentence {
            scores.append(score(word: identifier(of: NGramModel.endOfSentence), state: state, next: &next))
        }
        return scores
    }

    /// Total log10 probability of a sentence with `<s>` context and `</s>` (`kenlm.Model.score`).
    public func score(_ sentence: Substring, beginOfSentence: Bool = true, endOfSentence: Bool = true) -> Double {
        fullScores(sentence, beginOfSentence: beginOfSentence, endOfSentence: endOfSentence)
            .reduce(0) { $0 + Double($1.logProbability) }
    }

    /// `10^(−score / (words + 1))`, as `kenlm.Model.perplexity` computes it.
    public func perplexity(_ sentence: Substring) -> Double {
        let wordCount = NGramModel.split(sentence).count
        return pow10(-score(sentence) / Double(wordCount + 1))
    }

    /// Words of a line split on ASCII whitespace (space, tab, LF, VT, FF, CR), as KenLM's `query`
    /// (`util::kSpaces`) and python `bytes.split()` split them.
    public static func split(_ line: Substring) -> [Substring] {
        line.split(whereSeparator: { character in
            character.unicodeScalars.allSatisfy { scalar in
                scalar == " " || (scalar.value >= 9 && scalar.value <= 13)
            }
        })
    }
}

/// 10 to the power `exponent`.
func pow10(_ exponent: Double) -> Double { exp(exponent * log(10.0)) }

/// Packs the word identifiers of an n-gram into one 128-bit key, the last word in the lowest
/// bits, so that extending an n-gram to the left ORs in one more field.
enum NGramKey {
    /// Bits per word identifier for a model of `order` (25 for a 5-gram model).
    static func bitsPerWord(order: Int) -> Int { min(32, 128 / max(order, 1)) }

    /// The key of `gram` (word identifiers in reading order).
    static func key(_ gram: [Int32], order: Int) -> UInt128 {
        let bits = bitsPerWord(order: order)
        var key: UInt128 = 0
        for (position, word) in gram.reversed().enumerated() {
            key |= UInt128(UInt32(bitPattern: word)) << (bits * position)
        }
        return key
    }
}
