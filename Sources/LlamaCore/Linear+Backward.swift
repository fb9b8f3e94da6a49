/// The backward pass of `Linear.forward` for float32 weights (training keeps float32).
extension Linear {
    /// Given outputGradient = ∂L/∂output (rows, out) of output = input · weightᵀ:
    /// inputGradient (rows, in) += outputGradient · weight and
    /// weightGradient (out, in) += outputGradientᵀ · input. Both accumulate.
    ///
    /// - outputGradient: (rows, out).
    /// - inputGradient: (rows, in), or nil when the input needs no gradient.
    /// - input: (rows, in), what forward read.
    /// - weight, weightGradient: (out, in), float32.
    public static func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                                input: UnsafePointer<Float>, weight: Tensor, weightGradient: Tensor, rows: Int) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        precondition(weight.dtype == .f32 && weightGradient.dtype == .f32, "training needs float32 weights")
        if let inputGradient {
            splitGemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                      a: outputGradient, lda: outFeatures, b: weight.floats, ldb: inFeatures,
                      beta: 1, c: inputGradient, ldc: inFeatures)
        }
        splitGemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                  a: outputGradient, lda: outFeatures, b: input, ldb: inFeatures,
                  beta: 1, c: weightGradient.floats, ldc: inFeatures)
    }
}

extension Linear {
    /// C[M, N] = alpha · op(A) · op(B) + beta · C with the M rows of C split into one fixed
    /// range per worker thread (`Parallel.forRanges`), each range one BLAS call. With BLAS
    /// itself single-threaded this keeps both cores busy without OpenBLAS's spinning threads
    /// competing with the workers, and every element is computed by one call over the full
    /// K, so the result does not depend on the thread count.
    public static func splitGemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        Parallel.forRanges(m, grain: 16, minimumPerThread: 32) { first, last in
            let rows = last - first
            guard rows > 0 else { return }
            let start = transposeA ? a + first : a + first * lda
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: rows, n: n, k: k, alpha: alpha,
                      a: start, lda: lda, b: b, ldb: ldb, beta: beta, c: c + first * ldc, ldc: ldc)
        }
    }

    /// `forward` for float32 weights through `splitGemm` (the training path).
    /// - output: (rows, out). - input: (rows, in). - weight: (out, in).
    public static func forwardSplit(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                    weight: Tensor, rows: Int, accumulate: Bool = false) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        precondition(weight.dtype == .f32, "training needs float32 weights")
        splitGemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                  a: input, lda: inFeatures, b: weight.floats, ldb: inFeatures,
                  beta: accumulate ? 1 : 0, c: output, ldc: outFeatures)
    }
}
