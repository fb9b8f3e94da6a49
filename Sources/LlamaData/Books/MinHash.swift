import LlamaCore

/// MinHash signatures of word shingles (Broder, 1997, "On the resemblance and containment
/// of documents"): for each of `permutationCount` hash functions h(x) = (a·x + b) mod
/// (2^61 − 1) with a, b drawn from `SeededGenerator(seed)`, the minimum over the document's
/// shingles. The fraction of equal positions in two signatures estimates the Jaccard
/// similarity of their shingle sets. This is the scheme of the `datasketch` library's
/// `MinHash` (same prime, same affine permutations; shingle hashes differ: FNV-1a 64 here).
public struct MinHasher: Sendable {
    /// Words per shingle.
    public let shingleWords: Int
    /// Hash functions (signature length).
    public let permutationCount: Int
    private let multipliers: [UInt64]
    private let offsets: [UInt64]
    static let prime: UInt64 = (1 << 61) - 1

    public init(permutationCount: Int = 128, shingleWords: Int = 5, seed: UInt64 = 1) {
        self.permutationCount = permutationCount
        self.shingleWords = shingleWords
        var generator = SeededGenerator(seed: seed)
        multipliers = (0..<permutationCount).map { _ in 1 + generator.next() % (Self.prime - 1) }
        offsets = (0..<permutationCount).map { _ in generator.next() % Self.prime }
    }

    /// The 64-bit hashes of the text's shingles: words are runs of letters and digits,
    /// lower-cased, each hashed with FNV-1a 64 over its UTF-8 bytes; a shingle is
    /// `shingleWords` consecutive words, hashed with FNV-1a 64 over its word hashes' bytes.
    /// A text shorter than one shingle gives one shingle of all its words.
    public func shingleHashes(_ text: String) -> Set<UInt64> {
        let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325, prime: UInt64 = 0x0000_0100_0000_01B3
        var wordHashes: [UInt64] = []
        var hash = offsetBasis
        var inWord = false
        func add(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* prime }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                let isWord = (value >= 0x30 && value <= 0x39) || ((value | 0x20) >= 0x61 && (value | 0x20) <= 0x7A)
                if isWord {
                    inWord = true
                    add(TextScanning.lowered(UInt8(value)))
                    continue
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                inWord = true
                for lower in scalar.properties.lowercaseMapping.utf8 { add(lower) }
                continue
            }
            if inWord {
                wordHashes.append(hash)
                hash = offsetBasis
                inWord = false
            }
        }
        if inWord { wordHashes.append(hash) }
        var hashes: Set<UInt64> = []
        if wordHashes.isEmpty { return hashes }
        let width = min(shingleWords, wordHashes.count)
        hashes.reserveCapacity(wordHashes.count)
        for start in 0...(wordHashes.count - width) {
            var shingle = offsetBasis
            for word in wordHashes[start..<(start + width)] {
                for shift in stride(from: 0, to: 64, by: 8) { shingle = (shingle ^ ((word >> UInt64(shift)) & 0xFF)) &* prime }
            }
            hashes.insert(shingle)
        }
        return hashes
    }

    /// The signature of a shingle set (all `UInt64.max` for an empty set).
    public func signature(of shingles: Set<UInt64>) -> [UInt64] {
        var signature = [UInt64](repeating: UInt64.max, count: permutationCount)
        for shingle in shingles {
            let value = shingle % Self.prime
            for index in 0..<permutationCount {
                let permuted = Self.addModPrime(Self.multiplyModPrime(multipliers[index], value), offsets[index])
                if permuted < signature[index] { signature[index] = permuted }
            }
        }
        return signature
    }

    /// The signature of a text.
    public func signature(of text: String) -> [UInt64] { signature(of: shingleHashes(text)) }

    /// The fraction of equal positions: the MinHash estimate of Jaccard similarity.
    public static func estimatedJaccard(_ first: [UInt64], _ second: [UInt64]) -> Double {
        guard first.count == second.count, !first.isEmpty else { return 0 }
        var equal = 0
        for index in first.indices where first[index] == second[index] { equal += 1 }
        return Double(equal) / Double(first.count)
    }

    /// The exact Jaccard similarity |A ∩ B| / |A ∪ B| of two shingle sets.
    public static func exactJaccard(_ first: Set<UInt64>, _ second: Set<UInt64>) -> Double {
        let union = first.union(second).count
        return union == 0 ? 1 : Double(first.intersection(second).count) / Double(union)
    }

    @inline(__always)
    static func multiplyModPrime(_ a: UInt64, _ b: UInt64) -> UInt64 {
        // a, b < 2^61: the product is below 2^122, and 2^61 ≡ 1 (mod 2^61 − 1).
        let (high, low) = a.multipliedFullWidth(by: b)
        let folded = (low & prime) + ((low >> 61) | (high << 3))
        return folded >= prime ? folded - prime : folded
    }

    @inline(__always)
    static func addModPrime(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let sum = a + b
        return sum >= prime ? sum - prime : sum
    }
}

/// Near-duplicate removal with locality-sensitive hashing over MinHash signatures
/// (Leskovec, Rajaraman and Ullman, "Mining of Massive Datasets", section 3.4): the
/// signature is cut into `bandCount` bands of `rowsPerBand` rows; documents sharing a band
/// are candidates, and a candidate whose estimated Jaccard similarity with an earlier kept
/// document exceeds `threshold` is a duplicate. Documents are seen in input order, so the
/// first of a group is kept (the tie-break).
public final class NearDuplicateIndex {
    public let bandCount: Int
    public let rowsPerBand: Int
    public let threshold: Double
    private var buckets: [[UInt64]: [Int]] = [:]
    private var signatures: [[UInt64]] = []

    /// 8 bands of 16 rows put the LSH S-curve's midpoint at (1/8)^(1/16) ≈ 0.88, below the
    /// 0.9 threshold: a pair of similarity s becomes a candidate with probability
    /// 1 − (1 − s^16)^8, ≈ 0.81 at s = 0.9, ≈ 0.99 at 0.95, ≈ 1 for near-copies.
    public init(bandCount: Int = 8, rowsPerBand: Int = 16, threshold: Double = 0.9) {
        self.bandCount = bandCount
        self.rowsPerBand = rowsPerBand
        self.threshold = threshold
    }

    /// Checks `signature` against the kept documents; returns the index (in kept order) of
    /// the document it duplicates, or nil after adding it to the index.
    public func insertUnlessDuplicate(_ signature: [UInt64]) -> (duplicateOf: Int, similarity: Double)? {
        precondition(signature.count >= bandCount * rowsPerBand, "signature shorter than bands × rows")
        var keys: [[UInt64]] = []
        var best: (Int, Double)?
        for band in 0..<bandCount {
            var key = Array(signature[(band * rowsPerBand)..<((band + 1) * rowsPerBand)])
            key.append(UInt64(band))
            for candidate in buckets[key] ?? [] {
                let similarity = MinHasher.estimatedJaccard(signature, signatures[candidate])
                if similarity > threshold, best == nil || similarity > best?.1 ?? 0 { best = (candidate, similarity) }
            }
            keys.append(key)
        }
        if let best { return (best.0, best.1) }
        let index = signatures.count
        signatures.append(signature)
        for key in keys { buckets[key, default: []].append(index) }
        return nil
    }
}
