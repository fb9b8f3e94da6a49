import Foundation
import LlamaCore
import LlamaModel
import XCTest

/// Configuration rules against the paper and Meta's published models.
final class ConfigurationTests: XCTestCase {
    func testFeedForwardWidthOfThePaperSizes() {
        // Meta's released params.json / HF configs: 11008, 13824, 17920, 22016.
        XCTAssertEqual(LlamaConfiguration.llama7B.intermediateSize, 11008)
        XCTAssertEqual(LlamaConfiguration.llama13B.intermediateSize, 13824)
        XCTAssertEqual(LlamaConfiguration.llama33B.intermediateSize, 17920)
        XCTAssertEqual(LlamaConfiguration.llama65B.intermediateSize, 22016)
    }

    func testParameterCountsOfThePaperSizes() {
        // Exact counts of the released checkpoints (huggyllama/llama-7b … 65b): 6,738,415,616;
        // 13,015,864,320; 32,528,943,616; 65,285,660,672.
        XCTAssertEqual(LlamaConfiguration.llama7B.parameterCount, 6_738_415_616)
        XCTAssertEqual(LlamaConfiguration.llama13B.parameterCount, 13_015_864_320)
        XCTAssertEqual(LlamaConfiguration.llama33B.parameterCount, 32_528_943_616)
        XCTAssertEqual(LlamaConfiguration.llama65B.parameterCount, 65_285_660_672)
    }

    func testReadsTheFixtureConfig() throws {
        let config = try LlamaConfiguration(huggingFaceConfigAt: ModelFixtures.tinyLlama + "/config.json")
        XCTAssertEqual(config, LlamaConfiguration(hiddenSize: 96, intermediateSize: 256, layerCount: 3, headCount: 6,
                                                  keyValueHeadCount: 6, headDimension: 16, vocabularySize: 1000,
                                                  maxPositionEmbeddings: 2048, rmsNormEpsilon: 1e-6, ropeTheta: 10000))
    }

    func testWrittenConfigReadsBack() throws {
        let directory = try ModelFixtures.temporaryDirectory()
        let config = LlamaConfiguration(hiddenSize: 64, layerCount: 2, headCount: 4, keyValueHeadCount: 2, vocabularySize: 300)
        try AtomicFile.write(path: directory + "/config.json", text: config.huggingFaceConfigJSON())
        XCTAssertEqual(try LlamaConfiguration(huggingFaceConfigAt: directory + "/config.json"), config)
    }

    func testImpossibleConfigValuesAreRefusedByField() throws {
        let directory = try ModelFixtures.temporaryDirectory()
        let base = try String(contentsOfFile: ModelFixtures.tinyLlama + "/config.json", encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("\"num_key_value_heads\": 6", "\"num_key_value_heads\": 4", "num_key_value_heads"),
            ("\"hidden_size\": 96", "\"hidden_size\": -96", "hidden_size"),
            ("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": 0", "rms_norm_eps"),
            ("\"head_dim\": 16", "\"head_dim\": 15", "head_dim"),
            ("\"vocab_size\": 1000", "\"vocab_size\": \"many\"", "vocab_size"),
            ("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act"),
            ("\"attention_bias\": false", "\"attention_bias\": true", "attention_bias"),
        ]
        for (original, replacement, field) in cases {
            XCTAssertTrue(base.contains(original), original)
            let path = directory + "/config.json"
            try base.replacingOccurrences(of: original, with: replacement).write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try LlamaConfiguration(huggingFaceConfigAt: path), field) { error in
                XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("'\(field)'"), "\(error)")
            }
        }
        try "{ broken".write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LlamaConfiguration(huggingFaceConfigAt: directory + "/config.json"))
    }
}
