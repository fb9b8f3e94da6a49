import Foundation
import LlamaCore
import LlamaGeneration
import XCTest

/// Samplers against their definitions: argmax, the softmax distribution, top-k, top-p and
/// CTRL's repetition penalty.
final class SamplerTests: XCTestCase {
    private let logits: [Float] = [1.0, 3.0, 2.0, 0.5, 3.0, -1.0]

    private func sample(_ parameters: SamplingParameters, history: [Int32] = [], draws: Int) -> [Int] {
        let sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
        var counts = [Int](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { buffer in
            history.withUnsafeBufferPointer { past in
                for _ in 0..<draws { counts[Int(sampler.sample(logits: buffer, history: past))] += 1 }
            }
        }
        return counts
    }

    func testGreedyTakesTheFirstMaximum() {
        XCTAssertEqual(sample(SamplingParameters(), draws: 3), [0, 3, 0, 0, 0, 0])
    }

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        // 3.0 / 2 = 1.5 < 2.0, so the penalised id 1 loses to id 4 (3.0) … and with 4 penalised too, id 2 wins.
        XCTAssertEqual(sample(SamplingParameters(repetitionPenalty: 2), history: [1, 1], draws: 1), [0, 0, 0, 0, 1, 0])
        XCTAssertEqual(sample(SamplingParameters(repetitionPenalty: 2), history: [1, 4], draws: 1), [0, 0, 1, 0, 0, 0])
    }

    /// OpenAI's definition: logit − frequency · count − presence · [count > 0], counting only the
    /// completion's tokens (the last `generated` of the history).
    func testPresenceAndFrequencyPenaltiesCountTheCompletion() {
        let sampler = Sampler(parameters: SamplingParameters(presencePenalty: 0.4, frequencyPenalty: 0.5), vocabularySize: logits.count)
        func choose(_ history: [Int32], generated: Int) -> Int32 {
            logits.withUnsafeBufferPointer { buffer in history.withUnsafeBufferPointer { sampler.sample(logits: buffer, history: $0, generated: generated) } }
        }
        // Id 1 once: 3.0 − 0.5 − 0.4 = 2.1 < 3.0 (id 4). Ids 1 and 4 once: 2.1 and 2.1 against 2.0:
        // id 1 (lowest) wins. Id 4 twice and 1 once: 4 → 3.0 − 1.0 − 0.4 = 1.6, 1 → 2.1.
        XCTAssertEqual(choose([1], generated: 1), 4)
        XCTAssertEqual(choose([1, 4], generated: 2), 1)
        XCTAssertEqual(choose([4, 1, 4], generated: 3), 1)
        // Id 1 three times: 3.0 − 1.5 − 0.4 = 1.1; id 4 once: 2.1, above id 2 (2.0).
        XCTAssertEqual(choose([1, 1, 4, 1], generated: 4), 4)
        // The prompt's tokens are not counted: with id 4 in the prompt and id 1 generated, id 4
        // keeps 3.0 and wins (counting the prompt too would tie them at 2.1 and give id 1).
        XCTAssertEqual(choose([1, 4, 4], generated: 0), 1)
        XCTAssertEqual(choose([4, 1], generated: 1), 4)
        // Negative penalties favour repeats: id 0 once: 1.0 + 0.5 + 2 = 3.5 > 3.0 (whole history by default).
        let favouring = Sampler(parameters: SamplingParameters(presencePenalty: -2, frequencyPenalty: -0.5), vocabularySize: logits.count)
        XCTAssertEqual(logits.withUnsafeBufferPointer { buffer in [Int32(0)].withUnsafeBufferPointer { favouring.sample(logits: buffer, history: $0) } }, 0)
    }

    func testTemperatureSamplingFollowsTheSoftmax() {
        let draws = 60_000
        let counts = sample(SamplingParameters(temperature: 0.7, seed: 11), draws: draws)
        let weights = logits.map { exp(Double($0) / 0.7) }
        let total = weights.reduce(0, +)
        for (i, weight) in weights.enumerated() {
            let p = weight / total
            let standardError = (p * (1 - p) / Double(draws)).squareRoot()
            XCTAssertEqual(Double(counts[i]) / Double(draws), p, accuracy: 5 * standardError + 1e-4, "token \(i)")
        }
    }

