import LlamaCore
import XCTest

/// Finite-difference checking of backward passes: central differences of a scalar loss
/// computed in Double, compared with the analytic gradient.
enum GradientCheck {
    /// Random values in [-scale, scale).
    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (generator.nextFloat() * 2 - 1) * scale }
    }

    /// Σ weights[i] · values[i] in Double (the scalar "loss" of a layer's output).
    static func project(_ values: UnsafePointer<Float>, _ weights: [Float]) -> Double {
        var total = 0.0
        for i in weights.indices { total += Double(values[i]) * Double(weights[i]) }
        return total
    }

    /// Compares `analytic` with central differences of `loss` at up to `samples` elements
    /// of `parameter` spread over it; fails when the relative error exceeds `tolerance`.
    static func check(_ name: String, parameter: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
                      step: Float = 1e-2, tolerance: Double = 2e-2, samples: Int = 24,
                      file: StaticString = #filePath, line: UInt = #line, loss: () -> Double) {
        XCTAssertEqual(analytic.count, count, name, file: file, line: line)
        let largest = Double(analytic.map(abs).max() ?? 0)
        var worst = 0.0
        for k in 0..<min(samples, count) {
            let i = count <= samples ? k : k * (count - 1) / (samples - 1)
            let saved = parameter[i]
            parameter[i] = saved + step
            let plus = loss()
            parameter[i] = saved - step
            let minus = loss()
            parameter[i] = saved
            let numeric = (plus - minus) / (2 * Double(step))
            let error = abs(numeric - Double(analytic[i])) / max(abs(numeric), abs(Double(analytic[i])), 1e-2 * largest, 1e-6)
            worst = max(worst, error)
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(name): worst relative error \(worst)", file: file, line: line)
    }
}
