import Foundation
import LlamaGeneration
import LlamaModel
import LlamaTokenizer

/// `LanguageModelScorer` over an `InferenceSession` and a SentencePiece tokenizer.
///
/// Tokenisation follows lm-evaluation-harness (Gao et al., 2021): context + continuation
/// is encoded as one string (so the boundary tokenises as it would in running text) and
/// the continuation is what follows the context's own tokens. The tokens all options of
/// a question share are fed once; each option then rewinds the cache to that prefix
/// (`InferenceSession.truncate`) and feeds only its own tokens in one batched pass.
public final class SessionScorer: LanguageModelScorer {
    public let session: InferenceSession
    /// Needed for text requests; token-level scoring (`scoreTokens`) works without one.
    public let tokenizer: SentencePieceTokenizer?
    /// Reuse the shared prefix's KV cache across options (false: recompute, for benchmarks).
    public var reusesPrefix: Bool
    /// Number of forward passes' tokens fed so far (a measure of work).
    public private(set) var tokensFed = 0

    public init(session: InferenceSession, tokenizer: SentencePieceTokenizer?, reusesPrefix: Bool = true) {
        self.session = session
        self.tokenizer = tokenizer
        self.reusesPrefix = reusesPrefix
    }

    /// Token ids of `text` after BOS, as the model sees them.
    private func encode(_ text: String) throws -> [Int32] {
        guard let tokenizer else { throw EvaluationError.modelFailure(reason: "text requests need a tokenizer") }
        return [session.configuration.bosTokenId] + tokenizer.encode(text)
    }

    private func decode(_ ids: [Int32]) -> String { tokenizer?.decode(ids) ?? "" }

    public func score(_ requests: [Choice]) throws -> [ContinuationScore] {
        let pairs = try requests.map { request -> (whole: [Int32], start: Int) in
            let context = try encode(request.context)
            let whole = try encode(request.context + request.continuation)
            var common = 0
            while common < min(context.count, whole.count) && context[common] == whole[common] { common += 1 }
            return (whole, min(common, whole.count - 1))
        }
        return try scoreTokens(pairs.map { (Array($0.whole[..<$0.start]), Array($0.whole[$0.start...])) })
    }

    /// Scores token-level `(context, continuation)` pairs (context non-empty, starting
    /// with BOS as the model expects). The longest prefix common to every pair's tokens
    /// is fed once; each pair then feeds its remaining tokens but the last.
    public func scoreTokens(_ requests: [(context: [Int32], continuation: [Int32])]) throws -> [ContinuationScore] {
        guard let first = requests.first else { return [] }
        let wholes = requests.map { $0.context + $0.continuation }
        var shared = requests.map { $0.context.count }.min() ?? 0
        for whole in wholes {
            var common = 0
            while common < min(shared, whole.count) && whole[common] == first.context[common] { common += 1 }
            shared = common
        }
        guard shared > 0 else { throw EvaluationError.modelFailure(reason: "a context has no tokens (BOS is expected)") }
        let vocabulary = session.configuration.vocabularySize
        var prefixLast = [Float](repeating: 0, count: vocabulary)
        if reusesPrefix {
            session.reset()
            let logits = try feed(Array(first.context[..<shared]), allLogits: nil)
            for i in 0..<vocabulary { prefixLast[i] = logits[i] }
        }
        if reusesPrefix && session.slotCount > 1 {
            return try scoreSideBySide(requests, wholes: wholes, shared: shared, prefixLast: prefixLast)
        }
        var results: [ContinuationScore] = []
        for (request, whole) in zip(requests, wholes) {
            let start = request.context.count
            var rows: [Int: [Float]] = [:]
            // Row r holds logits predicting token r + 1 of `whole`.
            let firstFed = reusesPrefix ? shared : 0
            if reusesPrefix {
                session.truncate(to: shared)
                rows[shared - 1] = prefixLast
            } else {
                session.reset()
            }
            let toFeed = Array(whole[firstFed..<(whole.count - 1)])
            if !toFeed.isEmpty {
                _ = try feed(toFeed) { row, logits in
                    let position = firstFed + row
                    if position >= start - 1 { rows[position] = Array(logits) }
                }
            }
            results.append(try Self.continuationScore(whole: whole, start: start, rows: rows))
        }
        return results
    }

