import CLlamaKernels

/// The order of a quantized matrix's blocks in memory.
public enum BlockLayout: Sendable {
    /// GGML's: row after row, each row its blocks in order (what files hold).
    case rows
    /// Eight rows interleaved block by block (`llama_block_q4_0x8` / `llama_block_q8_0x8`; Q4_K /
    /// Q6_K: 1152- / 1680-byte records of eight super-blocks, see llama_kquant_x8.c), the layout llama.cpp's
    /// CPU backend repacks to at load: one record holds block i of eight rows, their scales
    /// together and their values in 4-byte chunks row by row, so the integer kernels take the
    /// eight rows' products in the lanes of one register. A permutation of the bytes, only in
    /// memory: files are written with `.rows` (see `rowMajor()`).
    case interleaved8
}

extension Tensor {
    /// Whether a tensor of this shape and type can be held `.interleaved8`: a Q8_0, Q4_0, Q4_K
    /// or Q6_K matrix of whole blocks whose row count is a multiple of eight (K-quants only where
    /// the kernels read their records in place: x86 with AVX2).
    public static func canInterleave(shape: [Int], dtype: DType) -> Bool {
        (dtype.hasBlocksOf32 || (dtype.isKQuant && llama_kquant_x8_reads_in_place() != 0)) && shape.count == 2 && shape[0] % 8 == 0 && shape[1] % dtype.blockSize == 0
    }

    /// Writes this `.rows` tensor's bytes to `destination` (`byteCount` bytes) interleaved.
    func writeInterleaved(to destination: UnsafeMutableRawPointer) {
        precondition(layout == .rows && Self.canInterleave(shape: shape, dtype: dtype), "not an interleavable Q8_0/Q4_0/Q4_K/Q6_K matrix")
        let rows = shape[0], blocks = shape[1] / dtype.blockSize
        if dtype == .q4_K {
            llama_interleave_q4_k(rawPointer, destination, rows, blocks)
        } else if dtype == .q6_K {
            llama_interleave_q6_k(rawPointer, destination, rows, blocks)
        } else if dtype == .q8_0 {
            llama_interleave_q8_0(rawPointer.assumingMemoryBound(to: llama_block_q8_0.self),
                                  destination.assumingMemoryBound(to: llama_block_q8_0x8.self), rows, blocks)
        } else {
            llama_interleave_q4_0(rawPointer.assumingMemoryBound(to: llama_block_q4_0.self),
                                  destination.assumingMemoryBound(to: llama_block_q4_0x8.self), rows, blocks)
        }
    }

    /// This tensor with its blocks in GGML's row order: itself when it already is, else a copy.
    public func rowMajor() -> Tensor {
        guard layout == .interleaved8 else { return self }
        let copy = Tensor(zeros: shape, dtype: dtype)
        let rows = shape[0], blocks = shape[1] / dtype.blockSize
        if dtype == .q4_K {
            llama_deinterleave_q4_k(rawPointer, copy.rawPointer, rows, blocks)
        } else if dtype == .q6_K {
            llama_deinterleave_q6_k(rawPointer, copy.rawPointer, rows, blocks)
        } else if dtype == .q8_0 {
            llama_deinterleave_q8_0(rawPointer.assumingMemoryBound(to: llama_block_q8_0x8.self),
                                    copy.rawPointer.assumingMemoryBound(to: llama_block_q8_0.self), rows, blocks)
        } else {
            llama_deinterleave_q4_0(rawPointer.assumingMemoryBound(to: llama_block_q4_0x8.self),
                                    copy.rawPointer.assumingMemoryBound(to: llama_block_q4_0.self), rows, blocks)
        }
        return copy
    }

    /// Rows `range` of an `.interleaved8` matrix as floats, row after row.
    public func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(layout == .interleaved8, "dequantizeRows reads interleaved matrices")
        let blocks = shape[1] / dtype.blockSize
        if dtype == .q4_K {
            llama_dequantize_q4_kx8_rows(rawPointer, blocks, range.lowerBound, range.upperBound, destination)
        } else if dtype == .q6_K {
            llama_dequantize_q6_kx8_rows(rawPointer, blocks, range.lowerBound, range.upperBound, destination)
        } else if dtype == .q8_0 {
            llama_dequantize_q8_0x8_rows(rawPointer.assumingMemoryBound(to: llama_block_q8_0x8.self), blocks,
                                         range.lowerBound, range.upperBound, destination)
        } else {
            llama_dequantize_q4_0x8_rows(rawPointer.assumingMemoryBound(to: llama_block_q4_0x8.self), blocks,
                                         range.lowerBound, range.upperBound, destination)
        }
    }
}
