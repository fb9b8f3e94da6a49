import Foundation
import LlamaCore

/// Softmax cross-entropy of next-token logits against target ids, as PyTorch's
/// `F.cross_entropy` with mean reduction: loss_t = logsumexp(logits_t) − logits_t[target_t].
/// A negative target marks a position that is ignored (PyTorch's `ignore_index`).
public enum CrossEntropy {
    /// Writes losses[t] (0 for ignored rows) and returns the mean over counted rows (0 when
    /// none). Keeps nothing: backward recomputes the softmax from the logits.
    ///
    /// - losses: (T). - logits: (T, vocab). - targets: (T) ids below vocab, or negative.
    @discardableResult
    public static func forward(losses: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                               targets: UnsafePointer<Int32>, rows: Int, vocabularySize: Int) -> Float {
        Parallel.forRanges(rows, minimumPerThread: 4) { first, last in
            for row in first..<last {
                let target = Int(targets[row])
                guard target >= 0 else { losses[row] = 0; continue }
                let x = logits + row * vocabularySize
                losses[row] = VectorMath.logSumExp(x, vocabularySize) - x[target]
            }
        }
        var total = 0.0, counted = 0
        for row in 0..<rows where targets[row] >= 0 {
            total += Double(losses[row])
            counted += 1
        }
        return counted > 0 ? Float(total / Double(counted)) : 0
    }

    /// logitsGradient[t] += scale · (softmax(logits[t]) − onehot(target_t)) for counted rows;
    /// `scale` is ∂L/∂(mean loss) / (counted rows). logitsGradient may be the logits buffer
    /// itself, to save (T, vocab) floats: then each row is overwritten, not accumulated.
    ///
    /// - logitsGradient: (T, vocab). - logits: (T, vocab). - targets: (T).
    public static func backward(scale: Float, logitsGradient: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                targets: UnsafePointer<Int32>, rows: Int, vocabularySize: Int) {
        let inPlace = UnsafePointer(logitsGradient) == logits
        Parallel.forRanges(rows, minimumPerThread: 4) { first, last in
            for row in first..<last {
                let target = Int(targets[row])
                let x = logits + row * vocabularySize, dx = logitsGradient + row * vocabularySize
                guard target >= 0 else {
                    if inPlace { dx.update(repeating: 0, count: vocabularySize) }
                    continue
                }
                let shift = VectorMath.logSumExp(x, vocabularySize)
                var i = 0
                let rawX = UnsafeRawPointer(x), rawDX = UnsafeMutableRawPointer(dx)
                let shiftLanes = SIMD8<Float>(repeating: shift), scaleLanes = SIMD8<Float>(repeating: scale)
                while i + 8 <= vocabularySize {
                    var p = VectorMath.exp(rawX.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - shiftLanes) * scaleLanes
                    if !inPlace { p += rawDX.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) }
                    rawDX.storeBytes(of: p, toByteOffset: i * 4, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < vocabularySize {
                    let p = Foundation.exp(x[i] - shift) * scale
                    dx[i] = inPlace ? p : dx[i] + p
                    i += 1
                }
                dx[target] -= scale
            }
        }
    }
}
