/// A read-only Darts-clone double-array trie, the structure inside SentencePiece's
/// precompiled normalization maps (`NormalizerSpec.precompiled_charsmap`).
///
/// Layout (darts.h of darts-clone, used by SentencePiece normalizer.cc): an array of
/// 32-bit little-endian units. For a unit `u`:
/// - `hasLeaf`  = bit 8: a key ends here; the value is stored in the unit at `offset`.
/// - `value`    = the low 31 bits (meaningful in a leaf unit).
/// - `label`    = bit 31 and the low 8 bits (a leaf unit's label has bit 31 set, so it
///   never equals an input byte).
/// - `offset`   = `(u >> 10) << ((u & (1 << 9)) >> 6)`.
/// Traversal starts at unit 0: `position ^= offset(unit 0)`, then for each input byte
/// `position ^= byte`, check the label, and `position ^= offset`.
///
/// Unlike the C++ original every index is bounds-checked, so a corrupt map can only
/// make lookups miss, never crash.
struct DoubleArrayTrie: Sendable {
    /// The trie units, `(unitCount)`.
    private let units: [UInt32]

    /// Creates a trie over the given units.
    init(units: [UInt32]) {
        self.units = units
    }

    /// Whether the trie has no units.
    var isEmpty: Bool { units.isEmpty }

    /// Finds every key that is a prefix of `bytes[start..<end]`.
    ///
    /// - Parameter body: called for each match, shortest first, with the key length
    ///   and the stored value.
    @inline(__always)
    func forEachPrefix(of bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
                       _ body: (_ length: Int, _ value: Int) -> Void)
    {
        let count = units.count
        if count == 0 { return }
        units.withUnsafeBufferPointer { array in
            var position = Int(Self.offset(array[0]))
            var index = start
            while index < end {
                let byte = bytes[index]
                position ^= Int(byte)
                if position >= count { return }
                let unit = array[position]
                if Self.label(unit) != UInt32(byte) { return }
                position ^= Int(Self.offset(unit))
                if Self.hasLeaf(unit) {
                    if position >= count { return }
                    body(index - start + 1, Int(Self.value(array[position])))
                }
                index += 1
            }
        }
    }

    /// The longest key that is a prefix of `bytes[start..<end]`, or nil.
    @inline(__always)
    func longestPrefix(of bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int)
        -> (length: Int, value: Int)?
    {
        var best: (length: Int, value: Int)?
        forEachPrefix(of: bytes, from: start, to: end) { length, value in
            best = (length, value)
        }
        return best
    }

    /// For an ASCII `byte`: whether the one-byte key `byte` exists, and whether some key
    /// continues `byte` with an ASCII byte.
    func asciiKeyShape(_ byte: UInt8) -> (isKey: Bool, continuesWithASCII: Bool) {
        var isKey = false, continues = false
        let start = [byte]
        start.withUnsafeBufferPointer { buffer in
            forEachPrefix(of: buffer, from: 0, to: 1) { _, _ in isKey = true }
        }
        for second in UInt8(0)..<UInt8(0x80) {
            let pair = [byte, second]
            pair.withUnsafeBufferPointer { buffer in
                if reaches(buffer) { continues = true }
            }
            if continues { break }
        }
        return (isKey, continues)
    }

    /// Whether the trie has a node for all of `bytes` (a key or the prefix of one).
    private func reaches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = units.count
        if count == 0 { return false }
        var position = Int(Self.offset(units[0]))
        for byte in bytes {
            position ^= Int(byte)
            if position >= count || Self.label(units[position]) != UInt32(byte) { return false }
            position ^= Int(Self.offset(units[position]))
        }
        return true
    }

    /// Whether any key starts with `byte`.
    func hasKey(startingWith byte: UInt8) -> Bool {
        let count = units.count
        if count == 0 { return false }
        let position = Int(Self.offset(units[0])) ^ Int(byte)
        return position < count && Self.label(units[position]) == UInt32(byte)
    }

    @inline(__always) private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ unit: UInt32) -> UInt32 { unit & 0x7FFF_FFFF }
    @inline(__always) private static func label(_ unit: UInt32) -> UInt32 { unit & 0x8000_00FF }
    @inline(__always) private static func offset(_ unit: UInt32) -> UInt32 {
        (unit >> 10) << ((unit & (1 << 9)) >> 6)
    }
}
