import Foundation
import XCTest

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
