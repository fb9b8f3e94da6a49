import Foundation
import LlamaCore

/// One weighted source of training tokens.
public struct TrainingSource {
    public let name: String
    public let reader: TokenShardReader
    /// Relative sampling weight (the paper's Table 1 "sampling proportion").
    public let weight: Double

    public init(name: String, reader: TokenShardReader, weight: Double) {
        self.name = name
        self.reader = reader
        self.weight = weight
    }
}

/// Where the sampler is: its random state and how many tokens each source has served.
/// Saved in checkpoints so a resumed run draws exactly the windows it would have.
public struct DataPosition: Codable, Equatable, Sendable {
    public var generator: SeededGenerator
    /// Training tokens drawn from each source, by name.
    public var tokensDrawn: [String: Int]
}

/// Draws (B, T) batches of random contiguous windows from weighted sources: a source by
/// weight, then a uniformly random start in its training part, T + 1 tokens (inputs and
/// next-token targets). The last `validationFraction` of every source is held out and
/// read in fixed windows for validation. Everything random comes from one seeded
/// xoshiro256** generator, in a fixed order, so batches are a function of seed and step.
public final class DataSampler {
    public let sources: [TrainingSource]
    public let sequenceLength: Int
    /// First validation token of each source (its training part is 0 ..< boundary).
    public let validationStart: [Int]
    public private(set) var position: DataPosition
    private let cumulativeWeights: [Double]

    /// The paper's Table 1: sampling proportion and epochs per source over 1.4T tokens.
    public static let paperMixture: [(source: String, proportion: Double, epochs: Double)] = [
        ("CommonCrawl", 0.670, 1.10), ("C4", 0.150, 1.06), ("Github", 0.045, 0.64), ("Wikipedia", 0.045, 2.45),
        ("Books", 0.045, 2.23), ("ArXiv", 0.025, 1.06), ("StackExchange", 0.020, 1.03),
    ]

    public init(sources: [TrainingSource], sequenceLength: Int, validationFraction: Double, seed: UInt64) throws {
        guard !sources.isEmpty else { throw TrainingError.invalidOption(name: "--data", reason: "no training sources") }
        self.sources = sources
        self.sequenceLength = sequenceLength
        var boundaries: [Int] = []
        for source in sources {
            let count = source.reader.count
            let held = validationFraction > 0 ? max(sequenceLength + 1, Int(Double(count) * validationFraction)) : 0
            guard count - held >= sequenceLength + 1 else {
                throw TrainingError.invalidData(path: source.reader.path, field: "tokens",
                                                reason: "\(count) tokens are too few for windows of \(sequenceLength + 1) plus a validation part")
            }
            guard source.weight > 0 && source.weight.isFinite else {
                throw TrainingError.invalidOption(name: "--data", reason: "weight of \(source.name) must be positive")
            }
            boundaries.append(count - held)
        }
        validationStart = boundaries
        let total = sources.reduce(0) { $0 + $1.weight }
        var running = 0.0
        cumulativeWeights = sources.map { running += $0.weight / total; return running }
        position = DataPosition(generator: SeededGenerator(seed: seed),
                                tokensDrawn: Dictionary(uniqueKeysWithValues: sources.map { ($0.name, 0) }))
    }

    /// Continues from a saved position.
    public func restore(_ saved: DataPosition) { position = saved }

    /// The next (B, T) batch: inputs and targets (targets are inputs shifted by one).
    public func nextBatch(batchSize: Int) -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(batchSize * sequenceLength)
        targets.reserveCapacity(batchSize * sequenceLength)
        for _ in 0..<batchSize {
            let (index, start) = drawWindow()
            let window = sources[index].reader.tokens(from: start, count: sequenceLength + 1)
            inputs += window[0..<sequenceLength]
            targets += window[1...]
        }
        return (inputs, targets)
    }

    /// Advances exactly as `nextBatch` would without reading tokens: in data-parallel
    /// training every rank walks the whole global stream and reads only its own batches,
    /// so all ranks keep the same position (and a checkpoint's position is the stream's).
    public func skipBatch(batchSize: Int) {
        for _ in 0..<batchSize { _ = drawWindow() }
    }

    /// Draws the next window: a source by weight, then a start in its training part.
    private func drawWindow() -> (source: Int, start: Int) {
        let draw = position.generator.nextDouble()
        let index = cumulativeWeights.firstIndex { draw < $0 } ?? (sources.count - 1)
        let start = position.generator.nextInt(below: validationStart[index] - sequenceLength)
        position.tokensDrawn[sources[index].name, default: 0] += sequenceLength
        return (index, start)
    }

    /// Epochs drawn so far of each source's training part.
    public var epochs: [String: Double] {
        var result: [String: Double] = [:]
        for (index, source) in sources.enumerated() {
            result[source.name] = Double(position.tokensDrawn[source.name] ?? 0) / Double(validationStart[index])
        }
        return result
    }

    /// Fixed validation batches: up to `batches` batches of `batchSize` windows, the
    /// windows spread evenly over every source's held-out part, sources taking turns.
    public func validationBatches(batches: Int, batchSize: Int) -> [(inputs: [Int32], targets: [Int32])] {
        var windows: [(source: Int, start: Int)] = []
        let wanted = batches * batchSize
        let perSource = max(1, (wanted + sources.count - 1) / sources.count)
        for (index, source) in sources.enumerated() {
            let begin = validationStart[index], room = source.reader.count - begin - sequenceLength - 1
            guard room >= 0 else { continue }
            let count = min(perSource, room / sequenceLength + 1)
            for k in 0..<count { windows.append((index, begin + (count > 1 ? room * k / (count - 1) : 0))) }
        }
        windows.sort { ($0.start, $0.source) < ($1.start, $1.source) }
        var result: [(inputs: [Int32], targets: [Int32])] = []
        var i = 0
        while i + batchSize <= windows.count && result.count < batches {
            var inputs = [Int32](), targets = [Int32]()
            for (source, start) in windows[i..<(i + batchSize)] {
                let window = sources[source].reader.tokens(from: start, count: sequenceLength + 1)
                inputs += window[0..<sequenceLength]
                targets += window[1...]
            }
            result.append((inputs, targets))
            i += batchSize
        }
        return result
    }
}
