import CLlamaKernels
import LlamaCore

/// Where a key/value cache keeps the row of head h at position s: h·headStride + s·positionStride.
public struct CacheLayout: Sendable, Equatable {
    public var headStride: Int
    public var positionStride: Int

    /// Positions one after another, all heads of a position side by side (a (context, kvHeads ·
    /// headDim) matrix: what a projection writes).
    public static func positionMajor(keyValueHeads: Int, headDimension: Int) -> CacheLayout {
        CacheLayout(headStride: headDimension, positionStride: keyValueHeads * headDimension)
    }

    /// Heads one after another, each its `context` positions contiguous: a decode step reads each
    /// head's keys and values as one sequential stream instead of 256-byte pieces a whole
    /// position apart (25% faster attention on the test machine).
    public static func headMajor(context: Int, headDimension: Int) -> CacheLayout {
        CacheLayout(headStride: context * headDimension, positionStride: headDimension)
    }
}

/// Causal scaled dot-product attention (Vaswani et al., 2017) with grouped key/value heads:
/// query head h reads key/value head h / (heads / kvHeads); LLaMA 1 has one per query head.
public enum Attention {
    /// Attention of T new rows against key/value caches that already hold them; row t
    /// attends to the first `length(t)` positions of its own cache (rows of one sequence
    /// share a cache; rows of a batch of sequences each have their own).
    ///
    /// - output: (T, heads * headDim) attention outputs, before the output projection.
    /// - query: (T, heads * headDim) rotated queries.
    /// - keyCache(t), valueCache(t): the cache of row t's sequence, laid out as `cacheLayout`
    ///   says (default: position-major, (context, kvHeads * headDim)), of `cacheType` values.
    /// - scores: scratch of `Parallel.threadCount * context` floats.
    public static func forwardCached(output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
                                     rows: Int, headCount: Int, keyValueHeadCount: Int, headDimension: Int,
                                     context: Int, scores: UnsafeMutablePointer<Float>,
                                     keyCache: (Int) -> UnsafeRawPointer, valueCache: (Int) -> UnsafeRawPointer,
                                     length: (Int) -> Int, cacheLayout: CacheLayout? = nil, cacheType: KVCacheType = .f32) {
        let queryWidth = headCount * headDimension
        let layout = cacheLayout ?? .positionMajor(keyValueHeads: keyValueHeadCount, headDimension: headDimension)
        let group = headCount / keyValueHeadCount
        let scale = 1 / Float(headDimension).squareRoot()
        let items = rows * headCount
        let workers = min(Parallel.threadCount, items)
        // Each thread takes items worker, worker + workers, …. While one head's scores are
        // computed its values are fetched into the cache, and while its values are summed the
        // keys of the thread's next head are, so neither pass starts cold on a cache the weight
        // stream has evicted (110M Q4_0, 3 to 303 positions: 0.32-0.36 ms per token instead of
        // 0.38-0.43).
        func keyValueOffset(_ item: Int) -> Int { (item % headCount / group) * layout.headStride }
        Parallel.forEach(workers) { worker in
            let row = scores + worker * context
            var item = worker
            while item < items {
                let t = item / headCount, head = item % headCount
                let visible = length(t)
                let keys = keyCache(t), values = valueCache(t)
                let q = query + t * queryWidth + head * headDimension
                let keyOffset = keyValueOffset(item)
                let out = output + t * queryWidth + head * headDimension
                let next = item + workers
                let nextKeys = next < items ? keyCache(next / headCount) : nil
                switch cacheType {
                case .f32:
                    let values = values.assumingMemoryBound(to: Float.self) + keyOffset
                    llama_attention_scores(q, keys.assumingMemoryBound(to: Float.self) + keyOffset, layout.positionStride,
                                           visible, headDimension, scale, row, values)
                    VectorMath.softmax(row, visible)
                    llama_attention_values(row, values, layout.positionStride, visible, headDimension, out,
                                           nextKeys.map { $0.assumingMemoryBound(to: Float.self) + keyValueOffset(next) })
                case .f16:
                    let values = values.assumingMemoryBound(to: UInt16.self) + keyOffset
                    llama_attention_scores_f16(q, keys.assumingMemoryBound(to: UInt16.self) + keyOffset, layout.positionStride,
                                               visible, headDimension, scale, row, values)
                    VectorMath.softmax(row, visible)
                    llama_attention_values_f16(row, values, layout.positionStride, visible, headDimension, out,
                                               nextKeys.map { $0.assumingMemoryBound(to: UInt16.self) + keyValueOffset(next) })
                }
                item += workers
            }
        }
    }

