import ArgumentParser
import Foundation
import LlamaCore
import LlamaGeneration
import LlamaModel

/// `llama parity`: computes, for the inputs of a reference file, the tensors a reference
/// implementation computed, under the same names (see Tests/Fixtures/tiny-llama/README.md).
struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Compute logits (and a greedy continuation) for a reference file's inputs.")

    @Option(help: "Hugging Face checkpoint folder or .gguf file.") var model: String
    @Option(help: "safetensors file holding input_ids [B, T] (and greedy_prompt).") var inputs: String
    @Option(help: "Where to write the computed tensors (safetensors).") var output: String
    @Option(help: "Greedy tokens to generate from greedy_prompt.") var greedy: Int = 16
    @Option(name: .customLong("adamw-steps"), help: "AdamW steps on the inputs' batch (writes adamw/* and after/*).") var adamWSteps: Int = 0
    @Option(help: "Constant learning rate of those steps.") var lr: Float = 1e-3

    func run() throws {
        let loaded = try OpenedModel.open(model)
        let reference = try SafetensorsFile(path: inputs)
        let inputTensor = try reference.tensor("input_ids")
        guard inputTensor.shape.count == 2 else {
            throw CoreError.shapeMismatch(path: inputs, name: "input_ids", expected: [-1, -1], found: inputTensor.shape)
        }
        let batch = inputTensor.shape[0], length = inputTensor.shape[1]
        let ids = inputTensor.toInt32Array()
        let vocabulary = loaded.configuration.vocabularySize
        let session = InferenceSession(weights: loaded.weights, context: max(length, 1) + greedy + 64)
        let logits = Tensor(zeros: [batch, length, vocabulary])
        for b in 0..<batch {
            session.reset()
            try session.forward(Array(ids[(b * length)..<((b + 1) * length)])) { t, row in
                if let base = row.baseAddress {
                    (logits.floats + (b * length + t) * vocabulary).update(from: base, count: vocabulary)
                }
            }
        }
        var outputs: [(name: String, tensor: Tensor)] = [("logits", logits)]
        if reference.entries["greedy_prompt"] != nil {
            let prompt = try reference.tensor("greedy_prompt").toInt32Array()
            session.reset()
            let result = try Generator.generate(session: session, prompt: prompt, maxTokens: greedy,
                                                sampling: SamplingParameters(), stopAtEOS: false)
            let greedyTensor = Tensor(zeros: [result.tokens.count], dtype: .i32)
            let destination = greedyTensor.rawPointer.assumingMemoryBound(to: Int32.self)
            for (i, token) in result.tokens.enumerated() { destination[i] = token }
            outputs.append(("greedy", greedyTensor))
        }
        outputs += try trainingOutputs(reference: reference, weights: loaded.weights, adamWSteps: adamWSteps, learningRate: lr)
        try SafetensorsWriter.write(path: output, tensors: outputs)
    }
}
