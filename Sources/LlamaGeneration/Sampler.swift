import LlamaCore

/// How the next token is chosen from the logits.
public struct SamplingParameters: Sendable, Equatable {
    /// Softmax temperature; 0 means greedy (argmax).
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (0: all).
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: all).
    public var topP: Float = 1
    /// CTRL's repetition penalty (Keskar et al., 2019) as transformers applies it: logits of
    /// tokens already in the sequence are divided by it when positive, multiplied when negative.
    public var repetitionPenalty: Float = 1
    /// OpenAI's presence penalty: subtracted once from the logit of every token the completion
    /// has produced so far.
    public var presencePenalty: Float = 0
    /// OpenAI's frequency penalty: subtracted from a token's logit as many times as the
    /// completion has produced it.
    public var frequencyPenalty: Float = 0
    /// Seed of the sampling generator.
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1,
                presencePenalty: Float = 0, frequencyPenalty: Float = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
    }
}

/// Chooses tokens from logits. Its buffers are made once, so sampling allocates nothing.
///
/// Order of operations, as transformers' logits processors: repetition penalty (then OpenAI's
/// presence and frequency penalties), then temperature, then top-k, then top-p on the top-k
/// survivors, then a draw. Ties in greedy choice go to the lowest id (as `argmax`).
public final class Sampler {
    public let parameters: SamplingParameters
    public private(set) var generator: SeededGenerator
    private let vocabularySize: Int
    /// (vocab) adjusted logits, then probabilities.
    private let adjusted: UnsafeMutablePointer<Float>
    /// (vocab) candidate ids: the top-k heap, or the ids top-p sorts.
    private let heap: UnsafeMutablePointer<Int32>
    /// (2 · vocab) probability keys and ids being sorted for top-p, and a second buffer.
    private let sortKeys: UnsafeMutablePointer<UInt64>
    /// (vocab) whether an id has already been penalised this step.
    private let seen: UnsafeMutablePointer<Bool>
    /// (vocab) how often each id occurs in the completion so far (zero between steps).
    private let counts: UnsafeMutablePointer<Int32>

    public init(parameters: SamplingParameters, vocabularySize: Int) {
        self.parameters = parameters
        self.vocabularySize = vocabularySize
        generator = SeededGenerator(seed: parameters.seed)
        adjusted = .allocate(capacity: vocabularySize)
        heap = .allocate(capacity: vocabularySize)
        sortKeys = .allocate(capacity: 2 * vocabularySize)
        seen = .allocate(capacity: vocabularySize)
        seen.initialize(repeating: false, count: vocabularySize)
        counts = .allocate(capacity: vocabularySize)
        counts.initialize(repeating: 0, count: vocabularySize)
    }

    deinit {
        adjusted.deallocate()
        heap.deallocate()
        sortKeys.deallocate()
        seen.deallocate()
        counts.deallocate()
    }

