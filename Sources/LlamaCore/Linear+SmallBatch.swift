extension Linear {
    /// y[T, out] = x[T, in] · Wᵀ for a 16-bit W and a few rows T (a decode step of several
    /// sequences): each weight row is converted to float32 once, into a buffer that stays in
    /// L1/L2, and dotted with every input row, so the weights are read once per step instead of
    /// being converted whole for sgemm.
    static func halfSmallBatch(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<UInt16>, isHalf: Bool, rows: Int, outFeatures: Int,
                               inFeatures: Int, accumulate: Bool) {
        Parallel.forRanges(outFeatures, grain: 4, minimumPerThread: 16) { first, last in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: inFeatures) { buffer in
                guard let converted = buffer.baseAddress else { return }
                for row in first..<last {
                    if isHalf { convertHalfToFloat(weight + row * inFeatures, converted, inFeatures) }
                    else { convertBFloat16ToFloat(weight + row * inFeatures, converted, inFeatures) }
                    for t in 0..<rows {
                        let total = VectorMath.dot(converted, input + t * inFeatures, inFeatures)
                        let y = output + t * outFeatures + row
                        y.pointee = accumulate ? y.pointee + total : total
                    }
                }
            }
        }
    }
}
