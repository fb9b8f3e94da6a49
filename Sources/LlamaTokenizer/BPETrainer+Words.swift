import Foundation

/// The training text after normalization: distinct words (or whole sentences) with counts,
/// in SentencePiece's order, as code points in one flat array.
struct TrainingWords {
    /// `(total characters)`: the code points of all words, one word after the other.
    var characters: [UInt32]
    /// `(count + 1)`: word `i` is `characters[starts[i]..<starts[i + 1]]`.
    var starts: [Int]
    /// `(count)`: how often each word occurs.
    var frequencies: [Int64]
    /// The kept alphabet with counts, sorted by count (descending) then code point.
    var requiredCharacters: [(character: UInt32, count: Int64)]

    /// Number of words.
    var count: Int { frequencies.count }
}

/// Byte strings in one arena: string `i` is `bytes[starts[i]..<starts[i + 1]]`.
private struct ByteStrings {
    var bytes: [UInt8] = []
    var starts: [Int] = [0]
    var counts: [Int64] = []

    var count: Int { counts.count }

    mutating func append(_ string: UnsafeBufferPointer<UInt8>, count: Int64) {
        bytes.append(contentsOf: string)
        starts.append(bytes.count)
        counts.append(count)
    }
}

extension BPETrainer {
    /// The normalizer used on training text (no user-defined protection, as in SentencePiece).
    func makeNormalizer(charsMap: [UInt8]) throws -> Normalizer {
        try Normalizer(precompiledCharsMap: charsMap,
                       addDummyPrefix: options.addDummyPrefix, removeExtraWhitespaces: options.removeExtraWhitespaces,
                       escapeWhitespaces: true, treatWhitespaceAsSuffix: options.treatWhitespaceAsSuffix,
                       protectedSymbols: SymbolMatcher(symbols: []), source: options.normalizationRuleName)
    }

    /// Normalizes, cuts at meta pieces, splits into words, keeps the covered alphabet and
    /// replaces the other characters by U+2585 (SentencePiece `LoadSentences` and
    /// `SplitSentencesByWhitespace`). Normalization and counting run on `numThreads` threads.
    func prepareWords(_ corpus: TrainingSentences, charsMap: [UInt8], source: String) throws -> TrainingWords {
        var traceStart = Date()
        let normalizer = try makeNormalizer(charsMap: charsMap)
        let metaMatcher = SymbolMatcher(symbols: metaPieces.values.map { Array($0.piece.utf8) })
        let threads = max(1, min(options.numThreads, corpus.count))
        // Words as UTF-8 (valid: the normalizer replaces malformed bytes by U+FFFD).
        let units = options.splitByWhitespace
            ? countWords(corpus, normalizer: normalizer, metaMatcher: metaMatcher, threads: threads)
            : normalizeSentences(corpus, normalizer: normalizer, metaMatcher: metaMatcher, threads: threads)
        BPETrainer.trace("  words", traceStart); traceStart = Date()
        let required = try keptAlphabet(of: units, source: source)
        BPETrainer.trace("  characters", traceStart); traceStart = Date()
        defer { BPETrainer.trace("  order", traceStart) }
        let requiredSorted = required.map { (character: $0.key, count: $0.value) }.sorted { first, second in
            first.count != second.count ? first.count > second.count : first.character < second.character
        }
        var basicRequired = [Bool](repeating: false, count: 0x10000)
        for character in required.keys where character < 0x10000 { basicRequired[Int(character)] = true }
        @inline(__always) func isRequired(_ character: UInt32) -> Bool {
            character < 0x10000 ? basicRequired[Int(character)] : required[character] != nil
        }
        // Whole sentences keep their order; words are merged and sorted after the replacement.
        let (replaced, order) = options.splitByWhitespace
            ? Self.sortedOrder(of: units, replacing: isRequired) : (ByteStrings(), Array(0..<units.count))
        var starts = [Int](repeating: 0, count: order.count + 1)
        var frequencies = [Int64](repeating: 0, count: order.count)
        // A word has at most as many characters as bytes.
        let characters = [UInt32](unsafeUninitializedCapacity: units.bytes.count + replaced.bytes.count) { output, written in
            written = 0
            units.bytes.withUnsafeBufferPointer { unitBytes in
                replaced.bytes.withUnsafeBufferPointer { replacedBytes in
                    for (position, index) in order.enumerated() {
                        let (source, strings, item) = index < units.count
                            ? (unitBytes, units, index) : (replacedBytes, replaced, index - units.count)
                        Self.forEachCharacter(in: source, strings.starts[item], strings.starts[item + 1]) { character in
                            output[written] = isRequired(character) ? character : Self.unknownCharacter
                            written += 1
                        }
                        starts[position + 1] = written
                        frequencies[position] = strings.counts[item]
                    }
                }
            }
        }
        return TrainingWords(characters: characters, starts: starts, frequencies: frequencies, requiredCharacters: requiredSorted)
    }

