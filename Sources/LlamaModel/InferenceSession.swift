import LlamaCore

/// Runs a LLaMA model forward over growing sequences, keeping keys and values of past
/// positions (the KV cache) so each new token costs one pass over the weights.
///
/// A session has `slotCount` cache slots, one per sequence. A single sequence is fed with
/// `forward(_:slot:)` (prefill, in chunks of `maxChunk` rows, the projections through BLAS
/// or the quantized matrix kernels) and
/// `forward(token:slot:)` (decode); several sequences decode together with
/// `forwardBatch(slots:tokens:)`, one pass over the weights for all of them.
///
/// All buffers are allocated once, when the session is made; a decode step allocates
/// nothing, so generation has no per-token heap traffic.
public final class InferenceSession: @unchecked Sendable {
    public let weights: LlamaWeights
    public let configuration: LlamaConfiguration
    /// Positions each slot's cache holds.
    public let context: Int
    /// Most rows one pass processes; longer inputs are split into such chunks.
    public let maxChunk: Int
    /// Number of sequences the cache holds at once.
    public let slotCount: Int
    /// Filled positions per slot.
    var positions: [Int]

    private let rotary: RotaryEmbedding
    /// (slots, layers, kvHeads, context, headDim) keys and values: each head's positions
    /// contiguous (`CacheLayout.headMajor`).
    let cache: KVCache
    /// How the cache stores keys and values.
    public var cacheType: KVCacheType { cache.type }
    /// (maxChunk, dim) residual stream and its normalised copy.
    private let residual, normalized: UnsafeMutablePointer<Float>
    /// (maxChunk, heads * headDim) queries and attention outputs.
    private let queries, attended: UnsafeMutablePointer<Float>
    /// (maxChunk, kvHeads * headDim) new keys and values of a batch of sequences.
    private let newKeys, newValues: UnsafeMutablePointer<Float>
    /// (maxChunk, hidden) feed-forward activations.
    private let gate, up: UnsafeMutablePointer<Float>
    /// (threads, context) attention scores of the decode kernels.
    private let scores: UnsafeMutablePointer<Float>
    /// Per thread, a key panel and a tile of scores for `Attention.forwardPrefill`.
    private let prefillScratch: UnsafeMutablePointer<Float>
    private let prefillScratchPerThread: Int
    /// (maxChunk, vocab) logits.
    let logitsBuffer: UnsafeMutablePointer<Float>
    /// (maxChunk) token, slot and position of each row.
    let tokenBuffer: UnsafeMutablePointer<Int32>
    let rowSlots, rowPositions: UnsafeMutablePointer<Int>
    /// Quantized activations for Q8_0/Q4_0 weights.
    private let workspace = LinearWorkspace()

