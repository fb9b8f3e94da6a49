import Foundation
import XCTest

/// Runs the real `sentencepiece` (Python) through `scripts/spm_reference.py` to produce
/// the outputs the Swift tokenizer must reproduce.
enum ReferenceTool {
    /// The repository root, found from this file's location.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Fixtures committed with the tests.
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/sentencepiece")
    /// Large corpora shared between worktrees (`<repo>/../shared/fixtures`).
    static let sharedFixtures = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    static let script = repositoryRoot.appendingPathComponent("scripts/spm_reference.py")

    /// A committed fixture; fails the test when it is missing.
    static func fixture(_ name: String) throws -> URL {
        let url = fixtures.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingFixture(path: url.path) }
        return url
    }

    /// A fixture that is not where it should be.
    struct MissingFixture: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing fixture \(path)" }
    }

    /// A shared corpus; the test fails (not skips) when it is missing.
    static func sharedCorpus(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let url = sharedFixtures.appendingPathComponent("corpora").appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingFixture(path: url.path) }
        return url
    }

    /// Runs the helper and returns its JSON output.
    static func run(_ arguments: [String]) throws -> Any {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        struct Failure: Error, CustomStringConvertible { let description: String }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "spm_reference.py \(arguments.joined(separator: " ")) failed: "
                + String(decoding: errorData, as: UTF8.self))
        }
        return try JSONSerialization.jsonObject(with: data)
    }

    /// One line's expected outputs.
    struct EncodedLine {
        var ids: [Int32]
        var pieces: [String]
        var decoded: String
        var decodedPieces: String
    }

    /// Encodes every line of `lines` with `sentencepiece`.
    static func encode(model: URL, lines: URL) throws -> [EncodedLine] {
        guard let array = try run(["encode", model.path, lines.path]) as? [[String: Any]] else { return [] }
        return array.map { entry in
            EncodedLine(ids: ((entry["ids"] as? [NSNumber]) ?? []).map { $0.int32Value },
                        pieces: (entry["pieces"] as? [String]) ?? [],
                        decoded: (entry["decoded"] as? String) ?? "",
                        decodedPieces: (entry["decoded_pieces"] as? String) ?? "")
        }
    }

    /// Trains a model with `sentencepiece`; returns the `.model` URL and the seconds it took.
    static func train(input: URL, prefix: URL, options: [String: Any]) throws -> (model: URL, seconds: Double) {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: options, options: [.sortedKeys]), as: UTF8.self)
        let result = try run(["train", input.path, prefix.path, json]) as? [String: Any]
        return (prefix.appendingPathExtension("model"), (result?["seconds"] as? Double) ?? 0)
    }

    /// The vocabulary of a model as `sentencepiece` reads it: (piece, score, type).
    static func vocabulary(model: URL) throws -> [(piece: String, score: Float, type: Int)] {
        guard let array = try run(["vocab", model.path]) as? [[Any]] else { return [] }
        return array.map { (($0[0] as? String) ?? "", (($0[1] as? NSNumber)?.floatValue) ?? 0, (($0[2] as? NSNumber)?.intValue) ?? 0) }
    }

    /// The lines of a file as bytes, split like `spm_reference.py` does.
    static func lines(of url: URL) throws -> [[UInt8]] {
        let data = try Data(contentsOf: url)
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("llama-tokenizer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
