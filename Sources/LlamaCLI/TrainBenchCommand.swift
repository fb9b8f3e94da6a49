import ArgumentParser
import Dispatch
import Foundation
import LlamaCore
import LlamaDistributed
import LlamaModel
import LlamaTraining

/// `llama train-bench`: training speed (tokens/s), model FLOPs utilisation against the
/// measured sgemm peak, and memory, for model presets and context lengths. Under mpirun
/// it measures MPI allreduce bandwidth instead (`Benchmarks/mpi.sh` measures training).
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-bench", abstract: "Measure training tokens/s, MFU and memory for presets and contexts.")

    @Option(help: "Comma-separated presets.") var presets = "15M,110M"
    @Option(help: "Comma-separated context lengths.") var contexts = "256,1024"
    @Option(help: "Tokens per micro-batch (batch size = this / context).") var tokens = 2048
    @Option(help: "Timed steps (after one untimed warm-up step).") var steps = 3
    @Flag(name: .customLong("activation-checkpointing")) var activationCheckpointing = false
    @Option(name: .customLong("allreduce-megabytes"), help: "Under mpirun: float32 buffer size of the allreduce measurement.")
    var allreduceMegabytes = 100

    func run() throws {
        if let communicator = try Communicator.world() {
            do {
                try measureAllreduce(communicator)
                communicator.finalize()
                return
            } catch {
                communicator.abort(message: "error: \(error)")
            }
        }
        let peak = MachineLimits.sgemmGigaflops()
        print(String(format: "sgemm peak: %.1f GFLOP/s (2048³, %d BLAS threads, %d workers)", peak, BLAS.threadCount, Parallel.threadCount))
        for name in presets.split(separator: ",").map(String.init) {
            guard var config = LlamaConfiguration.presets[name.uppercased()] else { throw ValidationError("unknown preset \(name)") }
            for context in contexts.split(separator: ",").compactMap({ Int($0) }) {
                config.maxPositionEmbeddings = max(config.maxPositionEmbeddings, context)
                let batch = max(1, tokens / context)
                var options = TrainingOptions(outputDirectory: "/tmp")
                options.batchSize = batch
                options.sequenceLength = context
                options.activationCheckpointing = activationCheckpointing
                try Trainer.checkFits(configuration: config, options: options)
                let model = TrainingModel(weights: LlamaWeights.random(configuration: config, seed: 1), batchSize: batch,
                                          sequenceLength: context, checkpointsActivations: activationCheckpointing)
                let optimizer = AdamW(configuration: config)
                var generator = SeededGenerator(seed: 3)
                let ids = (0..<(batch * context + 1)).map { _ in Int32(generator.nextInt(below: config.vocabularySize)) }
                let inputs = Array(ids[0..<(batch * context)]), targets = Array(ids[1...])
                var best = Double.infinity
                for index in 0...steps {
                    let start = DispatchTime.now().uptimeNanoseconds
                    model.gradients.setZero()
                    try model.forwardBackward(inputIds: inputs, targetIds: targets)
                    optimizer.step(weights: model.weights, gradients: model.gradients, learningRate: 1e-4)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    if index > 0 { best = min(best, seconds) }
                }
                let rate = Double(batch * context) / best
                let flops = Trainer.flopsPerToken(configuration: config, sequenceLength: context)
                let mfu = rate * flops / (peak * 1e9)
                let estimate = Trainer.memoryBytes(configuration: config, options: options)
                var otherOptions = options
                otherOptions.activationCheckpointing.toggle()
                let other = Trainer.memoryBytes(configuration: config, options: otherOptions)
                print(String(format: "%@ (%.1fM params) context %d, batch %d: %.0f tokens/s, %.1f GFLOP/s, MFU %.1f%%, peak RSS %d MiB, estimate %d MiB (%d MiB %@ activation checkpointing)",
                             name, Double(config.parameterCount) / 1e6, context, batch, rate, rate * flops / 1e9, 100 * mfu,
                             Self.peakResidentBytes() >> 20, estimate >> 20, other >> 20, activationCheckpointing ? "without" : "with"))
            }
        }
    }

    /// Times sum-allreduces of a float32 buffer of `allreduceMegabytes` MB (best of 5 after
    /// a warm-up) and prints, on rank 0, the algorithm bandwidth (bytes / time) and the bus
    /// bandwidth (× 2(n−1)/n, the bytes each rank moves in a ring allreduce; nccl-tests' convention).
    func measureAllreduce(_ communicator: Communicator) throws {
        let count = max(1, allreduceMegabytes * 1_000_000 / 4)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: Float(communicator.rank + 1), count: count)
        var best = Double.infinity
        for index in 0...5 {
            try communicator.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            try communicator.allreduceSum(buffer, count: count)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if index > 0 { best = min(best, seconds) }
        }
        let ranks = Double(communicator.size)
        let expected = Float(communicator.size * (communicator.size + 1) / 2) * pow(Float(communicator.size), 5)
        guard buffer[0] == expected, buffer[count - 1] == expected else {
            throw DistributedError.ranksDisagree(what: "allreduce result", detail: "got \(buffer[0]), expected \(expected)")
        }
        let bytes = Double(count * 4)
        if communicator.isRoot {
            print(String(format: "allreduce of %d MB float32 over %d ranks: %.1f ms, algorithm bandwidth %.2f GB/s, bus bandwidth %.2f GB/s",
                         allreduceMegabytes, communicator.size, best * 1e3, bytes / best / 1e9, bytes / best / 1e9 * 2 * (ranks - 1) / ranks))
        }
    }

    /// The process's peak resident memory (getrusage ru_maxrss).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}
