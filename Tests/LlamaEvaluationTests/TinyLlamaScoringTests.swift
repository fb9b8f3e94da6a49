import Foundation
import LlamaCore
import LlamaModel
import LlamaTokenizer
import XCTest
@testable import LlamaEvaluation

/// The real scorer on the tiny checkpoint against log-likelihoods computed here from
/// transformers' reference logits (reference.safetensors), with and without KV reuse.
final class TinyLlamaScoringTests: XCTestCase {
    static let model: (SessionScorer, [[Int32]], [[Float]])? = {
        guard let loaded = try? Checkpoint.load(directory: EvalFixtures.tinyLlama),
              let reference = try? SafetensorsFile(path: EvalFixtures.tinyLlama + "/reference.safetensors"),
              let ids = try? reference.tensor("input_ids").toInt32Array(),
              let logits = try? reference.tensor("logits").toFloatArray(),
              let tokenizer = try? SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: EvalFixtures.tinyLlama + "/tokenizer.model"))
        else { return nil }
        let session = InferenceSession(weights: loaded.weights, context: 128, maxChunk: 16)
        let rows = [Array(ids[0..<24]), Array(ids[24..<48])]
        let logitRows = [Array(logits[0..<(24 * 1000)]), Array(logits[(24 * 1000)...])]
        return (SessionScorer(session: session, tokenizer: tokenizer), rows, logitRows)
    }()

    /// Σ_{j = start}^{end−1} log softmax(reference logits at j − 1)[ids[j]], in Double.
    func expected(row: Int, start: Int, end: Int = 24) throws -> Double {
        let (_, ids, logits) = try XCTUnwrap(Self.model)
        var total = 0.0
        for position in start..<end {
            let values = logits[row][((position - 1) * 1000)..<(position * 1000)].map(Double.init)
            let maximum = values.max() ?? 0
            let logSum = log(values.reduce(0) { $0 + exp($1 - maximum) }) + maximum
            total += values[Int(ids[row][position])] - logSum
        }
        return total
    }

    func testLogLikelihoodsMatchReferenceWithAndWithoutReuse() throws {
        let (scorer, ids, _) = try XCTUnwrap(Self.model)
        let requests: [(context: [Int32], continuation: [Int32])] = [
            (Array(ids[0][..<10]), Array(ids[0][10...])),
            (Array(ids[0][..<10]), Array(ids[0][10..<16])),
            (Array(ids[0][..<5]), Array(ids[0][5...])),
            (Array(ids[1][..<12]), Array(ids[1][12...])),
        ]
        let expectations = [try expected(row: 0, start: 10), try expected(row: 0, start: 10, end: 16),
                            try expected(row: 0, start: 5), try expected(row: 1, start: 12)]
        for reuse in [true, false] {
            scorer.reusesPrefix = reuse
            let before = scorer.tokensFed
            let scores = try scorer.scoreTokens(requests)
            for (score, value) in zip(scores, expectations) {
                XCTAssertEqual(score.logLikelihood, value, accuracy: 2e-3, "reuse \(reuse)")
            }
            XCTAssertEqual(scores.map(\.tokenCount), [14, 6, 19, 12])
            // Shared prefix (BOS) once + each request's own tokens but its last, versus every token but the last.
            XCTAssertEqual(scorer.tokensFed - before, reuse ? 1 + 22 + 14 + 22 + 22 : 23 + 15 + 23 + 23)
        }
        scorer.reusesPrefix = true
    }

    /// Options side by side in cache slots (two at a time, so the four requests make two
    /// groups, and maxChunk 16 splits the packed rows over several passes) give the
    /// reference likelihoods too.
    func testOptionsSideBySideMatchReference() throws {
        let (serial, ids, _) = try XCTUnwrap(Self.model)
        let session = InferenceSession(weights: serial.session.weights, context: 128, maxChunk: 16, slotCount: 2)
        let scorer = SessionScorer(session: session, tokenizer: nil)
        let requests: [(context: [Int32], continuation: [Int32])] = [
            (Array(ids[0][..<10]), Array(ids[0][10...])),
            (Array(ids[0][..<10]), Array(ids[0][10..<16])),
            (Array(ids[0][..<5]), Array(ids[0][5...])),
            (Array(ids[0][..<23]), Array(ids[0][23...])),
        ]
        let expectations = [try expected(row: 0, start: 10), try expected(row: 0, start: 10, end: 16),
                            try expected(row: 0, start: 5), try expected(row: 0, start: 23)]
        let scores = try scorer.scoreTokens(requests)
        for (score, value) in zip(scores, expectations) {
            XCTAssertEqual(score.logLikelihood, value, accuracy: 2e-3)
        }
        XCTAssertEqual(scores.map(\.tokenCount), [14, 6, 19, 1])
        // The shared prefix (ids[0][..<5]) once, then each request's tokens after it but its last.
        XCTAssertEqual(scorer.tokensFed, 5 + 18 + 10 + 18 + 18)
    }

    /// Perplexity over the reference ids: one window of 24 is the reference's own
    /// full-context likelihood; with windows of 12 the first window's 11 tokens still see
    /// their whole past (causal attention), and rolling windows score all 23 tokens once.
    func testPerplexityMatchesReferenceLikelihoods() throws {
        let (scorer, ids, _) = try XCTUnwrap(Self.model)
        let row = ids[0]
        let read: (Int, Int) -> [Int32] = { Array(row[$0..<($0 + $1)]) }
        let whole = try Perplexity.evaluate(session: scorer.session, source: "row0", count: 24, context: 24, tokens: read)
        XCTAssertEqual(whole.tokens, 23)
        XCTAssertEqual(whole.negativeLogLikelihood, -(try expected(row: 0, start: 1)), accuracy: 2e-3)
        XCTAssertEqual(whole.perplexity, exp(whole.negativeLogLikelihood / 23), accuracy: 1e-9)
        let first = try Perplexity.evaluate(session: scorer.session, source: "row0", count: 24, context: 12, maxTokens: 11, tokens: read)
        XCTAssertEqual(first.tokens, 11)
        XCTAssertEqual(first.negativeLogLikelihood, -(try expected(row: 0, start: 1, end: 12)), accuracy: 2e-3)
        let rolling = try Perplexity.evaluate(session: scorer.session, source: "row0", count: 24, context: 12, tokens: read)
        XCTAssertEqual(rolling.tokens, 23)
        let strided = try Perplexity.evaluate(session: scorer.session, source: "row0", count: 24, context: 12, stride: 4, tokens: read)
        XCTAssertEqual(strided.tokens, 23)
    }

    /// A whole task through the real model: reuse changes nothing but the work done.
    func testTaskOnTinyModelIsUnchangedByReuse() throws {
        let (scorer, _, _) = try XCTUnwrap(Self.model)
        let task = try XCTUnwrap(TaskDefinition.builtIn("hellaswag", data: EvalFixtures.path("hellaswag.jsonl")))
        let examples = try Evaluator.loadExamples(task).examples
        let requests = examples[0].choices
        scorer.reusesPrefix = true
        let reused = try scorer.score(requests)
        scorer.reusesPrefix = false
        let recomputed = try scorer.score(requests)
        scorer.reusesPrefix = true
        for (a, b) in zip(reused, recomputed) {
            XCTAssertEqual(a.logLikelihood, b.logLikelihood, accuracy: 1e-3)
            XCTAssertEqual(a.tokenCount, b.tokenCount)
            XCTAssertLessThan(a.logLikelihood, 0)
        }
        let result = try Evaluator(scorer: scorer).evaluate(task, examples: examples, shots: 0)
        XCTAssertEqual(result.itemCount, 1)
        let text = try scorer.generate(prompt: "Hello", maxTokens: 5, stop: [], temperature: 0, seed: 0)
        XCTAssertEqual(text, try scorer.generate(prompt: "Hello", maxTokens: 5, stop: [], temperature: 0, seed: 0))
    }
}