    /// The options after the shared prefix, up to `slotCount` at a time, in one pass over
    /// the weights: slot 0 holds the prefix, the other slots get a copy of its cache.
    private func scoreSideBySide(_ requests: [(context: [Int32], continuation: [Int32])], wholes: [[Int32]], shared: Int,
                                 prefixLast: [Float]) throws -> [ContinuationScore] {
        var results: [ContinuationScore] = []
        var groupStart = 0
        while groupStart < requests.count {
            let group = Array(groupStart..<min(requests.count, groupStart + session.slotCount))
            var rows = [[Int: [Float]]](repeating: [:], count: group.count)
            var items: [(slot: Int, tokens: [Int32])] = []
            for (slot, request) in group.enumerated() {
                do { try session.copyCache(from: 0, to: slot, length: shared) } catch {
                    throw EvaluationError.modelFailure(reason: "\(error)")
                }
                rows[slot][shared - 1] = prefixLast
                let whole = wholes[request]
                if whole.count - 1 > shared { items.append((slot, Array(whole[shared..<(whole.count - 1)]))) }
            }
            tokensFed += items.reduce(0) { $0 + $1.tokens.count }
            do {
                try session.forwardSequences(items) { item, index, logits in
                    let slot = items[item].slot
                    let position = shared + index
                    if position >= requests[group[slot]].context.count - 1 { rows[slot][position] = Array(logits) }
                }
            } catch { throw EvaluationError.modelFailure(reason: "\(error)") }
            for (slot, request) in group.enumerated() {
                results.append(try Self.continuationScore(whole: wholes[request], start: requests[request].context.count, rows: rows[slot]))
            }
            // Slot 0 must hold only the prefix again for the next group.
            session.truncate(to: shared, slot: 0)
            groupStart += group.count
        }
        return results
    }

    /// Sums log p of `whole[start...]` from `rows[p - 1]`, the logits predicting position p.
    private static func continuationScore(whole: [Int32], start: Int, rows: [Int: [Float]]) throws -> ContinuationScore {
        var total = 0.0
        var greedy = true
        for position in start..<whole.count {
            guard let logits = rows[position - 1] else {
                throw EvaluationError.modelFailure(reason: "no logits for position \(position)")
            }
            let target = Int(whole[position])
            total += logSoftmax(logits, at: target)
            if let best = logits.indices.max(by: { logits[$0] < logits[$1] }), best != target { greedy = false }
        }
        return ContinuationScore(logLikelihood: total, tokenCount: whole.count - start, isGreedy: greedy)
    }

    private func feed(_ tokens: [Int32], allLogits: ((Int, UnsafeBufferPointer<Float>) -> Void)?) throws -> UnsafeBufferPointer<Float> {
        tokensFed += tokens.count
        do { return try session.forward(tokens, allLogits: allLogits) } catch {
            throw EvaluationError.modelFailure(reason: "\(error)")
        }
    }

    /// log softmax(logits)[index], computed stably in Double: x_i - max - log Σ exp(x_j - max).
    public static func logSoftmax<C: Collection>(_ logits: C, at index: Int) -> Double where C.Element == Float, C.Index == Int {
        let maximum = Double(logits.max() ?? 0)
        var sum = 0.0
        for value in logits { sum += exp(Double(value) - maximum) }
        return Double(logits[index]) - maximum - log(sum)
    }

    public func generate(prompt: String, maxTokens: Int, stop: [String], temperature: Float, seed: UInt64) throws -> String {
        session.reset()
        let tokens = try encode(prompt)
        var produced: [Int32] = []
        let result: GenerationResult
        do {
            result = try Generator.generate(session: session, prompt: tokens, maxTokens: maxTokens,
                                            sampling: SamplingParameters(temperature: temperature, seed: seed)) { token in
                produced.append(token)
                // Stop early once a stop sequence shows up in the decoded text.
                if stop.isEmpty || produced.count % 4 != 0 { return true }
                let text = self.decode(produced)
                return !stop.contains { !$0.isEmpty && text.contains($0) }
            }
        } catch { throw EvaluationError.modelFailure(reason: "\(error)") }
        let ids = result.tokens.filter { $0 != session.configuration.eosTokenId }
        // Decode with the prompt so leading spaces of the continuation survive
        // (SentencePiece drops the space of a text's first piece).
        let promptText = decode(Array(tokens.dropFirst()))
        let wholeText = decode(Array(tokens.dropFirst()) + ids)
        let newText = wholeText.hasPrefix(promptText) ? String(wholeText.dropFirst(promptText.count)) : decode(ids)
        return Self.truncate(newText, at: stop)
    }
}
