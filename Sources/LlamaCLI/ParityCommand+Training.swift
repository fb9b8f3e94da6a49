import Foundation
import LlamaCore
import LlamaModel
import LlamaTraining

extension ParityCommand {
    /// `loss`, `grad/NAME` and, with `adamWSteps` > 0, `adamw/loss`, `adamw/grad_norm`,
    /// `after/NAME` for the reference file's input_ids and targets (when it has targets).
    func trainingOutputs(reference: SafetensorsFile, weights: LlamaWeights, adamWSteps: Int,
                         learningRate: Float) throws -> [(name: String, tensor: Tensor)] {
        guard reference.entries["targets"] != nil else { return [] }
        let inputs = try reference.tensor("input_ids")
        return try ReferenceParity.compute(weights: weights, inputIds: inputs.toInt32Array(),
                                           targetIds: try reference.tensor("targets").toInt32Array(),
                                           batchSize: inputs.shape[0], sequenceLength: inputs.shape[1],
                                           adamWSteps: adamWSteps, learningRate: learningRate)
    }
}
