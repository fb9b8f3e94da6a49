import LlamaCore

/// Runs a LLaMA model forward over a growing sequence, keeping keys and values of past
/// positions (the KV cache) so each new token costs one pass over the weights.
///
/// All buffers are allocated once, when the session is made; `forward` allocates nothing
/// for a single token (decode), so generation has no per-token heap traffic.
public final class InferenceSession: @unchecked Sendable {
    public let weights: LlamaWeights
    public let configuration: LlamaConfiguration
    /// Positions the cache holds.
    public let context: Int
    /// Most tokens one `forward` call processes; longer inputs are split into such chunks.
    public let maxChunk: Int
    /// Number of positions filled so far.
    public private(set) var position = 0

    private let rotary: RotaryEmbedding
    /// (layers, context, kvHeads * headDim) keys and values.
    private let keyCache, valueCache: UnsafeMutablePointer<Float>
    /// (maxChunk, dim) residual stream and its normalised copy.
    private let residual, normalized: UnsafeMutablePointer<Float>
    /// (maxChunk, heads * headDim) queries and attention outputs.
    private let queries, attended: UnsafeMutablePointer<Float>
    /// (maxChunk, hidden) feed-forward activations.
    private let gate, up: UnsafeMutablePointer<Float>
    /// (max(threads, maxChunk), context) attention scores.
    private let scores: UnsafeMutablePointer<Float>
    /// (maxChunk, vocab) logits.
    private let logitsBuffer: UnsafeMutablePointer<Float>
    private let tokenBuffer: UnsafeMutablePointer<Int32>
    /// Quantized activations for Q8_0/Q4_0 weights.
    private let workspace = LinearWorkspace()

