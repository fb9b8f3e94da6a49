import LlamaCore

/// Root-mean-square layer normalisation (Zhang and Sennrich, 2019), LLaMA's pre-norm:
/// y = x / sqrt(mean(x²) + ε) · g, computed in float32 in the order transformers'
/// `LlamaRMSNorm` uses (normalise, then scale by the gain).
public enum RMSNorm {
    /// output[T, dim] = RMSNorm(input[T, dim]) · weight[dim].
    /// Keeps `inverseRMS[T]` = 1 / sqrt(mean(x²) + ε) for the backward pass when given.
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, rows: Int, dimension: Int, epsilon: Float,
                               inverseRMS: UnsafeMutablePointer<Float>? = nil) {
        Parallel.forRanges(rows, minimumPerThread: 8) { first, last in
            for row in first..<last {
                let x = input + row * dimension, y = output + row * dimension
                let meanSquare = VectorMath.sumOfSquares(x, dimension) / Float(dimension)
                let scale = 1 / (meanSquare + epsilon).squareRoot()
                inverseRMS?[row] = scale
                for i in 0..<dimension { y[i] = weight[i] * (x[i] * scale) }
            }
        }
    }
}
