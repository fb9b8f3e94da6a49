import Foundation

/// Training sentences in one byte arena (no allocation per sentence), with frequencies.
///
/// Sentence `i` is `bytes[starts[i]..<starts[i] + lengths[i]]`. Replacing a sentence (the
/// reservoir sampler does) appends the new bytes and leaves the old ones unused; the arena is
/// compacted when unused bytes outnumber the used ones, so memory stays within about twice
/// the kept sentences.
struct TrainingSentences {
    /// The arena; `paddingBytes` readable bytes follow the last sentence.
    private(set) var bytes: [UInt8] = []
    /// `(count)`: where each sentence starts in `bytes`.
    private(set) var starts: [Int] = []
    /// `(count)`: each sentence's length in bytes.
    private(set) var lengths: [Int32] = []
    /// `(count)`: how often each sentence counts (1, or the count of a TSV line).
    private(set) var frequencies: [Int64] = []
    /// Bytes of the arena no sentence uses any more.
    private var unusedBytes = 0

    /// Number of sentences.
    var count: Int { starts.count }
    var isEmpty: Bool { starts.isEmpty }

    /// The bytes of sentence `index`.
    func sentence(_ index: Int) -> ArraySlice<UInt8> {
        bytes[starts[index]..<(starts[index] + Int(lengths[index]))]
    }

    /// Reserves room for `count` bytes of sentences.
    mutating func reserveBytes(_ count: Int) {
        bytes.reserveCapacity(count + WordCounter.paddingBytes)
    }

    /// Appends a sentence.
    mutating func append(_ sentence: ArraySlice<UInt8>, frequency: Int64) {
        starts.append(bytes.count)
        lengths.append(Int32(sentence.count))
        frequencies.append(frequency)
        bytes.append(contentsOf: sentence)
    }

    /// Replaces sentence `index`.
    mutating func replace(at index: Int, with sentence: ArraySlice<UInt8>, frequency: Int64) {
        unusedBytes += Int(lengths[index])
        starts[index] = bytes.count
        lengths[index] = Int32(sentence.count)
        frequencies[index] = frequency
        bytes.append(contentsOf: sentence)
        if unusedBytes > bytes.count - unusedBytes { compact() }
    }

    /// Copies the sentences in use into a fresh arena.
    private mutating func compact() {
        var compacted: [UInt8] = []
        compacted.reserveCapacity(bytes.count - unusedBytes)
        for index in 0..<count {
            let start = starts[index]
            starts[index] = compacted.count
            compacted.append(contentsOf: bytes[start..<(start + Int(lengths[index]))])
        }
        bytes = compacted
        unusedBytes = 0
    }

    /// Calls `body` with sentence `index` as a buffer that stays readable for
    /// `WordCounter.paddingBytes` past its end (see `finishLoading`).
    @inline(__always)
    func withSentence<Result>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { arena in
            body(UnsafeBufferPointer(rebasing: arena[starts[index]..<(starts[index] + Int(lengths[index]))]))
        }
    }

    /// Appends the padding that `withSentence` promises; call once all sentences are in.
    mutating func finishLoading() {
        bytes.append(contentsOf: repeatElement(0, count: WordCounter.paddingBytes))
    }
}

/// Chooses the training sentences as SentencePiece's `SentenceSelector` does: all of them,
/// the first `input_sentence_size`, or a uniform reservoir sample of that many (memory
/// bounded by the sample size).
///
/// The sample is that of sentencepiece ≤ 0.2.1 (`random::ReservoirSampler` in util.h with
/// `std::mt19937` seeded with `seed`, 12345678 there): the first `limit` sentences are
/// kept; the n-th sentence after them draws `slot` uniformly from `0..<n` and replaces
/// the sentence in that slot when `slot < limit`. sentencepiece 0.2.2 and later sample
/// with a per-process salted `absl::BitGen`, which no other program can reproduce
/// (docs/tokenizer.md).
struct SentenceSelector {
    private var sentences = TrainingSentences()
    private let limit: UInt64
    private let shuffles: Bool
    private let maximumLength: Int
    private var generator: MersenneTwister
    private var total: UInt64 = 0

    init(options: BPETrainerOptions) {
        limit = options.inputSentenceSize
        shuffles = options.shuffleInputSentence
        maximumLength = options.maxSentenceLength
        generator = MersenneTwister(seed: options.seed)
    }

    /// Offers one line; returns false once no further line can be taken.
    mutating func add(_ sentence: ArraySlice<UInt8>, frequency: Int64) -> Bool {
        if sentence.isEmpty || sentence.count > maximumLength { return true }
        if Self.containsUnknownCharacter(sentence) { return true }
        if limit == 0 {
            sentences.append(sentence, frequency: frequency)
        } else if shuffles {
            total += 1
            if UInt64(sentences.count) < limit {
                sentences.append(sentence, frequency: frequency)
            } else {
                let slot = generator.uniform(upTo: total - 1)
                if slot < UInt64(sentences.count) { sentences.replace(at: Int(slot), with: sentence, frequency: frequency) }
            }
        } else {
            sentences.append(sentence, frequency: frequency)
            if UInt64(sentences.count) >= limit { return false }
        }
        return true
    }

    /// Reserves room for `count` bytes of sentences.
    mutating func reserveBytes(_ count: Int) {
        sentences.reserveBytes(count)
    }

    /// Hands over the chosen sentences, padded for `withSentence` (the selector is empty after).
    mutating func finish() -> TrainingSentences {
        var chosen = TrainingSentences()
        swap(&chosen, &sentences)
        chosen.finishLoading()
        return chosen
    }

    /// Whether the bytes contain U+2585 (E2 96 85), which SentencePiece reserves.
    private static func containsUnknownCharacter(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return false }
            var start = 0
            while start + 2 < bytes.count,
                  let found = memchr(base + start, 0xE2, bytes.count - 2 - start)
            {
                let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if bytes[index + 1] == 0x96 && bytes[index + 2] == 0x85 { return true }
                start = index + 1
            }
            return false
        }
    }
}