    /// The next token given `logits` and the ids of the sequence so far, of which the last
    /// `generated` (default: all) are the completion's own (the presence and frequency penalties
    /// count those).
    public func sample(logits: UnsafeBufferPointer<Float>, history: UnsafeBufferPointer<Int32>, generated: Int? = nil) -> Int32 {
        let n = vocabularySize
        guard let source = logits.baseAddress else { return 0 }
        if parameters.temperature <= 0 && parameters.repetitionPenalty == 1
            && parameters.presencePenalty == 0 && parameters.frequencyPenalty == 0 {
            return Int32(VectorMath.argmax(source, n))
        }
        adjusted.update(from: source, count: n)
        if parameters.repetitionPenalty != 1 {
            let penalty = parameters.repetitionPenalty
            for token in history where token >= 0 && Int(token) < n && !seen[Int(token)] {
                seen[Int(token)] = true
                let value = adjusted[Int(token)]
                adjusted[Int(token)] = value > 0 ? value / penalty : value * penalty
            }
            for token in history where token >= 0 && Int(token) < n { seen[Int(token)] = false }
        }
        applyPresenceAndFrequency(UnsafeBufferPointer(rebasing: history.suffix(min(generated ?? history.count, history.count))))
        if parameters.temperature <= 0 { return Int32(VectorMath.argmax(adjusted, n)) }
        VectorMath.scale(adjusted, 1 / parameters.temperature, n)
        VectorMath.softmax(adjusted, n)
        if parameters.topK <= 0 && parameters.topP >= 1 {
            return draw(count: n) { Int32($0) }
        }
        var kept = 0
        var keptMass: Float = 0
        let candidate: (Int) -> Int32
        if parameters.topK > 0 {
            // The k most likely in one pass over the vocabulary (a heap of k with the least
            // likely on top), then ordered most likely first: heapifying all 32000 ids for 40
            // took a tenth of a 110M model's decode step.
            kept = min(parameters.topK, n)
            selectMostLikely(kept)
            for i in 0..<kept { keptMass += adjusted[Int(heap[i])] }
            candidate = { self.heap[$0] }
        } else {
            // Only the ids at or above the probability octave where the mass reaches p can be
            // in the nucleus: they are sorted (all ids when their float sum falls short of p).
            let count = nucleusCandidates(mass: parameters.topP)
            (kept, keptMass) = sortedPrefix(count: count, reaching: parameters.topP)
            if keptMass < parameters.topP && count < n {
                for i in 0..<n { heap[i] = Int32(i) }
                (kept, keptMass) = sortedPrefix(count: n, reaching: parameters.topP)
            }
            candidate = { self.heap[$0] }
        }
        if parameters.topK > 0 && parameters.topP < 1 {
            // top-p on the renormalised top-k set, most likely first.
            var mass: Float = 0
            var count = 0
            while count < kept {
                mass += adjusted[Int(candidate(count))] / keptMass
                count += 1
                if mass >= parameters.topP { break }
            }
            kept = count
        }
        return draw(count: kept, id: candidate)
    }

