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
    @Option(help: "Timed repetitions (best rates and median shares of the limits are reported).") var repeats: Int = 5
    @Option(help: "Weight types to measure, comma-separated: f32, f16, bf16, q8_0, q4_0.") var types: String = "f32"
    @Option(help: "Concurrent sequences for aggregate decode speed, comma-separated (empty: skip).") var concurrency: String = ""
    @OptionGroup var cache: CacheOptions

    func run() throws {
        let gflops = MachineLimits.sgemmGigaflops()
        let bandwidth = MachineLimits.readBandwidthGigabytes()
        print(String(format: "machine: sgemm %.1f GFLOP/s (2048³, %d threads), read bandwidth %.1f GB/s", gflops,
                     BLAS.threadCount, bandwidth))
        let matrixVector = compareMatrixVector()
        print(String(format: "matrix-vector 8192x4096 F32: ours %.1f GB/s, OpenBLAS sgemv %.1f GB/s", matrixVector.ours, matrixVector.blas))
        let base: LlamaWeights
        if let model {
            base = try OpenedModel.open(model).weights
        } else {
            guard let config = LlamaConfiguration.presets[preset.uppercased()] else {
                throw ValidationError("unknown preset '\(preset)'")
            }
            base = LlamaWeights.random(configuration: config, seed: 1)
        }
        for typeName in types.split(separator: ",") {
            guard let dtype = DType(rawValue: typeName.uppercased()), [.f32, .f16, .bf16, .q8_0, .q4_0].contains(dtype) else {
                throw ValidationError("unknown weight type '\(typeName)'")
            }
            // Packed into one huge-page arena, as `OpenedModel` holds a model read from a file.
            let weights = model == nil ? Self.converted(base, to: dtype).residentCopy() : base
            try measure(weights, label: model ?? preset)
        }
    }

    /// `weights` with every matrix in `dtype` (norm gains stay float32).
    static func converted(_ weights: LlamaWeights, to dtype: DType) -> LlamaWeights {
        if dtype == .f32 { return weights }
        func convert(_ tensor: Tensor) -> Tensor {
            if dtype.isQuantized { return Quantization.canQuantize(shape: tensor.shape) ? Quantization.quantize(tensor, to: dtype) : tensor }
            let result = Tensor(zeros: tensor.shape, dtype: dtype)
            let destination = result.rawPointer.assumingMemoryBound(to: UInt16.self)
            if dtype == .f16 { convertFloatToHalf(tensor.floats, destination, tensor.count) }
            else { convertFloatToBFloat16(tensor.floats, destination, tensor.count) }
            return result
        }
        let layers = weights.layers.map { layer in
            LayerWeights(attentionNorm: layer.attentionNorm, queryProjection: convert(layer.queryProjection),
                         keyProjection: convert(layer.keyProjection), valueProjection: convert(layer.valueProjection),
                         outputProjection: convert(layer.outputProjection), feedForwardNorm: layer.feedForwardNorm,
                         gateProjection: convert(layer.gateProjection), upProjection: convert(layer.upProjection),
                         downProjection: convert(layer.downProjection))
        }
        return LlamaWeights(configuration: weights.configuration, tokenEmbedding: weights.tokenEmbedding, layers: layers,
                            finalNorm: weights.finalNorm, outputProjection: convert(weights.outputProjection))
    }

    /// Decoded tokens between two reads of the bandwidth probe.
    static let decodeStretch = 16

    /// Prefill and decode speed of `weights` against the machine's limits.
    private func measure(_ weights: LlamaWeights, label: String) throws {
        let config = weights.configuration
        let matrixBytes = weights.layers.reduce(0) { total, layer in
            total + [layer.queryProjection, layer.keyProjection, layer.valueProjection, layer.outputProjection,
                     layer.gateProjection, layer.upProjection, layer.downProjection].reduce(0) { $0 + $1.byteCount }
        }
        let matrixParameters = config.layerCount * (2 * config.hiddenSize * config.queryWidth + 2 * config.hiddenSize * config.keyValueWidth
            + 3 * config.hiddenSize * config.intermediateSize)
        let weightType = weights.layers.first?.queryProjection.dtype.rawValue ?? "?"
        print(String(format: "model: %@ %@ (%.1fM parameters, %.1f MB of weights read per token)", label, weightType,
                     Double(config.parameterCount) / 1e6, Double(matrixBytes + weights.outputProjection.byteCount) / 1e6))
        let session = InferenceSession(weights: weights, context: promptTokens + decodeTokens + 1, maxChunk: promptTokens,
                                       cacheType: cache.cacheType)
        var generator = SeededGenerator(seed: 7)
        let prompt = (0..<promptTokens).map { _ in Int32(generator.nextInt(below: config.vocabularySize)) }
        let t = Double(promptTokens)
        let attentionFlops = 2 * 2 * Double(config.layerCount) * t * (t + 1) / 2 * Double(config.queryWidth)
        let prefillFlops = 2 * Double(matrixParameters) * t + attentionFlops + 2 * Double(config.vocabularySize * config.hiddenSize)
        let bytesPerToken = Double(matrixBytes + weights.outputProjection.byteCount)
            + Double(config.keyValueCacheBytes(context: promptTokens + decodeTokens / 2,
                                                    bytesPerValue: cache.cacheType.bytesPerValue))
        let probe = ReadProbe(bytes: 256 << 20)
        // The machine's limits are measured again right before each prefill and during each decode run:
        // on a shared host they drift by a factor of two from minute to minute, and a ratio is
        // only meaningful between figures taken under the same conditions.
        var runs: [(prefill: Double, peak: Double, decode: Double, bandwidth: Double, sustained: Double)] = []
        for _ in 0..<repeats {
            session.reset()
            let peak = MachineLimits.sgemmGigaflops(repeats: 2)
            let start = DispatchTime.now().uptimeNanoseconds
            var logits = try session.forward(prompt)
            let middle = DispatchTime.now().uptimeNanoseconds
            // The bandwidth probe is read before every stretch of `decodeStretch` tokens, so the
            // bound and the decode it bounds are measured over the same seconds.
            var readSeconds: [Double] = [], decodeSeconds = 0.0, decoded = 0
            while decoded < decodeTokens {
                readSeconds.append(probe.read())
                let stretch = min(Self.decodeStretch, decodeTokens - decoded)
                let decodeStart = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<stretch {
                    let best = logits.baseAddress.map { VectorMath.argmax($0, logits.count) } ?? 0
                    logits = try session.forward(token: Int32(best))
                }
                decodeSeconds += Double(DispatchTime.now().uptimeNanoseconds - decodeStart) / 1e9
                decoded += stretch
            }
            let fastestRead = readSeconds.min() ?? .infinity, allReads = readSeconds.reduce(0, +)
            runs.append((prefillFlops / (Double(middle - start) / 1e9) / 1e9, peak, Double(decodeTokens) / decodeSeconds,
                         Double(probe.bytes) / fastestRead / 1e9, Double(probe.bytes * readSeconds.count) / allReads / 1e9))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let prefillRate = runs.map(\.prefill).max() ?? 0, decodeRate = runs.map(\.decode).max() ?? 0
        let prefillShare = median(runs.map { $0.prefill / $0.peak })
        let decodeShare = median(runs.map { $0.decode * bytesPerToken / 1e9 / $0.bandwidth })
        let sustainedShare = median(runs.map { $0.decode * bytesPerToken / 1e9 / $0.sustained })
        let peaks = runs.map(\.peak), bandwidths = runs.map(\.bandwidth), sustained = runs.map(\.sustained)
        print(String(format: "  prefill %d tokens: %.1f tokens/s, %.1f GFLOP/s; median %.0f%% of the sgemm peak beside it (%.0f-%.0f GFLOP/s)",
                     promptTokens, prefillRate / prefillFlops * 1e9 * t, prefillRate, 100 * prefillShare,
                     peaks.min() ?? 0, peaks.max() ?? 0))
        let reads = (decodeTokens + Self.decodeStretch - 1) / Self.decodeStretch
        print(String(format: "  decode: %.1f tokens/s, %.1f GB/s (%.1f MB per token with the %@ KV cache); median %.0f%% of the best read among those between its stretches (%d reads of %d MB, one before every %d tokens; best %.1f-%.1f GB/s), %.0f%% of their sustained rate (all %d, %.1f-%.1f GB/s)",
                     decodeRate, decodeRate * bytesPerToken / 1e9, bytesPerToken / 1e6, cache.cacheType.rawValue.uppercased(), 100 * decodeShare,
                     reads, probe.bytes >> 20, Self.decodeStretch, bandwidths.min() ?? 0, bandwidths.max() ?? 0, 100 * sustainedShare, reads,
                     sustained.min() ?? 0, sustained.max() ?? 0))
        for text in concurrency.split(separator: ",") {
            guard let sequences = Int(text), sequences > 0 else { throw ValidationError("bad --concurrency '\(text)'") }
            let rate = try aggregateDecode(weights, sequences: sequences, prompt: Array(prompt.prefix(16)))
            print(String(format: "  %d concurrent sequences: %.1f tokens/s aggregate", sequences, rate))
        }
    }

    /// Tokens per second decoded by `sequences` requests running together.
    private func aggregateDecode(_ weights: LlamaWeights, sequences: Int, prompt: [Int32]) throws -> Double {
        let engine = GenerationEngine(weights: weights, slots: sequences, context: prompt.count + decodeTokens + 1,
                                      cacheType: cache.cacheType)
        defer { engine.shutdown(drain: false) }
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<sequences {
            group.enter()
            engine.submit(.init(prompt: prompt, maxTokens: decodeTokens, sampling: SamplingParameters(), stopAtEOS: false)) { event in
                if case .finished = event { group.leave() }
            }
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(sequences * decodeTokens) / seconds
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