    /// A session of `slotCount` sequences of up to `context` positions (default: the model's),
    /// fed at most `maxChunk` rows per pass, its cache stored as `cacheType` says.
    public init(weights: LlamaWeights, context: Int? = nil, maxChunk: Int = 256, slotCount: Int = 1,
                cacheType: KVCacheType = .f32) {
        self.weights = weights
        configuration = weights.configuration
        let config = weights.configuration
        self.context = max(1, min(context ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings))
        self.maxChunk = max(1, min(maxChunk, max(self.context, slotCount)))
        self.slotCount = max(1, slotCount)
        positions = [Int](repeating: 0, count: self.slotCount)
        rotary = RotaryEmbedding(headDimension: config.headDimension, theta: config.ropeTheta, maxPositions: self.context)
        cache = KVCache(type: cacheType, configuration: config, context: self.context, slotCount: self.slotCount)
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            return pointer
        }
        residual = buffer(self.maxChunk * config.hiddenSize)
        normalized = buffer(self.maxChunk * config.hiddenSize)
        queries = buffer(self.maxChunk * config.queryWidth)
        attended = buffer(self.maxChunk * config.queryWidth)
        newKeys = buffer(self.maxChunk * config.keyValueWidth)
        newValues = buffer(self.maxChunk * config.keyValueWidth)
        gate = buffer(self.maxChunk * config.intermediateSize)
        up = buffer(self.maxChunk * config.intermediateSize)
        scores = buffer(Parallel.threadCount * self.context)
        prefillScratchPerThread = Attention.prefillScratchPerThread(context: self.context, headDimension: config.headDimension)
        prefillScratch = buffer(Parallel.threadCount * prefillScratchPerThread)
        logitsBuffer = buffer(self.maxChunk * config.vocabularySize)
        tokenBuffer = .allocate(capacity: self.maxChunk)
        rowSlots = .allocate(capacity: self.maxChunk)
        rowPositions = .allocate(capacity: self.maxChunk)
    }

    deinit {
        for pointer in [residual, normalized, queries, attended, newKeys, newValues, gate, up, scores, prefillScratch, logitsBuffer] {
            pointer.deallocate()
        }
        tokenBuffer.deallocate()
        rowSlots.deallocate()
        rowPositions.deallocate()
    }

    /// Filled positions of slot 0.
    public var position: Int { positions[0] }

    /// Filled positions of `slot`.
    public func position(of slot: Int) -> Int { positions[slot] }

    /// Forgets a slot's positions (its cache is overwritten from position 0).
    public func reset(slot: Int = 0) { positions[slot] = 0 }

    /// Drops a slot's positions from `length` on, e.g. to reuse a shared prompt prefix.
    public func truncate(to length: Int, slot: Int = 0) { positions[slot] = min(positions[slot], max(0, length)) }

    /// Checks that `tokens` are vocabulary ids and fit in the slot's remaining context.
    public func validate(_ tokens: [Int32], slot: Int = 0) throws {
        guard slot >= 0 && slot < slotCount else {
            throw ModelError.invalidInput(reason: "slot \(slot) does not exist (the session has \(slotCount))")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= configuration.vocabularySize }) {
            throw ModelError.invalidInput(reason: "token id \(bad) is outside the vocabulary (0..<\(configuration.vocabularySize))")
        }
        if positions[slot] + tokens.count > context {
            throw ModelError.invalidInput(reason: "\(positions[slot] + tokens.count) positions exceed the context of \(context)")
        }
    }

    /// Feeds `tokens` at the slot's next positions and returns the logits of the last one
    /// (vocab floats, valid until the next call). `allLogits` receives every position's
    /// logits, row by row, when given.
    @discardableResult
    public func forward(_ tokens: [Int32], slot: Int = 0,
                        allLogits: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil) throws -> UnsafeBufferPointer<Float> {
        try validate(tokens, slot: slot)
        precondition(!tokens.isEmpty, "forward needs at least one token")
        let vocabulary = configuration.vocabularySize
        var offset = 0
        var last = UnsafeBufferPointer<Float>(start: logitsBuffer, count: vocabulary)
        while offset < tokens.count {
            let count = min(maxChunk, tokens.count - offset)
            for i in 0..<count { tokenBuffer[i] = tokens[offset + i] }
            let isLastChunk = offset + count == tokens.count
            let logitRows = allLogits != nil ? count : (isLastChunk ? 1 : 0)
            forwardRows(count: count, logitRows: logitRows, sequenceSlot: slot)
            if let allLogits {
                for t in 0..<count {
                    allLogits(offset + t, UnsafeBufferPointer(start: logitsBuffer + t * vocabulary, count: vocabulary))
                }
            }
            if isLastChunk {
                let row = allLogits != nil ? count - 1 : 0
                last = UnsafeBufferPointer(start: logitsBuffer + row * vocabulary, count: vocabulary)
            }
            offset += count
        }
        return last
    }

    /// Feeds one token at the slot's next position and returns its logits (the decode
    /// step; allocates nothing).
    public func forward(token: Int32, slot: Int = 0) throws -> UnsafeBufferPointer<Float> {
        try checkDecode(token: token, slot: slot)
        tokenBuffer[0] = token
        forwardRows(count: 1, logitRows: 1, sequenceSlot: slot)
        return UnsafeBufferPointer(start: logitsBuffer, count: configuration.vocabularySize)
    }

    /// One decode step for several sequences at once: `tokens[i]` goes to `slots[i]` (all
    /// different) at that slot's next position. Returns the logits, row i for item i
    /// (valid until the next call).
    public func forwardBatch(slots: [Int], tokens: [Int32]) throws -> UnsafeBufferPointer<Float> {
        precondition(slots.count == tokens.count && !slots.isEmpty, "one token per slot")
        guard slots.count <= maxChunk else {
            throw ModelError.invalidInput(reason: "\(slots.count) sequences exceed the batch limit of \(maxChunk)")
        }
        guard Set(slots).count == slots.count else { throw ModelError.invalidInput(reason: "a slot appears twice in one batch") }
        for (slot, token) in zip(slots, tokens) { try checkDecode(token: token, slot: slot) }
        for (row, (slot, token)) in zip(slots, tokens).enumerated() {
            tokenBuffer[row] = token
            rowSlots[row] = slot
            rowPositions[row] = positions[slot]
        }
        forwardRows(count: slots.count, logitRows: slots.count, sequenceSlot: nil)
        return UnsafeBufferPointer(start: logitsBuffer, count: slots.count * configuration.vocabularySize)
    }

    private func checkDecode(token: Int32, slot: Int) throws {
        guard slot >= 0 && slot < slotCount else {
            throw ModelError.invalidInput(reason: "slot \(slot) does not exist (the session has \(slotCount))")
        }
        guard token >= 0 && Int(token) < configuration.vocabularySize else {
            throw ModelError.invalidInput(reason: "token id \(token) is outside the vocabulary (0..<\(configuration.vocabularySize))")
        }
        guard positions[slot] < context else {
            throw ModelError.invalidInput(reason: "\(positions[slot] + 1) positions exceed the context of \(context)")
        }
    }

    /// Copies row t of `newKeys` / `newValues` into the cache of `rowSlots[t]` at position
    /// `rowPositions[t]`.
    private func storeNewKeysAndValues(rows: Int, layer: Int) {
        let width = configuration.keyValueWidth
        for row in 0..<rows {
            cache.store(keys: newKeys + row * width, values: newValues + row * width, slot: rowSlots[row], layer: layer,
                        position: rowPositions[row])
        }
    }

    /// One pass over `count` rows from `tokenBuffer`: consecutive positions of one
    /// sequence when `sequenceSlot` is given, else one row per sequence as `rowSlots` and
    /// `rowPositions` say. Logits of the last `logitRows` rows.
    func forwardRows(count: Int, logitRows: Int, sequenceSlot: Int?) {
        let config = configuration
        let dim = config.hiddenSize, hidden = config.intermediateSize
        let start = sequenceSlot.map { positions[$0] } ?? 0
        let rowSlots = self.rowSlots, rowPositions = self.rowPositions
        if let slot = sequenceSlot {
            for row in 0..<count { rowPositions[row] = start + row; rowSlots[row] = slot }
        }
        Embedding.forward(output: residual, tokens: UnsafeBufferPointer(start: tokenBuffer, count: count), table: weights.tokenEmbedding)
        for (index, layer) in weights.layers.enumerated() {
            RMSNorm.forward(output: normalized, input: residual, weight: layer.attentionNorm.floats,
                            rows: count, dimension: dim, epsilon: config.rmsNormEpsilon)
            // Queries, and new keys and values (rotated, then stored at each row's slot and position).
            Linear.forward(input: normalized, rows: count, workspace: workspace,
                           products: .init(output: queries, weight: layer.queryProjection),
                           .init(output: newKeys, weight: layer.keyProjection),
                           .init(output: newValues, weight: layer.valueProjection))
            rotary.apply(queries, rows: count, headCount: config.headCount, layout: weights.queryKeyLayout, position: { rowPositions[$0] })
            rotary.apply(newKeys, rows: count, headCount: config.keyValueHeadCount, layout: weights.queryKeyLayout, position: { rowPositions[$0] })
            storeNewKeysAndValues(rows: count, layer: index)
            // Prefill: tiles of rows per head against a packed key panel. (Two sgemms per head
            // were slower: 110M Q4_0 at 128 / 512 / 1000 prompt tokens spent 32 / 196 / 392 ms in
            // attention that way, tiny products each dispatched to the BLAS threads.) Decode: every
            // row against its own sequence's cache, (row, head) pairs spread over the threads.
            let cache = self.cache
            if let slot = sequenceSlot, count > 1 {
                Attention.forwardPrefill(output: attended, query: queries, rows: count, startPosition: start,
                                         headCount: config.headCount, keyValueHeadCount: config.keyValueHeadCount,
                                         headDimension: config.headDimension,
                                         keyCache: cache.keys(slot: slot, layer: index), valueCache: cache.values(slot: slot, layer: index),
                                         cacheLayout: cache.layout, cacheType: cache.type,
                                         scratch: prefillScratch, scratchPerThread: prefillScratchPerThread)
            } else {
                Attention.forwardCached(output: attended, query: queries, rows: count, headCount: config.headCount,
                                        keyValueHeadCount: config.keyValueHeadCount, headDimension: config.headDimension,
                                        context: context, scores: scores,
                                        keyCache: { UnsafeRawPointer(cache.keys(slot: rowSlots[$0], layer: index)) },
                                        valueCache: { UnsafeRawPointer(cache.values(slot: rowSlots[$0], layer: index)) },
                                        length: { rowPositions[$0] + 1 }, cacheLayout: cache.layout, cacheType: cache.type)
            }
            Linear.forward(output: residual, input: attended, weight: layer.outputProjection, rows: count, accumulate: true, workspace: workspace)
            RMSNorm.forward(output: normalized, input: residual, weight: layer.feedForwardNorm.floats,
                            rows: count, dimension: dim, epsilon: config.rmsNormEpsilon)
            Linear.forward(input: normalized, rows: count, workspace: workspace,
                           products: .init(output: gate, weight: layer.gateProjection), .init(output: up, weight: layer.upProjection))
            SwiGLU.forward(output: gate, gate: gate, up: up, count: count * hidden)
            Linear.forward(output: residual, input: gate, weight: layer.downProjection, rows: count, accumulate: true, workspace: workspace)
        }
        if let slot = sequenceSlot {
            positions[slot] += count
        } else {
            for row in 0..<count { positions[rowSlots[row]] += 1 }
        }
        guard logitRows > 0 else { return }
        let firstRow = count - logitRows
        RMSNorm.forward(output: normalized, input: residual + firstRow * dim, weight: weights.finalNorm.floats,
                        rows: logitRows, dimension: dim, epsilon: config.rmsNormEpsilon)
        Linear.forward(output: logitsBuffer, input: normalized, weight: weights.outputProjection, rows: logitRows, workspace: workspace)
    }
}
