import LlamaCore
import LlamaModel

/// The training-side tensors a reference implementation dumps for a fixed batch, under the
/// names of Tests/Fixtures/tiny-llama/README.md: `loss`, `grad/NAME`, `adamw/loss`,
/// `adamw/grad_norm` and `after/NAME`.
public enum ReferenceParity {
    /// Computes the loss and gradients of `inputIds`/`targetIds` (B·T each), then, when
    /// `adamWSteps` > 0, that many AdamW steps on the same batch at constant `learningRate`
    /// with weight decay 0.1 on every parameter and clipping at 1.0 (torch's defaults).
    public static func compute(weights: LlamaWeights, inputIds: [Int32], targetIds: [Int32], batchSize: Int,
                               sequenceLength: Int, adamWSteps: Int, learningRate: Float) throws -> [(name: String, tensor: Tensor)] {
        let model = TrainingModel(weights: weights, batchSize: batchSize, sequenceLength: sequenceLength)
        let loss = try model.forwardBackward(inputIds: inputIds, targetIds: targetIds)
        var outputs: [(name: String, tensor: Tensor)] = [("loss", Tensor(shape: [1], values: [loss]))]
        for (name, gradient) in model.gradients.namedParameters {
            outputs.append(("grad/" + name, Tensor(shape: gradient.shape, values: Array(UnsafeBufferPointer(start: gradient.floats, count: gradient.count)))))
        }
        guard adamWSteps > 0 else { return outputs }
        let optimizer = AdamW(configuration: weights.configuration, settings: AdamWSettings(weightDecayScope: .all))
        var losses: [Float] = [], norms: [Float] = []
        for _ in 0..<adamWSteps {
            model.gradients.setZero()
            losses.append(try model.forwardBackward(inputIds: inputIds, targetIds: targetIds))
            norms.append(optimizer.step(weights: model.weights, gradients: model.gradients, learningRate: learningRate))
        }
        outputs.append(("adamw/loss", Tensor(shape: [adamWSteps], values: losses)))
        outputs.append(("adamw/grad_norm", Tensor(shape: [adamWSteps], values: norms)))
        for (name, parameter) in model.weights.namedParameters {
            outputs.append(("after/" + name, Tensor(shape: parameter.shape, values: Array(UnsafeBufferPointer(start: parameter.floats, count: parameter.count)))))
        }
        return outputs
    }
}
