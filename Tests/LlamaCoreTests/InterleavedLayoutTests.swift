import Foundation
import XCTest
@testable import LlamaCore

/// Quantized matrices held with eight rows interleaved (`BlockLayout.interleaved8`): the same
/// values, products equal to exact integer math on the GGML blocks, and GGML's row order
/// whenever bytes leave memory.
final class InterleavedLayoutTests: XCTestCase {
    private func matrix(rows: Int, columns: Int, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor(shape: [rows, columns], values: (0..<(rows * columns)).map { _ in (generator.nextFloat() - 0.5) * 2 })
    }

    func testInterleavedCopyKeepsValuesAndWritesRowOrder() throws {
        for dtype in [DType.q8_0, .q4_0] {
            let original = Quantization.quantize(matrix(rows: 24, columns: 96, seed: 3), to: dtype)
            let copy = try XCTUnwrap(TensorArena.copies(of: [original], interleaving: [original]).first)
            XCTAssertEqual(copy.layout, .interleaved8)
            XCTAssertEqual(copy.byteCount, original.byteCount)
            // Block 0 of row 1 sits second in the first record: its scale is the record's second half.
            let scale = copy.rawPointer.load(fromByteOffset: 2, as: UInt16.self)
            let rowBytes = dtype.storageBytes(count: 96)
            XCTAssertEqual(scale, original.rawPointer.load(fromByteOffset: rowBytes, as: UInt16.self))
            XCTAssertNotEqual(Data(bytes: copy.rawPointer, count: copy.byteCount), Data(bytes: original.rawPointer, count: original.byteCount))
            XCTAssertEqual(copy.toFloatArray(), original.toFloatArray(), dtype.rawValue)
            XCTAssertEqual(copy.float32Copy().toFloatArray(), original.toFloatArray(), dtype.rawValue)
            let back = copy.rowMajor()
            XCTAssertEqual(back.layout, .rows)
            XCTAssertEqual(Data(bytes: back.rawPointer, count: back.byteCount), Data(bytes: original.rawPointer, count: original.byteCount))
            // A resident copy of an interleaved tensor stays interleaved.
            XCTAssertEqual(copy.residentCopy().layout, .interleaved8)
            XCTAssertEqual(copy.residentCopy().toFloatArray(), original.toFloatArray())
            // Files get GGML's order back.
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("interleaved-\(UUID().uuidString).gguf").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try GGUFWriter.write(path: path, metadata: [], tensors: [("w", copy)])
            let read = try GGUFFile(path: path).tensor("w")
            XCTAssertEqual(Data(bytes: read.rawPointer, count: read.byteCount), Data(bytes: original.rawPointer, count: original.byteCount))
        }
        // Matrices whose rows do not fill groups of eight, and float ones, keep their layout.
        let odd = Quantization.quantize(matrix(rows: 13, columns: 32, seed: 4), to: .q4_0)
        let plain = matrix(rows: 8, columns: 32, seed: 5)
        let copies = TensorArena.copies(of: [odd, plain], interleaving: [odd, plain])
        XCTAssertEqual(copies.map(\.layout), [.rows, .rows])
    }

