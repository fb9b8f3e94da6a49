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

extension RMSNorm {
    /// Backward of `forward`, with r = inverseRMS[row] as forward kept it:
    /// ∂L/∂g[i] += Σ_rows dy[i]·x[i]·r and
    /// ∂L/∂x[i] += r·g[i]·dy[i] − x[i]·r³/dim · Σ_j g[j]·dy[j]·x[j]. Both accumulate.
    ///
    /// - outputGradient: (T, dim). - inputGradient: (T, dim). - input: (T, dim).
    /// - weight, weightGradient: (dim). - inverseRMS: (T).
    public static func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                weightGradient: UnsafeMutablePointer<Float>, rows: Int, dimension: Int,
                                inverseRMS: UnsafePointer<Float>) {
        Parallel.forRanges(rows, minimumPerThread: 8) { first, last in
            for row in first..<last {
                let x = input + row * dimension, dy = outputGradient + row * dimension
                let dx = inputGradient + row * dimension
                let r = inverseRMS[row]
                var projection: Float = 0
                for i in 0..<dimension { projection += weight[i] * dy[i] * x[i] }
                let correction = projection * r * r * r / Float(dimension)
                for i in 0..<dimension { dx[i] += r * weight[i] * dy[i] - x[i] * correction }
            }
        }
        // The gain gradient sums over rows: one thread per column range, rows in order.
        Parallel.forRanges(dimension, grain: 8, minimumPerThread: 64) { first, last in
            for row in 0..<rows {
                let x = input + row * dimension, dy = outputGradient + row * dimension
                let r = inverseRMS[row]
                for i in first..<last { weightGradient[i] += dy[i] * x[i] * r }
            }
        }
    }
}
