import Foundation
import XCTest

/// Runs the built `llama` executable (`swift build` puts it beside the test bundle).
enum CLI {
    static let repository: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()
    static let tinyLlama = repository + "/Tests/Fixtures/tiny-llama"

    /// The executable: `LLAMA_BIN`, or next to the test bundle in the same build folder.
    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["LLAMA_BIN"] { return path }
        let bundle = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        var folder = bundle.deletingLastPathComponent()
        if folder.lastPathComponent == "MacOS" || folder.lastPathComponent == "Contents" {
            folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return folder.appendingPathComponent("llama").path
    }

    struct Result {
        let status: Int32
        let output: String
        let errors: String
    }

    /// Runs `llama arguments…` with `input` on standard input.
    static func run(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw NSError(domain: "CLI", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(executable) is not built: run swift build first"])
        }
        return try launch(executable, arguments, input: input, environment: environment)
    }

    /// Runs `python3 -c script arguments…` (the reference tools' side of a comparison).
    static func python(_ script: String, _ arguments: [String]) throws -> Result {
        try launch("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    private static func launch(_ path: String, _ arguments: [String], input: String? = nil,
                               environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                      errors: String(decoding: errorData, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-cli-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