    /// Every path through `Linear.forward` on interleaved weights (one row, a few rows through
    /// the GEMM, many rows unpacked to sgemm; = and +=) against float64 sums of the dequantized
    /// weights times the activations as the kernels see them (Q8_0-rounded for integer paths).
    func testInterleavedLinearEqualsExactIntegerMath() throws {
        var generator = SeededGenerator(seed: 29)
        let inFeatures = 160, prefillRows = Linear.quantizedIntegerRows + 3
        let input = (0..<(prefillRows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 3 }
        let rounded = Quantization.quantize(Tensor(shape: [prefillRows, inFeatures], values: input), to: .q8_0).toFloatArray()
        // 8 rows: one group; 72: nine groups, so a thread has four far-apart groups and leftovers.
        for outFeatures in [8, 72] {
            for dtype in [DType.q8_0, .q4_0] {
                let original = Quantization.quantize(matrix(rows: outFeatures, columns: inFeatures, seed: 7), to: dtype)
                let weight = try XCTUnwrap(TensorArena.copies(of: [original], interleaving: [original]).first)
                XCTAssertEqual(weight.layout, .interleaved8)
                let values = original.toFloatArray()
                let cases: [(Int, Linear.QuantizedProduct)] = [(1, .integer), (5, .integer), (prefillRows, .integer),
                                                               (prefillRows, .unpacked)]
                for (count, product) in cases {
                    for accumulate in [false, true] {
                        Linear.quantizedProduct = product
                        defer { Linear.quantizedProduct = .integer }
                        var output = [Float](repeating: 0.25, count: count * outFeatures)
                        Linear.forward(output: &output, input: input, weight: weight, rows: count, accumulate: accumulate)
                        let seen = count > Linear.quantizedIntegerRows && product == .unpacked ? input : rounded
                        for t in 0..<count {
                            for o in 0..<outFeatures {
                                var sum = accumulate ? 0.25 : 0.0
                                for i in 0..<inFeatures { sum += Double(values[o * inFeatures + i]) * Double(seen[t * inFeatures + i]) }
                                XCTAssertEqual(Double(output[t * outFeatures + o]), sum, accuracy: 1e-4,
                                               "\(dtype) \(outFeatures) rows \(product) \(count) accumulate \(accumulate) row \(t) out \(o)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The interleaved GEMM takes activation rows in chunks that stay in L2 (60 rows of 4096
    /// values); 67 rows span two chunks and end in a tile of three.
    func testInterleavedProductAcrossActivationChunks() throws {
        var generator = SeededGenerator(seed: 31)
        let inFeatures = 4096, rows = 67, outFeatures = 16
        let input = (0..<(rows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 3 }
        let rounded = Quantization.quantize(Tensor(shape: [rows, inFeatures], values: input), to: .q8_0).toFloatArray()
        for dtype in [DType.q8_0, .q4_0] {
            let original = Quantization.quantize(matrix(rows: outFeatures, columns: inFeatures, seed: 5), to: dtype)
            let weight = try XCTUnwrap(TensorArena.copies(of: [original], interleaving: [original]).first)
            XCTAssertEqual(weight.layout, .interleaved8)
            let values = original.toFloatArray()
            var output = [Float](repeating: 0, count: rows * outFeatures)
            Linear.forward(output: &output, input: input, weight: weight, rows: rows)
            for t in 0..<rows {
                for o in 0..<outFeatures {
                    var sum = 0.0
                    for i in 0..<inFeatures { sum += Double(values[o * inFeatures + i]) * Double(rounded[t * inFeatures + i]) }
                    XCTAssertEqual(Double(output[t * outFeatures + o]), sum, accuracy: 1e-3 * max(1, abs(sum)), "\(dtype) row \(t) out \(o)")
                }
            }
        }
    }

    /// Weights that share their input (q/k/v, gate/up) in one region: three interleaved
    /// matrices of both types and unequal heights, split over the cores mid-matrix, against
    /// float64 sums for one row, a few rows and many rows (integer and unpacked); and with a
    /// row-order weight among them, one `forward` per weight. Each output equals the single
    /// product's bit for bit.
    func testSharedInputProductsEqualExactIntegerMath() throws {
        var generator = SeededGenerator(seed: 37)
        let inFeatures = 96, prefillRows = Linear.quantizedIntegerRows + 3
        let input = (0..<(prefillRows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 3 }
        let rounded = Quantization.quantize(Tensor(shape: [prefillRows, inFeatures], values: input), to: .q8_0).toFloatArray()
        let originals = [(DType.q4_0, 24), (.q8_0, 40), (.q4_0, 16)].enumerated().map { index, shape in
            Quantization.quantize(matrix(rows: shape.1, columns: inFeatures, seed: UInt64(11 + index)), to: shape.0)
        }
        let interleaved = TensorArena.copies(of: originals, interleaving: originals)
        XCTAssertEqual(interleaved.map(\.layout), [.interleaved8, .interleaved8, .interleaved8])
        let workspace = LinearWorkspace()
        for weights in [interleaved, [interleaved[0], originals[1], interleaved[2]]] {
            for (count, product) in [(1, Linear.QuantizedProduct.integer), (5, .integer), (prefillRows, .integer),
                                     (prefillRows, .unpacked)] {
                Linear.quantizedProduct = product
                defer { Linear.quantizedProduct = .integer }
                let outputs = sharedInputProducts(input, rows: count, weights: weights, workspace: workspace)
                let seen = count > Linear.quantizedIntegerRows && product == .unpacked ? input : rounded
                for (m, weight) in weights.enumerated() {
                    let values = weight.toFloatArray(), outFeatures = weight.shape[0]
                    var single = [Float](repeating: 0, count: count * outFeatures)
                    Linear.forward(output: &single, input: input, weight: weight, rows: count)
                    XCTAssertEqual(outputs[m], single, "weight \(m) \(product) \(count) rows")
                    for t in 0..<count {
                        for o in 0..<outFeatures {
                            var sum = 0.0
                            for i in 0..<inFeatures { sum += Double(values[o * inFeatures + i]) * Double(seen[t * inFeatures + i]) }
                            XCTAssertEqual(Double(outputs[m][t * outFeatures + o]), sum, accuracy: 1e-4,
                                           "weight \(m) \(product) \(count) rows, row \(t) out \(o)")
                        }
                    }
                }
            }
        }
    }
}
