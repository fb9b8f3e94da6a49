import Foundation

/// Estimates an interpolated modified Kneser-Ney model (Chen and Goodman 1998, "An Empirical
/// Study of Smoothing Techniques for Language Modeling", section 3.5 and equation 26) the way
/// KenLM's `lmplz` does (Heafield et al. 2013, "Scalable Modified Kneser-Ney Language Model
/// Estimation"; `lm/builder/adjust_counts.cc`, `initial_probabilities.cc`, `interpolate.cc`):
///
/// - Each sentence is `<s> w1 … wk </s>`. Adjusted count `a`: the raw count for n-grams of the
///   highest order and for n-grams starting with `<s>`; otherwise the number of distinct words
///   seen to the left. `<unk>` and `<s>` unigrams have count 0.
/// - Discounts per order from the counts-of-counts `t1 … t4` of adjusted counts:
///   `Y = t1 / (t1 + 2 t2)`, `D_k = k − (k + 1) Y t_{k+1} / t_k` for k = 1, 2, 3 (3 means 3+).
/// - `u(w | c) = (a(c w) − D(a(c w))) / Σ_x a(c x)`,
///   `γ(c) = (D1 N1(c •) + D2 N2(c •) + D3 N3+(c •)) / Σ_x a(c x)`,
///   `p(w | c) = u(w | c) + γ(c) p(w | c′)` with `c′` the context minus its first word, and
///   unigrams interpolated with the uniform distribution `1 / |V|` (V counts `<unk>`, not `<s>`).
///   `<unk>` thus gets `γ(ε) / |V|`.
/// - The ARPA back-off of n-gram `x` is `γ(x)` when `x` is a context and does not end in `<unk>`
///   or `</s>`, else 1 (log10 0). `<s>` is written with log10 probability 0, as lmplz writes it.
///
/// lmplz computes in single precision; this computes in double and stores floats.
public struct KneserNeyEstimator {
    /// The highest order to estimate.
    public let order: Int
    /// Word identifiers: 0 `<unk>`, 1 `<s>`, 2 `</s>`, then words in order of first appearance.
    public private(set) var words: [String] = [NGramModel.unknownWord, NGramModel.beginOfSentence,
                                                NGramModel.endOfSentence]
    private var identifiers: [String: Int32] = [NGramModel.unknownWord: 0, NGramModel.beginOfSentence: 1,
                                                NGramModel.endOfSentence: 2]
    /// Raw counts of the n-grams ending at each position: highest-order n-grams and the shorter
    /// ones starting with `<s>` near a sentence start, keyed by (length, key).
    private var rawCounts: [[UInt128: Int]]
    /// Total words added (without the markers).
    public private(set) var tokenCount = 0

    public init(order: Int) {
        precondition(order >= 1 && order <= 6, "orders 1 to 6 are supported")
        self.order = order
        rawCounts = Array(repeating: [:], count: order)
    }

    /// Adds one sentence, split on ASCII whitespace.
    /// - Throws: `DataError.invalidCorpus` when it holds `<s>` or `</s>` (lmplz refuses them too).
    public mutating func add(sentence: Substring, path: String = "<corpus>", line: Int = 0) throws {
        var gram: [Int32] = [1]
        for word in NGramModel.split(sentence) {
            let text = String(word)
            if text == NGramModel.beginOfSentence || text == NGramModel.endOfSentence {
                throw DataError.invalidCorpus(path: path, line: line, reason: "the corpus contains \(text)")
            }
            let identifier: Int32
            if let known = identifiers[text] {
                identifier = known
            } else {
                identifier = Int32(words.count)
                identifiers[text] = identifier
                words.append(text)
            }
            tokenCount += 1
            gram.append(identifier)
        }
        gram.append(2)
        let bits = NGramKey.bitsPerWord(order: order)
        for end in 1..<gram.count {
            let start = max(0, end - order + 1)
            var key: UInt128 = 0
            for position in start...end {
                key = key << bits | UInt128(UInt32(bitPattern: gram[position]))
            }
            rawCounts[end - start][key, default: 0] += 1
        }
    }

