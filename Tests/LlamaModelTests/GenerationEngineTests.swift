import Foundation
import LlamaCore
import LlamaGeneration
import LlamaModel
import XCTest

/// Continuous batching gives each request what it would get alone.
final class GenerationEngineTests: XCTestCase {
    private final class Collector: @unchecked Sendable {
        let lock = NSLock()
        var tokens: [Int: [Int32]] = [:]
        var reasons: [Int: GenerationEngine.FinishReason] = [:]
        var first: (id: Int32, logProbability: Float, top: [GenerationEngine.TokenAlternative])?
        let done = DispatchGroup()
    }

    func testConcurrentRequestsMatchSeparateGreedyRuns() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let prompts: [[Int32]] = [[1, 626, 685, 897, 579, 776, 834, 227], [1, 5, 9], [1, 400, 17, 3], [1, 626], [1, 77, 78, 79, 80]]
        var expected: [[Int32]] = []
        for prompt in prompts {
            let session = InferenceSession(weights: weights, context: 64)
            expected.append(try Generator.generate(session: session, prompt: prompt, maxTokens: 10 + prompt.count,
                                                   sampling: SamplingParameters(), stopAtEOS: false).tokens)
        }
        XCTAssertEqual(expected[0].prefix(16), [104, 251, 711, 711, 711, 73, 408, 174, 895, 137, 270, 930, 930, 270, 807, 78])
        // Three slots for five requests: two wait, then take freed slots.
        let engine = GenerationEngine(weights: weights, slots: 3, context: 64)
        let collector = Collector()
        for (index, prompt) in prompts.enumerated() {
            collector.done.enter()
            engine.submit(.init(prompt: prompt, maxTokens: 10 + prompt.count, sampling: SamplingParameters(), stopAtEOS: false)) { event in
                collector.lock.lock()
                defer { collector.lock.unlock() }
                switch event {
                case let .token(id, logProbability, _):
                    XCTAssertLessThanOrEqual(logProbability, 0)
                    collector.tokens[index, default: []].append(id)
                case let .finished(reason, _):
                    collector.reasons[index] = reason
                    collector.done.leave()
                case .prompt:
                    XCTFail("no prompt scores were asked for")
                }
            }
        }
        XCTAssertEqual(collector.done.wait(timeout: .now() + 60), .success)
        for index in prompts.indices {
            XCTAssertEqual(collector.tokens[index], expected[index], "request \(index)")
            XCTAssertEqual(collector.reasons[index], .length)
        }
        engine.shutdown(drain: true)
    }

    func testCancelAndShutdownEndRequests() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let engine = GenerationEngine(weights: weights, slots: 1, context: 2048)
        let collector = Collector()
        collector.done.enter()
        collector.done.enter()
        let first = engine.submit(.init(prompt: [1, 5], maxTokens: 100_000, sampling: SamplingParameters(), stopAtEOS: false)) { event in
            if case let .finished(reason, _) = event {
                collector.lock.lock(); collector.reasons[0] = reason; collector.lock.unlock()
                collector.done.leave()
            }
        }
        engine.submit(.init(prompt: [1, 6], maxTokens: 5, sampling: SamplingParameters())) { event in
            if case let .finished(reason, _) = event {
                collector.lock.lock(); collector.reasons[1] = reason; collector.lock.unlock()
                collector.done.leave()
            }
        }
        Thread.sleep(forTimeInterval: 0.2)
        engine.cancel(first)
        XCTAssertEqual(collector.done.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(collector.reasons[0], .cancelled)
        XCTAssertNotEqual(collector.reasons[1], .cancelled)
        engine.shutdown(drain: false)
        engine.submit(.init(prompt: [1], maxTokens: 3, sampling: SamplingParameters())) { event in
            if case let .finished(reason, _) = event {
                collector.lock.lock(); collector.reasons[2] = reason; collector.lock.unlock()
            }
        }
        XCTAssertEqual(collector.reasons[2], .cancelled, "a request after shutdown is refused at once")
    }

    /// `topLogprobs`: each step's most likely tokens, most likely first, with log-probabilities
    /// equal to a float64 log-softmax of the session's own logits; greedy, the first is the
    /// chosen token.
    func testTopLogprobsAreTheMostLikelyTokens() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let prompt: [Int32] = [1, 626, 685, 897]
        let session = InferenceSession(weights: weights, context: 64)
        let logits = try session.forward(prompt).map(Double.init)
        let maximum = logits.max() ?? 0
        let normalizer = maximum + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - maximum) })
        let ranked = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }.prefix(5)

        let engine = GenerationEngine(weights: weights, slots: 1, context: 64)
        let collector = Collector()
        collector.done.enter()
        engine.submit(.init(prompt: prompt, maxTokens: 3, sampling: SamplingParameters(), stopAtEOS: false, topLogprobs: 5)) { event in
            collector.lock.lock()
            defer { collector.lock.unlock() }
            switch event {
            case let .token(id, logProbability, top):
                if collector.first == nil { collector.first = (id, logProbability, top) }
                XCTAssertEqual(top.count, 5)
                XCTAssertEqual(top.first?.id, id, "greedy: the chosen token is the most likely")
                XCTAssertEqual(top.map(\.logProbability), top.map(\.logProbability).sorted(by: >))
            case .finished:
                collector.done.leave()
            case .prompt:
                XCTFail("no prompt scores were asked for")
            }
        }
        XCTAssertEqual(collector.done.wait(timeout: .now() + 60), .success)
        engine.shutdown(drain: true)
        let (id, logProbability, top) = try XCTUnwrap(collector.first)
        XCTAssertEqual(top.map { Int($0.id) }, Array(ranked))
        for (alternative, index) in zip(top, ranked) {
            XCTAssertEqual(Double(alternative.logProbability), logits[index] - normalizer, accuracy: 1e-4)
        }
        XCTAssertEqual(Double(logProbability), logits[Int(id)] - normalizer, accuracy: 1e-4)
    }

    /// `promptLogprobs` with `maxTokens` 0: the prompt scored and nothing generated; each token's
    /// log-probability is a float64 log-softmax of the logits after the tokens before it.
    func testPromptLogprobsScoreThePrompt() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let prompt: [Int32] = [1, 626, 685, 897, 579, 776]
        var rows: [[Double]] = []
        try InferenceSession(weights: weights, context: 64).forward(prompt) { _, logits in rows.append(logits.map(Double.init)) }
        let engine = GenerationEngine(weights: weights, slots: 1, context: 64)
        let collector = Collector()
        final class Scores: @unchecked Sendable { var tokens: [GenerationEngine.PromptToken] = []; var generated = 0 }
        let scores = Scores()
        collector.done.enter()
        engine.submit(.init(prompt: prompt, maxTokens: 0, sampling: SamplingParameters(), topLogprobs: 2, promptLogprobs: true)) { event in
            collector.lock.lock()
            defer { collector.lock.unlock() }
            switch event {
            case let .prompt(tokens): scores.tokens = tokens
            case .token: scores.generated += 1
            case let .finished(reason, _):
                collector.reasons[0] = reason
                collector.done.leave()
            }
        }
        XCTAssertEqual(collector.done.wait(timeout: .now() + 60), .success)
        engine.shutdown(drain: true)
        XCTAssertEqual(scores.generated, 0)
        XCTAssertEqual(collector.reasons[0], .length)
        XCTAssertEqual(scores.tokens.map(\.id), prompt)
        XCTAssertNil(scores.tokens.first?.logProbability)
        for (position, token) in scores.tokens.enumerated().dropFirst() {
            let logits = rows[position - 1], maximum = logits.max() ?? 0
            let normalizer = maximum + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - maximum) })
            XCTAssertEqual(Double(try XCTUnwrap(token.logProbability)), logits[Int(token.id)] - normalizer, accuracy: 1e-4, "position \(position)")
            XCTAssertEqual(token.top.count, 2)
            XCTAssertEqual(Double(token.top[0].logProbability), (logits.max() ?? 0) - normalizer, accuracy: 1e-4)
        }
    }
}
