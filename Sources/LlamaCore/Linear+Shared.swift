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
    /// every weight is an `.interleaved8` matrix on integer products (Q8_0 / Q4_0, Q4_K / Q6_K,
    /// mixed as llama.cpp's Q4_K_M files mix them), the input is quantized once per activation
    /// format and the weights' groups of eight rows, end to end, are split over the cores in one
    /// parallel region instead of one per weight, so a decode step waits for its slowest core at
    /// fewer region ends (110M Q4_0, 400 tokens, ten alternating runs: decode median 318 against
    /// 307 tokens/s, 8 of 10 pairs faster). Otherwise one `forward` per weight.
    public static func forward(input: UnsafePointer<Float>, rows: Int, workspace: LinearWorkspace,
                               products: Product...) {
        guard let inFeatures = products.first?.weight.shape[1] else { return }
        let shared = products.allSatisfy { product in
            let weight = product.weight
            guard weight.layout == .interleaved8, weight.shape[1] == inFeatures else { return false }
            switch weight.dtype {
            case .q8_0, .q4_0: return rows <= quantizedIntegerRows || quantizedProduct == .integer
            case .q4_K, .q6_K: return rows <= kQuantIntegerRows
            default: return false
            }
        }
        guard shared else {
            for product in products {
                forward(output: product.output, input: input, weight: product.weight, rows: rows, workspace: workspace)
            }
            return
        }
        let isKQuant = { (weight: Tensor) in weight.dtype == .q4_K || weight.dtype == .q6_K }
        // Q8_0 activations first in the workspace, then Q8_K ones (each only if a weight takes it).
        let blockBytes = products.contains { !isKQuant($0.weight) } ? rows * inFeatures / 32 * MemoryLayout<llama_block_q8_0>.stride : 0
        let kQuantBytes = products.contains { isKQuant($0.weight) } ? kQuantActivationBytes(rows: rows, inFeatures: inFeatures) : 0
        let space = workspace.reserve(bytes: blockBytes + kQuantBytes + 64)
        let blocks = UnsafePointer(quantizeActivations(input, rows: blockBytes > 0 ? rows : 0, inFeatures: inFeatures, into: space))
        let superblocks = UnsafePointer(quantizeKQuantActivations(input, rows: kQuantBytes > 0 ? rows : 0, inFeatures: inFeatures,
                                                                  into: space + (blockBytes + 63) / 64 * 64))
        let groups = products.reduce(0) { $0 + $1.weight.shape[0] / 8 }
        Parallel.forRanges(groups, minimumPerThread: 2) { first, last in
            var offset = 0
            for product in products {
                let count = product.weight.shape[0] / 8
                let low = max(first, offset) - offset, high = min(last, offset + count) - offset
                offset += count
                guard low < high else { continue }
                if isKQuant(product.weight) {
                    kQuantInterleavedGroups(low..<high, output: product.output, input: superblocks, weight: product.weight,
                                            rows: rows, accumulate: false)
                } else {
                    interleavedGroups(low..<high, output: product.output, input: blocks, weight: product.weight,
                                      rows: rows, accumulate: false)
                }
            }
        }
    }
}
