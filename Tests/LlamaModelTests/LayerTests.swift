import Foundation
import LlamaCore
import LlamaModel
import XCTest

/// Each layer's forward against a plain double-precision loop written from its definition.
final class LayerTests: XCTestCase {
    private var generator = SeededGenerator(seed: 5)
    private func random(_ count: Int) -> [Float] { (0..<count).map { _ in generator.nextFloat() * 2 - 1 } }

    func testRMSNorm() {
        let rows = 3, dim = 19
        let x = random(rows * dim), weight = random(dim)
        var y = [Float](repeating: 0, count: rows * dim)
        var inverse = [Float](repeating: 0, count: rows)
        RMSNorm.forward(output: &y, input: x, weight: weight, rows: rows, dimension: dim, epsilon: 1e-5, inverseRMS: &inverse)
        for r in 0..<rows {
            let meanSquare = (0..<dim).reduce(0.0) { $0 + Double(x[r * dim + $1]) * Double(x[r * dim + $1]) } / Double(dim)
            let scale = 1 / (meanSquare + 1e-5).squareRoot()
            XCTAssertEqual(Double(inverse[r]), scale, accuracy: 1e-5 * scale)
            for i in 0..<dim { XCTAssertEqual(Double(y[r * dim + i]), Double(x[r * dim + i]) * scale * Double(weight[i]), accuracy: 1e-5) }
        }
    }

    func testRotaryEmbeddingRotatesHalfPairsAndInverts() {
        let headDim = 8, heads = 2, rows = 3, theta: Float = 10000
        let rotary = RotaryEmbedding(headDimension: headDim, theta: theta, maxPositions: 64)
        let original = random(rows * heads * headDim)
        var x = original
        rotary.apply(&x, rows: rows, headCount: heads) { 40 + $0 }
        for r in 0..<rows {
            for h in 0..<heads {
                for i in 0..<headDim / 2 {
                    let angle = Double(40 + r) * pow(Double(theta), -Double(2 * i) / Double(headDim))
                    let base = r * heads * headDim + h * headDim
                    let a = Double(original[base + i]), b = Double(original[base + i + headDim / 2])
                    XCTAssertEqual(Double(x[base + i]), a * cos(angle) - b * sin(angle), accuracy: 2e-5)
                    XCTAssertEqual(Double(x[base + i + headDim / 2]), b * cos(angle) + a * sin(angle), accuracy: 2e-5)
                }
            }
        }
        rotary.apply(&x, rows: rows, headCount: heads, direction: -1) { 40 + $0 }
        XCTAssertLessThan(maxAbsoluteDifference(x, original), 1e-6)
    }

    func testSwiGLU() {
        let gate = random(37).map { $0 * 8 }, up = random(37)
        var out = [Float](repeating: 0, count: 37)
        SwiGLU.forward(output: &out, gate: gate, up: up, count: 37)
        for i in 0..<37 {
            let g = Double(gate[i])
            XCTAssertEqual(Double(out[i]), g / (1 + exp(-g)) * Double(up[i]), accuracy: 1e-6)
        }
    }

    func testCachedAttentionWithGroupedHeads() {
        checkCachedAttention()
        // Head widths through every path of the C kernels (64-column registers, 8-column
        // vectors, scalar tails) and contexts past the 8-position blocks.
        for headDim in [64, 77, 5] { checkCachedAttention(headDim: headDim, start: 18) }
    }

    /// The head-major cache the inference session keeps: the same attention.
    func testCachedAttentionFromHeadMajorCache() {
        for headDim in [8, 64] { checkCachedAttention(headDim: headDim, start: 18, headMajor: true) }
    }

    /// A cache of IEEE halves (what `--cache-type f16` keeps): the attention of the half values,
    /// widened exactly, for head widths that take the eight-wide and the scalar paths.
    func testCachedAttentionFromHalfCache() {
        for headDim in [5, 8, 64, 77] { checkCachedAttention(headDim: headDim, start: 18, headMajor: true, half: true) }
    }

    /// The blocked prefill kernels (tiles of six rows against a packed key panel, leftover rows
    /// in a smaller tile), float32 and half caches, head widths of the 16-column registers and
    /// of the scalar columns.
    func testPrefillAttentionInRowTiles() {
        for half in [false, true] {
            for headDim in [64, 16, 5, 77] {
                for rows in [1, 6, 13] { checkCachedAttention(headDim: headDim, start: 18, rows: rows, headMajor: true, half: half, prefill: true) }
            }
        }
    }