    func testTopKAndTopPKeepOnlyTheMostLikely() {
        // top-k 2: only the two 3.0 logits remain, equally likely.
        let topK = sample(SamplingParameters(temperature: 1, topK: 2, seed: 3), draws: 4000)
        XCTAssertEqual(topK[0] + topK[2] + topK[3] + topK[5], 0)
        XCTAssertEqual(Double(topK[1]) / 4000, 0.5, accuracy: 0.04)
        // Probabilities at T=1: ids 1 and 4 have 0.3841 each, id 2 0.1413. top-p 0.6 keeps {1, 4};
        // top-p 0.8 needs id 2 as well (0.7682 < 0.8).
        let nucleus = sample(SamplingParameters(temperature: 1, topP: 0.6, seed: 4), draws: 4000)
        XCTAssertEqual(nucleus[0] + nucleus[2] + nucleus[3] + nucleus[5], 0)
        let wider = sample(SamplingParameters(temperature: 1, topP: 0.8, seed: 5), draws: 4000)
        XCTAssertGreaterThan(wider[2], 0)
        XCTAssertEqual(wider[0] + wider[3] + wider[5], 0)
        // top-k 3 then top-p 0.7 of the renormalised three: 0.3474/0.8226 = 0.4223 each, so {1, 4} reach 0.845.
        let both = sample(SamplingParameters(temperature: 1, topK: 3, topP: 0.7, seed: 6), draws: 4000)
        XCTAssertEqual(both[2], 0)
    }

    /// On a large vocabulary with tied logits, top-k and top-p draw exactly what the definition
    /// gives: all ids sorted by probability (ties: lower id first), the first k kept, then the
    /// smallest prefix reaching p of their mass (renormalised after top-k), and a draw by
    /// cumulative probability with the sampler's own generator.
    func testTopKAndTopPOnALargeVocabularyEqualFullSort() {
        let vocabulary = 2000
        var generator = SeededGenerator(seed: 11)
        // Logits on a grid of 0.25, so many ids tie, also at the k-th place.
        let grid = (0..<vocabulary).map { _ in Float(Int(generator.nextFloat() * 24)) * 0.25 }
        // Peaked (at temperature 0.7): one id of probability 0.27 (binary octave [1/4, 1/2)), 40
        // of 0.016 each (octave [1/64, 1/32), 0.63 together), the rest 5e-5: the nucleus for
        // p = 0.5 spans both octaves.
        let peaked = (0..<vocabulary).map { id in id == 1500 ? Float(6) : id % 50 == 7 ? 4 : 0 }
        checkAgainstFullSort(logits: grid, cases: [(40, 1), (40, 0.6), (7, 0.9), (vocabulary + 3, 0.5), (0, 0.3), (0, 0.97), (0, 0.001)])
        checkAgainstFullSort(logits: peaked, cases: [(0, 0.5), (0, 0.95), (10, 0.5)])
    }

    /// Draws with top-k / top-p (`cases`) against the definition: sort the whole vocabulary.
    private func checkAgainstFullSort(logits: [Float], cases: [(Int, Float)]) {
        let vocabulary = logits.count
        for (topK, topP) in cases {
            let parameters = SamplingParameters(temperature: 0.7, topK: topK, topP: topP, seed: 5)
            // Temperature as the sampler applies it (times 1/T), then the softmax.
            let inverse: Float = 1 / 0.7
            var probabilities = logits.map { $0 * inverse }
            probabilities.withUnsafeMutableBufferPointer { buffer in
                if let base = buffer.baseAddress { VectorMath.softmax(base, vocabulary) }
            }
            let sorted = (0..<vocabulary).sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
            let kept = Array(sorted.prefix(topK > 0 ? min(topK, vocabulary) : vocabulary))
            var keptMass: Float = 0
            for id in kept { keptMass += probabilities[id] }
            var count = 0, mass: Float = 0
            while count < kept.count {
                // Top-p alone takes the probabilities as they are.
                mass += topK > 0 ? probabilities[kept[count]] / keptMass : probabilities[kept[count]]
                count += 1
                if topP < 1 && mass >= topP { break }
            }
            if topP >= 1 { count = kept.count }
            let candidates = Array(kept.prefix(count))
            var reference = SeededGenerator(seed: 5)
            let sampler = Sampler(parameters: parameters, vocabularySize: vocabulary)
            logits.withUnsafeBufferPointer { buffer in
                for draw in 0..<150 {
                    var total: Float = 0
                    for id in candidates { total += probabilities[id] }
                    let target = reference.nextFloat() * total
                    var cumulative: Float = 0
                    var expected = candidates[candidates.count - 1]
                    for id in candidates {
                        cumulative += probabilities[id]
                        if cumulative > target { expected = id; break }
                    }
                    XCTAssertEqual(Int(sampler.sample(logits: buffer, history: UnsafeBufferPointer(start: nil, count: 0))), expected,
                                   "top-k \(topK), top-p \(topP), draw \(draw)")
                }
            }
        }
    }

    func testSameSeedSameDraws() {
        XCTAssertEqual(sample(SamplingParameters(temperature: 1, seed: 9), draws: 500),
                       sample(SamplingParameters(temperature: 1, seed: 9), draws: 500))
    }
}