    /// Calls `body` with each code point of `bytes[start..<end]`, decoded as SentencePiece's
    /// `UTF8ToUnicodeText` does (a malformed byte is one U+FFFD).
    @inline(__always)
    private static func forEachCharacter(in bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                         _ body: (UInt32) -> Void)
    {
        var position = start
        while position < end {
            let byte = bytes[position]
            if byte < 0x80 {
                body(UInt32(byte))
                position += 1
            } else if let (codePoint, length) = UTF8Scanning.decodeCharacter(bytes, at: position, end: end) {
                body(codePoint)
                position += length
            } else {
                body(0xFFFD)
                position += 1
            }
        }
    }

    /// Counts the characters (weighted by word count) and keeps the most frequent ones up to
    /// `characterCoverage` (required_chars first), as SentencePiece's `LoadSentences` does.
    private func keptAlphabet(of units: ByteStrings, source: String) throws -> [UInt32: Int64] {
        var counts: [UInt32: (required: Bool, count: Int64)] = [:]
        var characterCount: Int64 = 0
        // Dense counts for the Basic Multilingual Plane, a dictionary above it.
        var basicCounts = [Int64](repeating: -1, count: 0x10000)
        units.bytes.withUnsafeBufferPointer { bytes in
            basicCounts.withUnsafeMutableBufferPointer { basicCounts in
                for index in 0..<units.count {
                    let frequency = units.counts[index]
                    Self.forEachCharacter(in: bytes, units.starts[index], units.starts[index + 1]) { character in
                        if character == 0 || !UTF8Scanning.isValidCodePoint(character) { return }
                        if character < 0x10000 {
                            basicCounts[Int(character)] = max(basicCounts[Int(character)], 0) + frequency
                        } else {
                            counts[character, default: (false, 0)].count += frequency
                        }
                        characterCount += frequency
                    }
                }
            }
        }
        for character in 0..<0x10000 where basicCounts[character] >= 0 {
            counts[UInt32(character)] = (false, basicCounts[character])
        }
        Self.forEachCharacter(in: Array(options.requiredChars.utf8)) { character in
            if character != 0 { counts[character, default: (false, 0)].required = true }
        }
        if characterCount == 0 { throw TokenizerError.emptyTrainingInput(path: source) }
        let sortedCounts = counts.sorted { first, second in
            if first.value.required != second.value.required { return first.value.required }
            if first.value.count != second.value.count { return first.value.count > second.value.count }
            return first.key < second.key
        }
        var required: [UInt32: Int64] = [:]
        var accumulated: Int64 = 0
        for (character, entry) in sortedCounts {
            let coverage = Float(Double(accumulated) / Double(characterCount))
            if coverage >= options.characterCoverage { break }
            accumulated += entry.count
            if character == Self.boundaryCharacter { continue }
            required[character] = entry.count
        }
        if required.count + metaPieces.count > options.vocabSize {
            throw TokenizerError.vocabularySizeUnreachable(
                path: source, requested: options.vocabSize,
                reason: "the kept alphabet (\(required.count) characters) and \(metaPieces.count) meta pieces exceed it; "
                    + "increase vocab_size or lower character_coverage")
        }
        return required
    }

    private static func forEachCharacter(in bytes: [UInt8], _ body: (UInt32) -> Void) {
        bytes.withUnsafeBufferPointer { forEachCharacter(in: $0, 0, $0.count, body) }
    }
}

