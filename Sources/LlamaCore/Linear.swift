import CLlamaKernels
import Foundation

/// The bias-free linear layer y = x · Wᵀ that every LLaMA projection is, for weights
/// stored as float32 (through BLAS directly) or float16 / bfloat16 (used in place from a
/// mapped checkpoint, converted block by block, never copied whole).
public enum Linear {
    /// Rows of a 16-bit weight converted per block before a BLAS call during prefill.
    public static let conversionBlockRows = 256

    /// output[T, out] = input[T, in] · weightᵀ (or += when `accumulate`), weight (out, in).
    /// `workspace` holds the quantized activations for Q8_0/Q4_0 weights; without one a
    /// temporary buffer is allocated.
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: Tensor, rows: Int, accumulate: Bool = false,
                               workspace: LinearWorkspace? = nil) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        let beta: Float = accumulate ? 1 : 0
        switch weight.dtype {
        case .f32:
            if rows == 1 {
                if useBLASForMatrixVector {
                    BLAS.gemv(m: outFeatures, n: inFeatures, a: weight.floats, lda: inFeatures, x: input, beta: beta, y: output)
                } else {
                    floatMatrixVector(output: output, input: input, weight: weight.floats,
                                      outFeatures: outFeatures, inFeatures: inFeatures, accumulate: accumulate)
                }
            } else if rows <= smallBatchRows && !useBLASForMatrixVector {
                floatSmallBatch(output: output, input: input, weight: weight.floats, rows: rows,
                                outFeatures: outFeatures, inFeatures: inFeatures, accumulate: accumulate)
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
            } else if rows <= smallBatchRows {
                halfSmallBatch(output: output, input: input, weight: source, isHalf: isHalf, rows: rows,
                               outFeatures: outFeatures, inFeatures: inFeatures, accumulate: accumulate)
            } else {
                convertedProduct(output: output, input: input, rows: rows, outFeatures: outFeatures,
                                 inFeatures: inFeatures, beta: beta) { first, count, block in
                    let converted = source + first * inFeatures
                    if isHalf { convertHalfToFloat(converted, block, count * inFeatures) }
                    else { convertBFloat16ToFloat(converted, block, count * inFeatures) }
                }
            }
        case .q8_0 where rows > quantizedIntegerRows && quantizedProduct == .unpacked,
             .q4_0 where rows > quantizedIntegerRows && quantizedProduct == .unpacked:
            let blocks = inFeatures / 32, isQ8 = weight.dtype == .q8_0
            let q8 = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: llama_block_q8_0.self))
            let q4 = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: llama_block_q4_0.self))
            convertedProduct(output: output, input: input, rows: rows, outFeatures: outFeatures,
                             inFeatures: inFeatures, beta: beta) { first, count, block in
                if weight.layout == .interleaved8 { weight.dequantizeRows(first..<(first + count), into: block) }
                else if isQ8 { llama_dequantize_row_q8_0(q8 + first * blocks, block, count * inFeatures) }
                else { llama_dequantize_row_q4_0(q4 + first * blocks, block, count * inFeatures) }
            }
        case .q4_K, .q6_K:
            kQuantForward(output: output, input: input, weight: weight, rows: rows, beta: beta, workspace: workspace)
        case .q8_0, .q4_0:
            let space = workspace ?? LinearWorkspace()
            quantizedForward(output: output, input: input, weight: weight, rows: rows, accumulate: accumulate,
                             activations: space.reserve(bytes: rows * inFeatures / 32 * 34))
        default:
            preconditionFailure("linear weights must be F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K; loaders reject \(weight.dtype.rawValue)")
        }
    }

    /// How Q8_0 / Q4_0 weights multiply many input rows (prefill).
    public enum QuantizedProduct: String, Sendable {
        /// Integer dot products on the blocks in register tiles (`llama_gemm_*`).
        case integer
        /// Weight rows unpacked to float block by block, then sgemm.
        case unpacked
    }

    /// The prefill path for quantized weights (`LLAMA_QUANTIZED_GEMM=integer|unpacked`).
    nonisolated(unsafe) public static var quantizedProduct =
        QuantizedProduct(rawValue: ProcessInfo.processInfo.environment["LLAMA_QUANTIZED_GEMM"] ?? "") ?? .integer

    /// Up to this many input rows (decode steps, batched decoding of a few sequences) Q8_0 and
    /// Q4_0 products always stay in integer dot products on the packed blocks, which read the
    /// weights once at a quarter of the F32 bytes; above it `quantizedProduct` decides.
    nonisolated(unsafe) public static var quantizedIntegerRows =
        Int(ProcessInfo.processInfo.environment["LLAMA_QUANTIZED_INTEGER_ROWS"] ?? "") ?? 8

    /// output[T, out] (= or +=) input[T, in] · Wᵀ for a W stored in another format: blocks of
    /// `conversionBlockRows` weight rows are converted to float32 by `convert(first, count,
    /// block)` on both cores, then multiplied by sgemm while the block is still in cache.
    static func convertedProduct(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int,
                                 outFeatures: Int, inFeatures: Int, beta: Float,
                                 convert: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let blockRows = min(conversionBlockRows, outFeatures)
        let block = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * inFeatures)
        defer { block.deallocate() }
        var start = 0
        while start < outFeatures {
            let count = min(blockRows, outFeatures - start)
            Parallel.forRanges(count, minimumPerThread: 16) { first, last in
                convert(start + first, last - first, block + first * inFeatures)
            }
            BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: count, k: inFeatures,
                      a: input, lda: inFeatures, b: block, ldb: inFeatures, beta: beta,
                      c: output + start, ldc: outFeatures)
            start += count
        }
    }

    /// Whether single-row products go to OpenBLAS's sgemv instead of the kernel below
    /// (`llama bench` compares the two; `LLAMA_SGEMV=1` selects BLAS).
    nonisolated(unsafe) public static var useBLASForMatrixVector =
        ProcessInfo.processInfo.environment["LLAMA_SGEMV"] == "1"

    /// Whether single-row F32 products use a C kernel (default) or the Swift SIMD kernel
    /// (`LLAMA_MATVEC=swift`, for comparison).
    nonisolated(unsafe) public static var useCMatrixVector =
        ProcessInfo.processInfo.environment["LLAMA_MATVEC"] != "swift"

    /// The C kernels for single-row F32 products.
    public enum MatrixVectorKernel: String, Sendable {
        /// Four neighbouring rows at a time, software prefetch of the next four.
        case prefetch
        /// One row after another: one sequential stream per thread.
        case sequential
        /// Four rows at a time from the four quarters of a thread's rows: four streams.
        case quarters
    }

    /// The kernel single-row F32 products use (`LLAMA_MATVEC=prefetch|sequential|quarters`;
    /// default `quarters`, 40% faster decode than `prefetch` on the 2-core test machine).
    nonisolated(unsafe) public static var matrixVectorKernel =
        MatrixVectorKernel(rawValue: ProcessInfo.processInfo.environment["LLAMA_MATVEC"] ?? "") ?? .quarters

    /// y = W · x for a float32 W: rows split over the cores, four rows per pass so each
    /// load of x feeds four fused multiply-adds, two accumulators per row.
    public static func floatMatrixVector(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                         weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int,
                                         accumulate: Bool) {
        if useCMatrixVector {
            let kernel = matrixVectorKernel, add: Int32 = accumulate ? 1 : 0
            Parallel.forRanges(outFeatures, grain: 4, minimumPerThread: 64) { first, last in
                switch kernel {
                case .prefetch: llama_matvec_f32(weight, input, output, first, last, inFeatures, add)
                case .sequential: llama_matvec_f32_sequential(weight, input, output, first, last, inFeatures, add)
                case .quarters: llama_matvec_f32_quarters(weight, input, output, first, last, inFeatures, add)
                }
            }
            return
        }
        Parallel.forRanges(outFeatures, grain: 4, minimumPerThread: 64) { first, last in
            let rawX = UnsafeRawPointer(input)
            var row = first
            while row + 4 <= last {
                let w0 = UnsafeRawPointer(weight + row * inFeatures), w1 = w0 + inFeatures * 4
                let w2 = w1 + inFeatures * 4, w3 = w2 + inFeatures * 4
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
                var i = 0
                while i + 16 <= inFeatures {
                    let offset = i * 4
                    let x0 = rawX.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    let x1 = rawX.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
                    a0 += w0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * x0
                    b0 += w0.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * x1
                    a1 += w1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * x0
                    b1 += w1.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * x1
                    a2 += w2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * x0
                    b2 += w2.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * x1
                    a3 += w3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * x0
                    b3 += w3.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self) * x1
                    i += 16
                }
                var sums = SIMD4<Float>((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum(), (a3 + b3).sum())
                while i < inFeatures {
                    let x = input[i]
                    sums += SIMD4<Float>(w0.load(fromByteOffset: i * 4, as: Float.self), w1.load(fromByteOffset: i * 4, as: Float.self),
                                         w2.load(fromByteOffset: i * 4, as: Float.self), w3.load(fromByteOffset: i * 4, as: Float.self)) * x
                    i += 1
                }
                for lane in 0..<4 { output[row + lane] = accumulate ? output[row + lane] + sums[lane] : sums[lane] }
                row += 4
            }
            while row < last {
                let total = VectorMath.dot(weight + row * inFeatures, input, inFeatures)
                output[row] = accumulate ? output[row] + total : total
                row += 1
            }
        }
    }

    /// Up to this many rows (a decode step of several sequences) a weight-streaming kernel
    /// beats sgemm, whose packing does not pay off for so few rows.
    public static let smallBatchRows = 8

    /// y[T, out] = x[T, in] · Wᵀ for a few rows T: each weight row is read from memory once
    /// and dotted with every input row while it sits in L1.
    public static func floatSmallBatch(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                       weight: UnsafePointer<Float>, rows: Int, outFeatures: Int, inFeatures: Int,
                                       accumulate: Bool) {
        Parallel.forRanges(outFeatures, grain: 4, minimumPerThread: 64) { first, last in
            for row in first..<last {
                let w = weight + row * inFeatures
                for t in 0..<rows {
                    let total = VectorMath.dot(w, input + t * inFeatures, inFeatures)
                    let y = output + t * outFeatures + row
                    y.pointee = accumulate ? y.pointee + total : total
                }
            }
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

    /// y = x · Wᵀ for Q8_0 or Q4_0 W: each input row is quantized to Q8_0 (as llama.cpp
    /// does), then integer dot products (AVX2 maddubs): for one row four weight rows at a
    /// time, for several rows against groups of eight weight rows repacked so that one
    /// register's lanes hold the eight rows' products (`llama_gemm_*`).
    private static func quantizedForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                         weight: Tensor, rows: Int, accumulate: Bool,
                                         activations: UnsafeMutableRawPointer) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        let blocks = inFeatures / 32
        let quantizedInput = quantizeActivations(input, rows: rows, inFeatures: inFeatures, into: activations)
        let isQ8 = weight.dtype == .q8_0
        if weight.layout == .interleaved8 {
            interleavedForward(output: output, input: UnsafePointer(quantizedInput), weight: weight, rows: rows,
                               accumulate: accumulate)
            return
        }
        let q8 = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: llama_block_q8_0.self))
        let q4 = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: llama_block_q4_0.self))
        if rows == 1 {
            quantizedMatrixVector(output: output, input: UnsafePointer(quantizedInput), weight: weight.rawPointer,
                                  isQ8: isQ8, outFeatures: outFeatures, blocks: blocks, accumulate: accumulate)
            return
        }
        let add: Int32 = accumulate ? 1 : 0
        Parallel.forRanges(outFeatures, grain: 8, minimumPerThread: 16) { first, last in
            if isQ8 { llama_gemm_q8_0_q8_0(blocks, q8, first, last, quantizedInput, rows, output, outFeatures, add) }
            else { llama_gemm_q4_0_q8_0(blocks, q4, first, last, quantizedInput, rows, output, outFeatures, add) }
        }
    }
}

