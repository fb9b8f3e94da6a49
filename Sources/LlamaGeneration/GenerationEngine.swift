import Foundation
import LlamaCore
import LlamaModel

/// Serves many generation requests at once by continuous batching: new requests are
/// prefilled into a free cache slot, and every step decodes one token for all running
/// requests in a single pass over the weights (`InferenceSession.forwardBatch`).
///
/// The engine runs on its own thread; `submit` and `cancel` may be called from any thread.
/// Events are delivered on the engine's thread and must not block.
public final class GenerationEngine: @unchecked Sendable {
    /// What happens to a request.
    public enum Event: Sendable {
        /// A new token with its log-probability under the model (before sampling filters), and
        /// the request's `topLogprobs` most likely tokens of that step, most likely first.
        case token(id: Int32, logProbability: Float, top: [TokenAlternative])
        /// The prompt's tokens with their log-probabilities given the tokens before them (the
        /// first has none), sent once after the prefill when `Request.promptLogprobs` is set.
        case prompt([PromptToken])
        /// The request ended.
        case finished(FinishReason, GenerationResult)
    }

    /// A prompt token, its log-probability after the tokens before it (nil for the first), and
    /// the `topLogprobs` most likely tokens at its position.
    public struct PromptToken: Sendable {
        public let id: Int32
        public let logProbability: Float?
        public let top: [TokenAlternative]
    }

    /// A token the model could have produced, with its log-probability.
    public struct TokenAlternative: Sendable, Equatable {
        public let id: Int32
        public let logProbability: Float
    }

    public enum FinishReason: String, Sendable {
        /// The end-of-sequence token.
        case stop
        /// `maxTokens` or the context was reached.
        case length
        /// The caller cancelled it (or the engine shut down).
        case cancelled
        /// The prompt could not be processed.
        case error
    }

    /// One submitted request.
    public struct Request: Sendable {
        public var prompt: [Int32]
        public var maxTokens: Int
        public var sampling: SamplingParameters
        public var stopAtEOS: Bool
        /// Tokens that also end the request (a chat format's end-of-turn token, e.g. `<|im_end|>`).
        public var stopTokens: [Int32]
        /// How many of each step's most likely tokens the `.token` events carry (0: none).
        public var topLogprobs: Int
        /// Whether a `.prompt` event gives the prompt tokens' log-probabilities (`maxTokens` may
        /// then be 0: the prompt is scored and nothing generated).
        public var promptLogprobs: Bool

        public init(prompt: [Int32], maxTokens: Int, sampling: SamplingParameters, stopAtEOS: Bool = true,
                    stopTokens: [Int32] = [], topLogprobs: Int = 0, promptLogprobs: Bool = false) {
            self.prompt = prompt
            self.maxTokens = maxTokens
            self.sampling = sampling
            self.stopAtEOS = stopAtEOS
            self.stopTokens = stopTokens
            self.topLogprobs = topLogprobs
            self.promptLogprobs = promptLogprobs
        }
    }

    private final class Running {
        let id: Int
        let request: Request
        let onEvent: @Sendable (Event) -> Void
        var slot = -1
        var sampler: Sampler?
        var history: [Int32] = []
        var result: GenerationResult
        var nextToken: Int32 = 0
        var cancelled = false
        var decodeStart: UInt64 = 0

        init(id: Int, request: Request, onEvent: @escaping @Sendable (Event) -> Void) {
            self.id = id
            self.request = request
            self.onEvent = onEvent
            result = GenerationResult(tokens: [], promptTokenCount: request.prompt.count, prefillSeconds: 0,
                                      decodeSeconds: 0, stoppedAtEOS: false)
        }
    }

    private let session: InferenceSession
    private let condition = NSCondition()
    private var waiting: [Running] = []
    private var running: [Running] = []
    private var freeSlots: [Int]
    private var nextId = 0
    private var stopping = false
    private var stopped = false
    private var thread: Thread?
    /// Tokens produced since the engine started.
    public private(set) var generatedTokens = 0

