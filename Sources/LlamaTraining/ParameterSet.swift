import LlamaCore
import LlamaModel

extension LlamaWeights {
    /// Float32 zeros shaped like the parameters of `configuration` (gradients, optimizer
    /// moments); a tied head is the embedding tensor itself, as in the weights.
    public static func zeros(configuration: LlamaConfiguration) -> LlamaWeights {
        var tensors: [String: Tensor] = [:]
        for (name, shape) in parameterShapes(configuration) { tensors[name] = Tensor(zeros: shape) }
        return LlamaWeights(configuration: configuration) { name in tensors[name] ?? Tensor(zeros: [0]) }
    }

    /// Sets every element of every parameter to zero.
    public func setZero() {
        for (_, tensor) in namedParameters { tensor.floats.update(repeating: 0, count: tensor.count) }
    }

    /// Copies every parameter's values from `other` (same configuration).
    public func copyValues(from other: LlamaWeights) {
        for ((_, target), (_, source)) in zip(namedParameters, other.namedParameters) {
            target.floats.update(from: source.floats, count: target.count)
        }
    }
}
