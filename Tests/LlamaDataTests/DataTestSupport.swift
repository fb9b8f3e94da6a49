import Foundation
import LlamaData
import XCTest

/// Fixtures, scratch directories and output readers for the data tests.
enum DataFixtures {
    static let directory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/data").path
    }()

    static func path(_ relative: String) -> String { directory + "/" + relative }

    /// The documents of an `expected.txt`: texts separated by lines holding only `=====`.
    static func expectedTexts(_ relative: String) throws -> [String] {
        let text = try String(contentsOfFile: path(relative), encoding: .utf8)
        return text.components(separatedBy: "\n=====\n").map(trimmedTrailingNewlines)
    }

    static func trimmedTrailingNewlines(_ text: String) -> String {
        var result = Substring(text)
        while result.last == "\n" { result = result.dropLast() }
        return String(result)
    }

    static func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "llama-data-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The `text` and whole objects of a JSONL output file.
    static func documents(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "not an object: \(line)"])
            }
            return object
        }
    }

    static func texts(_ path: String) throws -> [String] {
        try documents(path).map { trimmedTrailingNewlines(($0["text"] as? String) ?? "<no text>") }
    }

    /// Runs a program (tar, gzip, bzip2, sha256sum) and returns its standard output.
    @discardableResult
    static func runProgram(_ program: String, _ arguments: [String], directory: String? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "test", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(program) \(arguments) failed"])
        }
        return data
    }
}

/// Asserts that two document lists are equal, showing the first difference.
func assertTexts(_ actual: [String], _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "document count; got:\n\(actual.joined(separator: "\n=====\n"))", file: file, line: line)
    for (index, (got, want)) in zip(actual, expected).enumerated() where got != want {
        XCTFail("document \(index) differs:\n--- got ---\n\(got)\n--- expected ---\n\(want)", file: file, line: line)
    }
}
