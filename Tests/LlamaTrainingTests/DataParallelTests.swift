import Foundation
import LlamaCore
import LlamaDistributed
import LlamaModel
import XCTest
@testable import LlamaTraining

/// The single-process pieces of data-parallel training: the split of micro-batches, the
/// flat parameter layout and its buckets and shards, the sampler's skip, and ZeRO-1's
/// update against AdamW's.
final class DataParallelTests: XCTestCase {
    let config = LlamaConfiguration(hiddenSize: 16, intermediateSize: 40, layerCount: 3, headCount: 2, vocabularySize: 37,
                                    maxPositionEmbeddings: 8)

    func testMicroBatchesSplitContiguouslyWithTheRemainderOnTheFirstRanks() {
        XCTAssertEqual((0..<2).map { Trainer.microBatches(accumulation: 4, rank: $0, ranks: 2) }, [0..<2, 2..<4])
        XCTAssertEqual((0..<2).map { Trainer.microBatches(accumulation: 5, rank: $0, ranks: 2) }, [0..<3, 3..<5])
        XCTAssertEqual((0..<3).map { Trainer.microBatches(accumulation: 2, rank: $0, ranks: 3) }, [0..<1, 1..<2, 2..<2])
    }

    func testBucketsAndShardsPartitionTheFlatBuffer() {
        for tied in [false, true] {
            var c = config
            c.tieWordEmbeddings = tied
            let flat = FlatParameters(configuration: c)
            // 37·16 = 592 embedding floats (a multiple of 16); each block 16+3·256+256+16+3·640 = 2976.
            XCTAssertEqual(flat.entries.first?.count, 592)
            XCTAssertEqual(flat.layerRange(0), 592..<(592 + 2976))
            XCTAssertEqual(flat.count, 592 + 3 * 2976 + 16 + (tied ? 0 : 592))
            let buckets = flat.backwardBuckets
            XCTAssertEqual(buckets.count, 5)
            XCTAssertEqual(buckets.first, (592 + 3 * 2976)..<flat.count, "final norm and head first")
            XCTAssertEqual(buckets[1], flat.layerRange(2))
            XCTAssertEqual(buckets.last, 0..<592, "embedding last")
            XCTAssertEqual(buckets.map(\.count).reduce(0, +), flat.count)
            XCTAssertEqual(Set(buckets.flatMap { Array($0) }).count, flat.count)
            for ranks in 1...3 {
                let shards = flat.shards(ranks)
                XCTAssertEqual(shards.first?.lowerBound, 0)
                XCTAssertEqual(shards.last?.upperBound, flat.count)
                for (a, b) in zip(shards, shards.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                XCTAssertTrue(shards.allSatisfy { $0.lowerBound % 16 == 0 && abs($0.count - flat.count / ranks) <= 16 })
            }
            // The tensors are views of the buffer, in order.
            flat.weights.layers[1].queryProjection.floats[3] = 7
            XCTAssertEqual(flat.base[592 + 2976 + 16 + 3], 7)
        }
    }

    func testSkippingABatchAdvancesTheSamplerLikeDrawingIt() throws {
        let directory = NSTemporaryDirectory() + "llama-dp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ids = (0..<5000).map { UInt16($0 % 251) }
        try ids.withUnsafeBytes { try AtomicFile.write(path: directory + "/a.bin", chunks: [$0]) }
        try ids.reversed().withUnsafeBytes { try AtomicFile.write(path: directory + "/b.bin", chunks: [$0]) }
        func sampler() throws -> DataSampler {
            try DataSampler(sources: [TrainingSource(name: "a", reader: try TokenShardReader(path: directory + "/a.bin"), weight: 2),
                                      TrainingSource(name: "b", reader: try TokenShardReader(path: directory + "/b.bin"), weight: 1)],
                            sequenceLength: 8, validationFraction: 0.1, seed: 3)
        }
        let reading = try sampler(), skipping = try sampler()
        _ = reading.nextBatch(batchSize: 5)
        skipping.skipBatch(batchSize: 5)
        XCTAssertEqual(reading.position, skipping.position)
        XCTAssertEqual(reading.nextBatch(batchSize: 3).inputs, skipping.nextBatch(batchSize: 3).inputs)
    }

    /// ZeRO-1's update of two halves equals AdamW's update of the whole, bit for bit.
    func testShardedUpdateEqualsAdamW() {
        let weights = LlamaWeights.random(configuration: config, seed: 4)
        let plain = FlatParameters(copying: weights), sharded = FlatParameters(copying: weights)
        let gradient = FlatParameters(copying: LlamaWeights.random(configuration: config, seed: 5, standardDeviation: 0.5))
        let settings = AdamWSettings(weightDecay: 0.1, weightDecayScope: .matrices, gradientClipNorm: 1)
        let adam = AdamW(configuration: config, settings: settings)
        let halves = plain.shards(2).map { ShardedAdamW(layout: plain, shard: $0, settings: settings) }
        for step in 0..<3 {
            let g1 = FlatParameters(copying: gradient.weights), g2 = FlatParameters(copying: gradient.weights)
            let norm = adam.step(weights: plain.weights, gradients: g1.weights, learningRate: 1e-2 * Float(step + 1))
            for half in halves { half.step(weights: sharded, gradients: g2, norm: norm, learningRate: 1e-2 * Float(step + 1)) }
        }
        XCTAssertEqual(halves.map(\.stateBytes).reduce(0, +), 8 * plain.count)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: plain.base, count: plain.count)),
                       Array(UnsafeBufferPointer(start: sharded.base, count: sharded.count)))
        XCTAssertNotEqual(plain.fingerprint(), FlatParameters(copying: weights).fingerprint(), "the steps changed the parameters")
    }

    func testASingleProcessNeverLoadsMPI() throws {
        XCTAssertFalse(Communicator.launchedByMPI)
        XCTAssertNil(try Communicator.world())
    }
}
