import Foundation

/// 64-bit keys of words and n-grams in the scheme of KenLM's probing model (Heafield 2011,
/// "KenLM: Faster and Smaller Language Model Queries", section 3.1): a word is keyed by a hash of
/// its UTF-8 bytes, and the n-gram `c_k … c_1 w` by folding the keys of `w`, `c_1`, …, `c_k` in
/// that order (KenLM's `CombineWordHash`), so extending a lookup by one word of context costs one
/// multiply.
///
/// Keys are trusted: two words or n-grams with the same key are one to the tables. Tables store
/// the key with its lowest bit set (0 marks an empty slot), so 63 bits tell entries apart and a
/// given pair of distinct n-grams shares a slot key with probability 2⁻⁶³; even with 10⁸
/// n-grams per order the chance of any collision is about 5·10⁻⁴. KenLM likewise identifies words
/// by their 64-bit MurmurHash without comparing bytes. Two unigrams of one model file with equal
/// keys are refused when the file is read.
enum NGramHash {
    /// The high and low halves of the 128-bit product, XORed (the mixing step of wyhash).
    @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// The key of a word given by its UTF-8 bytes: eight bytes at a time, the last one to eight
    /// bytes read as two overlapping 32-bit words (or three single bytes, which only the length
    /// tells apart: "so" and "soo" both give s, o, o), each step a 64×64→128 bit multiply folded
    /// to 64 bits; the length enters at the start and again before the last step.
    @inline(__always)
    static func word(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var state = 0x243F_6A88_85A3_08D3 ^ UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        var offset = 0
        while count - offset > 8 {
            state = fold(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self), 0x9E37_79B9_7F4A_7C15)
            offset += 8
        }
        let rest = count - offset
        var tail: UInt64 = 0
        if rest >= 4 {
            tail = UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) << 32
                | UInt64(bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        } else if rest > 0 {
            tail = UInt64(bytes[offset]) << 16 | UInt64(bytes[offset + rest >> 1]) << 8 | UInt64(bytes[count - 1])
        }
        return fold(fold(state ^ tail, 0xBF58_476D_1CE4_E5B9) ^ UInt64(truncatingIfNeeded: count), 0x94D0_49BB_1331_11EB)
    }

    /// The key of a word given as a string.
    static func word(_ text: String) -> UInt64 {
        var copy = text
        return copy.withUTF8 { word(UnsafeRawBufferPointer($0)) }
    }

    /// The key of the n-gram `word` + the n-gram keyed `current` (one more word of context on
    /// the left in reading order).
    @inline(__always)
    static func combine(_ current: UInt64, _ word: UInt64) -> UInt64 {
        (current &* 0xD6E8_FEB8_6659_FD93) ^ word
    }
}

/// One entry of an n-gram table, 16 bytes: KenLM's probing entry with its two flags.
struct NGramSlot: Sendable {
    /// The n-gram's key with the lowest bit set; 0 marks an empty slot.
    var key: UInt64
    /// Log10 probability stored with the sign bit as a flag, as KenLM stores it: set when no
    /// longer n-gram of the model ends with this one (`independent_left`), clear when some does.
    /// Probabilities are ≤ 0, so the value is the stored one with its sign bit set.
    var probability: Float
    /// Log10 back-off. −0.0 (KenLM's `kNoExtensionBackoff`) means a back-off of 0 and no longer
    /// n-gram starting with this one, so a scorer need not carry the n-gram as context; +0.0 is a
    /// back-off of 0 of an n-gram that is a context.
    var backoff: Float

    static let empty = NGramSlot(key: 0, probability: 0, backoff: 0)
    static let signBit: UInt32 = 0x8000_0000
    static let noExtension = Float(bitPattern: signBit)

    /// The log10 probability.
    @inline(__always) static func probability(bits: UInt32) -> Float { Float(bitPattern: bits | signBit) }

    /// Whether an n-gram with back-off `backoff` is the context of a longer one or backs off.
    @inline(__always) static func hasExtension(_ backoff: Float) -> Bool { backoff.bitPattern != signBit }

    /// `value` as an ordinary float (±0 as +0), for reporting and writing.
    static func plain(_ value: Float) -> Float { value == 0 ? 0 : value }
}