extension BPETrainer {
    /// The order SentencePiece's `Sorted` gives the words after unknown characters are
    /// replaced by U+2585: count descending, then bytes ascending (for valid UTF-8 the same
    /// as code point order). Words that become equal by the replacement are merged into one
    /// of `replaced`. In `order`, an index below `units.count` is a unit, the others are
    /// `replaced` words (after `units.count`).
    private static func sortedOrder(of units: ByteStrings, replacing isRequired: (UInt32) -> Bool)
        -> (replaced: ByteStrings, order: [Int])
    {
        struct Key {
            var count: Int64
            /// Bytes 0..<8 and 8..<16, big-endian and zero-padded: decide most ties by themselves.
            var prefix: UInt64
            var prefix2: UInt64
            var index: Int
        }
        var keys: [Key] = []
        keys.reserveCapacity(units.count)
        // Words with a replaced character, in their replaced form, merged by equality (a word
        // with U+2585 never equals one without, and distinct words stay distinct otherwise).
        var replaced = ByteStrings()
        var replacedIndex: [[UInt8]: Int] = [:]
        var unknown: [UInt8] = []
        UTF8Scanning.appendEncoded(unknownCharacter, to: &unknown)
        units.bytes.withUnsafeBufferPointer { bytes in
            for index in 0..<units.count {
                let start = units.starts[index], end = units.starts[index + 1]
                var allRequired = true
                forEachCharacter(in: bytes, start, end) { character in
                    if allRequired && !isRequired(character) { allRequired = false }
                }
                if allRequired {
                    keys.append(Key(count: units.counts[index], prefix: prefix(of: bytes, start, end),
                                    prefix2: prefix(of: bytes, start + 8, end), index: index))
                    continue
                }
                var form: [UInt8] = []
                forEachCharacter(in: bytes, start, end) { character in
                    if isRequired(character) { UTF8Scanning.appendEncoded(character, to: &form) } else { form += unknown }
                }
                if let existing = replacedIndex[form] {
                    replaced.counts[existing] += units.counts[index]
                } else {
                    replacedIndex[form] = replaced.count
                    form.withUnsafeBufferPointer { replaced.append($0, count: units.counts[index]) }
                }
            }
        }
        replaced.bytes.withUnsafeBufferPointer { bytes in
            for index in 0..<replaced.count {
                let start = replaced.starts[index], end = replaced.starts[index + 1]
                keys.append(Key(count: replaced.counts[index], prefix: prefix(of: bytes, start, end),
                                prefix2: prefix(of: bytes, start + 8, end), index: units.count + index))
            }
        }
        units.bytes.withUnsafeBufferPointer { unitBytes in
            replaced.bytes.withUnsafeBufferPointer { replacedBytes in
                func word(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                    index < units.count
                        ? UnsafeBufferPointer(rebasing: unitBytes[units.starts[index]..<units.starts[index + 1]])
                        : UnsafeBufferPointer(rebasing: replacedBytes[replaced.starts[index - units.count]..<replaced.starts[index - units.count + 1]])
                }
                keys.sort { first, second in
                    if first.count != second.count { return first.count > second.count }
                    if first.prefix != second.prefix { return first.prefix < second.prefix }
                    if first.prefix2 != second.prefix2 { return first.prefix2 < second.prefix2 }
                    return word(first.index).lexicographicallyPrecedes(word(second.index))
                }
            }
        }
        return (replaced, keys.map(\.index))
    }

    /// The first 8 bytes of `bytes[start..<end]` as a big-endian integer, zero-padded.
    @inline(__always)
    private static func prefix(of bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var key: UInt64 = 0
        for position in start..<(start + 8) {
            key <<= 8
            if position < end { key |= UInt64(bytes[position]) }
        }
        return key
    }
}