    /// Puts into heap[0..<count] every id whose probability lies in a binary octave (the
    /// float's exponent) at or above the highest octave where the probabilities of it and the
    /// octaves above add up to `mass`, and returns count. The set holds every id at least as
    /// likely as one in it, so ordering it yields the vocabulary's most likely ids in order
    /// until the boundary octave ends: the whole nucleus of a peaked distribution after one
    /// pass, instead of heapifying 32000 ids.
    private func nucleusCandidates(mass: Float) -> Int {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 256) { buffer -> Int in
            guard let octaves = buffer.baseAddress else { return 0 }
            octaves.initialize(repeating: 0, count: 256)
            for i in 0..<vocabularySize { octaves[Self.octave(adjusted[i])] += Double(adjusted[i]) }
            var boundary = 255, cumulative = 0.0
            while boundary > 0 {
                cumulative += octaves[boundary]
                if cumulative >= Double(mass) && cumulative > 0 { break }
                boundary -= 1
            }
            var count = 0
            for i in 0..<vocabularySize where Self.octave(adjusted[i]) >= boundary {
                heap[count] = Int32(i)
                count += 1
            }
            return count
        }
    }

    @inline(__always)
    private static func octave(_ probability: Float) -> Int { Int((probability.bitPattern >> 23) & 0xFF) }

    /// Sorts the ids in heap[0..<count] (ascending) most likely first, ties lower id first, and
    /// returns how many of them reach `mass` in that order and their mass (all of them when
    /// they fall short). A stable radix sort on the probabilities' bit patterns (monotonic for
    /// non-negative floats), a byte at a time: linear in `count`, where popping a heap of the
    /// vocabulary took 5 ms a token when the nucleus holds most of 32000 ids.
    private func sortedPrefix(count: Int, reaching mass: Float) -> (Int, Float) {
        guard count > 0 else { return (0, 0) }
        var source = sortKeys, target = sortKeys + count
        for i in 0..<count {
            let id = heap[i]
            source[i] = UInt64(~adjusted[Int(id)].bitPattern) << 32 | UInt64(UInt32(bitPattern: id))
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { buffer in
            guard let offsets = buffer.baseAddress else { return }
            for shift in stride(from: UInt64(32), to: 64, by: 8) {
                offsets.initialize(repeating: 0, count: 256)
                for i in 0..<count { offsets[Int((source[i] >> shift) & 0xFF)] += 1 }
                if offsets[Int((source[0] >> shift) & 0xFF)] == count { continue }
                var total = 0
                for bucket in 0..<256 {
                    let size = offsets[bucket]
                    offsets[bucket] = total
                    total += size
                }
                for i in 0..<count {
                    let bucket = Int((source[i] >> shift) & 0xFF)
                    target[offsets[bucket]] = source[i]
                    offsets[bucket] += 1
                }
                swap(&source, &target)
            }
        }
        var kept = 0
        var keptMass: Float = 0
        while kept < count {
            let id = Int32(truncatingIfNeeded: source[kept])
            heap[kept] = id
            kept += 1
            keptMass += adjusted[Int(id)]
            if keptMass >= mass { break }
        }
        return (kept, keptMass)
    }

    /// heap[0..<k] = the k most likely ids, most likely first (ties: the lower id first).
    private func selectMostLikely(_ k: Int) {
        for i in 0..<k { heap[i] = Int32(i) }
        var index = k / 2 - 1
        while index >= 0 {
            siftDown(index, size: k, leastLikelyOnTop: true)
            index -= 1
        }
        for id in k..<vocabularySize where isBefore(Int32(id), heap[0]) {
            heap[0] = Int32(id)
            siftDown(0, size: k, leastLikelyOnTop: true)
        }
        // Popping the least likely to the end leaves the most likely first.
        var size = k
        while size > 1 {
            size -= 1
            let least = heap[0]
            heap[0] = heap[size]
            heap[size] = least
            siftDown(0, size: size, leastLikelyOnTop: true)
        }
    }

    /// Draws among candidates `id(0) ..< id(count)` in proportion to their probability.
    private func draw(count: Int, id: (Int) -> Int32) -> Int32 {
        var mass: Float = 0
        for i in 0..<count { mass += adjusted[Int(id(i))] }
        let target = generator.nextFloat() * mass
        var cumulative: Float = 0
        for i in 0..<count {
            cumulative += adjusted[Int(id(i))]
            if cumulative > target { return id(i) }
        }
        return id(count - 1)
    }

    /// Restores the heap property below `index`: the most likely id on top (ties: the lower
    /// id), or with `leastLikelyOnTop` the least likely (ties: the higher id).
    private func siftDown(_ start: Int, size: Int, leastLikelyOnTop: Bool = false) {
        var index = start
        while true {
            let left = 2 * index + 1, right = left + 1
            var top = index
            if left < size && above(heap[left], heap[top], leastLikelyOnTop) { top = left }
            if right < size && above(heap[right], heap[top], leastLikelyOnTop) { top = right }
            if top == index { return }
            let swap = heap[index]
            heap[index] = heap[top]
            heap[top] = swap
            index = top
        }
    }

    @inline(__always)
    private func above(_ a: Int32, _ b: Int32, _ leastLikelyOnTop: Bool) -> Bool {
        leastLikelyOnTop ? isBefore(b, a) : isBefore(a, b)
    }

    @inline(__always)
    private func isBefore(_ a: Int32, _ b: Int32) -> Bool {
        let pa = adjusted[Int(a)], pb = adjusted[Int(b)]
        return pa > pb || (pa == pb && a < b)
    }
}

extension Sampler {
    /// logit[j] −= frequency · count(j) + presence · [count(j) > 0], count over `completion`.
    private func applyPresenceAndFrequency(_ completion: UnsafeBufferPointer<Int32>) {
        let presence = parameters.presencePenalty, frequency = parameters.frequencyPenalty
        guard presence != 0 || frequency != 0 else { return }
        let n = vocabularySize
        for token in completion where token >= 0 && Int(token) < n { counts[Int(token)] += 1 }
        for token in completion where token >= 0 && Int(token) < n && counts[Int(token)] > 0 {
            adjusted[Int(token)] -= frequency * Float(counts[Int(token)]) + presence
            counts[Int(token)] = 0
        }
    }
}