    private func checkCachedAttention(headDim: Int = 8, start: Int = 3, rows: Int = 4, headMajor: Bool = false, half: Bool = false,
                                      prefill: Bool = false) {
        let heads = 4, kvHeads = 2, context = start + 13
        let total = start + rows
        let query = random(rows * heads * headDim)
        // A half cache holds the values rounded to half; the reference uses those exact values.
        func rounded(_ values: [Float]) -> [Float] { half ? values.map { Float(Float16($0)) } : values }
        let keys = rounded(random(context * kvHeads * headDim)), values = rounded(random(context * kvHeads * headDim))
        var output = [Float](repeating: 0, count: rows * heads * headDim)
        var scores = [Float](repeating: 0, count: max(Parallel.threadCount, rows) * context)
        // The reference below reads position-major arrays; the kernels get them in `layout`.
        let layout: CacheLayout = headMajor ? .headMajor(context: context, headDimension: headDim)
            : .positionMajor(keyValueHeads: kvHeads, headDimension: headDim)
        func arranged(_ cache: [Float]) -> [Float] {
            var result = [Float](repeating: .nan, count: cache.count)
            for s in 0..<context {
                for kv in 0..<kvHeads {
                    for i in 0..<headDim { result[kv * layout.headStride + s * layout.positionStride + i] = cache[(s * kvHeads + kv) * headDim + i] }
                }
            }
            return result
        }
        let cachedKeys = arranged(keys), cachedValues = arranged(values)
        if prefill {
            let perThread = Attention.prefillScratchPerThread(context: context, headDimension: headDim)
            var scratch = [Float](repeating: .nan, count: Parallel.threadCount * perThread)
            let type: KVCacheType = half ? .f16 : .f32
            let keyBytes: [UInt8] = half ? cachedKeys.flatMap { withUnsafeBytes(of: Float16($0).bitPattern, Array.init) }
                : cachedKeys.flatMap { withUnsafeBytes(of: $0, Array.init) }
            let valueBytes: [UInt8] = half ? cachedValues.flatMap { withUnsafeBytes(of: Float16($0).bitPattern, Array.init) }
                : cachedValues.flatMap { withUnsafeBytes(of: $0, Array.init) }
            keyBytes.withUnsafeBytes { k in
                valueBytes.withUnsafeBytes { v in
                    guard let kb = k.baseAddress, let vb = v.baseAddress else { return }
                    Attention.forwardPrefill(output: &output, query: query, rows: rows, startPosition: start, headCount: heads,
                                             keyValueHeadCount: kvHeads, headDimension: headDim, keyCache: kb, valueCache: vb,
                                             cacheLayout: layout, cacheType: type, scratch: &scratch, scratchPerThread: perThread)
                }
            }
        } else if half {
            let halfKeys = cachedKeys.map { Float16($0).bitPattern }, halfValues = cachedValues.map { Float16($0).bitPattern }
            halfKeys.withUnsafeBytes { keyBytes in
                halfValues.withUnsafeBytes { valueBytes in
                    guard let keyBase = keyBytes.baseAddress, let valueBase = valueBytes.baseAddress else { return }
                    Attention.forwardCached(output: &output, query: query, rows: rows, headCount: heads, keyValueHeadCount: kvHeads,
                                            headDimension: headDim, context: context, scores: &scores,
                                            keyCache: { _ in keyBase }, valueCache: { _ in valueBase },
                                            length: { start + $0 + 1 }, cacheLayout: layout, cacheType: .f16)
                }
            }
        } else {
            Attention.forwardCached(output: &output, query: query, keyCache: cachedKeys, valueCache: cachedValues, rows: rows,
                                    startPosition: start, headCount: heads, keyValueHeadCount: kvHeads,
                                    headDimension: headDim, context: context, scores: &scores, cacheLayout: layout)
        }
        for t in 0..<rows {
            for h in 0..<heads {
                let kv = h / (heads / kvHeads)
                let visible = start + t + 1
                XCTAssertLessThanOrEqual(visible, total)
                var logits = [Double](repeating: 0, count: visible)
                for s in 0..<visible {
                    var dot = 0.0
                    for i in 0..<headDim {
                        dot += Double(query[(t * heads + h) * headDim + i]) * Double(keys[(s * kvHeads + kv) * headDim + i])
                    }
                    logits[s] = dot / Double(headDim).squareRoot()
                }
                let top = logits.max() ?? 0
                let weights = logits.map { exp($0 - top) }
                let sum = weights.reduce(0, +)
                for i in 0..<headDim {
                    var expected = 0.0
                    for s in 0..<visible { expected += weights[s] / sum * Double(values[(s * kvHeads + kv) * headDim + i]) }
                    XCTAssertEqual(Double(output[(t * heads + h) * headDim + i]), expected, accuracy: 1e-5, "head width \(headDim)")
                }
            }
        }
    }
}
