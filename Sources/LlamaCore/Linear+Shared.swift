import CLlamaKernels

extension Linear {
    /// One weight of a set that multiplies the same input (`forward(input:rows:workspace:products:)`).
    public struct Product {
        public let output: UnsafeMutablePointer<Float>
        public let weight: Tensor

        public init(output: UnsafeMutablePointer<Float>, weight: Tensor) {
            self.output = output
            self.weight = weight
        }
    }

    /// output_i = input · W_iᵀ for weights that share their input (a layer's query, key and
    /// value projections; its gate and up projections), equal to one `forward` per weight. When
    /// every weight is an `.interleaved8` Q8_0 / Q4_0 matrix taking integer products, the input
    /// is quantized once and the weights' groups of eight rows are split over the cores in one
    /// parallel region instead of one per weight, so a decode step waits for its slowest core
    /// at a third fewer region ends (110M Q4_0, 400 tokens, ten alternating runs: decode median
    /// 318 against 307 tokens/s, 8 of 10 pairs faster). Otherwise one `forward` per weight.
    public static func forward(input: UnsafePointer<Float>, rows: Int, workspace: LinearWorkspace,
                               products: Product...) {
        guard let inFeatures = products.first?.weight.shape[1] else { return }
        let shared = products.allSatisfy { product in
            let weight = product.weight
            return weight.layout == .interleaved8 && (weight.dtype == .q8_0 || weight.dtype == .q4_0)
                && weight.shape[1] == inFeatures && (rows <= quantizedIntegerRows || quantizedProduct == .integer)
        }
        guard shared else {
            for product in products {
                forward(output: product.output, input: input, weight: product.weight, rows: rows, workspace: workspace)
            }
            return
        }
        let activations = workspace.reserve(bytes: rows * inFeatures / 32 * MemoryLayout<llama_block_q8_0>.stride)
        let quantized = UnsafePointer(quantizeActivations(input, rows: rows, inFeatures: inFeatures, into: activations))
        let groups = products.reduce(0) { $0 + $1.weight.shape[0] / 8 }
        Parallel.forRanges(groups, minimumPerThread: 2) { first, last in
            var offset = 0
            for product in products {
                let count = product.weight.shape[0] / 8
                let low = max(first, offset) - offset, high = min(last, offset + count) - offset
                offset += count
                if low < high {
                    interleavedGroups(low..<high, output: product.output, input: quantized, weight: product.weight,
                                      rows: rows, accumulate: false)
                }
            }
        }
    }
}
