import Foundation
import CLlamaKernels

extension Linear {
    /// Up to this many input rows K-quant products use the integer dot products (default: all);
    /// above it the weights are unpacked to float for sgemm (`LLAMA_KQUANT_INTEGER_ROWS`, for
    /// comparison). On the 2-core test machine the integer products, which unpack each
    /// super-block once for four rows, run a 110M Q4_K_M prompt of 128 tokens at 413–434 tokens/s
    /// against 301–309 unpacked, and 16 sequences decoding together at 180 against 64.
    nonisolated(unsafe) public static var kQuantIntegerRows =
        Int(ProcessInfo.processInfo.environment["LLAMA_KQUANT_INTEGER_ROWS"] ?? "") ?? Int.max

    /// From this many input rows K-quant products unpack each group of eight weight rows once
    /// into registers' lanes (`llama_gemm_q4_k_x8_q8_k`, `_q6_k_`; one core, 2048×768 by 128
    /// rows: Q4_K 176–192 and Q6_K 169 against 73–81 GFLOP/s for the row kernels; even at 12–14
    /// rows). `LLAMA_KQUANT_GROUP_ROWS` overrides.
    nonisolated(unsafe) public static var kQuantGroupRows =
        Int(ProcessInfo.processInfo.environment["LLAMA_KQUANT_GROUP_ROWS"] ?? "") ?? 16

    /// Below this many input rows interleaved Q4_K / Q6_K records are read in place, four rows
    /// at a time against each record (`llama_gemm_q4_kx8_q8_k`); from it on each group of
    /// eight is gathered back to row order for the eight-row unpacking. One core, 512×2048, in
    /// place against gathered: Q4_K 84–152 against 12–95 GFLOP/s at 2–16 rows, 102 against 105
    /// at 32, 170 against 167 at 128. `LLAMA_KQUANT_GATHER_ROWS` overrides.
    nonisolated(unsafe) public static var kQuantGatherRows =
        Int(ProcessInfo.processInfo.environment["LLAMA_KQUANT_GATHER_ROWS"] ?? "") ?? 32

    /// output (=, or += when beta is 1) input · Wᵀ for a Q4_K / Q6_K W (llama.cpp's K-quants,
    /// used as stored): each input row quantized to 256-value blocks (ggml's Q8_K) and multiplied
    /// by integer dot products on the super-blocks, weight rows split over the cores and each
    /// read once for all input rows; above `kQuantIntegerRows` rows, blocks of weight rows
    /// unpacked to float32 (bit for bit as ggml) for sgemm instead.
    static func kQuantForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: Tensor,
                              rows: Int, beta: Float, workspace: LinearWorkspace?) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        let rowBytes = weight.dtype.storageBytes(count: inFeatures)
        let isQ6 = weight.dtype == .q6_K
        let source = UnsafeRawPointer(weight.rawPointer)
        guard rows <= kQuantIntegerRows else {
            convertedProduct(output: output, input: input, rows: rows, outFeatures: outFeatures,
                             inFeatures: inFeatures, beta: beta) { first, count, block in
                if weight.layout == .interleaved8 { weight.dequantizeRows(first..<(first + count), into: block) }
                else if isQ6 { llama_dequantize_row_q6_k(source + first * rowBytes, block, count * inFeatures) }
                else { llama_dequantize_row_q4_k(source + first * rowBytes, block, count * inFeatures) }
            }
            return
        }
        let superblocks = inFeatures / 256
        let space = workspace ?? LinearWorkspace()
        let x = UnsafePointer(quantizeKQuantActivations(input, rows: rows, inFeatures: inFeatures,
                                                        into: space.reserve(bytes: kQuantActivationBytes(rows: rows, inFeatures: inFeatures))))
        let add: Int32 = beta == 0 ? 0 : 1
        if weight.layout == .interleaved8 {
            Parallel.forRanges(outFeatures / 8, minimumPerThread: 2) { first, last in
                kQuantInterleavedGroups(first..<last, output: output, input: x, weight: weight, rows: rows, accumulate: beta != 0)
            }
            return
        }
        let grouped = rows >= kQuantGroupRows
        Parallel.forRanges(outFeatures, grain: grouped ? 8 : 4, minimumPerThread: 16) { first, last in
            var start = first
            if grouped {
                start += isQ6 ? llama_gemm_q6_k_x8_q8_k(superblocks, source, first, last, x, rows, output, outFeatures, add)
                    : llama_gemm_q4_k_x8_q8_k(superblocks, source, first, last, x, rows, output, outFeatures, add)
            }
            guard start < last else { return }
            if isQ6 { llama_gemm_q6_k_q8_k(superblocks, source, start, last, x, rows, output, outFeatures, add) }
            else { llama_gemm_q4_k_q8_k(superblocks, source, start, last, x, rows, output, outFeatures, add) }
        }
    }

    /// Bytes of `rows` input rows as Q8_K blocks.
    static func kQuantActivationBytes(rows: Int, inFeatures: Int) -> Int {
        rows * (inFeatures / 256) * MemoryLayout<llama_block_q8_k>.stride
    }

    /// Input rows quantized to 256-value int8 blocks with the sums of every 16 (ggml's Q8_K).
    static func quantizeKQuantActivations(_ input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                          into activations: UnsafeMutableRawPointer) -> UnsafeMutablePointer<llama_block_q8_k> {
        let superblocks = inFeatures / 256
        let quantized = activations.bindMemory(to: llama_block_q8_k.self, capacity: rows * superblocks)
        for t in 0..<rows { llama_quantize_row_q8_k(input + t * inFeatures, quantized + t * superblocks, inFeatures) }
        return quantized
    }

    /// Groups `groups` of eight rows of an `.interleaved8` Q4_K / Q6_K W times Q8_K activation rows,
    /// on this thread (llama_kquant_x8_products.c): the lanes-are-rows kernels on the records in
    /// place, or from kQuantGatherRows rows on the groups gathered back.
    static func kQuantInterleavedGroups(_ groups: Range<Int>, output: UnsafeMutablePointer<Float>,
                                        input x: UnsafePointer<llama_block_q8_k>, weight: Tensor, rows: Int, accumulate: Bool) {
        let outFeatures = weight.shape[0], superblocks = weight.shape[1] / 256
        let source = UnsafeRawPointer(weight.rawPointer), add: Int32 = accumulate ? 1 : 0
        let first = groups.lowerBound, last = groups.upperBound
        switch (rows == 1, weight.dtype == .q6_K) {
        case (true, false): llama_gemv_q4_kx8_q8_k(superblocks, source, first, last, x, output, add)
        case (true, true): llama_gemv_q6_kx8_q8_k(superblocks, source, first, last, x, output, add)
        case (false, false):
            llama_gemm_q4_kx8_q8_k(superblocks, source, first, last, x, rows, output, outFeatures, add, kQuantGatherRows)
        case (false, true):
            llama_gemm_q6_kx8_q8_k(superblocks, source, first, last, x, rows, output, outFeatures, add, kQuantGatherRows)
        }
    }
}
