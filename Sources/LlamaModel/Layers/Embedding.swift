import LlamaCore

/// Token embedding lookup: row `token` of the (vocab, dim) table, converted to float32.
public enum Embedding {
    /// output[T, dim] = table[tokens[t]] for each t. Ids must already be validated.
    public static func forward(output: UnsafeMutablePointer<Float>, tokens: UnsafeBufferPointer<Int32>, table: Tensor) {
        let dimension = table.shape[1]
        for (t, token) in tokens.enumerated() {
            if table.layout == .interleaved8 {
                table.dequantizeRows(Int(token)..<(Int(token) + 1), into: output + t * dimension)
                continue
            }
            let source = table.rawPointer + table.dtype.storageBytes(count: Int(token) * dimension)
            convertToFloat(source, dtype: table.dtype, count: dimension, into: output + t * dimension)
        }
    }
}

extension Embedding {
    /// tableGradient[tokens[t]] += outputGradient[t] for each t (rows in order, so repeated
    /// ids sum deterministically).
    ///
    /// - outputGradient: (T, dim). - tableGradient: (vocab, dim) float32.
    public static func backward(outputGradient: UnsafePointer<Float>, tokens: UnsafeBufferPointer<Int32>, tableGradient: Tensor) {
        let dimension = tableGradient.shape[1]
        let table = tableGradient.floats
        for (t, token) in tokens.enumerated() {
            VectorMath.axpy(1, outputGradient + t * dimension, table + Int(token) * dimension, dimension)
        }
    }
}
