import Foundation

/// The training text after normalization: distinct words (or whole sentences) with counts.
struct TrainingWords {
    /// Words as code points with their frequencies, in SentencePiece's order.
    var words: [(characters: [UInt32], frequency: Int64)]
    /// The kept alphabet with counts, sorted by count (descending) then code point.
    var requiredCharacters: [(character: UInt32, count: Int64)]
}

extension BPETrainer {
    /// The normalizer used on training text (no user-defined protection, as in SentencePiece).
    func makeNormalizer() throws -> Normalizer {
        try Normalizer(precompiledCharsMap: NormalizationRules.precompiledCharsMap(named: options.normalizationRuleName),
                       addDummyPrefix: options.addDummyPrefix, removeExtraWhitespaces: options.removeExtraWhitespaces,
                       escapeWhitespaces: true, treatWhitespaceAsSuffix: options.treatWhitespaceAsSuffix,
                       protectedSymbols: SymbolMatcher(symbols: []), source: options.normalizationRuleName)
    }

    /// Normalizes, cuts at meta pieces, splits into words, keeps the covered alphabet and
    /// replaces the other characters by U+2585 (SentencePiece `LoadSentences` and
    /// `SplitSentencesByWhitespace`). Runs on `numThreads` threads.
    func prepareWords(_ corpus: [(sentence: [UInt8], frequency: Int64)], source: String) throws -> TrainingWords {
        var traceStart = Date()
        let normalizer = try makeNormalizer()
        BPETrainer.trace("  normalizer", traceStart); traceStart = Date()
        let metaMatcher = SymbolMatcher(symbols: metaPieces.values.map { Array($0.piece.utf8) })
        let threads = max(1, min(options.numThreads, corpus.count))

        var units: [(characters: [UInt32], frequency: Int64)]
        if options.splitByWhitespace {
            // Normalize, cut and count words in one pass per thread; sentence order does not
            // matter here because the words are sorted afterwards.
            units = countWords(corpus, normalizer: normalizer, metaMatcher: metaMatcher, threads: threads)
        } else {
            // Normalize in parallel, then drop empty results by swapping in the last
            // sentence, as SentencePiece does (the order of sentences matters here).
            var normalized = [[UInt8]](repeating: [], count: corpus.count)
            normalized.withUnsafeMutableBufferPointer { output in
                let output = output
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    var buffer: [UInt8] = []
                    for index in stride(from: thread, to: corpus.count, by: threads) {
                        corpus[index].sentence.withUnsafeBufferPointer { normalizer.normalize($0, into: &buffer) }
                        output[index] = metaMatcher.replacingAll(in: buffer, with: [UInt8(BPETrainer.boundaryCharacter)])
                    }
                }
            }
            var frequencies = corpus.map(\.frequency)
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
            units = zip(normalized, frequencies).map { (UTF8Scanning.codePoints(of: $0), $1) }
        }
        BPETrainer.trace("  words", traceStart); traceStart = Date()
        // Character counts over the text (required_chars first, then by count).
        var counts: [UInt32: (required: Bool, count: Int64)] = [:]
        for character in UTF8Scanning.codePoints(of: Array(options.requiredChars.utf8)) where character != 0 {
            counts[character] = (true, 0)
        }
        var allCount: Int64 = 0
        // Dense counts for the Basic Multilingual Plane, a dictionary above it.
        var basicCounts = [Int64](repeating: 0, count: 0x10000)
        var basicSeen = [Bool](repeating: false, count: 0x10000)
        basicCounts.withUnsafeMutableBufferPointer { basicCounts in
            basicSeen.withUnsafeMutableBufferPointer { basicSeen in
                for unit in units {
                    for character in unit.characters {
                        if character == 0 || !UTF8Scanning.isValidCodePoint(character) { continue }
                        if character < 0x10000 {
                            basicCounts[Int(character)] += unit.frequency
                            basicSeen[Int(character)] = true
                        } else {
                            counts[character, default: (false, 0)].count += unit.frequency
                        }
                        allCount += unit.frequency
                    }
                }
            }
        }
        for character in 0..<0x10000 where basicSeen[character] {
            counts[UInt32(character), default: (false, 0)].count += basicCounts[character]
        }
        if allCount == 0 { throw TokenizerError.emptyTrainingInput(path: source) }
        let sortedCounts = counts.sorted { first, second in
            if first.value.required != second.value.required { return first.value.required }
            if first.value.count != second.value.count { return first.value.count > second.value.count }
            return first.key < second.key
        }
        var required: [UInt32: Int64] = [:]
        var accumulated: Int64 = 0
        for (character, entry) in sortedCounts {
            let coverage = Float(Double(accumulated) / Double(allCount))
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

        BPETrainer.trace("  characters", traceStart); traceStart = Date()
        var basicRequired = [Bool](repeating: false, count: 0x10000)
        for character in required.keys where character < 0x10000 { basicRequired[Int(character)] = true }
        func isRequired(_ character: UInt32) -> Bool {
            character < 0x10000 ? basicRequired[Int(character)] : required[character] != nil
        }
        // Replace characters outside the alphabet, merging words that become equal.
        if options.splitByWhitespace {
            // Distinct words stay distinct unless a character was replaced, and a word with
            // U+2585 never equals one without, so only the replaced words are re-counted.
            var entries: [(characters: [UInt32], frequency: Int64)] = []
            entries.reserveCapacity(units.count)
            var replaced: [[UInt32]: Int64] = [:]
            for unit in units {
                if unit.characters.allSatisfy(isRequired) {
                    entries.append(unit)
                } else {
                    replaced[unit.characters.map { isRequired($0) ? $0 : Self.unknownCharacter }, default: 0] += unit.frequency
                }
            }
            for (characters, frequency) in replaced { entries.append((characters, frequency)) }
            let frequencies = entries.map(\.frequency)
            // The first three code points (21 bits each) decide most ties without comparing arrays;
            // a shorter word sorts before its extensions because missing code points count as 0
            // and real ones are at least 1 (NUL never reaches here).
            let prefixes: [UInt64] = entries.map { entry in
                var key: UInt64 = 0
                for position in 0..<3 {
                    key <<= 21
                    if position < entry.characters.count { key |= UInt64(entry.characters[position] & 0x1F_FFFF) }
                }
                return key
            }
            let order = frequencies.indices.sorted { first, second in
                if frequencies[first] != frequencies[second] { return frequencies[first] > frequencies[second] }
                if prefixes[first] != prefixes[second] { return prefixes[first] < prefixes[second] }
                return entries[first].characters.lexicographicallyPrecedes(entries[second].characters)
            }
            units = order.map { entries[$0] }
        } else {
            for index in units.indices {
                units[index].characters = units[index].characters.map { isRequired($0) ? $0 : Self.unknownCharacter }
            }
        }
        let requiredSorted = required.map { (character: $0.key, count: $0.value) }.sorted { first, second in
            first.count != second.count ? first.count > second.count : first.character < second.character
        }
        return TrainingWords(words: units, requiredCharacters: requiredSorted)
    }

