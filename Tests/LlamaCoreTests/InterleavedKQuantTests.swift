import Foundation
import XCTest
import CLlamaKernels
@testable import LlamaCore

/// Q4_K and Q6_K matrices held `.interleaved8` (eight rows' super-blocks permuted into one
/// record): the same values, GGML's bytes back whenever they leave memory, and products on every
/// path equal to float64 sums of the values times the activations as the kernels see them.
final class InterleavedKQuantTests: XCTestCase {
    /// Random super-blocks (any scale and value bytes) with small d (Q4_K: and dmin), as the
    /// `gguf` package's test data in GGUFTests.
    private func randomKQuant(_ dtype: DType, rows: Int, columns: Int, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let tensor = Tensor(zeros: [rows, columns], dtype: dtype)
        let bytes = tensor.rawPointer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<tensor.byteCount { bytes[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let blockBytes = dtype.storageBytes(count: 256), halves = dtype == .q4_K ? [0, 2] : [208]
        for block in 0..<(tensor.byteCount / blockBytes) {
            for offset in halves {
                let half = Float16((generator.nextFloat() - 0.5) * 0.02).bitPattern
                tensor.rawPointer.storeBytes(of: half, toByteOffset: block * blockBytes + offset, as: UInt16.self)
            }
        }
        return tensor
    }

    override func setUpWithError() throws {
        // Elsewhere K-quant matrices stay in row order (scripts/check-kernels.sh checks those kernels).
        try XCTSkipUnless(llama_kquant_x8_reads_in_place() != 0, "K-quants are interleaved only in AVX2 builds")
    }

    func testInterleavedKQuantsKeepValuesAndBytes() throws {
        // Where row 1's d lands: the record's second half (both types put the eight d first).
        for (dtype, dOffset) in [(DType.q4_K, 0), (.q6_K, 208)] {
            let original = randomKQuant(dtype, rows: 24, columns: 512, seed: 3)
            let blockBytes = dtype.storageBytes(count: 256)
            let copy = try XCTUnwrap(TensorArena.copies(of: [original], interleaving: [original]).first)
            XCTAssertEqual(copy.layout, .interleaved8)
            XCTAssertEqual(copy.byteCount, original.byteCount)
            XCTAssertNotEqual(Data(bytes: copy.rawPointer, count: copy.byteCount), Data(bytes: original.rawPointer, count: original.byteCount))
            // Row 1's first super-block is two rows of 512 values further on: 2 · blockBytes.
            XCTAssertEqual(copy.rawPointer.load(fromByteOffset: 2, as: UInt16.self),
                           original.rawPointer.load(fromByteOffset: 2 * blockBytes + dOffset, as: UInt16.self), "\(dtype)")
            XCTAssertEqual(copy.toFloatArray(), original.toFloatArray(), "\(dtype)")
            let back = copy.rowMajor()
            XCTAssertEqual(back.layout, .rows)
            XCTAssertEqual(Data(bytes: back.rawPointer, count: back.byteCount), Data(bytes: original.rawPointer, count: original.byteCount))
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("kq-\(UUID().uuidString).gguf").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try GGUFWriter.write(path: path, metadata: [], tensors: [("w", copy)])
            let read = try GGUFFile(path: path).tensor("w")
            XCTAssertEqual(Data(bytes: read.rawPointer, count: read.byteCount), Data(bytes: original.rawPointer, count: original.byteCount))
            // Row counts that do not fill groups of eight keep their layout.
            let odd = randomKQuant(dtype, rows: 12, columns: 256, seed: 4)
            XCTAssertEqual(TensorArena.copies(of: [odd], interleaving: [odd]).map(\.layout), [.rows])
        }
    }

    /// One row (the lanes-are-rows kernel: four far-apart groups and a leftover among five),
    /// a few rows (records in place, four at a time and the rest), the groups gathered back to
    /// row order from one row on (eight-row unpacking), and the weights unpacked to float for
    /// sgemm above a limit of 3 rows.
    func testInterleavedQ4KLinearEqualsExactMath() throws {
        try checkLinearEqualsExactMath(.q4_K)
    }

    func testInterleavedQ6KLinearEqualsExactMath() throws {
        try checkLinearEqualsExactMath(.q6_K)
    }

    private func checkLinearEqualsExactMath(_ dtype: DType) throws {
        let inFeatures = 512, outFeatures = 40, maximumRows = 17
        let original = randomKQuant(dtype, rows: outFeatures, columns: inFeatures, seed: 7)
        let weight = try XCTUnwrap(TensorArena.copies(of: [original], interleaving: [original]).first)
        XCTAssertEqual(weight.layout, .interleaved8)
        let values = original.toFloatArray()
        var generator = SeededGenerator(seed: 13)
        let input = (0..<(maximumRows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 4 }
        let rounded = roundedToQ8K(input)
        let saved = (Linear.kQuantIntegerRows, Linear.kQuantGatherRows)
        defer { (Linear.kQuantIntegerRows, Linear.kQuantGatherRows) = saved }
        for (limit, gatherRows) in [(Int.max, saved.1), (Int.max, 1), (3, saved.1)] {
            (Linear.kQuantIntegerRows, Linear.kQuantGatherRows) = (limit, gatherRows)
            for rows in [1, 3, 5, 6, maximumRows] {
                for accumulate in [false, true] {
                    var result = [Float](repeating: 0.5, count: rows * outFeatures)
                    Linear.forward(output: &result, input: input, weight: weight, rows: rows, accumulate: accumulate)
                    let seen = rows > limit ? input : rounded
                    for t in 0..<rows {
                        for o in 0..<outFeatures {
                            var sum = accumulate ? 0.5 : 0.0
                            for i in 0..<inFeatures { sum += Double(values[o * inFeatures + i]) * Double(seen[t * inFeatures + i]) }
                            XCTAssertEqual(Double(result[t * outFeatures + o]), sum, accuracy: 1e-3 * max(1, abs(sum)),
                                           "\(dtype) limit \(limit) gathered from \(gatherRows) rows \(rows) accumulate \(accumulate) row \(t) out \(o)")
                        }
                    }
                }
            }
        }
    }

    /// The activations as the K-quant integer kernels see them: per 256 values, d = max|x| / 127,
    /// q = round(x / d).
    private func roundedToQ8K(_ input: [Float]) -> [Float] {
        var rounded = input
        for start in stride(from: 0, to: input.count, by: 256) {
            let d = Double(input[start..<(start + 256)].map { abs($0) }.max() ?? 0) / 127
            for i in start..<(start + 256) { rounded[i] = Float(d == 0 ? 0 : (Double(input[i]) / d).rounded() * d) }
        }
        return rounded
    }

    /// Weights that share their input in one region, mixed as a Q4_K_M file mixes them (Q4_K,
    /// Q6_K, and a Q4_0 taking Q8_0 activations), split over the cores mid-matrix: against float64
    /// sums for one, a few and many rows, and bit for bit the single products.
    func testSharedInputKQuantProductsEqualExactMath() throws {
        let inFeatures = 512, rows = 17
        let originals = [randomKQuant(.q4_K, rows: 24, columns: inFeatures, seed: 21),
                         randomKQuant(.q6_K, rows: 40, columns: inFeatures, seed: 22),
                         Quantization.quantize(Tensor(shape: [16, inFeatures], values: randomKQuant(.q4_K, rows: 16, columns: inFeatures,
                                                                                                   seed: 23).toFloatArray()), to: .q4_0)]
        let weights = TensorArena.copies(of: originals, interleaving: originals)
        XCTAssertEqual(weights.map(\.layout), [.interleaved8, .interleaved8, .interleaved8])
        var generator = SeededGenerator(seed: 19)
        let input = (0..<(rows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 4 }
        let seen = [roundedToQ8K(input), roundedToQ8K(input),
                    Quantization.quantize(Tensor(shape: [rows, inFeatures], values: input), to: .q8_0).toFloatArray()]
        let workspace = LinearWorkspace()
        for count in [1, 5, rows] {
            let heights = weights.map { $0.shape[0] }
            let outputs = sharedInputProducts(input, rows: count, weights: weights, workspace: workspace)
            for (m, weight) in weights.enumerated() {
                let output = outputs[m]
                var single = [Float](repeating: 0, count: count * heights[m])
                Linear.forward(output: &single, input: input, weight: weight, rows: count)
                XCTAssertEqual(output, single, "weight \(m), \(count) rows")
                let values = originals[m].toFloatArray()
                for t in 0..<count {
                    for o in 0..<heights[m] {
                        var sum = 0.0
                        for i in 0..<inFeatures { sum += Double(values[o * inFeatures + i]) * Double(seen[m][t * inFeatures + i]) }
                        XCTAssertEqual(Double(output[t * heights[m] + o]), sum, accuracy: 1e-3 * max(1, abs(sum)),
                                       "weight \(m), \(count) rows, row \(t) out \(o)")
                    }
                }
            }
        }
    }
}