    /// `forwardCached` for T rows of one sequence at positions start ..< start + T.
    public static func forwardCached(output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
                                     keyCache: UnsafePointer<Float>, valueCache: UnsafePointer<Float>,
                                     rows: Int, startPosition: Int, headCount: Int, keyValueHeadCount: Int,
                                     headDimension: Int, context: Int, scores: UnsafeMutablePointer<Float>,
                                     cacheLayout: CacheLayout? = nil) {
        forwardCached(output: output, query: query, rows: rows, headCount: headCount, keyValueHeadCount: keyValueHeadCount,
                      headDimension: headDimension, context: context, scores: scores,
                      keyCache: { _ in UnsafeRawPointer(keyCache) }, valueCache: { _ in UnsafeRawPointer(valueCache) },
                      length: { startPosition + $0 + 1 },
                      cacheLayout: cacheLayout)
    }
}

extension Attention {
    /// Floats of scratch one thread needs for `forwardPrefill` over up to `context` positions.
    public static func prefillScratchPerThread(context: Int, headDimension: Int) -> Int {
        llama_attention_panel_width(context) * (headDimension + Int(LLAMA_ATTENTION_ROWS))
    }

    /// Attention of `rows` consecutive rows of one sequence (positions start ..< start + rows,
    /// already in the cache) through register-blocked products: per head, the keys are packed
    /// once into a dimension-major panel, then tiles of `LLAMA_ATTENTION_ROWS` rows get their
    /// scores, causal softmax and weighted values together; leftover rows take the one-row
    /// kernels. Heads are spread over the threads, each with `scratchPerThread` floats of
    /// `scratch` (see `prefillScratchPerThread`).
    public static func forwardPrefill(output: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>, rows: Int,
                                      startPosition start: Int, headCount: Int, keyValueHeadCount: Int, headDimension: Int,
                                      keyCache: UnsafeRawPointer, valueCache: UnsafeRawPointer, cacheLayout layout: CacheLayout,
                                      cacheType: KVCacheType, scratch: UnsafeMutablePointer<Float>, scratchPerThread: Int) {
        let queryWidth = headCount * headDimension, group = headCount / keyValueHeadCount
        let scale = 1 / Float(headDimension).squareRoot()
        let length = start + rows, width = llama_attention_panel_width(length)
        let tile = Int(LLAMA_ATTENTION_ROWS), half: Int32 = cacheType == .f16 ? 1 : 0
        let bytes = cacheType.bytesPerValue
        precondition(width * (headDimension + tile) <= scratchPerThread, "prefill scratch too small")
        let workers = min(Parallel.threadCount, headCount)
        Parallel.forEach(workers) { worker in
            let panel = scratch + worker * scratchPerThread, scores = panel + width * headDimension
            var head = worker
            while head < headCount {
                let offset = (head / group) * layout.headStride * bytes
                let keys = keyCache + offset, values = valueCache + offset
                llama_attention_pack_keys(keys, half, layout.positionStride, length, headDimension, panel)
                var t = 0
                while t < rows {
                    let count = min(tile, rows - t), visibleLast = start + t + count
                    let q = query + t * queryWidth + head * headDimension
                    llama_attention_scores_rows(q, queryWidth, count, panel, width, visibleLast, headDimension, scale, scores, width)
                    for r in 0..<count {
                        let row = scores + r * width, visible = start + t + r + 1
                        VectorMath.softmax(row, visible)
                        (row + visible).update(repeating: 0, count: visibleLast - visible)
                    }
                    llama_attention_values_rows(scores, width, count, values, half, layout.positionStride, visibleLast,
                                                headDimension, output + t * queryWidth + head * headDimension, queryWidth)
                    t += count
                }
                head += workers
            }
        }
    }
}