    /// Normalizes each sentence, cuts it at meta pieces, splits it at `▁` (SentencePiece
    /// `SplitIntoWords`) and counts the words; one counter per thread, merged at the end.
    private func countWords(_ corpus: [(sentence: [UInt8], frequency: Int64)], normalizer: Normalizer,
                            metaMatcher: SymbolMatcher, threads: Int) -> [(characters: [UInt32], frequency: Int64)]
    {
        var partial = [WordCounter](repeating: WordCounter(), count: threads)
        let suffix = options.treatWhitespaceAsSuffix, whitespaceOnly = options.allowWhitespaceOnlyPieces
        let boundary = [UInt8(BPETrainer.boundaryCharacter)]
        partial.withUnsafeMutableBufferPointer { counters in
            let counters = counters
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var counter = WordCounter()
                var buffer: [UInt8] = []
                for index in stride(from: thread, to: corpus.count, by: threads) {
                    corpus[index].sentence.withUnsafeBufferPointer { normalizer.normalize($0, into: &buffer) }
                    if metaMatcher.mayMatch(in: buffer) { buffer = metaMatcher.replacingAll(in: buffer, with: boundary) }
                    buffer.withUnsafeBufferPointer {
                        counter.addWords(of: $0, count: corpus[index].frequency, treatWhitespaceAsSuffix: suffix,
                                         allowWhitespaceOnlyPieces: whitespaceOnly)
                    }
                }
                counters[thread] = counter
            }
        }
        var total = partial[0]
        for counter in partial.dropFirst() { total.merge(counter) }
        return (0..<total.count).map { (UTF8Scanning.codePoints(of: Array(total.word($0))), total.counts[$0]) }
    }
}
