import Foundation

/// Linear warmup then cosine decay to a floor, as the LLaMA paper trains (Section 2.3:
/// 2,000 warmup steps, final learning rate 10% of the peak).
///
/// With peak η, floor η_min = minimumRatio · η, warmup W and total S steps (0-based step s):
/// - s < W: η · (s + 1) / W (step W − 1 reaches the peak);
/// - W ≤ s ≤ S: η_min + ½ (η − η_min)(1 + cos(π (s − W) / (S − W)));
/// - s > S: η_min.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimumRatio: Float

    public init(peak: Float, warmupSteps: Int = 2000, totalSteps: Int, minimumRatio: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumRatio = minimumRatio
    }

    /// The rate of 0-based step `step`.
    public func rate(atStep step: Int) -> Float {
        let floor = Double(peak) * Double(minimumRatio)
        if step < warmupSteps { return Float(Double(peak) * Double(step + 1) / Double(warmupSteps)) }
        if step >= totalSteps || totalSteps <= warmupSteps { return Float(step >= totalSteps ? floor : Double(peak)) }
        let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        return Float(floor + 0.5 * (Double(peak) - floor) * (1 + cos(Double.pi * progress)))
    }

    /// Peak learning rates of the paper's Table 2 by model preset name.
    public static let paperPeakRates: [String: Float] = ["7B": 3.0e-4, "13B": 3.0e-4, "33B": 1.5e-4, "65B": 1.5e-4]
    /// Batch size in tokens of every model in Table 2.
    public static let paperBatchTokens = 4_000_000
}
