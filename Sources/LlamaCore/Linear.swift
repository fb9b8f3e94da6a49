/// The bias-free linear layer y = x · Wᵀ that every LLaMA projection is, for weights
/// stored as float32 (through BLAS directly) or float16 / bfloat16 (used in place from a
/// mapped checkpoint, converted block by block, never copied whole).
public enum Linear {
    /// Rows of a 16-bit weight converted per block before a BLAS call during prefill.
    public static let conversionBlockRows = 256

    /// output[T, out] = input[T, in] · weightᵀ (or += when `accumulate`), weight (out, in).
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: Tensor, rows: Int, accumulate: Bool = false) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        let beta: Float = accumulate ? 1 : 0
        switch weight.dtype {
        case .f32:
            if rows == 1 {
                BLAS.gemv(m: outFeatures, n: inFeatures, a: weight.floats, lda: inFeatures, x: input, beta: beta, y: output)
            } else {
                BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                          a: input, lda: inFeatures, b: weight.floats, ldb: inFeatures, beta: beta, c: output, ldc: outFeatures)
            }
        case .f16, .bf16:
            let source = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: UInt16.self))
            let isHalf = weight.dtype == .f16
            if rows == 1 {
                halfMatrixVector(output: output, input: input, weight: source, isHalf: isHalf,
                                 outFeatures: outFeatures, inFeatures: inFeatures, accumulate: accumulate)
            } else {
                let blockRows = min(conversionBlockRows, outFeatures)
                let block = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * inFeatures)
                defer { block.deallocate() }
                var start = 0
                while start < outFeatures {
                    let count = min(blockRows, outFeatures - start)
                    let converted = source + start * inFeatures
                    Parallel.forRanges(count, minimumPerThread: 16) { first, last in
                        let offset = first * inFeatures, length = (last - first) * inFeatures
                        if isHalf { convertHalfToFloat(converted + offset, block + offset, length) }
                        else { convertBFloat16ToFloat(converted + offset, block + offset, length) }
                    }
                    BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: count, k: inFeatures,
                              a: input, lda: inFeatures, b: block, ldb: inFeatures, beta: beta,
                              c: output + start, ldc: outFeatures)
                    start += count
                }
            }
        default:
            preconditionFailure("linear weights must be F32, F16 or BF16; loaders reject \(weight.dtype.rawValue)")
        }
    }

    /// y = W · x for a 16-bit W, both cores, each row converted in registers.
    private static func halfMatrixVector(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                         weight: UnsafePointer<UInt16>, isHalf: Bool,
                                         outFeatures: Int, inFeatures: Int, accumulate: Bool) {
        Parallel.forRanges(outFeatures, minimumPerThread: 64) { first, last in
            for row in first..<last {
                let w = weight + row * inFeatures
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
                var i = 0
                let rawW = UnsafeRawPointer(w), rawX = UnsafeRawPointer(input)
                while i + 16 <= inFeatures {
                    let bits0 = rawW.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
                    let bits1 = rawW.loadUnaligned(fromByteOffset: (i + 8) * 2, as: SIMD8<UInt16>.self)
                    let w0: SIMD8<Float>, w1: SIMD8<Float>
                    if isHalf {
                        w0 = SIMD8<Float>(unsafeBitCast(bits0, to: SIMD8<Float16>.self))
                        w1 = SIMD8<Float>(unsafeBitCast(bits1, to: SIMD8<Float16>.self))
                    } else {
                        w0 = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: bits0) &<< 16, to: SIMD8<Float>.self)
                        w1 = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: bits1) &<< 16, to: SIMD8<Float>.self)
                    }
                    s0 += w0 * rawX.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                    s1 += w1 * rawX.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                    i += 16
                }
                var total = (s0 + s1).sum()
                while i < inFeatures {
                    let value = isHalf ? Float(Float16(bitPattern: w[i])) : Float(bitPattern: UInt32(w[i]) << 16)
                    total += value * input[i]
                    i += 1
                }
                output[row] = accumulate ? output[row] + total : total
            }
        }
    }
}
