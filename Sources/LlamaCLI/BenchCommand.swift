import ArgumentParser
import Dispatch
import Foundation
import LlamaCore
import LlamaGeneration
import LlamaModel

/// `llama bench`: this machine's limits, then a model's prefill and decode speed as
/// fractions of them.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure sgemm and memory limits and inference speed against them.")

    @Option(help: "Preset of the random-weight model: 15M, 110M, 7B, …") var preset: String = "110M"
    @Option(help: "Benchmark this checkpoint instead of a random preset.") var model: String?
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for prefill.") var promptTokens: Int = 128
    @Option(name: .customLong("decode-tokens"), help: "Tokens to decode.") var decodeTokens: Int = 128
    @Option(help: "Timed repetitions (best is reported).") var repeats: Int = 3

    func run() throws {
        let gflops = MachineLimits.sgemmGigaflops()
        let bandwidth = MachineLimits.readBandwidthGigabytes()
        print(String(format: "machine: sgemm %.1f GFLOP/s (2048³, %d threads), read bandwidth %.1f GB/s", gflops,
                     BLAS.threadCount, bandwidth))
        let matrixVector = compareMatrixVector()
        print(String(format: "matrix-vector 8192x4096 F32: ours %.1f GB/s, OpenBLAS sgemv %.1f GB/s", matrixVector.ours, matrixVector.blas))
        let weights: LlamaWeights
        if let model {
            weights = try OpenedModel.open(model).weights
        } else {
            guard let config = LlamaConfiguration.presets[preset.uppercased()] else {
                throw ValidationError("unknown preset '\(preset)'")
            }
            weights = LlamaWeights.random(configuration: config, seed: 1)
        }
        let config = weights.configuration
        let bytesPerWeight = weights.layers.first?.queryProjection.dtype.byteSize ?? 4
        let matrixParameters = config.parameterCount - config.vocabularySize * config.hiddenSize
            - (config.tieWordEmbeddings ? 0 : config.vocabularySize * config.hiddenSize)
        let session = InferenceSession(weights: weights, context: promptTokens + decodeTokens + 1, maxChunk: promptTokens)
        var generator = SeededGenerator(seed: 7)
        let prompt = (0..<promptTokens).map { _ in Int32(generator.nextInt(below: config.vocabularySize)) }
        var bestPrefill = Double.infinity, bestDecode = Double.infinity
        for _ in 0..<repeats {
            session.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            var logits = try session.forward(prompt)
            let middle = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<decodeTokens {
                var best = 0
                for i in 1..<logits.count where logits[i] > logits[best] { best = i }
                logits = try session.forward(token: Int32(best))
            }
            let end = DispatchTime.now().uptimeNanoseconds
            bestPrefill = min(bestPrefill, Double(middle - start) / 1e9)
            bestDecode = min(bestDecode, Double(end - middle) / 1e9)
        }
        let t = Double(promptTokens)
        let attentionFlops = 2 * 2 * Double(config.layerCount) * t * (t + 1) / 2 * Double(config.queryWidth)
        let prefillFlops = 2 * Double(matrixParameters) * t + attentionFlops
            + 2 * Double(config.vocabularySize * config.hiddenSize)
        let prefillRate = prefillFlops / bestPrefill / 1e9
        let decodeRate = Double(decodeTokens) / bestDecode
        let headBytes = config.vocabularySize * config.hiddenSize * bytesPerWeight
        let bytesPerToken = Double(matrixParameters * bytesPerWeight + headBytes)
            + Double(config.keyValueCacheBytes(context: promptTokens + decodeTokens / 2))
        let decodeBound = bandwidth * 1e9 / bytesPerToken
        print(String(format: "model: %@ (%.1fM parameters, %d-byte weights)", model ?? preset,
                     Double(config.parameterCount) / 1e6, bytesPerWeight))
        print(String(format: "prefill: %d tokens in %.3f s = %.1f tokens/s, %.1f GFLOP/s = %.0f%% of sgemm peak",
                     promptTokens, bestPrefill, t / bestPrefill, prefillRate, 100 * prefillRate / gflops))
        print(String(format: "decode: %.1f tokens/s (%.2f MB read per token) = %.0f%% of the bandwidth bound (%.1f tokens/s), %.1f GB/s",
                     decodeRate, bytesPerToken / 1e6, 100 * decodeRate / decodeBound, decodeBound, decodeRate * bytesPerToken / 1e9))
    }

    /// Read rate of the two single-row kernels on a 128 MiB float32 matrix.
    private func compareMatrixVector() -> (ours: Double, blas: Double) {
        let rows = 8192, columns = 4096
        let weight = Tensor(zeros: [rows, columns])
        var generator = SeededGenerator(seed: 3)
        for i in 0..<weight.count { weight.floats[i] = generator.nextFloat() }
        let input = [Float](repeating: 0.5, count: columns)
        var output = [Float](repeating: 0, count: rows)
        let saved = Linear.useBLASForMatrixVector
        defer { Linear.useBLASForMatrixVector = saved }
        var rates: [Double] = []
        for useBLAS in [false, true] {
            Linear.useBLASForMatrixVector = useBLAS
            var best = Double.infinity
            for _ in 0..<10 {
                let start = DispatchTime.now().uptimeNanoseconds
                Linear.forward(output: &output, input: input, weight: weight, rows: 1)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            rates.append(Double(weight.byteCount) / best / 1e9)
        }
        return (rates[0], rates[1])
    }
}