    /// An engine over `weights` with `slots` concurrent sequences of up to `context` positions,
    /// keys and values cached as `cacheType` says.
    public init(weights: LlamaWeights, slots: Int, context: Int, cacheType: KVCacheType = .f32) {
        session = InferenceSession(weights: weights, context: context, maxChunk: max(slots, 256), slotCount: slots,
                                   cacheType: cacheType)
        freeSlots = Array((0..<session.slotCount).reversed())
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "llama-generation-engine"
        self.thread = thread
        thread.start()
    }

    /// Positions each sequence may use (prompt and generated tokens).
    public var context: Int { session.context }
    public var configuration: LlamaConfiguration { session.configuration }

    /// Requests waiting for a slot.
    public var queueLength: Int { condition.lock(); defer { condition.unlock() }; return waiting.count }
    /// Requests being generated.
    public var activeCount: Int { condition.lock(); defer { condition.unlock() }; return running.count }

    /// Queues a request; returns its id for `cancel`.
    @discardableResult
    public func submit(_ request: Request, onEvent: @escaping @Sendable (Event) -> Void) -> Int {
        condition.lock()
        nextId += 1
        let id = nextId
        let item = Running(id: id, request: request, onEvent: onEvent)
        let accepted = !stopping
        if accepted {
            waiting.append(item)
            condition.signal()
        }
        condition.unlock()
        if !accepted { onEvent(.finished(.cancelled, item.result)) }
        return id
    }

    /// Stops a request; it finishes with `.cancelled` at the next step.
    public func cancel(_ id: Int) {
        condition.lock()
        defer { condition.unlock() }
        for item in waiting + running where item.id == id { item.cancelled = true }
        condition.signal()
    }

