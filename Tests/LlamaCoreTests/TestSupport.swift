import Foundation
import XCTest
@testable import LlamaCore

/// Paths and helpers shared by the core tests.
enum TestPaths {
    /// The repository root (two levels above this file's folder).
    static let repository: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Runs `python3 -c script args…` and returns its standard output; fails the test when
/// python exits non-zero (the reference libraries must be installed: see scripts/setup.sh).
func runPython(_ script: String, _ arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        XCTFail("python failed: \(String(decoding: errorData, as: UTF8.self))", file: file, line: line)
    }
    return String(decoding: data, as: UTF8.self)
}

/// The outputs of `Linear.forward(input:rows:workspace:products:)` for three weights sharing
/// `input` (`rows` rows), each output buffer filled with 7 before the call.
func sharedInputProducts(_ input: [Float], rows: Int, weights: [Tensor], workspace: LinearWorkspace) -> [[Float]] {
    let heights = weights.map { $0.shape[0] }
    let buffers = heights.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0) }
    defer { buffers.forEach { $0.deallocate() } }
    for (buffer, height) in zip(buffers, heights) { buffer.initialize(repeating: 7, count: rows * height) }
    Linear.forward(input: input, rows: rows, workspace: workspace,
                   products: .init(output: buffers[0], weight: weights[0]), .init(output: buffers[1], weight: weights[1]),
                   .init(output: buffers[2], weight: weights[2]))
    return zip(buffers, heights).map { Array(UnsafeBufferPointer(start: $0, count: rows * $1)) }
}
