import Foundation
import LlamaCore
import LlamaModel
import XCTest

/// A finite-difference test for every layer's backward pass.
final class LayerGradientTests: XCTestCase {
    /// A float32 tensor of random values (a class, so a loss closure may read it while the
    /// check perturbs it).
    func tensor(_ count: Int, seed: UInt64, scale: Float = 1) -> Tensor {
        Tensor(shape: [count], values: GradientCheck.random(count, seed: seed, scale: scale))
    }

    func testLinear() {
        let rows = 5, inFeatures = 7, outFeatures = 6
        let input = tensor(rows * inFeatures, seed: 1)
        let weight = Tensor(shape: [outFeatures, inFeatures], values: GradientCheck.random(outFeatures * inFeatures, seed: 2))
        let upstream = GradientCheck.random(rows * outFeatures, seed: 3)
        func loss() -> Double {
            var output = [Float](repeating: 0, count: rows * outFeatures)
            Linear.forward(output: &output, input: input.floats, weight: weight, rows: rows)
            return GradientCheck.project(output, upstream)
        }
        var inputGradient = [Float](repeating: 0, count: rows * inFeatures)
        let weightGradient = Tensor(zeros: [outFeatures, inFeatures])
        Linear.backward(outputGradient: upstream, inputGradient: &inputGradient, input: input.floats, weight: weight,
                        weightGradient: weightGradient, rows: rows)
        GradientCheck.check("linear input", parameter: input.floats, count: input.count, analytic: inputGradient, loss: loss)
        GradientCheck.check("linear weight", parameter: weight.floats, count: weight.count, analytic: weightGradient.toFloatArray(), loss: loss)
    }

    func testEmbedding() {
        let table = Tensor(shape: [10, 4], values: GradientCheck.random(40, seed: 4))
        let tokens: [Int32] = [3, 7, 3, 0, 9]
        let upstream = GradientCheck.random(tokens.count * 4, seed: 5)
        func loss() -> Double {
            var output = [Float](repeating: 0, count: tokens.count * 4)
            tokens.withUnsafeBufferPointer { Embedding.forward(output: &output, tokens: $0, table: table) }
            return GradientCheck.project(output, upstream)
        }
        let gradient = Tensor(zeros: [10, 4])
        tokens.withUnsafeBufferPointer { Embedding.backward(outputGradient: upstream, tokens: $0, tableGradient: gradient) }
        GradientCheck.check("embedding", parameter: table.floats, count: 40, analytic: gradient.toFloatArray(), samples: 40, loss: loss)
    }

    func testRMSNorm() {
        let rows = 4, dimension = 16
        let input = tensor(rows * dimension, seed: 6)
        let weight = Tensor(shape: [dimension], values: GradientCheck.random(dimension, seed: 7).map { 1 + $0 * 0.3 })
        let upstream = GradientCheck.random(rows * dimension, seed: 8)
        func loss() -> Double {
            var output = [Float](repeating: 0, count: rows * dimension)
            RMSNorm.forward(output: &output, input: input.floats, weight: weight.floats, rows: rows, dimension: dimension, epsilon: 1e-6)
            return GradientCheck.project(output, upstream)
        }
        var inverseRMS = [Float](repeating: 0, count: rows)
        var scratch = [Float](repeating: 0, count: rows * dimension)
        RMSNorm.forward(output: &scratch, input: input.floats, weight: weight.floats, rows: rows, dimension: dimension, epsilon: 1e-6,
                        inverseRMS: &inverseRMS)
        var inputGradient = [Float](repeating: 0, count: rows * dimension)
        var weightGradient = [Float](repeating: 0, count: dimension)
        RMSNorm.backward(outputGradient: upstream, inputGradient: &inputGradient, input: input.floats, weight: weight.floats,
                         weightGradient: &weightGradient, rows: rows, dimension: dimension, inverseRMS: inverseRMS)
        GradientCheck.check("rmsnorm input", parameter: input.floats, count: input.count, analytic: inputGradient, step: 1e-3, loss: loss)
        GradientCheck.check("rmsnorm gain", parameter: weight.floats, count: weight.count, analytic: weightGradient, loss: loss)
    }

    func testRotaryEmbedding() {
        let rows = 6, heads = 2, headDimension = 8
        let rotary = RotaryEmbedding(headDimension: headDimension, theta: 10000, maxPositions: 16)
        let input = tensor(rows * heads * headDimension, seed: 9)
        let upstream = GradientCheck.random(input.count, seed: 10)
        func loss() -> Double {
            var output = input.toFloatArray()
            rotary.apply(&output, rows: rows, headCount: heads) { $0 + 3 }
            return GradientCheck.project(output, upstream)
        }
        var gradient = upstream
        rotary.backward(&gradient, rows: rows, headCount: heads) { $0 + 3 }
        GradientCheck.check("rotary", parameter: input.floats, count: input.count, analytic: gradient, loss: loss)
    }