extension BPETrainer {
    /// Normalizes each sentence, cuts it at meta pieces, splits it at `▁` (SentencePiece
    /// `SplitIntoWords`) and counts the words: one counter per thread over a contiguous
    /// range of sentences, merged at the end. Returns the distinct words (in no set order).
    private func countWords(_ corpus: TrainingSentences, normalizer: Normalizer, metaMatcher: SymbolMatcher,
                            threads: Int) -> ByteStrings
    {
        var partial = [WordCounter](repeating: WordCounter(), count: threads)
        let suffix = options.treatWhitespaceAsSuffix, whitespaceOnly = options.allowWhitespaceOnlyPieces
        let boundary = [UInt8(BPETrainer.boundaryCharacter)]
        let padding = [UInt8](repeating: 0, count: WordCounter.paddingBytes)
        let direct = Self.directWordBytes(normalizer: normalizer, metaMatcher: metaMatcher, options: options)
        partial.withUnsafeMutableBufferPointer { counters in
            let counters = counters
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var counter = WordCounter()
                var buffer: [UInt8] = []
                for index in (corpus.count * thread / threads)..<(corpus.count * (thread + 1) / threads) {
                    let counted = corpus.withSentence(index) { sentence -> Bool in
                        guard let direct, sentence.allSatisfy({ $0 < 0x80 && direct[Int($0)] }) else { return false }
                        counter.addSpacePrefixedWords(of: sentence, end: sentence.count, count: corpus.frequencies[index])
                        return true
                    }
                    if counted { continue }
                    corpus.withSentence(index) { normalizer.normalize($0, into: &buffer) }
                    if metaMatcher.mayMatch(in: buffer) { buffer = metaMatcher.replacingAll(in: buffer, with: boundary) }
                    let length = buffer.count
                    buffer.append(contentsOf: padding)
                    buffer.withUnsafeBufferPointer {
                        counter.addWords(of: $0, end: length, count: corpus.frequencies[index], treatWhitespaceAsSuffix: suffix,
                                         allowWhitespaceOnlyPieces: whitespaceOnly)
                    }
                }
                counters[thread] = counter
            }
        }
        var total = WordCounter()
        swap(&total, &partial[0])
        for counter in partial.dropFirst() { total.merge(counter) }
        partial = []
        var words = ByteStrings()
        words.counts.reserveCapacity(total.count)
        words.starts.reserveCapacity(total.count + 1)
        total.forEachWord { bytes, count in words.append(bytes, count: count) }
        return words
    }

    /// For each ASCII byte, whether sentences made only of such bytes may skip the
    /// normalizer (`WordCounter.addSpacePrefixedWords`): the normalizer copies the byte
    /// unchanged and no meta piece starts with it, spaces are collapsed and stripped, a `▁`
    /// is put in front and no meta piece starts with `▁`'s first byte. Nil when the
    /// options do not allow the shortcut at all.
    private static func directWordBytes(normalizer: Normalizer, metaMatcher: SymbolMatcher, options: BPETrainerOptions) -> [Bool]? {
        guard normalizer.escapeWhitespaces, normalizer.addDummyPrefix, normalizer.removeExtraWhitespaces,
              !normalizer.treatWhitespaceAsSuffix, normalizer.protectedSymbols.isEmpty, !options.treatWhitespaceAsSuffix,
              !metaMatcher.hasSymbol(startingWith: 0xE2), normalizer.asciiPassesThrough[0x20]
        else { return nil }
        return (0..<128).map { normalizer.asciiPassesThrough[$0] && !metaMatcher.hasSymbol(startingWith: UInt8($0)) }
    }

    /// Normalizes the sentences in parallel and cuts them at meta pieces, then drops empty
    /// results by swapping in the last sentence, as SentencePiece does (without whitespace
    /// splitting the order of sentences matters).
    private func normalizeSentences(_ corpus: TrainingSentences, normalizer: Normalizer, metaMatcher: SymbolMatcher,
                                    threads: Int) -> ByteStrings
    {
        var normalized = [[UInt8]](repeating: [], count: corpus.count)
        let boundary = [UInt8(BPETrainer.boundaryCharacter)]
        normalized.withUnsafeMutableBufferPointer { output in
            let output = output
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var buffer: [UInt8] = []
                for index in stride(from: thread, to: corpus.count, by: threads) {
                    corpus.withSentence(index) { normalizer.normalize($0, into: &buffer) }
                    output[index] = metaMatcher.replacingAll(in: buffer, with: boundary)
                }
            }
        }
        var frequencies = corpus.frequencies
        var index = 0
        while index < normalized.count {
            if normalized[index].isEmpty {
                normalized.swapAt(index, normalized.count - 1)
                frequencies.swapAt(index, frequencies.count - 1)
                normalized.removeLast()
                frequencies.removeLast()
            } else {
                index += 1
            }
        }
        var sentences = ByteStrings()
        for (sentence, frequency) in zip(normalized, frequencies) {
            sentence.withUnsafeBufferPointer { sentences.append($0, count: frequency) }
        }
        return sentences
    }
}
