/// SentencePiece's text normalizer: precompiled character map, whitespace handling and
/// escaping of spaces as `▁` (U+2581).
///
/// Matches `normalizer::Normalizer::Normalize` of SentencePiece (src/normalizer.cc):
/// - At each position, a user-defined symbol (longest match) is copied unchanged;
///   otherwise the longest rule of the precompiled map is applied; otherwise one
///   character is copied, and a malformed UTF-8 byte becomes U+FFFD (one per byte).
/// - `removeExtraWhitespaces` drops leading and trailing spaces and collapses runs.
/// - `addDummyPrefix` puts one `▁` in front (behind, with `treatWhitespaceAsSuffix`).
/// - `escapeWhitespaces` writes every space as `▁`.
struct Normalizer: Sendable {
    /// The rules of the precompiled map; empty for the identity normalizer.
    let trie: DoubleArrayTrie
    /// The replacement strings of the map, each terminated by a NUL byte; a trie value
    /// is an offset into this blob.
    let replacements: [UInt8]
    /// Whether one whitespace is added in front of the text (`add_dummy_prefix`).
    let addDummyPrefix: Bool
    /// Whether leading, trailing and repeated whitespace are removed (`remove_extra_whitespaces`).
    let removeExtraWhitespaces: Bool
    /// Whether spaces are written as `▁` (`escape_whitespaces`).
    let escapeWhitespaces: Bool
    /// Whether the dummy whitespace goes at the end instead (`treat_whitespace_as_suffix`).
    let treatWhitespaceAsSuffix: Bool
    /// Symbols copied without normalization, longest match first (user-defined pieces).
    let protectedSymbols: SymbolMatcher
    /// For each ASCII byte: true when it is copied as is whenever the next byte is ASCII
    /// too (or the text ends): no protected symbol starts with it, it is not a rule of its
    /// own, and no rule continues it with an ASCII byte. A fast path with the same result
    /// as the full lookup. `(128)`
    let asciiPassesThrough: [Bool]

    /// Creates a normalizer.
    ///
    /// - Parameter precompiledCharsMap: `<uint32 trie size in bytes><trie units><replacement blob>`,
    ///   the format of SentencePiece's `Normalizer::EncodePrecompiledCharsMap`.
    /// - Throws: `TokenizerError.invalidModelFile` when the map is malformed.
    init(precompiledCharsMap: [UInt8], addDummyPrefix: Bool, removeExtraWhitespaces: Bool,
         escapeWhitespaces: Bool, treatWhitespaceAsSuffix: Bool, protectedSymbols: SymbolMatcher,
         source: String) throws
    {
        if precompiledCharsMap.isEmpty {
            trie = DoubleArrayTrie(units: [])
            replacements = []
        } else {
            guard precompiledCharsMap.count > 4 else {
                throw TokenizerError.invalidModelFile(path: source, reason: "normalizer_spec.precompiled_charsmap is shorter than its header")
            }
            let trieSize = Int(precompiledCharsMap[0]) | Int(precompiledCharsMap[1]) << 8
                | Int(precompiledCharsMap[2]) << 16 | Int(precompiledCharsMap[3]) << 24
            guard trieSize < precompiledCharsMap.count, trieSize % 4 == 0, 4 + trieSize <= precompiledCharsMap.count else {
                throw TokenizerError.invalidModelFile(path: source, reason: "normalizer_spec.precompiled_charsmap: trie size \(trieSize) exceeds the blob (\(precompiledCharsMap.count) bytes)")
            }
            var units = [UInt32](repeating: 0, count: trieSize / 4)
            for index in 0..<units.count {
                let base = 4 + index * 4
                units[index] = UInt32(precompiledCharsMap[base]) | UInt32(precompiledCharsMap[base + 1]) << 8
                    | UInt32(precompiledCharsMap[base + 2]) << 16 | UInt32(precompiledCharsMap[base + 3]) << 24
            }
            trie = DoubleArrayTrie(units: units)
            replacements = Array(precompiledCharsMap[(4 + trieSize)...])
        }
        self.addDummyPrefix = addDummyPrefix
        self.removeExtraWhitespaces = removeExtraWhitespaces
        self.escapeWhitespaces = escapeWhitespaces
        self.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix
        self.protectedSymbols = protectedSymbols
        var passes = [Bool](repeating: false, count: 128)
        for byte in 0..<128 {
            let shape = trie.asciiKeyShape(UInt8(byte))
            passes[byte] = !shape.isKey && !shape.continuesWithASCII && !protectedSymbols.hasSymbol(startingWith: UInt8(byte))
        }
        asciiPassesThrough = passes
    }

