/// Longest-match lookup of a fixed set of byte strings at a position of a text.
///
/// Plays the role of SentencePiece's `normalizer::PrefixMatcher` (a trie over the
/// user-defined symbols): those symbols are never normalized and never split or merged.
struct SymbolMatcher: Sendable {
    /// For each first byte, the symbols that start with it, longest first.
    private let symbolsByFirstByte: [[[UInt8]]]
    /// Whether the set is empty (the common case, checked first).
    let isEmpty: Bool
    /// For each byte, whether some symbol starts with it, `(256)`.
    private let startsSymbol: [Bool]

    /// Creates a matcher for `symbols` (empty strings are ignored).
    init(symbols: [[UInt8]]) {
        var table = [[[UInt8]]](repeating: [], count: 256)
        for symbol in Set(symbols) where !symbol.isEmpty {
            table[Int(symbol[0])].append(symbol)
        }
        for index in 0..<256 {
            // Longest first; equal lengths in byte order so the result is deterministic.
            table[index].sort { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        }
        symbolsByFirstByte = table
        isEmpty = symbols.allSatisfy(\.isEmpty)
        startsSymbol = table.map { !$0.isEmpty }
    }

    /// Whether some symbol begins with `byte`.
    @inline(__always)
    func hasSymbol(startingWith byte: UInt8) -> Bool { startsSymbol[Int(byte)] }

    /// The length of the longest symbol that starts at `position` of `bytes`, or 0.
    @inline(__always)
    func longestMatch(in bytes: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> Int {
        if isEmpty || !startsSymbol[Int(bytes[position])] { return 0 }
        let candidates = symbolsByFirstByte[Int(bytes[position])]
        for symbol in candidates where symbol.count <= end - position {
            var matches = true
            for offset in 1..<symbol.count where bytes[position + offset] != symbol[offset] {
                matches = false
                break
            }
            if matches { return symbol.count }
        }
        return 0
    }

    /// Whether some symbol could start somewhere in `bytes` (a cheap first-byte scan).
    func mayMatch(in bytes: [UInt8]) -> Bool {
        if isEmpty { return false }
        return startsSymbol.withUnsafeBufferPointer { table in
            for byte in bytes where table[Int(byte)] { return true }
            return false
        }
    }

    /// Replaces every occurrence (leftmost, longest) of a symbol by `replacement`
    /// (SentencePiece `PrefixMatcher::GlobalReplace`, used to cut training text at meta pieces).
    func replacingAll(in bytes: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        if isEmpty { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        bytes.withUnsafeBufferPointer { buffer in
            var position = 0
            while position < buffer.count {
                let length = longestMatch(in: buffer, at: position, end: buffer.count)
                if length > 0 {
                    result.append(contentsOf: replacement)
                    position += length
                } else {
                    let characterLength = min(UTF8Scanning.characterLength(leadByte: buffer[position]), buffer.count - position)
                    result.append(contentsOf: buffer[position..<(position + characterLength)])
                    position += characterLength
                }
            }
        }
        return result
    }
}
