import Foundation
import LlamaCore

/// Causal multi-head attention over whole training sequences, memory-efficient in the way
/// of Rabe and Staats (2021) and FlashAttention (Dao et al., 2022), which the LLaMA paper
/// uses: forward keeps only each row's log-sum-exp of scores, never a T×T matrix per
/// head; backward recomputes the scores block by block. All products are sgemm calls on a
/// block of `blockRows` query rows against the keys they may see.
///
/// Rows are laid out (batch · length, width): row b·T + t is position t of sequence b.
/// Query head h reads key/value head h / (heads / kvHeads).
public enum CausalAttention {
    /// Query rows per block: the scratch is blockRows × length floats per thread.
    public static let blockRows = 64

    /// output = softmax(q·kᵀ/√d + causal mask) · v per sequence and head.
    ///
    /// - output: (B·T, heads · headDim).
    /// - logSumExp: (B, heads, T) kept for backward: log Σ_s exp(score(t, s)).
    /// - query: (B·T, heads · headDim), rotated. - key, value: (B·T, kvHeads · headDim), key rotated.
    public static func forward(output: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
                               query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                               batch: Int, length: Int, headCount: Int, keyValueHeadCount: Int, headDimension: Int) {
        let queryWidth = headCount * headDimension, keyValueWidth = keyValueHeadCount * headDimension
        let group = headCount / keyValueHeadCount
        let scale = 1 / Float(headDimension).squareRoot()
        let items = batch * headCount
        let workers = min(Parallel.threadCount, items)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * blockRows * length)
        defer { scratch.deallocate() }
        Parallel.forEach(workers) { worker in
            let scores = scratch + worker * blockRows * length
            var item = worker
            while item < items {
                let b = item / headCount, head = item % headCount
                let q = query + b * length * queryWidth + head * headDimension
                let k = key + b * length * keyValueWidth + (head / group) * headDimension
                let v = value + b * length * keyValueWidth + (head / group) * headDimension
                let o = output + b * length * queryWidth + head * headDimension
                let lse = logSumExp + (b * headCount + head) * length
                var start = 0
                while start < length {
                    let rows = min(blockRows, length - start), visible = start + rows
                    BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: visible, k: headDimension, alpha: scale,
                              a: q + start * queryWidth, lda: queryWidth, b: k, ldb: keyValueWidth,
                              c: scores, ldc: visible)
                    for i in 0..<rows {
                        let row = scores + i * visible, count = start + i + 1
                        let maximum = VectorMath.maximum(row, count)
                        let total = VectorMath.expSubtracting(row, maximum, count)
                        lse[start + i] = maximum + Foundation.log(total)
                        VectorMath.scale(row, 1 / total, count)
                        (row + count).update(repeating: 0, count: visible - count)
                    }
                    BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: headDimension, k: visible,
                              a: scores, lda: visible, b: v, ldb: keyValueWidth, c: o + start * queryWidth, ldc: queryWidth)
                    start += rows
                }
                item += workers
            }
        }
    }

    /// Backward of `forward`, recomputing P = exp(scores − logSumExp) per block:
    /// dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ += dS·K/√d,
    /// dK += dSᵀ·Q/√d. The three gradients accumulate.
    ///
    /// - outputGradient: (B·T, heads · headDim). - queryGradient: like query.
    /// - keyGradient, valueGradient: like key. Other arguments as forward had them.
    public static func backward(outputGradient: UnsafePointer<Float>, queryGradient: UnsafeMutablePointer<Float>,
                                keyGradient: UnsafeMutablePointer<Float>, valueGradient: UnsafeMutablePointer<Float>,
                                output: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>,
                                query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                                batch: Int, length: Int, headCount: Int, keyValueHeadCount: Int, headDimension: Int) {
        let queryWidth = headCount * headDimension, keyValueWidth = keyValueHeadCount * headDimension
        let group = headCount / keyValueHeadCount
        let scale = 1 / Float(headDimension).squareRoot()
        // One item per (sequence, key/value head), so no two threads add into the same dK, dV.
        let items = batch * keyValueHeadCount
        let workers = min(Parallel.threadCount, items)
        let perWorker = 2 * blockRows * length + blockRows
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * perWorker)
        defer { scratch.deallocate() }
        Parallel.forEach(workers) { worker in
            let probabilities = scratch + worker * perWorker
            let scoreGradient = probabilities + blockRows * length
            let rowDots = scoreGradient + blockRows * length
            var item = worker
            while item < items {
                let b = item / keyValueHeadCount, keyValueHead = item % keyValueHeadCount
                let k = key + b * length * keyValueWidth + keyValueHead * headDimension
                let v = value + b * length * keyValueWidth + keyValueHead * headDimension
                let dk = keyGradient + b * length * keyValueWidth + keyValueHead * headDimension
                let dv = valueGradient + b * length * keyValueWidth + keyValueHead * headDimension
                for head in (keyValueHead * group)..<((keyValueHead + 1) * group) {
                    let offset = b * length * queryWidth + head * headDimension
                    let q = query + offset, o = output + offset, dO = outputGradient + offset, dq = queryGradient + offset
                    let lse = logSumExp + (b * headCount + head) * length
                    var start = 0
                    while start < length {
                        let rows = min(blockRows, length - start), visible = start + rows
                        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: visible, k: headDimension, alpha: scale,
                                  a: q + start * queryWidth, lda: queryWidth, b: k, ldb: keyValueWidth,
                                  c: probabilities, ldc: visible)
                        for i in 0..<rows {
                            let row = probabilities + i * visible, count = start + i + 1
                            _ = VectorMath.expSubtracting(row, lse[start + i], count)
                            (row + count).update(repeating: 0, count: visible - count)
                            rowDots[i] = VectorMath.dot(dO + (start + i) * queryWidth, o + (start + i) * queryWidth, headDimension)
                        }
                        BLAS.gemm(transposeA: true, transposeB: false, m: visible, n: headDimension, k: rows,
                                  a: probabilities, lda: visible, b: dO + start * queryWidth, ldb: queryWidth,
                                  beta: 1, c: dv, ldc: keyValueWidth)
                        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: visible, k: headDimension,
                                  a: dO + start * queryWidth, lda: queryWidth, b: v, ldb: keyValueWidth,
                                  c: scoreGradient, ldc: visible)
                        for i in 0..<rows {
                            let p = probabilities + i * visible, ds = scoreGradient + i * visible
                            let dot = rowDots[i]
                            for s in 0..<visible { ds[s] = p[s] * (ds[s] - dot) }
                        }
                        BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: headDimension, k: visible, alpha: scale,
                                  a: scoreGradient, lda: visible, b: k, ldb: keyValueWidth,
                                  beta: 1, c: dq + start * queryWidth, ldc: queryWidth)
                        BLAS.gemm(transposeA: true, transposeB: false, m: visible, n: headDimension, k: rows, alpha: scale,
                                  a: scoreGradient, lda: visible, b: q + start * queryWidth, ldb: queryWidth,
                                  beta: 1, c: dk, ldc: keyValueWidth)
                        start += rows
                    }
                }
                item += workers
            }
        }
    }
}