    public init(weights: LlamaWeights, context: Int? = nil, maxChunk: Int = 256) {
        self.weights = weights
        configuration = weights.configuration
        let config = weights.configuration
        self.context = max(1, min(context ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings))
        self.maxChunk = max(1, min(maxChunk, self.context))
        rotary = RotaryEmbedding(headDimension: config.headDimension, theta: config.ropeTheta, maxPositions: self.context)
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            return pointer
        }
        let cacheSize = config.layerCount * self.context * config.keyValueWidth
        keyCache = buffer(cacheSize)
        valueCache = buffer(cacheSize)
        residual = buffer(self.maxChunk * config.hiddenSize)
        normalized = buffer(self.maxChunk * config.hiddenSize)
        queries = buffer(self.maxChunk * config.queryWidth)
        attended = buffer(self.maxChunk * config.queryWidth)
        gate = buffer(self.maxChunk * config.intermediateSize)
        up = buffer(self.maxChunk * config.intermediateSize)
        scores = buffer(max(Parallel.threadCount, self.maxChunk) * self.context)
        logitsBuffer = buffer(self.maxChunk * config.vocabularySize)
        tokenBuffer = .allocate(capacity: self.maxChunk)
    }

    deinit {
        for pointer in [keyCache, valueCache, residual, normalized, queries, attended, gate, up, scores, logitsBuffer] {
            pointer.deallocate()
        }
        tokenBuffer.deallocate()
    }

    /// Forgets all positions (the cache is overwritten from position 0).
    public func reset() { position = 0 }

    /// Drops positions from `length` on, e.g. to reuse a shared prompt prefix.
    public func truncate(to length: Int) { position = min(position, max(0, length)) }

    /// Checks that `tokens` are vocabulary ids and fit in the remaining context.
    public func validate(_ tokens: [Int32]) throws {
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= configuration.vocabularySize }) {
            throw ModelError.invalidInput(reason: "token id \(bad) is outside the vocabulary (0..<\(configuration.vocabularySize))")
        }
        if position + tokens.count > context {
            throw ModelError.invalidInput(reason: "\(position + tokens.count) positions exceed the context of \(context)")
        }
    }

    /// Feeds `tokens` at the next positions and returns the logits of the last one
    /// (vocab floats, valid until the next call). `allLogits` receives every position's
    /// logits, row by row, when given.
    @discardableResult
    public func forward(_ tokens: [Int32], allLogits: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil) throws -> UnsafeBufferPointer<Float> {
        try validate(tokens)
        precondition(!tokens.isEmpty, "forward needs at least one token")
        var offset = 0
        var last = UnsafeBufferPointer<Float>(start: logitsBuffer, count: configuration.vocabularySize)
        while offset < tokens.count {
            let count = min(maxChunk, tokens.count - offset)
            for i in 0..<count { tokenBuffer[i] = tokens[offset + i] }
            let isLastChunk = offset + count == tokens.count
            let logitRows = allLogits != nil ? count : (isLastChunk ? 1 : 0)
            forwardChunk(count: count, logitRows: logitRows)
            if let allLogits {
                for t in 0..<count {
                    allLogits(offset + t, UnsafeBufferPointer(start: logitsBuffer + t * configuration.vocabularySize,
                                                              count: configuration.vocabularySize))
                }
            }
            if isLastChunk {
                let row = allLogits != nil ? count - 1 : 0
                last = UnsafeBufferPointer(start: logitsBuffer + row * configuration.vocabularySize, count: configuration.vocabularySize)
            }
            offset += count
        }
        return last
    }

    /// Feeds one token at the next position and returns its logits (the decode step;
    /// allocates nothing).
    public func forward(token: Int32) throws -> UnsafeBufferPointer<Float> {
        guard token >= 0 && Int(token) < configuration.vocabularySize else {
            throw ModelError.invalidInput(reason: "token id \(token) is outside the vocabulary (0..<\(configuration.vocabularySize))")
        }
        guard position < context else {
            throw ModelError.invalidInput(reason: "\(position + 1) positions exceed the context of \(context)")
        }
        tokenBuffer[0] = token
        forwardChunk(count: 1, logitRows: 1)
        return UnsafeBufferPointer(start: logitsBuffer, count: configuration.vocabularySize)
    }

    /// One chunk of `count` tokens from `tokenBuffer`; logits of the last `logitRows` rows.
    private func forwardChunk(count: Int, logitRows: Int) {
        let config = configuration
        let dim = config.hiddenSize, kvWidth = config.keyValueWidth, hidden = config.intermediateSize
        let start = position
        Embedding.forward(output: residual, tokens: UnsafeBufferPointer(start: tokenBuffer, count: count), table: weights.tokenEmbedding)
        for (index, layer) in weights.layers.enumerated() {
            RMSNorm.forward(output: normalized, input: residual, weight: layer.attentionNorm.floats,
                            rows: count, dimension: dim, epsilon: config.rmsNormEpsilon)
            let layerKeys = keyCache + index * context * kvWidth
            let layerValues = valueCache + index * context * kvWidth
            Linear.forward(output: queries, input: normalized, weight: layer.queryProjection, rows: count, workspace: workspace)
            Linear.forward(output: layerKeys + start * kvWidth, input: normalized, weight: layer.keyProjection, rows: count, workspace: workspace)
            Linear.forward(output: layerValues + start * kvWidth, input: normalized, weight: layer.valueProjection, rows: count, workspace: workspace)
            rotary.apply(queries, rows: count, headCount: config.headCount, layout: weights.queryKeyLayout) { start + $0 }
            rotary.apply(layerKeys + start * kvWidth, rows: count, headCount: config.keyValueHeadCount,
                         layout: weights.queryKeyLayout) { start + $0 }
            if count == 1 {
                Attention.forwardCached(output: attended, query: queries, keyCache: layerKeys, valueCache: layerValues,
                                        rows: count, startPosition: start, headCount: config.headCount,
                                        keyValueHeadCount: config.keyValueHeadCount, headDimension: config.headDimension,
                                        context: context, scores: scores)
            } else {
                Attention.forwardCachedBatched(output: attended, query: queries, keyCache: layerKeys, valueCache: layerValues,
                                               rows: count, startPosition: start, headCount: config.headCount,
                                               keyValueHeadCount: config.keyValueHeadCount,
                                               headDimension: config.headDimension, scores: scores)
            }
            Linear.forward(output: residual, input: attended, weight: layer.outputProjection, rows: count, accumulate: true, workspace: workspace)
            RMSNorm.forward(output: normalized, input: residual, weight: layer.feedForwardNorm.floats,
                            rows: count, dimension: dim, epsilon: config.rmsNormEpsilon)
            Linear.forward(output: gate, input: normalized, weight: layer.gateProjection, rows: count, workspace: workspace)
            Linear.forward(output: up, input: normalized, weight: layer.upProjection, rows: count, workspace: workspace)
            SwiGLU.forward(output: gate, gate: gate, up: up, count: count * hidden)
            Linear.forward(output: residual, input: gate, weight: layer.downProjection, rows: count, accumulate: true, workspace: workspace)
        }
        position += count
        guard logitRows > 0 else { return }
        let firstRow = count - logitRows
        RMSNorm.forward(output: normalized, input: residual + firstRow * dim, weight: weights.finalNorm.floats,
                        rows: logitRows, dimension: dim, epsilon: config.rmsNormEpsilon)
        Linear.forward(output: logitsBuffer, input: normalized, weight: weights.outputProjection, rows: logitRows, workspace: workspace)
    }
}
