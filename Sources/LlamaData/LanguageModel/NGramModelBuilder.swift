/// Fills the hash tables of an `NGramModel` from n-grams given in ARPA order (all unigrams, then
/// all bigrams, …), the way KenLM's probing model loads an ARPA file (`lm/search_hashed.cc`,
/// `ReadNGrams`, `FixSRI`, `ActivateLowerMiddle`):
///
/// - every n-gram is stored flagged as extended by no longer n-gram (see `NGramSlot`); adding it
///   clears the flag of its longest suffix present, and marks its context (its first n − 1 words,
///   which must be an (n − 1)-gram, or KenLM refuses the file) as a context;
/// - when a suffix is missing (a file pruned as SRILM prunes: "b c d" without "c d"), a *blank*
///   is inserted for each missing suffix, with the probability backing off would give it (the
///   longest suffix present plus the back-offs of the contexts in between) and back-off 0, so
///   that a lookup can stop at the first n-gram it does not find. The blanks are not counted.
///
/// Errors name `path` and the line given with each entry (0 for n-grams not read from a file).
struct NGramModelBuilder {
    let order: Int
    let path: String
    private(set) var words: [String] = [NGramModel.unknownWord]
    private(set) var wordHashes: [UInt64] = [NGramHash.word(NGramModel.unknownWord)]
    private(set) var explicitUnknown = false
    /// N-grams per order, unigrams first, without blanks.
    private(set) var counts: [Int]
    private(set) var tables: NGramTables

    init(order: Int, expectedCounts: [Int], path: String) throws {
        guard order >= 1, order <= NGramModel.maximumOrder, expectedCounts.count == order else {
            throw DataError.invalidARPA(path: path, line: 0,
                                        reason: "order \(order) is not supported (1 to \(NGramModel.maximumOrder))")
        }
        self.order = order
        self.path = path
        counts = Array(repeating: 0, count: order)
        tables = try NGramTables(expectedCounts: expectedCounts)
    }

    private func fail(_ line: Int, _ reason: String) -> DataError {
        DataError.invalidARPA(path: path, line: line, reason: reason)
    }

    /// The stored form of a probability: the value with the "extended by no longer n-gram" flag.
    private func storedProbability(_ probability: Float, line: Int) throws -> Float {
        guard !(probability > 0) else {
            throw fail(line, "positive log10 probability \(probability) (KenLM refuses it too)")
        }
        return Float(bitPattern: probability.bitPattern | NGramSlot.signBit)
    }

    /// A back-off of 0 is stored as "no extension" until the n-gram turns out to be a context.
    private static func storedBackoff(_ backoff: Float) -> Float { backoff == 0 ? NGramSlot.noExtension : backoff }

    /// The error for an n-gram with a word that is not a unigram, or else whose context is not an
    /// n-gram; `words` gives the n-gram's words in reading order.
    private func missingWordOrContext(_ reversed: SIMD8<UInt64>, length: Int, line: Int, words: () -> [String]) -> DataError {
        let text = words()
        for position in 0..<length where tables.index(of: reversed[length - 1 - position], order: 1) == nil {
            return fail(line, "word \"\(text[position])\" is not among the unigrams")
        }
        return fail(line, "\"\(text.dropLast().joined(separator: " "))\", the context of this \(length)-gram, "
                    + "is not a \(length - 1)-gram (KenLM refuses such files)")
    }

    /// Adds a unigram; a repeated word keeps its first entry, as KenLM does.
    mutating func addUnigram(_ word: String, hash: UInt64, probability: Float, backoff: Float, line: Int) throws {
        let stored = try storedProbability(probability, line: line)
        guard try tables.insert(hash, order: 1, probability: stored, backoff: Self.storedBackoff(backoff)) else {
            if let known = wordHashes.firstIndex(of: hash), words[known] != word {
                throw fail(line, "words \"\(words[known])\" and \"\(word)\" have the same 64-bit hash")
            }
            return
        }
        counts[0] += 1
        if word == NGramModel.unknownWord {
            explicitUnknown = true
        } else {
            words.append(word)
            wordHashes.append(hash)
        }
    }

    /// Adds an n-gram of order `length` ≥ 2 given by the keys of its words from the last one back
    /// (`reversed[0]` is the predicted word, `reversed[1]` the word before it, …); `words` gives
    /// its words for an error message. Its words need no check of their own: the context was
    /// checked when it was added, so the context being present and the last word having some
    /// suffix present (at worst its unigram) mean every word is a unigram.
    mutating func addNGram(reversed: SIMD8<UInt64>, length: Int, probability: Float, backoff: Float, line: Int,
                           words: () -> [String]) throws {
        let stored = try storedProbability(probability, line: line)
        // Keys of the suffixes: suffixes[k] is the key of the last k + 1 words.
        var suffixes = SIMD8<UInt64>()
        suffixes[0] = reversed[0]
        for k in 1..<length { suffixes[k] = NGramHash.combine(suffixes[k - 1], reversed[k]) }
        // The context (all words but the last) must be an (n − 1)-gram; it now has an extension.
        var context = reversed[1]
        for k in stride(from: 2, to: length, by: 1) { context = NGramHash.combine(context, reversed[k]) }
        guard activate(context, order: length - 1) != nil else {
            throw missingWordOrContext(reversed, length: length, line: line, words: words)
        }
        let storedBack = length == order ? NGramSlot.noExtension : Self.storedBackoff(backoff)
        guard try tables.insert(suffixes[length - 1], order: length, probability: stored, backoff: storedBack) else {
            return
        }
        counts[length - 1] += 1
        // The longest suffix present is extended to the left by this n-gram.
        var found = length - 1
        var foundIndex: Int?
        while found >= 1 {
            foundIndex = tables.index(of: suffixes[found - 1], order: found)
            if foundIndex != nil { break }
            found -= 1
        }
        guard let foundIndex else { throw missingWordOrContext(reversed, length: length, line: line, words: words) }
        let bits = tables[foundIndex].probability.bitPattern & ~NGramSlot.signBit
        tables[foundIndex].probability = Float(bitPattern: bits)
        // Blanks for the missing suffixes between it and this n-gram (KenLM's FixSRI, in its
        // arithmetic: the magnitude of the probability minus the back-offs of the contexts).
        var blank = Float(bitPattern: bits)
        for missing in stride(from: found + 1, to: length, by: 1) {
            var blankContext = reversed[1]
            for k in stride(from: 2, to: missing, by: 1) { blankContext = NGramHash.combine(blankContext, reversed[k]) }
            if let contextBackoff = activate(blankContext, order: missing - 1) { blank -= contextBackoff }
            try tables.insert(suffixes[missing - 1], order: missing, probability: blank, backoff: NGramSlot.noExtension)
        }
    }

    /// Marks the n-gram `key` of order `length` as a context; returns its back-off, or nil if absent.
    private mutating func activate(_ key: UInt64, order length: Int) -> Float? {
        guard let index = tables.index(of: key, order: length) else { return nil }
        let backoff = tables[index].backoff
        if !NGramSlot.hasExtension(backoff) { tables[index].backoff = 0 }
        return backoff
    }

    /// The word identifier of each unigram slot (−1 for an empty slot).
    func unigramIdentifiers() -> [Int32] {
        var identifiers = [Int32](repeating: -1, count: tables.capacities[0])
        for (identifier, hash) in wordHashes.enumerated() {
            if let index = tables.index(of: hash, order: 1) { identifiers[index] = Int32(identifier) }
        }
        return identifiers
    }
}