/// Zero-filled memory for n-gram slots (a zero slot is empty), mapped from the system and, on
/// Linux, marked for transparent huge pages, as KenLM's `util::HugeMalloc` allocates its tables:
/// with 2 MB pages, random lookups in tens of megabytes of tables seldom miss the TLB. Written
/// only while a model is built; unmapped with the last model that uses it.
final class NGramSlotStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<NGramSlot>
    let count: Int
    private let byteCount: Int

    /// - Throws: `DataError.io` when the system refuses the memory.
    init(count: Int) throws {
        byteCount = max(count, 1) * MemoryLayout<NGramSlot>.stride
        guard let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else {
            throw DataError.io(path: "<n-gram tables>", operation: "mmap of \(byteCount) bytes", errno: errno)
        }
        #if os(Linux)
        _ = madvise(mapped, byteCount, MADV_HUGEPAGE)
        #endif
        base = mapped.bindMemory(to: NGramSlot.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { munmap(base, byteCount) }
}

/// The n-gram tables of every order, laid end to end in one `NGramSlotStorage` (order n's table
/// starts at `offsets[n − 1]` and has `capacities[n − 1]` slots), so a scorer reaches them all
/// through one pointer. Each is open-addressing with linear probing; its capacity is 1.5 times
/// the number of entries expected (KenLM's default `probing_multiplier`) and the start slot of a
/// key is `key · capacity / 2⁶⁴`. A table that blanks (see `NGramModelBuilder`) fill past 3/4
/// grows.
struct NGramTables {
    private(set) var storage: NGramSlotStorage
    private(set) var offsets: [Int]
    private(set) var capacities: [Int]
    /// Slots in use per order.
    private var used: [Int]

    /// Tables for `expectedCounts[n − 1]` n-grams of each order n.
    /// - Throws: `DataError.io` when the memory cannot be had.
    init(expectedCounts: [Int]) throws {
        capacities = expectedCounts.map(Self.capacity(for:))
        offsets = capacities.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1) }
        used = Array(repeating: 0, count: capacities.count)
        storage = try NGramSlotStorage(count: offsets[capacities.count])
    }

    static func capacity(for count: Int) -> Int { max(count + count / 2, count + 1, 2) }

    /// `values` (one per order, at most 8) as a vector, for the scorer.
    static func vector(_ values: [Int]) -> SIMD8<Int> {
        var vector = SIMD8<Int>()
        for (index, value) in values.prefix(8).enumerated() { vector[index] = value }
        return vector
    }

    /// The slot of `key` in the table of `capacity` slots at `slots`, or nil.
    @inline(__always)
    static func find(_ key: UInt64, in slots: UnsafePointer<NGramSlot>, capacity: Int) -> UnsafePointer<NGramSlot>? {
        let stored = key | 1
        var index = Int(truncatingIfNeeded: stored.multipliedFullWidth(by: UInt64(capacity)).high)
        while true {
            let found = slots[index].key
            if found == stored { return slots + index }
            if found == 0 { return nil }
            index += 1
            if index == capacity { index = 0 }
        }
    }

    /// The index of the slot holding `key` in the table of `order`, if any.
    func index(of key: UInt64, order: Int) -> Int? {
        let base = UnsafePointer(storage.base)
        return Self.find(key, in: base + offsets[order - 1], capacity: capacities[order - 1]).map { $0 - base }
    }

    subscript(index: Int) -> NGramSlot {
        get { storage.base[index] }
        set { storage.base[index] = newValue }
    }

    /// Inserts `key` with `probability` and `backoff` in the table of `order` unless it is
    /// present; returns whether it was inserted (an existing entry is kept: KenLM finds the first
    /// of duplicates).
    @discardableResult
    mutating func insert(_ key: UInt64, order: Int, probability: Float, backoff: Float) throws -> Bool {
        if (used[order - 1] + 1) * 4 > capacities[order - 1] * 3 { try grow(order: order) }
        let slots = storage.base + offsets[order - 1], capacity = capacities[order - 1]
        let stored = key | 1
        var index = Int(truncatingIfNeeded: stored.multipliedFullWidth(by: UInt64(capacity)).high)
        while slots[index].key != 0 {
            if slots[index].key == stored { return false }
            index += 1
            if index == capacity { index = 0 }
        }
        slots[index] = NGramSlot(key: stored, probability: probability, backoff: backoff)
        used[order - 1] += 1
        return true
    }

    /// Moves the tables to new storage where the table of `order` has twice the room.
    private mutating func grow(order: Int) throws {
        let old = self
        capacities[order - 1] = Self.capacity(for: used[order - 1] * 2)
        offsets = capacities.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1) }
        storage = try NGramSlotStorage(count: offsets[capacities.count])
        used[order - 1] = 0
        for index in capacities.indices where index != order - 1 {
            (storage.base + offsets[index]).update(from: old.storage.base + old.offsets[index], count: capacities[index])
        }
        let start = old.storage.base + old.offsets[order - 1]
        for index in 0..<old.capacities[order - 1] where start[index].key != 0 {
            try insert(start[index].key, order: order, probability: start[index].probability, backoff: start[index].backoff)
        }
    }
}
