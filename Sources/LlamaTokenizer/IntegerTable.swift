/// An immutable open-addressing hash table from 64-bit keys to 32-bit values.
///
/// Used in the encoding hot loop instead of `Dictionary` (whose seeded SipHash costs more
/// than the rest of a lookup): keys are piece-pair codes `left << 32 | right` and packed
/// characters. Linear probing over a power-of-two array with a multiplicative hash.
struct IntegerTable: Sendable {
    /// Slot keys, `(capacity)`; `emptyKey` marks a free slot.
    private let keys: [UInt64]
    /// Slot values, `(capacity)`.
    private let values: [Int32]
    /// `capacity - 1`.
    private let mask: Int
    /// Number of stored keys.
    let count: Int

    /// The key reserved for free slots (never a valid pair or character code).
    static let emptyKey: UInt64 = .max

    /// Builds a table holding `entries`; later duplicates of a key are ignored.
    init(_ entries: [(key: UInt64, value: Int32)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        var keys = [UInt64](repeating: Self.emptyKey, count: capacity)
        var values = [Int32](repeating: -1, count: capacity)
        var stored = 0
        let mask = capacity - 1
        for entry in entries {
            precondition(entry.key != Self.emptyKey, "IntegerTable: the empty key cannot be stored")
            var slot = Self.slot(for: entry.key, mask: mask)
            while keys[slot] != Self.emptyKey && keys[slot] != entry.key { slot = (slot + 1) & mask }
            if keys[slot] == Self.emptyKey {
                keys[slot] = entry.key
                values[slot] = entry.value
                stored += 1
            }
        }
        self.keys = keys
        self.values = values
        self.mask = mask
        self.count = stored
    }

    @inline(__always)
    private static func slot(for key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The value stored for `key`, or -1.
    @inline(__always)
    func value(for key: UInt64) -> Int32 {
        keys.withUnsafeBufferPointer { keyBuffer in
            var slot = Self.slot(for: key, mask: mask)
            while true {
                let stored = keyBuffer[slot]
                if stored == key { return values.withUnsafeBufferPointer { $0[slot] } }
                if stored == Self.emptyKey { return -1 }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Packs a character of 1–4 bytes into a key: the bytes, then the length in bits 32–39.
    @inline(__always)
    static func characterKey(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, length: Int) -> UInt64 {
        var key = UInt64(length) << 32
        for offset in 0..<length { key |= UInt64(bytes[start + offset]) << (8 * offset) }
        return key
    }

    /// The key of an adjacent pair of piece ids.
    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}

/// A growable open-addressing hash map from pair keys (`left << 32 | right`) to 32-bit
/// values, with removal (tombstones): the pair symbols of the BPE trainer. Key and value
/// share one 12-byte slot, so a lookup mostly touches one cache line. Keys `UInt64.max` and
/// `UInt64.max - 1` are reserved (no pair of non-negative ids has them).
struct PairTable {
    /// A key (in two halves, so that a slot takes 12 bytes) and its value.
    private struct Slot {
        var keyHigh: UInt32
        var keyLow: UInt32
        var value: Int32

        init(key: UInt64, value: Int32) {
            keyHigh = UInt32(truncatingIfNeeded: key >> 32)
            keyLow = UInt32(truncatingIfNeeded: key)
            self.value = value
        }

        var key: UInt64 {
            get { UInt64(keyHigh) << 32 | UInt64(keyLow) }
            set { self = Slot(key: newValue, value: value) }
        }
    }
    private static let empty: UInt64 = .max
    private static let removed: UInt64 = .max - 1
    private var slots = [Slot](repeating: Slot(key: PairTable.empty, value: 0), count: 1024)
    /// Live keys and tombstones.
    private var used = 0
    /// Number of slots.
    var capacity: Int { slots.count }

    /// The key of the pair `(left, right)`.
    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(for key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The value stored for `key`, or nil.
    @inline(__always)
    func value(for key: UInt64) -> Int32? {
        slots.withUnsafeBufferPointer { slots -> Int32? in
            let mask = slots.count - 1
            var slot = Self.slot(for: key, mask: mask)
            while true {
                let stored = slots[slot]
                if stored.key == key { return stored.value }
                if stored.key == Self.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Stores `value` for `key`.
    mutating func set(_ value: Int32, for key: UInt64) {
        if (used + 1) * 2 > slots.count { rehash(capacity: slots.count * 2) }
        let mask = slots.count - 1
        var slot = Self.slot(for: key, mask: mask)
        var firstRemoved = -1
        while true {
            let stored = slots[slot].key
            if stored == key { slots[slot].value = value; return }
            if stored == Self.removed && firstRemoved < 0 { firstRemoved = slot }
            if stored == Self.empty { break }
            slot = (slot + 1) & mask
        }
        if firstRemoved >= 0 {
            slot = firstRemoved
        } else {
            used += 1
        }
        slots[slot] = Slot(key: key, value: value)
    }

    /// Removes `key` if present.
    mutating func remove(_ key: UInt64) {
        let mask = slots.count - 1
        var slot = Self.slot(for: key, mask: mask)
        while true {
            let stored = slots[slot].key
            if stored == key { slots[slot].key = Self.removed; return }
            if stored == Self.empty { return }
            slot = (slot + 1) & mask
        }
    }

    private mutating func rehash(capacity: Int) {
        let old = slots
        slots = [Slot](repeating: Slot(key: Self.empty, value: 0), count: capacity)
        used = 0
        let mask = capacity - 1
        for entry in old where entry.key != Self.empty && entry.key != Self.removed {
            var slot = Self.slot(for: entry.key, mask: mask)
            while slots[slot].key != Self.empty { slot = (slot + 1) & mask }
            slots[slot] = entry
            used += 1
        }
    }
}
