import LlamaCore

/// The SwiGLU activation of LLaMA's feed-forward layer (Shazeer, 2020):
/// h = silu(x·W1ᵀ) ⊙ (x·W3ᵀ), with silu(a) = a · σ(a).
public enum SwiGLU {
    /// output[i] = silu(gate[i]) · up[i] for `count` elements (output may alias gate).
    public static func forward(output: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, grain: 8, minimumPerThread: 4096) { first, last in
            var i = first
            let rawG = UnsafeRawPointer(gate), rawU = UnsafeRawPointer(up), rawO = UnsafeMutableRawPointer(output)
            while i + 8 <= last {
                let g = rawG.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let u = rawU.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let sigmoid = 1 / (1 + VectorMath.exp(-g))
                rawO.storeBytes(of: g * sigmoid * u, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < last {
                let g = gate[i]
                output[i] = g / (1 + Foundation.exp(-g)) * up[i]
                i += 1
            }
        }
    }
}

import Foundation

extension SwiGLU {
    /// Backward of `forward`, with σ = sigmoid(gate): ∂L/∂up += dy · gate · σ and
    /// ∂L/∂gate += dy · up · σ · (1 + gate · (1 − σ)). Both accumulate.
    ///
    /// - outputGradient, gateGradient, upGradient, gate, up: `count` elements each,
    ///   (T, hidden) in the feed-forward layer.
    public static func backward(outputGradient: UnsafePointer<Float>, gateGradient: UnsafeMutablePointer<Float>,
                                upGradient: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, grain: 8, minimumPerThread: 4096) { first, last in
            var i = first
            let rawDY = UnsafeRawPointer(outputGradient), rawG = UnsafeRawPointer(gate), rawU = UnsafeRawPointer(up)
            let rawDG = UnsafeMutableRawPointer(gateGradient), rawDU = UnsafeMutableRawPointer(upGradient)
            while i + 8 <= last {
                let dy = rawDY.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let g = rawG.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let u = rawU.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let sigmoid = 1 / (1 + VectorMath.exp(-g))
                let silu = g * sigmoid
                let dGate = dy * u * sigmoid * (1 + g * (1 - sigmoid))
                rawDG.storeBytes(of: rawDG.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + dGate,
                                 toByteOffset: i * 4, as: SIMD8<Float>.self)
                rawDU.storeBytes(of: rawDU.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + dy * silu,
                                 toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < last {
                let g = gate[i]
                let sigmoid = 1 / (1 + Foundation.exp(-g))
                gateGradient[i] += outputGradient[i] * up[i] * sigmoid * (1 + g * (1 - sigmoid))
                upGradient[i] += outputGradient[i] * g * sigmoid
                i += 1
            }
        }
    }
}