extension Linear {
    /// Input rows quantized to Q8_0 blocks (as llama.cpp does) into `activations`.
    static func quantizeActivations(_ input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                    into activations: UnsafeMutableRawPointer) -> UnsafeMutablePointer<llama_block_q8_0> {
        let blocks = inFeatures / 32
        let quantized = activations.assumingMemoryBound(to: llama_block_q8_0.self)
        Parallel.forRanges(rows, minimumPerThread: 4) { first, last in
            for t in first..<last {
                llama_quantize_row_q8_0(input + t * inFeatures, quantized + t * blocks, inFeatures)
            }
        }
        return quantized
    }

    /// y = x · Wᵀ for an `.interleaved8` Q8_0 / Q4_0 W and Q8_0 activation rows: groups of eight
    /// weight rows split over the cores (`interleavedGroups` on each part).
    static func interleavedForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<llama_block_q8_0>,
                                   weight: Tensor, rows: Int, accumulate: Bool) {
        Parallel.forRanges(weight.shape[0] / 8, minimumPerThread: 2) { first, last in
            interleavedGroups(first..<last, output: output, input: input, weight: weight, rows: rows, accumulate: accumulate)
        }
    }

    /// Groups `groups` of eight rows of an `.interleaved8` Q8_0 / Q4_0 W times Q8_0 activation
    /// rows, on this thread: one row through the lanes-are-rows product (`llama_gemv_*x8`, four
    /// far-apart groups at a time), several through the GEMM.
    static func interleavedGroups(_ groups: Range<Int>, output: UnsafeMutablePointer<Float>,
                                  input: UnsafePointer<llama_block_q8_0>, weight: Tensor, rows: Int, accumulate: Bool) {
        let outFeatures = weight.shape[0], blocks = weight.shape[1] / 32
        let q8 = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: llama_block_q8_0x8.self))
        let q4 = UnsafePointer(weight.rawPointer.assumingMemoryBound(to: llama_block_q4_0x8.self))
        let isQ8 = weight.dtype == .q8_0, add: Int32 = accumulate ? 1 : 0
        let first = groups.lowerBound, last = groups.upperBound
        if rows == 1 {
            if isQ8 { llama_gemv_q8_0x8_q8_0(blocks, q8, first, last, input, output, add) }
            else { llama_gemv_q4_0x8_q8_0(blocks, q4, first, last, input, output, add) }
        } else if isQ8 {
            llama_gemm_q8_0x8_q8_0(blocks, q8, first, last, input, rows, output, outFeatures, add)
        } else {
            llama_gemm_q4_0x8_q8_0(blocks, q4, first, last, input, rows, output, outFeatures, add)
        }
    }

    /// y = W · x for one quantized activation row: each thread takes four rows at a time, one
    /// from each quarter of its range (four weight streams far apart, as the F32 `quarters`
    /// kernel reads them), through the four-row integer dot product.
    static func quantizedMatrixVector(output: UnsafeMutablePointer<Float>, input: UnsafePointer<llama_block_q8_0>,
                                      weight: UnsafeMutableRawPointer, isQ8: Bool, outFeatures: Int, blocks: Int,
                                      accumulate: Bool) {
        let q8 = UnsafePointer(weight.assumingMemoryBound(to: llama_block_q8_0.self))
        let q4 = UnsafePointer(weight.assumingMemoryBound(to: llama_block_q4_0.self))
        // The Q4_0 kernel takes the activation blocks laid out once for all weight rows.
        withUnsafeTemporaryAllocation(of: llama_q4_0_activation.self, capacity: isQ8 ? 1 : blocks) { layout in
        guard let prepared = layout.baseAddress else { return }
        if !isQ8 { llama_prepare_q4_0_activation(blocks, input, prepared) }
        Parallel.forRanges(outFeatures, grain: 4, minimumPerThread: 16) { first, last in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4) { buffer in
                guard let sums = buffer.baseAddress else { return }
                let quarter = (last - first) / 4
                func store(_ row: Int, _ value: Float) { output[row] = accumulate ? output[row] + value : value }
                for j in 0..<quarter {
                    let row = first + j
                    if isQ8 { llama_dot4_q8_0_q8_0(blocks, q8 + row * blocks, quarter * blocks, input, sums) }
                    else { llama_dot4_q4_0_q8_0(blocks, q4 + row * blocks, quarter * blocks, prepared, sums) }
                    for lane in 0..<4 { store(row + lane * quarter, sums[lane]) }
                }
                for row in (first + 4 * quarter)..<last {
                    store(row, isQ8 ? llama_dot_q8_0_q8_0(blocks, q8 + row * blocks, input)
                                    : llama_dot_q4_0_q8_0(blocks, q4 + row * blocks, input))
                }
            }
        }
        }
    }
}

/// Scratch memory reused across `Linear.forward` calls (quantized activations), so the
/// decode loop does not allocate. Not shared between threads that call `forward` at once.
public final class LinearWorkspace: @unchecked Sendable {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int

    public init(bytes: Int = 0) {
        capacity = max(bytes, 64)
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// At least `bytes` bytes of scratch (grown when needed, contents not kept).
    public func reserve(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity {
            buffer.deallocate()
            capacity = bytes
            buffer = .allocate(byteCount: capacity, alignment: 64)
        }
        return buffer
    }
}
