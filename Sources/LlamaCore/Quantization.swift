import CLlamaKernels

/// GGML's Q8_0 and Q4_0 quantization (the block layouts of GGUF files), bit-exact with
/// llama.cpp's reference quantizers (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`).
public enum Quantization {
    /// A quantized copy of float32 `tensor` (its last dimension a multiple of 32).
    public static func quantize(_ tensor: Tensor, to dtype: DType) -> Tensor {
        precondition(dtype.hasBlocksOf32, "\(dtype.rawValue) is not Q8_0 or Q4_0")
        precondition(tensor.count % 32 == 0, "quantized tensors hold whole blocks of 32")
        let source = tensor.dtype == .f32 ? tensor : tensor.float32Copy()
        let result = Tensor(zeros: tensor.shape, dtype: dtype)
        let rows = tensor.count / 32
        Parallel.forRanges(rows, minimumPerThread: 1024) { first, last in
            let input = source.floats + first * 32, count = (last - first) * 32
            switch dtype {
            case .q8_0:
                llama_quantize_row_q8_0(input, result.rawPointer.assumingMemoryBound(to: llama_block_q8_0.self) + first, count)
            default:
                llama_quantize_row_q4_0(input, result.rawPointer.assumingMemoryBound(to: llama_block_q4_0.self) + first, count)
            }
        }
        return result
    }

    /// Whether a (rows, columns) matrix can be stored in quantized blocks.
    public static func canQuantize(shape: [Int]) -> Bool {
        shape.count == 2 && shape[1] % 32 == 0
    }
}