    /// Normalizes `input` and appends the result to `output` (which is emptied first).
    func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        let end = input.count
        var position = 0
        if end == 0 { return }
        if removeExtraWhitespaces {
            // Leading input whose normalized form is exactly one space is dropped.
            while position < end {
                var isSingleSpace = false
                let consumed = normalizePrefix(input, at: position, end: end) { replacement in
                    isSingleSpace = replacement.count == 1 && replacement[0] == 0x20
                }
                if !isSingleSpace { break }
                position += consumed
            }
        }
        if position == end { return }
        output.reserveCapacity(output.count + (end - position) * 3 + 3)

        if !treatWhitespaceAsSuffix && addDummyPrefix { appendSpace(to: &output) }

        var isPreviousSpace = removeExtraWhitespaces
        while position < end {
            let byte = input[position]
            if byte < 0x80 && asciiPassesThrough[Int(byte)] && (position + 1 == end || input[position + 1] < 0x80) {
                // Fast path for ASCII without rules: identical to the general path below.
                if byte == 0x20 {
                    if !isPreviousSpace { appendSpace(to: &output) }
                    isPreviousSpace = removeExtraWhitespaces
                    position += 1
                } else {
                    // Copy the whole run of such bytes at once.
                    var runEnd = position + 1
                    asciiPassesThrough.withUnsafeBufferPointer { passes in
                        while runEnd < end {
                            let next = input[runEnd]
                            if next >= 0x80 || next == 0x20 || !passes[Int(next)] { break }
                            if runEnd + 1 < end && input[runEnd + 1] >= 0x80 { break }
                            runEnd += 1
                        }
                    }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: input[position..<runEnd]))
                    isPreviousSpace = false
                    position = runEnd
                }
                continue
            }
            let consumed = normalizePrefix(input, at: position, end: end) { replacement in
                var start = 0
                if isPreviousSpace {
                    while start < replacement.count && replacement[start] == 0x20 { start += 1 }
                }
                if start < replacement.count {
                    for index in start..<replacement.count {
                        if replacement[index] == 0x20 {
                            appendSpace(to: &output)
                        } else {
                            output.append(replacement[index])
                        }
                    }
                    isPreviousSpace = replacement[replacement.count - 1] == 0x20
                }
            }
            position += consumed
            if !removeExtraWhitespaces { isPreviousSpace = false }
        }

        if removeExtraWhitespaces {
            let space: [UInt8] = escapeWhitespaces ? UTF8Scanning.spaceSymbol : [0x20]
            while output.count >= space.count && output[(output.count - space.count)...].elementsEqual(space) {
                output.removeLast(space.count)
            }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { appendSpace(to: &output) }
    }

    /// Normalizes a whole byte array (convenience for tests and training).
    func normalize(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        input.withUnsafeBufferPointer { normalize($0, into: &output) }
        return output
    }

    @inline(__always)
    private func appendSpace(to output: inout [UInt8]) {
        if escapeWhitespaces {
            output.append(0xE2); output.append(0x96); output.append(0x81)
        } else {
            output.append(0x20)
        }
    }

    /// Normalizes the longest unit at `position` (SentencePiece `NormalizePrefix`),
    /// passes its replacement to `body` and returns the number of input bytes consumed.
    @inline(__always)
    private func normalizePrefix(_ input: UnsafeBufferPointer<UInt8>, at position: Int, end: Int,
                                 _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Int
    {
        let protectedLength = protectedSymbols.longestMatch(in: input, at: position, end: end)
        if protectedLength > 0 {
            body(UnsafeBufferPointer(rebasing: input[position..<(position + protectedLength)]))
            return protectedLength
        }
        if let rule = trie.longestPrefix(of: input, from: position, to: end) {
            replacements.withUnsafeBufferPointer { blob in
                var stop = rule.value
                while stop < blob.count && blob[stop] != 0 { stop += 1 }
                let start = min(rule.value, stop)
                body(UnsafeBufferPointer(rebasing: blob[start..<stop]))
            }
            return rule.length
        }
        if let (_, length) = UTF8Scanning.decodeCharacter(input, at: position, end: end) {
            body(UnsafeBufferPointer(rebasing: input[position..<(position + length)]))
            return length
        }
        UTF8Scanning.replacementCharacter.withUnsafeBufferPointer { body($0) }
        return 1
    }
}