    /// Stops accepting requests; running ones finish (`drain`) or are cancelled. Returns
    /// when the engine thread has ended.
    public func shutdown(drain: Bool) {
        condition.lock()
        stopping = true
        if !drain {
            for item in waiting + running { item.cancelled = true }
        }
        condition.signal()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && running.isEmpty && !stopping { condition.wait() }
            if stopping && running.isEmpty && (waiting.isEmpty || waiting.allSatisfy(\.cancelled)) {
                let left = waiting
                waiting = []
                stopped = true
                condition.broadcast()
                condition.unlock()
                for item in left { item.onEvent(.finished(.cancelled, item.result)) }
                return
            }
            var admitted: [Running] = []
            while !freeSlots.isEmpty, !waiting.isEmpty {
                let item = waiting.removeFirst()
                if item.cancelled {
                    admitted.append(item)
                    continue
                }
                item.slot = freeSlots.removeLast()
                admitted.append(item)
            }
            condition.unlock()
            for item in admitted { prefill(item) }
            step()
        }
    }

    private func prefill(_ item: Running) {
        if item.cancelled || item.slot < 0 {
            finish(item, .cancelled)
            return
        }
        session.reset(slot: item.slot)
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let prompt = item.request.prompt
            let budget = min(item.request.maxTokens, session.context - prompt.count)
            guard !prompt.isEmpty, budget > 0 || (item.request.promptLogprobs && budget == 0) else {
                finish(item, prompt.isEmpty ? .error : .length)
                return
            }
            var scored: [PromptToken] = []
            let top = item.request.topLogprobs
            let score: ((Int, UnsafeBufferPointer<Float>) -> Void)? = !item.request.promptLogprobs ? nil : { position, logits in
                // The logits after position p score the token at p + 1.
                guard position + 1 < prompt.count else { return }
                let normalizer = Self.logNormalizer(logits)
                scored.append(PromptToken(id: prompt[position + 1], logProbability: logits[Int(prompt[position + 1])] - normalizer,
                                          top: Self.alternatives(top, in: logits, normalizer: normalizer)))
            }
            let logits = try session.forward(prompt, slot: item.slot, allLogits: score)
            if item.request.promptLogprobs {
                item.onEvent(.prompt([PromptToken(id: prompt[0], logProbability: nil, top: [])] + scored))
                if budget == 0 {
                    finish(item, .length)
                    return
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            item.result.prefillSeconds = Double(now - start) / 1e9
            item.decodeStart = now
            item.sampler = Sampler(parameters: item.request.sampling, vocabularySize: session.configuration.vocabularySize)
            item.history = item.request.prompt
            item.history.reserveCapacity(item.request.prompt.count + budget)
            condition.lock()
            running.append(item)
            condition.unlock()
            choose(item, logits: logits)
        } catch {
            finish(item, .error)
        }
    }

    /// Samples the next token of `item` from its logits and delivers it.
    private func choose(_ item: Running, logits: UnsafeBufferPointer<Float>) {
        guard let sampler = item.sampler else { return }
        let token = item.history.withUnsafeBufferPointer { sampler.sample(logits: logits, history: $0, generated: item.result.tokens.count) }
        item.history.append(token)
        item.result.tokens.append(token)
        generatedTokens += 1
        let normalizer = Self.logNormalizer(logits)
        item.onEvent(.token(id: token, logProbability: logits[Int(token)] - normalizer,
                            top: Self.alternatives(item.request.topLogprobs, in: logits, normalizer: normalizer)))
        item.nextToken = token
        let limit = min(item.request.maxTokens, session.context - item.request.prompt.count)
        if item.request.stopAtEOS && token == session.configuration.eosTokenId {
            item.result.stoppedAtEOS = true
            finish(item, .stop)
        } else if item.request.stopTokens.contains(token) {
            finish(item, .stop)
        } else if item.result.tokens.count >= limit {
            finish(item, .length)
        }
    }

    /// One batched decode step for every running request.
    private func step() {
        condition.lock()
        let cancelled = running.filter(\.cancelled)
        let batch = running.filter { !$0.cancelled }
        condition.unlock()
        for item in cancelled { finish(item, .cancelled) }
        guard !batch.isEmpty else { return }
        do {
            let logits = try session.forwardBatch(slots: batch.map(\.slot), tokens: batch.map(\.nextToken))
            let vocabulary = session.configuration.vocabularySize
            for (row, item) in batch.enumerated() {
                choose(item, logits: UnsafeBufferPointer(rebasing: logits[(row * vocabulary)..<((row + 1) * vocabulary)]))
            }
        } catch {
            for item in batch { finish(item, .error) }
        }
    }

    private func finish(_ item: Running, _ reason: FinishReason) {
        condition.lock()
        if let index = running.firstIndex(where: { $0 === item }) { running.remove(at: index) }
        if item.slot >= 0 {
            freeSlots.append(item.slot)
            item.slot = -1
        }
        condition.unlock()
        if item.decodeStart > 0 {
            item.result.decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - item.decodeStart) / 1e9
        }
        item.onEvent(.finished(reason, item.result))
    }

    /// The `count` most likely tokens with their log-probabilities (`normalizer`: `logNormalizer(logits)`).
    static func alternatives(_ count: Int, in logits: UnsafeBufferPointer<Float>, normalizer: Float) -> [TokenAlternative] {
        mostLikely(count, in: logits).map { TokenAlternative(id: $0, logProbability: logits[Int($0)] - normalizer) }
    }

    /// log Σ exp(logits): a token's log-probability is its logit minus this.
    static func logNormalizer(_ logits: UnsafeBufferPointer<Float>) -> Float {
        guard let base = logits.baseAddress else { return 0 }
        return VectorMath.logSumExp(base, logits.count)
    }

    /// The ids of the `count` largest logits, largest first (ties: the lower id first).
    public static func mostLikely(_ count: Int, in logits: UnsafeBufferPointer<Float>) -> [Int32] {
        guard count > 0 else { return [] }
        var best: [Int32] = []
        best.reserveCapacity(count + 1)
        for (index, value) in logits.enumerated() {
            guard best.count < count || value > logits[Int(best[best.count - 1])] else { continue }
            // Insert after every kept id whose logit is at least this one's.
            var at = best.count
            while at > 0 && logits[Int(best[at - 1])] < value { at -= 1 }
            best.insert(Int32(index), at: at)
            if best.count > count { best.removeLast() }
        }
        return best
    }
}
