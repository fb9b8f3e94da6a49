import Foundation
import LlamaCore
import LlamaModel

/// Which parameters weight decay applies to.
public enum WeightDecayScope: String, Codable, Sendable, CaseIterable {
    /// Every matrix (embeddings, projections, head) but not the RMSNorm gains: the
    /// usual choice for LLaMA-style training (nanoGPT, llm.c) and this toolkit's default.
    case matrices
    /// Every parameter, norms included (torch.optim.AdamW applied to `model.parameters()`,
    /// as the reference fixture does).
    case all
    /// No parameter.
    case none

    /// Whether a parameter of `shape` is decayed.
    public func applies(toShape shape: [Int]) -> Bool {
        switch self {
        case .matrices: return shape.count >= 2
        case .all: return true
        case .none: return false
        }
    }
}

/// AdamW hyper-parameters (Loshchilov and Hutter, 2019); defaults are the LLaMA paper's.
public struct AdamWSettings: Codable, Equatable, Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var epsilon: Float = 1e-8
    /// Decoupled weight decay λ: θ ← θ − lr·λ·θ before the Adam update.
    public var weightDecay: Float = 0.1
    public var weightDecayScope: WeightDecayScope = .matrices
    /// Global L2 norm the gradients are clipped to (0 turns clipping off).
    public var gradientClipNorm: Float = 1.0

    public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1,
                weightDecayScope: WeightDecayScope = .matrices, gradientClipNorm: Float = 1.0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.weightDecayScope = weightDecayScope
        self.gradientClipNorm = gradientClipNorm
    }
}

/// AdamW with global-norm clipping, updating `LlamaWeights` in place, computed exactly as
/// torch.optim.AdamW's single-tensor path (`_single_tensor_adamw`) and
/// torch.nn.utils.clip_grad_norm_ do. Every loop has a fixed split over threads and every
/// reduction a fixed order, so a step is bit-reproducible.
public final class AdamW: @unchecked Sendable {
    public let settings: AdamWSettings
    /// First and second moments, laid out like the parameters.
    public let firstMoment, secondMoment: LlamaWeights
    /// Number of updates made so far (torch's `step`).
    public private(set) var stepCount: Int

    public init(configuration: LlamaConfiguration, settings: AdamWSettings = AdamWSettings()) {
        self.settings = settings
        firstMoment = LlamaWeights.zeros(configuration: configuration)
        secondMoment = LlamaWeights.zeros(configuration: configuration)
        stepCount = 0
    }

    /// Restores the step counter (moments are restored by copying into `firstMoment`, `secondMoment`).
    public func restore(stepCount: Int) { self.stepCount = stepCount }

    /// √(Σ over parameters of ‖g‖²): each tensor's sum of squares in Double, summed in model order.
    public static func globalNorm(_ gradients: LlamaWeights) -> Float {
        var total = 0.0
        for (_, tensor) in gradients.namedParameters {
            let g = tensor.floats
            var sum = 0.0
            var i = 0
            let count = tensor.count
            while i < count {
                let end = min(count, i + 4096)
                sum += Double(VectorMath.sumOfSquares(g + i, end - i))
                i = end
            }
            total += sum
        }
        return Float(total.squareRoot())
    }

    /// The per-step numbers of the update: clip factor, bias corrections, step size.
    public struct StepConstants: Sendable {
        public var clip: Float, beta1: Float, beta2: Float, stepSize: Float, biasCorrection2Root: Float, epsilon: Float
    }

    /// Constants of update number `stepCount` (1-based) for gradient norm `norm`.
    public static func constants(settings: AdamWSettings, norm: Float, stepCount: Int, learningRate: Float) -> StepConstants {
        var clip: Float = 1
        if settings.gradientClipNorm > 0 {
            // torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1, always multiplied.
            clip = min(1, settings.gradientClipNorm / (norm + 1e-6))
        }
        let biasCorrection1 = 1 - Float(pow(Double(settings.beta1), Double(stepCount)))
        let biasCorrection2 = 1 - Float(pow(Double(settings.beta2), Double(stepCount)))
        return StepConstants(clip: clip, beta1: settings.beta1, beta2: settings.beta2, stepSize: learningRate / biasCorrection1,
                             biasCorrection2Root: biasCorrection2.squareRoot(), epsilon: settings.epsilon)
    }

    /// The element-wise update of `count` parameters `p` with gradients `g` (clipped in
    /// place) and moments `m`, `v`; `decay` is 1 − lr·λ or 1. Split over threads in fixed ranges.
    public static func update(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                              first m: UnsafeMutablePointer<Float>, second v: UnsafeMutablePointer<Float>, count: Int,
                              decay: Float, constants c: StepConstants) {
        let clip = c.clip, beta1 = c.beta1, beta2 = c.beta2, stepSize = c.stepSize
        let biasCorrection2Root = c.biasCorrection2Root, epsilon = c.epsilon
        Parallel.forRanges(count, grain: 64, minimumPerThread: 16384) { first, last in
            for i in first..<last {
                let gradient = g[i] * clip
                g[i] = gradient
                p[i] *= decay
                m[i] += (gradient - m[i]) * (1 - beta1)
                v[i] = v[i] * beta2 + (1 - beta2) * gradient * gradient
                let denominator = v[i].squareRoot() / biasCorrection2Root + epsilon
                p[i] += -stepSize * (m[i] / denominator)
            }
        }
    }

    /// Clips, then updates `weights` with `gradients` at learning rate `learningRate`.
    /// Returns the gradient norm before clipping.
    @discardableResult
    public func step(weights: LlamaWeights, gradients: LlamaWeights, learningRate: Float) -> Float {
        let norm = Self.globalNorm(gradients)
        stepCount += 1
        let constants = Self.constants(settings: settings, norm: norm, stepCount: stepCount, learningRate: learningRate)
        let parameters = weights.namedParameters, grads = gradients.namedParameters
        let firsts = firstMoment.namedParameters, seconds = secondMoment.namedParameters
        for index in parameters.indices {
            let decay: Float = settings.weightDecayScope.applies(toShape: parameters[index].tensor.shape)
                ? 1 - learningRate * settings.weightDecay : 1
            Self.update(parameters: parameters[index].tensor.floats, gradients: grads[index].tensor.floats,
                        first: firsts[index].tensor.floats, second: seconds[index].tensor.floats,
                        count: parameters[index].tensor.count, decay: decay, constants: constants)
        }
        return norm
    }
}
