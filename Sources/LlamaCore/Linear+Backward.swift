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
            BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                      a: outputGradient, lda: outFeatures, b: weight.floats, ldb: inFeatures,
                      beta: 1, c: inputGradient, ldc: inFeatures)
        }
        BLAS.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                  a: outputGradient, lda: outFeatures, b: input, ldb: inFeatures,
                  beta: 1, c: weightGradient.floats, ldc: inFeatures)
    }
}
