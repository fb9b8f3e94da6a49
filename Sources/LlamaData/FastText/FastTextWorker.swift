import Foundation
import LlamaCore

/// One training thread's state (fastText `Model::State`): hidden vector, its gradient, the
/// output scores and a random generator. Writes to the shared matrices without locks.
struct FastTextWorker {
    private let model: FastTextModel
    /// (rows, dim), shared by all workers
    private let input: FastTextDenseMatrix
    /// (labels, dim), shared by all workers
    private let output: FastTextDenseMatrix
    private var generator: SeededGenerator
    /// (dim)
    private var hidden: [Float]
    /// (dim)
    private var gradient: [Float]
    /// (labels)
    private var scores: [Float]

    init(model: FastTextModel, input: FastTextDenseMatrix, output: FastTextDenseMatrix, seed: UInt64) {
        self.model = model
        self.input = input
        self.output = output
        generator = SeededGenerator(seed: seed)
        hidden = [Float](repeating: 0, count: input.columns)
        gradient = hidden
        scores = [Float](repeating: 0, count: output.rows)
    }

    /// One SGD step on an example (fastText FastText::supervised + Model::update): one
    /// label drawn uniformly (all labels for one-vs-all).
    mutating func update(rows: ArraySlice<Int32>, labels: ArraySlice<Int32>, learningRate: Float) {
        guard !rows.isEmpty, !labels.isEmpty else { return }
        let dim = input.columns
        let input = self.input, output = self.output
        let target = labels.count == 1 ? Int(labels[labels.startIndex])
            : Int(labels[labels.startIndex + generator.nextInt(below: labels.count)])
        let loss = model.args.loss
        let tree = model.tree
        hidden.withUnsafeMutableBufferPointer { hiddenBuffer in
            gradient.withUnsafeMutableBufferPointer { gradientBuffer in
                scores.withUnsafeMutableBufferPointer { scoreBuffer in
                    guard let hidden = hiddenBuffer.baseAddress, let gradient = gradientBuffer.baseAddress,
                          let scores = scoreBuffer.baseAddress else { return }
                    // hidden = mean of the input rows
                    hidden.update(repeating: 0, count: dim)
                    for row in rows {
                        let values = input.row(Int(row))
                        for j in 0..<dim { hidden[j] += values[j] }
                    }
                    let inverse = Float(1.0 / Double(rows.count))
                    for j in 0..<dim { hidden[j] *= inverse }
                    gradient.update(repeating: 0, count: dim)
                    switch loss {
                    case .softmax:
                        model.computeOutput(hidden: hidden, into: scores)
                        for label in 0..<output.rows {
                            let alpha = learningRate * ((label == target ? 1 : 0) - scores[label])
                            Self.step(row: output.row(label), alpha: alpha, hidden: hidden, gradient: gradient, dim: dim)
                        }
                    case .hierarchicalSoftmax:
                        guard let tree else { return }
                        for (node, code) in zip(tree.paths[target], tree.codes[target]) {
                            Self.binaryLogistic(row: output.row(Int(node)), positive: code, rate: learningRate,
                                                hidden: hidden, gradient: gradient, dim: dim)
                        }
                    case .oneVersusAll, .negativeSampling:
                        for label in 0..<output.rows {
                            Self.binaryLogistic(row: output.row(label), positive: labels.contains(Int32(label)),
                                                rate: learningRate, hidden: hidden, gradient: gradient, dim: dim)
                        }
                    }
                    // fastText normalises the gradient by the number of input rows (supervised).
                    for j in 0..<dim { gradient[j] *= inverse }
                    for row in rows {
                        let values = input.row(Int(row))
                        for j in 0..<dim { values[j] += gradient[j] }
                    }
                }
            }
        }
    }

    /// fastText BinaryLogisticLoss::binaryLogistic with backprop: sigmoid through the table.
    @inline(__always)
    private static func binaryLogistic(row: UnsafeMutablePointer<Float>, positive: Bool, rate: Float,
                                       hidden: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                                       dim: Int) {
        var dot: Float = 0
        for j in 0..<dim { dot += row[j] * hidden[j] }
        let score = FastTextSigmoid.value(dot)
        let alpha = rate * ((positive ? 1 : 0) - score)
        step(row: row, alpha: alpha, hidden: hidden, gradient: gradient, dim: dim)
    }

    /// gradient += alpha · row, then row += alpha · hidden (fastText's order).
    @inline(__always)
    private static func step(row: UnsafeMutablePointer<Float>, alpha: Float, hidden: UnsafeMutablePointer<Float>,
                             gradient: UnsafeMutablePointer<Float>, dim: Int) {
        for j in 0..<dim { gradient[j] += alpha * row[j] }
        for j in 0..<dim { row[j] += alpha * hidden[j] }
    }
}
