import Foundation
import LlamaCore

/// Rotary position embeddings (Su et al., 2021) in the rotate-half form Hugging Face's
/// LLaMA uses: within each head, element i pairs with element i + headDim/2 and the pair is
/// rotated by position · θ^(−2i/headDim). The angles are computed as transformers computes
/// them (inverse frequencies and position products rounded to float32), then cos/sin.
/// Weights stored in Meta's original order (as GGUF files hold them) pair adjacent elements
/// 2i and 2i + 1 instead: the `interleaved` layout, the same rotation on permuted rows.
public final class RotaryEmbedding: @unchecked Sendable {
    public let headDimension: Int
    public let maxPositions: Int
    /// (maxPositions, headDim / 2) cosines and sines.
    private let cosines: UnsafeMutablePointer<Float>
    private let sines: UnsafeMutablePointer<Float>

    public init(headDimension: Int, theta: Float, maxPositions: Int) {
        self.headDimension = headDimension
        self.maxPositions = maxPositions
        let half = headDimension / 2
        cosines = .allocate(capacity: maxPositions * half)
        sines = .allocate(capacity: maxPositions * half)
        let inverseFrequencies = (0..<half).map { i in
            Float(1.0 / pow(Double(theta), Double(2 * i) / Double(headDimension)))
        }
        for position in 0..<maxPositions {
            for i in 0..<half {
                let angle = Double(Float(position) * inverseFrequencies[i])
                cosines[position * half + i] = Float(cos(angle))
                sines[position * half + i] = Float(sin(angle))
            }
        }
    }

    deinit {
        cosines.deallocate()
        sines.deallocate()
    }

    /// Rotates `x[T, heads * headDim]` in place; row t sits at position `position(t)`.
    /// `direction` −1 applies the inverse rotation (the backward pass of the forward one).
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, headCount: Int, direction: Float = 1,
                      layout: RotaryLayout = .rotateHalf, position: (Int) -> Int) {
        let half = headDimension / 2, width = headCount * headDimension
        // Element pairs: (i, i + half) in rotate-half order, (2i, 2i + 1) interleaved.
        let firstStride = layout == .rotateHalf ? 1 : 2, secondOffset = layout == .rotateHalf ? half : 1
        for row in 0..<rows {
            let p = position(row)
            precondition(p < maxPositions, "position \(p) beyond the rotary table (\(maxPositions))")
            let c = cosines + p * half, s = sines + p * half
            let base = x + row * width
            for head in 0..<headCount {
                let v = base + head * headDimension
                for i in 0..<half {
                    let a = i * firstStride, b = a + secondOffset
                    let first = v[a], second = v[b]
                    let sine = direction * s[i]
                    v[a] = first * c[i] - second * sine
                    v[b] = second * c[i] + first * sine
                }
            }
        }
    }
}

/// Which elements of a head the rotary embedding pairs.
public enum RotaryLayout: Sendable {
    /// Hugging Face's order: element i with element i + headDim/2.
    case rotateHalf
    /// Meta's and llama.cpp's order: element 2i with element 2i + 1.
    case interleaved
}

extension RotaryEmbedding {
    /// Backward of `apply`: the rotation is orthogonal, so the gradient of its input is the
    /// output gradient rotated back (transformed in place).
    ///
    /// - gradient: (T, heads * headDim), ∂L/∂(rotated) in, ∂L/∂(unrotated) out.
    public func backward(_ gradient: UnsafeMutablePointer<Float>, rows: Int, headCount: Int, position: (Int) -> Int) {
        apply(gradient, rows: rows, headCount: headCount, direction: -1, position: position)
    }
}
