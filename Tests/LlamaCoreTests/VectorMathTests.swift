import Foundation
import XCTest
@testable import LlamaCore

/// The SIMD kernels against plain scalar loops.
final class VectorMathTests: XCTestCase {
    func testExpMatchesLibmWithinTwoUlps() {
        var worst: Float = 0
        var x: Float = -80
        while x < 80 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0137 })
            let result = VectorMath.exp(lanes)
            for lane in 0..<8 {
                let expected = Foundation.exp(Double(lanes[lane]))
                worst = max(worst, Float(abs(Double(result[lane]) - expected) / expected))
            }
            x += 0.11
        }
        XCTAssertLessThan(worst, 3e-7, "relative error of the vector exp")
        // Out of range inputs saturate (softmax feeds −∞ for masked scores).
        let extremes = VectorMath.exp(SIMD8<Float>(-.infinity, -200, -87.3, 0, 1, 88.3, 200, .infinity))
        XCTAssertEqual(extremes[0], extremes[1])
        XCTAssertLessThan(extremes[0], 1.3e-38)
        XCTAssertGreaterThanOrEqual(extremes[0], 0)
        XCTAssertEqual(extremes[3], 1)
        XCTAssertEqual(Double(extremes[4]), M_E, accuracy: 1e-6)
        XCTAssertEqual(extremes[5], extremes[6])
        XCTAssertEqual(extremes[6], extremes[7])
        XCTAssertTrue(extremes[7].isFinite && extremes[7] > 2e38)
    }

    func testDotAxpyAndSoftmaxAgainstLoops() {
        var generator = SeededGenerator(seed: 3)
        for count in [1, 7, 8, 31, 32, 33, 100, 1027] {
            let a = (0..<count).map { _ in generator.nextFloat() - 0.5 }
            let b = (0..<count).map { _ in generator.nextFloat() - 0.5 }
            let expected = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(Double(VectorMath.dot(a, b, count)), expected, accuracy: 1e-5)
            var y = b
            VectorMath.axpy(0.75, a, &y, count)
            for i in 0..<count { XCTAssertEqual(y[i], b[i] + 0.75 * a[i], accuracy: 1e-6) }
            var e = a
            let total = VectorMath.expSubtracting(&e, 0.25, count)
            let reference = a.map { Foundation.exp(Double($0) - 0.25) }
            XCTAssertEqual(Double(total), reference.reduce(0, +), accuracy: 1e-4)
            for i in 0..<count { XCTAssertEqual(Double(e[i]), reference[i], accuracy: 1e-6) }
        }
    }

    func testLogSumExpAgainstFloat64() {
        var generator = SeededGenerator(seed: 5)
        // Logit-like values (a 32000 vocabulary among them), lengths around the 8-lane and
        // 512-element runs, one masked (−∞) entry.
        for count in [1, 7, 8, 9, 511, 512, 513, 1027, 32000] {
            var x = (0..<count).map { _ in (generator.nextFloat() - 0.5) * 60 }
            if count > 3 { x[count / 2] = -.infinity }
            let maximum = Double(x.max() ?? 0)
            let reference = maximum + Foundation.log(x.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) })
            XCTAssertEqual(Double(VectorMath.logSumExp(x, count)), reference, accuracy: 1e-5, "count \(count)")
        }
        XCTAssertEqual(VectorMath.logSumExp([Float](repeating: -.infinity, count: 10), 10), -.infinity)
        XCTAssertEqual(VectorMath.logSumExp([], 0), -.infinity)
        // log(e^0 · 16) = 4 ln 2.
        XCTAssertEqual(Double(VectorMath.logSumExp([Float](repeating: 0, count: 16), 16)), 4 * M_LN2, accuracy: 1e-6)
    }

    /// The maximum and the first index holding it, against a scalar scan: a tie planted at
    /// every position class around the 8- and 16-lane steps and the tail, NaNs skipped.
    func testMaximumAndArgmaxAgainstAScan() {
        var generator = SeededGenerator(seed: 8)
        for count in [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 32000] {
            for peak in Set([0, count / 3, count - 1, max(0, count - 9)]) {
                var x = (0..<count).map { _ in (generator.nextFloat() - 0.5) * 40 }
                x[peak] = 25
                if count > 4 { x[(peak + count / 2) % count] = 25 }
                if count > 2 { x[(peak + 1) % count] = .nan }
                let first = x.firstIndex(of: 25) ?? -1
                XCTAssertEqual(VectorMath.maximum(x, count), 25, "count \(count), peak \(peak)")
                XCTAssertEqual(VectorMath.argmax(x, count), first, "count \(count), peak \(peak)")
            }
        }
        XCTAssertEqual(VectorMath.maximum([Float](repeating: -.infinity, count: 20), 20), -.infinity)
        XCTAssertEqual(VectorMath.argmax([Float](repeating: -.infinity, count: 20), 20), 0)
        XCTAssertEqual(VectorMath.argmax([Float](repeating: .nan, count: 20), 20), 0)
        let negative: [Float] = (0..<40).map { -Float($0 == 37 ? 1 : 2 + $0) }
        XCTAssertEqual(VectorMath.argmax(negative, 40), 37)
    }

    func testHalfAndBFloat16Conversions() {
        // Bit patterns from IEEE 754 and PyTorch: 1.0 = 0x3C00 (f16) = 0x3F80 (bf16).
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001]
        var out = [Float](repeating: 0, count: 5)
        convertHalfToFloat(halves, &out, 5)
        XCTAssertEqual(out[0], 1)
        XCTAssertEqual(out[1], -2)
        XCTAssertEqual(out[2], 0.333_251_95, accuracy: 1e-8)
        XCTAssertEqual(out[3], 65504)
        XCTAssertEqual(out[4], 5.960_464_5e-8, accuracy: 1e-14)
        var bits = [UInt16](repeating: 0, count: 3)
        // 1 + 2^-8 is halfway between two bfloat16 values: ties go to even (1.0).
        let values: [Float] = [1, 1 + 1.0 / 256, 1 + 3.0 / 256]
        convertFloatToBFloat16(values, &bits, 3)
        XCTAssertEqual(bits, [0x3F80, 0x3F80, 0x3F82])
        var back = [Float](repeating: 0, count: 3)
        convertBFloat16ToFloat(bits, &back, 3)
        XCTAssertEqual(back, [1, 1, 1 + 2.0 / 128])
    }

    func testLinearMatchesLoopForEveryWeightType() {
        // 37 columns exercise the kernels' tails; 96 (a multiple of 32) the sequential kernel's main loop.
        for inFeatures in [37, 96] { checkLinearAgainstLoop(inFeatures: inFeatures) }
    }

    private func checkLinearAgainstLoop(inFeatures: Int) {
        var generator = SeededGenerator(seed: 9)
        // 3 rows: the few-row kernels (a batched decode step); 11: BLAS (16-bit weights converted).
        let rows = 3, manyRows = Linear.smallBatchRows + 3, outFeatures = 21
        let weights = (0..<(outFeatures * inFeatures)).map { _ in generator.nextFloat() - 0.5 }
        let input = (0..<(manyRows * inFeatures)).map { _ in generator.nextFloat() - 0.5 }
        let f32 = Tensor(shape: [outFeatures, inFeatures], values: weights)
        for dtype in [DType.f32, .f16, .bf16] {
            let weight: Tensor
            switch dtype {
            case .f16:
                weight = Tensor(zeros: [outFeatures, inFeatures], dtype: .f16)
                convertFloatToHalf(f32.floats, weight.rawPointer.assumingMemoryBound(to: UInt16.self), f32.count)
            case .bf16:
                weight = Tensor(zeros: [outFeatures, inFeatures], dtype: .bf16)
                convertFloatToBFloat16(f32.floats, weight.rawPointer.assumingMemoryBound(to: UInt16.self), f32.count)
            default:
                weight = f32
            }
            let rounded = weight.toFloatArray()
            let cases: [(Int, Bool, Bool, Linear.MatrixVectorKernel)] = [
                (1, false, true, .prefetch), (1, false, true, .sequential), (1, false, true, .quarters), (1, false, false, .prefetch),
                (1, true, true, .prefetch), (rows, false, true, .prefetch), (rows, true, true, .prefetch),
                (manyRows, false, true, .prefetch)]
            for (count, useBLAS, cKernel, kernel) in cases {
                Linear.useBLASForMatrixVector = useBLAS
                Linear.useCMatrixVector = cKernel
                Linear.matrixVectorKernel = kernel
                defer { Linear.useBLASForMatrixVector = false; Linear.useCMatrixVector = true; Linear.matrixVectorKernel = .quarters }
                var output = [Float](repeating: 1, count: count * outFeatures)
                Linear.forward(output: &output, input: input, weight: weight, rows: count, accumulate: true)
                for t in 0..<count {
                    for o in 0..<outFeatures {
                        var sum = 1.0
                        for i in 0..<inFeatures { sum += Double(rounded[o * inFeatures + i]) * Double(input[t * inFeatures + i]) }
                        XCTAssertEqual(Double(output[t * outFeatures + o]), sum, accuracy: 1e-5, "\(dtype) rows \(count) \(kernel)")
                    }
                }
            }
        }
    }

    func testSeededGeneratorIsReproducibleAndUniform() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        var generator = SeededGenerator(seed: 1)
        let samples = (0..<100_000).map { _ in generator.nextNormal() }
        let mean = samples.reduce(0, +) / Float(samples.count)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(samples.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
    }

    func testQuantizedLinearEqualsExactIntegerMath() {
        var generator = SeededGenerator(seed: 17)
        let rows = 5, inFeatures = 96, outFeatures = 13, prefillRows = Linear.quantizedIntegerRows + 3
        let weights = Tensor(shape: [outFeatures, inFeatures], values: (0..<(outFeatures * inFeatures)).map { _ in generator.nextFloat() - 0.5 })
        let input = (0..<(prefillRows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 3 }
        // The activations as the integer kernels see them: quantized to Q8_0 and back. Unpacked
        // products (above `quantizedIntegerRows`) turn the weights to floats; the input stays float.
        let quantizedInput = Quantization.quantize(Tensor(shape: [prefillRows, inFeatures], values: input), to: .q8_0).toFloatArray()
        for dtype in [DType.q8_0, .q4_0] {
            let quantized = Quantization.quantize(weights, to: dtype)
            let dequantized = quantized.toFloatArray()
            let cases: [(Int, Linear.QuantizedProduct)] = [(1, .integer), (rows, .integer), (prefillRows, .integer),
                                                           (prefillRows, .unpacked)]
            for (count, product) in cases {
                Linear.quantizedProduct = product
                defer { Linear.quantizedProduct = .integer }
                var output = [Float](repeating: 0, count: count * outFeatures)
                Linear.forward(output: &output, input: input, weight: quantized, rows: count)
                let seen = count > Linear.quantizedIntegerRows && product == .unpacked ? input : quantizedInput
                for t in 0..<count {
                    for o in 0..<outFeatures {
                        var sum = 0.0
                        for i in 0..<inFeatures { sum += Double(dequantized[o * inFeatures + i]) * Double(seen[t * inFeatures + i]) }
                        XCTAssertEqual(Double(output[t * outFeatures + o]), sum, accuracy: 1e-4, "\(dtype) \(product) rows \(count) row \(t)")
                    }
                }
            }
        }
    }
}