    func testSwiGLU() {
        let count = 37
        let gate = tensor(count, seed: 11, scale: 3), up = tensor(count, seed: 12)
        let upstream = GradientCheck.random(count, seed: 13)
        func loss() -> Double {
            var output = [Float](repeating: 0, count: count)
            SwiGLU.forward(output: &output, gate: gate.floats, up: up.floats, count: count)
            return GradientCheck.project(output, upstream)
        }
        var gateGradient = [Float](repeating: 0, count: count), upGradient = [Float](repeating: 0, count: count)
        SwiGLU.backward(outputGradient: upstream, gateGradient: &gateGradient, upGradient: &upGradient, gate: gate.floats, up: up.floats, count: count)
        GradientCheck.check("swiglu gate", parameter: gate.floats, count: count, analytic: gateGradient, step: 1e-3, samples: count, loss: loss)
        GradientCheck.check("swiglu up", parameter: up.floats, count: count, analytic: upGradient, samples: count, loss: loss)
    }

    func testCrossEntropy() {
        let rows = 5, vocabulary = 11
        let logits = tensor(rows * vocabulary, seed: 14, scale: 3)
        let targets: [Int32] = [3, 0, -1, 10, 7]
        func loss() -> Double {
            var losses = [Float](repeating: 0, count: rows)
            return Double(CrossEntropy.forward(losses: &losses, logits: logits.floats, targets: targets, rows: rows, vocabularySize: vocabulary))
        }
        var gradient = [Float](repeating: 0, count: rows * vocabulary)
        CrossEntropy.backward(scale: 1 / 4, logitsGradient: &gradient, logits: logits.floats, targets: targets, rows: rows, vocabularySize: vocabulary)
        GradientCheck.check("cross-entropy", parameter: logits.floats, count: logits.count, analytic: gradient, step: 1e-2,
                            samples: rows * vocabulary, loss: loss)
    }

    /// Two blocks of query rows (T = 70 > blockRows), grouped key/value heads.
    func testCausalAttention() {
        let batch = 2, length = 70, heads = 4, keyValueHeads = 2, headDimension = 8
        let queryCount = batch * length * heads * headDimension, keyCount = batch * length * keyValueHeads * headDimension
        let queryTensor = tensor(queryCount, seed: 15), keyTensor = tensor(keyCount, seed: 16), valueTensor = tensor(keyCount, seed: 17)
        let query = queryTensor.floats, key = keyTensor.floats, value = valueTensor.floats
        let upstream = GradientCheck.random(queryCount, seed: 18)
        var output = [Float](repeating: 0, count: queryCount)
        var logSumExp = [Float](repeating: 0, count: batch * heads * length)
        func run() {
            CausalAttention.forward(output: &output, logSumExp: &logSumExp, query: query, key: key, value: value, batch: batch,
                                    length: length, headCount: heads, keyValueHeadCount: keyValueHeads, headDimension: headDimension)
        }
        func loss() -> Double { run(); return GradientCheck.project(output, upstream) }
        run()
        // The forward pass against a direct softmax for one row.
        let t = 40, b = 1, head = 3, kvHead = head / 2
        var scores = [Double]()
        for s in 0...t {
            var dot = 0.0
            for i in 0..<headDimension {
                dot += Double(query[(b * length + t) * heads * headDimension + head * headDimension + i])
                    * Double(key[(b * length + s) * keyValueHeads * headDimension + kvHead * headDimension + i])
            }
            scores.append(dot / Double(headDimension).squareRoot())
        }
        let maximum = scores.max() ?? 0
        let weights = scores.map { Foundation.exp($0 - maximum) }, total = weights.reduce(0, +)
        for i in 0..<headDimension {
            var expected = 0.0
            for s in 0...t { expected += weights[s] / total * Double(value[(b * length + s) * keyValueHeads * headDimension + kvHead * headDimension + i]) }
            XCTAssertEqual(Double(output[(b * length + t) * heads * headDimension + head * headDimension + i]), expected, accuracy: 1e-5)
        }
        var queryGradient = [Float](repeating: 0, count: queryCount)
        var keyGradient = [Float](repeating: 0, count: keyCount), valueGradient = [Float](repeating: 0, count: keyCount)
        CausalAttention.backward(outputGradient: upstream, queryGradient: &queryGradient, keyGradient: &keyGradient,
                                 valueGradient: &valueGradient, output: output, logSumExp: logSumExp, query: query, key: key,
                                 value: value, batch: batch, length: length, headCount: heads, keyValueHeadCount: keyValueHeads,
                                 headDimension: headDimension)
        GradientCheck.check("attention query", parameter: query, count: queryCount, analytic: queryGradient, samples: 40, loss: loss)
        GradientCheck.check("attention key", parameter: key, count: keyCount, analytic: keyGradient, samples: 40, loss: loss)
        GradientCheck.check("attention value", parameter: value, count: keyCount, analytic: valueGradient, samples: 40, loss: loss)
    }
}
