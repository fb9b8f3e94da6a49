import Foundation
import LlamaCore
import LlamaModel
import XCTest

/// Damaged checkpoints give errors that name the file and the tensor or field.
final class CheckpointErrorTests: XCTestCase {
    private func assertLoadFails(_ directory: String, mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.load(directory: directory), file: file, line: line) { error in
            let message = "\(error)"
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "'\(fragment)' in: \(message)", file: file, line: line)
            }
        }
    }

    func testMissingFiles() throws {
        assertLoadFails("/nonexistent/model", mentioning: ["/nonexistent/model", "not a checkpoint directory"])
        let noConfig = try ModelFixtures.copyOfTinyLlama()
        try FileManager.default.removeItem(atPath: noConfig + "/config.json")
        assertLoadFails(noConfig, mentioning: [noConfig + "/config.json", "not found"])
        let noWeights = try ModelFixtures.copyOfTinyLlama()
        try FileManager.default.removeItem(atPath: noWeights + "/model.safetensors")
        assertLoadFails(noWeights, mentioning: [noWeights, "model.safetensors.index.json"])
    }

    func testShapeMismatchBetweenConfigAndTensors() throws {
        let directory = try ModelFixtures.copyOfTinyLlama()
        let config = try String(contentsOfFile: directory + "/config.json", encoding: .utf8)
        try config.replacingOccurrences(of: "\"intermediate_size\": 256", with: "\"intermediate_size\": 512")
            .write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        assertLoadFails(directory, mentioning: ["model.safetensors", "model.layers.0.mlp.gate_proj.weight", "[256, 96]", "[512, 96]"])
    }

    func testWrongDtypeAndMissingTensor() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let directory = try ModelFixtures.temporaryDirectory()
        var tensors = weights.namedParameters.filter { $0.name != "model.norm.weight" }
        try SafetensorsWriter.write(path: directory + "/model.safetensors", tensors: tensors)
        try FileManager.default.copyItem(atPath: ModelFixtures.tinyLlama + "/config.json", toPath: directory + "/config.json")
        assertLoadFails(directory, mentioning: ["model.norm.weight", "missing"])
        let integers = Tensor(zeros: [96], dtype: .i32)
        tensors.append((name: "model.norm.weight", tensor: integers))
        try SafetensorsWriter.write(path: directory + "/model.safetensors", tensors: tensors)
        assertLoadFails(directory, mentioning: ["model.norm.weight", "I32"])
    }

    func testTruncatedSafetensors() throws {
        let directory = try ModelFixtures.copyOfTinyLlama()
        let path = directory + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path))
        assertLoadFails(directory, mentioning: [path, "out of range"])
        try data.prefix(20).write(to: URL(fileURLWithPath: path))
        assertLoadFails(directory, mentioning: [path, "runs past the end"])
    }

    func testOutOfVocabularyTokenIsAnError() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let session = InferenceSession(weights: weights, context: 8)
        XCTAssertThrowsError(try session.forward([1, 1000])) { XCTAssertTrue("\($0)".contains("token id 1000")) }
        XCTAssertThrowsError(try session.forward([Int32](repeating: 1, count: 9))) { XCTAssertTrue("\($0)".contains("context of 8")) }
    }
}
