import Foundation
import LlamaCore
import LlamaModel
import XCTest

/// Fixture paths and helpers for the model tests.
enum ModelFixtures {
    static let repository: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()
    /// The tiny LLaMA checkpoint with transformers' reference outputs.
    static let tinyLlama = repository + "/Tests/Fixtures/tiny-llama"

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-model-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Copies the tiny checkpoint to a temporary folder that a test may damage.
    static func copyOfTinyLlama() throws -> String {
        let directory = try temporaryDirectory() + "/model"
        try FileManager.default.copyItem(atPath: tinyLlama, toPath: directory)
        return directory
    }

    /// All logits of `tokens`, row by row.
    static func logits(_ weights: LlamaWeights, _ tokens: [Int32], cacheType: KVCacheType = .f32) throws -> [Float] {
        let session = InferenceSession(weights: weights, context: tokens.count, maxChunk: 7, cacheType: cacheType)
        var result: [Float] = []
        try session.forward(tokens) { _, row in result += row }
        return result
    }
}

func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
