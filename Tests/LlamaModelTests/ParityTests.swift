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
        let session = InferenceSession(weights: loaded.weights, context: 64)
        let result = try Generator.generate(session: session, prompt: prompt, maxTokens: expected.count,
                                            sampling: SamplingParameters(), stopAtEOS: false)
        XCTAssertEqual(result.tokens, expected)
    }

    func testChunkedPrefillAndDecodeStepsGiveTheSameLogits() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let tokens: [Int32] = [1, 626, 685, 897, 579, 776, 834, 227, 5, 9, 400]
        let whole = try ModelFixtures.logits(weights, tokens)
        let session = InferenceSession(weights: weights, context: 32, maxChunk: 3)
        var stepwise: [Float] = []
        stepwise += try session.forward(Array(tokens[0..<4]))
        for token in tokens[4...] { stepwise += try session.forward(token: token) }
        let vocabulary = weights.configuration.vocabularySize
        XCTAssertLessThan(maxAbsoluteDifference(Array(whole[(3 * vocabulary)...]), Array(stepwise)), 1e-5)
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
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let prompts: [[Int32]] = [[1, 626, 685], [1, 5, 9, 400, 17], [1, 897]]
        let continuations: [[Int32]] = [[579, 776, 834], [12, 13, 14], [100, 200, 300]]
        var expected: [[Float]] = []
        for (prompt, continuation) in zip(prompts, continuations) {
            let session = InferenceSession(weights: weights, context: 16)
            try session.forward(prompt)
            var rows: [Float] = []
            for token in continuation { rows += try session.forward(token: token) }
            expected.append(rows)
        }
        let batched = InferenceSession(weights: weights, context: 16, slotCount: 3)
        for (slot, prompt) in prompts.enumerated() { try batched.forward(prompt, slot: slot) }
        var got: [[Float]] = [[], [], []]
        for step in 0..<3 {
            // The middle sequence joins late in the last step, to mix positions in one batch.
            let slots = step == 2 ? [2, 0, 1] : [0, 2, 1]
            let logits = try batched.forwardBatch(slots: slots, tokens: slots.map { continuations[$0][step] })
            for (row, slot) in slots.enumerated() { got[slot] += logits[(row * 1000)..<((row + 1) * 1000)] }
        }
        for slot in 0..<3 { XCTAssertLessThan(maxAbsoluteDifference(got[slot], expected[slot]), 1e-5, "slot \(slot)") }
        XCTAssertEqual(batched.position(of: 1), 8)
        XCTAssertThrowsError(try batched.forwardBatch(slots: [0, 0], tokens: [1, 1]))
        XCTAssertThrowsError(try batched.forwardBatch(slots: [3], tokens: [1]))
    }
}
