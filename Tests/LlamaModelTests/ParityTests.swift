import Foundation
import LlamaCore
import LlamaGeneration
import LlamaModel
import XCTest

/// The forward pass against Hugging Face transformers' `LlamaForCausalLM` on the tiny-llama
/// fixture (logits and greedy continuation computed by transformers 5.24 in float32).
final class ParityTests: XCTestCase {
    func testLogitsMatchTransformers() throws {
        let loaded = try Checkpoint.load(directory: ModelFixtures.tinyLlama)
        let reference = try SafetensorsFile(path: ModelFixtures.tinyLlama + "/reference.safetensors")
        let ids = try reference.tensor("input_ids")
        XCTAssertEqual(ids.shape, [2, 24])
        let expected = try reference.tensor("logits").toFloatArray()
        let tokens = ids.toInt32Array()
        var computed: [Float] = []
        for row in 0..<2 {
            computed += try ModelFixtures.logits(loaded.weights, Array(tokens[(row * 24)..<(row * 24 + 24)]))
        }
        let difference = maxAbsoluteDifference(computed, expected)
        XCTAssertLessThan(difference, 1e-4, "max |logits − transformers|")
    }

    func testGreedyContinuationMatchesTransformers() throws {
        let loaded = try Checkpoint.load(directory: ModelFixtures.tinyLlama)
        let reference = try SafetensorsFile(path: ModelFixtures.tinyLlama + "/reference.safetensors")
        let prompt = try reference.tensor("greedy_prompt").toInt32Array()
        let expected = try reference.tensor("greedy").toInt32Array()
        XCTAssertEqual(expected, [104, 251, 711, 711, 711, 73, 408, 174, 895, 137, 270, 930, 930, 270, 807, 78])
        // Also with a half-precision KV cache (`--cache-type f16`, llama.cpp's default).
        for cacheType in KVCacheType.allCases {
            let session = InferenceSession(weights: loaded.weights, context: 64, cacheType: cacheType)
            XCTAssertEqual(session.cacheType, cacheType)
            let result = try Generator.generate(session: session, prompt: prompt, maxTokens: expected.count,
                                                sampling: SamplingParameters(), stopAtEOS: false)
            XCTAssertEqual(result.tokens, expected, "\(cacheType) cache")
        }
    }

