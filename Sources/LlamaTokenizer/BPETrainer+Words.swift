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
        let normalizer = try makeNormalizer()
        let metaMatcher = SymbolMatcher(symbols: metaPieces.values.map { Array($0.piece.utf8) })
        let threads = max(1, min(options.numThreads, corpus.count))

        // Normalize in parallel; SentencePiece assigns sentence i to thread i % threads.
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
        // Empty results are removed by swapping in the last sentence, as SentencePiece does.
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

        // Words (or sentences) as code points, with counts.
        var units: [(characters: [UInt32], frequency: Int64)]
        if options.splitByWhitespace {
            units = countWords(normalized, frequencies: frequencies, threads: threads)
        } else {
            units = zip(normalized, frequencies).map { (UTF8Scanning.codePoints(of: $0), $1) }
        }

        // Character counts over the text (required_chars first, then by count).
        var counts: [UInt32: (required: Bool, count: Int64)] = [:]
        for character in UTF8Scanning.codePoints(of: Array(options.requiredChars.utf8)) where character != 0 {
            counts[character] = (true, 0)
        }
        var allCount: Int64 = 0
        for unit in units {
            for character in unit.characters {
                if character == 0 || !UTF8Scanning.isValidCodePoint(character) { continue }
                counts[character, default: (false, 0)].count += unit.frequency
                allCount += unit.frequency
            }
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

        // Replace characters outside the alphabet, merging words that become equal.
        if options.splitByWhitespace {
            var merged: [[UInt32]: Int64] = [:]
            merged.reserveCapacity(units.count)
            for unit in units {
                merged[unit.characters.map { required[$0] != nil ? $0 : Self.unknownCharacter }, default: 0] += unit.frequency
            }
            // SentencePiece `Sorted`: by count (descending), then by bytes, which for UTF-8 is code point order.
            units = merged.map { ($0.key, $0.value) }.sorted { first, second in
                first.frequency != second.frequency ? first.frequency > second.frequency
                    : first.characters.lexicographicallyPrecedes(second.characters)
            }
        } else {
            for index in units.indices {
                units[index].characters = units[index].characters.map { required[$0] != nil ? $0 : Self.unknownCharacter }
            }
        }
        let requiredSorted = required.map { (character: $0.key, count: $0.value) }.sorted { first, second in
            first.count != second.count ? first.count > second.count : first.character < second.character
        }
        return TrainingWords(words: units, requiredCharacters: requiredSorted)
    }

    /// Splits every sentence at `▁` (SentencePiece `SplitIntoWords`) and counts the words,
    /// one dictionary per thread, merged at the end.
    private func countWords(_ sentences: [[UInt8]], frequencies: [Int64], threads: Int) -> [(characters: [UInt32], frequency: Int64)] {
        var partial = [[[UInt32]: Int64]](repeating: [:], count: threads)
        let suffix = options.treatWhitespaceAsSuffix, whitespaceOnly = options.allowWhitespaceOnlyPieces
        partial.withUnsafeMutableBufferPointer { tables in
            let tables = tables
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var table: [[UInt32]: Int64] = [:]
                let begin = sentences.count * thread / threads, end = sentences.count * (thread + 1) / threads
                for index in begin..<end {
                    let characters = UTF8Scanning.codePoints(of: sentences[index])
                    for word in Self.splitIntoWords(characters, treatWhitespaceAsSuffix: suffix, allowWhitespaceOnlyPieces: whitespaceOnly) {
                        table[word, default: 0] += frequencies[index]
                    }
                }
                tables[thread] = table
            }
        }
        var total = partial[0]
        for table in partial.dropFirst() {
            for (word, count) in table { total[word, default: 0] += count }
        }
        return total.map { ($0.key, $0.value) }
    }

    /// SentencePiece `SplitIntoWords` on code points: a word starts at each `▁` (or, with
    /// `treatWhitespaceAsSuffix`, ends after one); with `allowWhitespaceOnlyPieces` a run of
    /// `▁` stays together.
    static func splitIntoWords(_ text: [UInt32], treatWhitespaceAsSuffix: Bool, allowWhitespaceOnlyPieces: Bool) -> [[UInt32]] {
        var result: [[UInt32]] = []
        if text.isEmpty { return result }
        var inWhitespaceRun = false
        if treatWhitespaceAsSuffix {
            result.append([])
            for (index, character) in text.enumerated() {
                let isSpace = character == spaceCharacter
                if isSpace {
                    inWhitespaceRun = true
                } else if inWhitespaceRun {
                    if allowWhitespaceOnlyPieces { result.append([]) }
                    inWhitespaceRun = false
                }
                result[result.count - 1].append(character)
                if index + 1 < text.count && isSpace && !allowWhitespaceOnlyPieces { result.append([]) }
            }
        } else {
            for (index, character) in text.enumerated() {
                let isSpace = character == spaceCharacter
                if index == 0 || (isSpace && (!inWhitespaceRun || !allowWhitespaceOnlyPieces)) {
                    result.append([])
                    inWhitespaceRun = true
                }
                if inWhitespaceRun && !isSpace { inWhitespaceRun = false }
                result[result.count - 1].append(character)
            }
        }
        return result
    }
}