    /// The estimated model.
    /// - Throws: `DataError.invalidCorpus` (line 0) when some order lacks n-grams of adjusted
    ///   count 1, 2 or 3, or a discount falls outside `[0, k]` (lmplz's `BadDiscountException`).
    public func estimate(path: String = "<corpus>") throws -> NGramModel {
        let bits = NGramKey.bitsPerWord(order: order)
        guard words.count < 1 << bits else {
            throw DataError.invalidCorpus(path: path, line: 0, reason: "vocabulary too large for order \(order)")
        }
        let mask: UInt128 = (1 << bits) - 1
        // Adjusted counts, highest order first; index n - 1 holds order n.
        var adjusted: [[UInt128: Int]] = Array(repeating: [:], count: order)
        adjusted[order - 1] = rawCounts[order - 1]
        for length in stride(from: order - 1, through: 1, by: -1) {
            var counts = rawCounts[length - 1]  // n-grams starting with <s>: raw counts
            for key in adjusted[length].keys { counts[key & ((1 << (bits * length)) - 1), default: 0] += 1 }
            adjusted[length - 1] = counts
        }
        for identifier in 0..<words.count { adjusted[0][UInt128(identifier), default: 0] += 0 }
        // Discounts per order: amounts for adjusted counts 1, 2 and 3+ (index 0 is count 0).
        var discounts: [[Double]] = []
        for length in 1...order {
            var countOfCounts = [Int](repeating: 0, count: 5)
            for count in adjusted[length - 1].values where count < 5 { countOfCounts[count] += 1 }
            for k in 1...3 where countOfCounts[k] == 0 {
                throw DataError.invalidCorpus(path: path, line: 0, reason:
                    "no \(length)-grams with adjusted count \(k), so Kneser-Ney discounts are undefined; is the corpus tiny?")
            }
            let y = Double(countOfCounts[1]) / (Double(countOfCounts[1]) + 2 * Double(countOfCounts[2]))
            var amounts: [Double] = [0]
            for k in 1...3 {
                let amount = Double(k) - Double(k + 1) * y * Double(countOfCounts[k + 1]) / Double(countOfCounts[k])
                guard amount >= 0, amount <= Double(k) else {
                    throw DataError.invalidCorpus(path: path, line: 0,
                                                  reason: "\(length)-gram discount D\(k) = \(amount) out of range")
                }
                amounts.append(amount)
            }
            discounts.append(amounts)
        }
        // Denominators and interpolation weights γ of each context, per order.
        var denominators: [[UInt128: Double]] = []
        var gammas: [[UInt128: Double]] = []
        for length in 1...order {
            var denominator: [UInt128: Double] = [:]
            var gamma: [UInt128: Double] = [:]
            for (key, count) in adjusted[length - 1] {
                let context = key >> bits
                denominator[context, default: 0] += Double(count)
                if count > 0 { gamma[context, default: 0] += discounts[length - 1][min(count, 3)] }
            }
            for (context, total) in denominator { gamma[context] = (gamma[context] ?? 0) / total }
            denominators.append(denominator)
            gammas.append(gamma)
        }
        // Interpolated probabilities, lowest order first.
        let uniform = 1 / Double(words.count - 1)
        var probabilities: [[UInt128: Double]] = []
        for length in 1...order {
            var table: [UInt128: Double] = [:]
            table.reserveCapacity(adjusted[length - 1].count)
            for (key, count) in adjusted[length - 1] {
                let context = key >> bits
                let discounted = (Double(count) - discounts[length - 1][min(count, 3)]) / (denominators[length - 1][context] ?? 1)
                let lower = length == 1 ? uniform : (probabilities[length - 2][key & ((1 << (bits * (length - 1))) - 1)] ?? 0)
                table[key] = discounted + (gammas[length - 1][context] ?? 0) * lower
            }
            probabilities.append(table)
        }
        var ngrams: [[(words: [String], entry: NGramModel.Entry)]] = []
        for length in 1...order {
            let keys = length == 1 ? (0..<words.count).map { UInt128($0) } : adjusted[length - 1].keys.sorted()
            ngrams.append(keys.map { key in
                let identifiers = (0..<length).reversed().map { Int((key >> (bits * $0)) & mask) }
                let last = identifiers[length - 1]
                var backoff = 0.0
                if length < order, last != 0, last != 2, let gamma = gammas[length][key] { backoff = log10(gamma) }
                var probability = min(0, log10(probabilities[length - 1][key] ?? 0))
                if length == 1, last == 1 { probability = 0 }
                return (identifiers.map { words[$0] }, NGramModel.Entry(probability: Float(probability), backoff: Float(backoff)))
            })
        }
        return try NGramModel(order: order, ngrams: ngrams, path: path)
    }
}

/// Packs the word identifiers of an n-gram into one 128-bit key, the last word in the lowest
/// bits, so that extending an n-gram to the left ORs in one more field (the estimator's counts).
enum NGramKey {
    /// Bits per word identifier for a model of `order` (25 for a 5-gram model).
    static func bitsPerWord(order: Int) -> Int { min(32, 128 / max(order, 1)) }
}