    /// Prefill (BLAS; a half cache widened to float32 first) and decode steps (the cache
    /// kernels) read the same cached values.
    func testChunkedPrefillAndDecodeStepsGiveTheSameLogits() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let tokens: [Int32] = [1, 626, 685, 897, 579, 776, 834, 227, 5, 9, 400, 31, 77, 2, 615]
        for cacheType in KVCacheType.allCases {
            let whole = try ModelFixtures.logits(weights, tokens, cacheType: cacheType)
            let session = InferenceSession(weights: weights, context: 32, maxChunk: 3, cacheType: cacheType)
            var stepwise: [Float] = []
            stepwise += try session.forward(Array(tokens[0..<4]))
            for token in tokens[4...] { stepwise += try session.forward(token: token) }
            let vocabulary = weights.configuration.vocabularySize
            // The two matrix paths may give keys differing in the last float32 bit, which a half
            // cache can round to neighbouring halves.
            let tolerance: Float = cacheType == .f32 ? 1e-5 : 5e-4
            XCTAssertLessThan(maxAbsoluteDifference(Array(whole[(3 * vocabulary)...]), Array(stepwise)), tolerance, "\(cacheType)")
        }
    }

    func testSixteenBitCheckpointsAndShardsLoadAndAgree() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let tokens: [Int32] = [1, 626, 685, 897, 579]
        let reference = try ModelFixtures.logits(weights, tokens)
        let directory = try ModelFixtures.temporaryDirectory()
        // Sharded F32 (tiny shards force several files and an index): identical logits.
        try Checkpoint.save(weights, directory: directory + "/f32", dtype: .f32, maximumShardBytes: 400_000)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/f32/model.safetensors.index.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/f32/model-00001-of-00006.safetensors"))
        let sharded = try Checkpoint.load(directory: directory + "/f32")
        XCTAssertEqual(try ModelFixtures.logits(sharded.weights, tokens), reference)
        // 16-bit weights are used in place; logits move only by the rounding of the weights.
        for (dtype, tolerance) in [(DType.f16, Float(0.02)), (.bf16, 0.1)] {
            try Checkpoint.save(weights, directory: directory + "/\(dtype.rawValue)", dtype: dtype)
            let loaded = try Checkpoint.load(directory: directory + "/\(dtype.rawValue)")
            XCTAssertEqual(loaded.weights.layers[0].queryProjection.dtype, dtype, "weights stay \(dtype.rawValue), not copied to F32")
            let difference = maxAbsoluteDifference(try ModelFixtures.logits(loaded.weights, tokens), reference)
            XCTAssertLessThan(difference, tolerance, "\(dtype.rawValue)")
            XCTAssertGreaterThan(difference, 0, "\(dtype.rawValue) rounding is visible")
        }
    }

    func testSavedCheckpointIsReadByThePythonSafetensorsLibrary() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let directory = try ModelFixtures.temporaryDirectory() + "/saved"
        try Checkpoint.save(weights, directory: directory, dtype: .bf16)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
        import sys, json
        from safetensors import safe_open
        import numpy as np
        f = safe_open(sys.argv[1] + '/model.safetensors', 'numpy')
        keys = sorted(f.keys())
        c = json.load(open(sys.argv[1] + '/config.json'))
        print(len(keys), keys[0], c['hidden_size'], c['num_hidden_layers'], c['torch_dtype'])
        """, directory]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "30 lm_head.weight 96 3 bfloat16")
    }
}

/// Several sequences decoded together give what each gives alone.
final class BatchedDecodingTests: XCTestCase {
    func testBatchedDecodeEqualsSeparateDecodes() throws {
        for cacheType in KVCacheType.allCases { try checkBatchedDecode(cacheType: cacheType) }
    }

    private func checkBatchedDecode(cacheType: KVCacheType) throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let prompts: [[Int32]] = [[1, 626, 685], [1, 5, 9, 400, 17], [1, 897]]
        let continuations: [[Int32]] = [[579, 776, 834], [12, 13, 14], [100, 200, 300]]
        var expected: [[Float]] = []
        for (prompt, continuation) in zip(prompts, continuations) {
            let session = InferenceSession(weights: weights, context: 16, cacheType: cacheType)
            try session.forward(prompt)
            var rows: [Float] = []
            for token in continuation { rows += try session.forward(token: token) }
            expected.append(rows)
        }
        let batched = InferenceSession(weights: weights, context: 16, slotCount: 3, cacheType: cacheType)
        for (slot, prompt) in prompts.enumerated() { try batched.forward(prompt, slot: slot) }
        var got: [[Float]] = [[], [], []]
        for step in 0..<3 {
            // The middle sequence joins late in the last step, to mix positions in one batch.
            let slots = step == 2 ? [2, 0, 1] : [0, 2, 1]
            let logits = try batched.forwardBatch(slots: slots, tokens: slots.map { continuations[$0][step] })
            for (row, slot) in slots.enumerated() { got[slot] += logits[(row * 1000)..<((row + 1) * 1000)] }
        }
        // One row and three rows take different matrix paths, whose float32 keys and values may
        // differ in the last bit; a half cache can round such a pair to neighbouring halves.
        let tolerance: Float = cacheType == .f32 ? 1e-5 : 5e-4
        for slot in 0..<3 { XCTAssertLessThan(maxAbsoluteDifference(got[slot], expected[slot]), tolerance, "slot \(slot) \(cacheType)") }
        XCTAssertEqual(batched.position(of: 1), 8)
        XCTAssertThrowsError(try batched.forwardBatch(slots: [0, 0], tokens: [1, 1]))
        XCTAssertThrowsError(try batched.forwardBatch(slots: [3], tokens: [1]))
    }
}

/// A half-precision KV cache (`--cache-type f16`, llama.cpp's default): keys and values are
/// rounded to IEEE half when stored, and every path reads the same rounded values (also checked
/// by ParityTests' greedy and chunked-prefill tests and by BatchedDecodingTests).
final class HalfCacheTests: XCTestCase {
    func testLogitsStayNearTransformers() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let reference = try SafetensorsFile(path: ModelFixtures.tinyLlama + "/reference.safetensors")
        let tokens = try reference.tensor("input_ids").toInt32Array()
        let expected = try reference.tensor("logits").toFloatArray()
        var computed: [Float] = []
        for row in 0..<2 {
            computed += try ModelFixtures.logits(weights, Array(tokens[(row * 24)..<(row * 24 + 24)]), cacheType: .f16)
        }
        // Rounding keys and values (relative error at most 2⁻¹¹) moves the logits by half the
        // bound allowed for rounding every weight to half (testSixteenBitCheckpointsAndShardsLoadAndAgree).
        let difference = maxAbsoluteDifference(computed, expected)
        XCTAssertLessThan(difference, 0.01, "max |logits − transformers| with a half cache")
        XCTAssertGreaterThan(difference, 1e-6, "the rounding of the cache is visible")
    }

    /// A copied prefix continues exactly as the original.
    func testCopiedCacheContinuesLikeTheOriginal() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let session = InferenceSession(weights: weights, context: 16, slotCount: 2, cacheType: .f16)
        try session.forward([1, 626, 685, 897], slot: 0)
        try session.copyCache(from: 0, to: 1, length: 3)
        let original = Array(try session.forward(token: 579, slot: 0))
        session.truncate(to: 3, slot: 0)
        let copied = Array(try session.forward([897, 579], slot: 1))
        let again = Array(try session.forward([897, 579], slot: 0))
        XCTAssertEqual(copied, again)
        // Position 3 is recomputed by a two-row pass here and by a four-row one there (see above).
        XCTAssertLessThan(maxAbsoluteDifference(copied, original), 5e-4)
    }
}
