import Foundation
import XCTest

/// `llama serve` over real HTTP on loopback, driven by the OpenAI Python client
/// (Tests/LlamaCLITests/Python/server_check.py).
final class ServerTests: XCTestCase {
    func testOpenAICompatibleServer() throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CLI.executable)
        server.arguments = ["serve", "--model", CLI.tinyLlama, "--port", "0", "--slots", "8", "--context", "512"]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        // The first line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        let port = try XCTUnwrap(text.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, text)

        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", CLI.repository + "/Tests/LlamaCLITests/Python/server_check.py", "\(port)", "10", "16",
                           "\(server.processIdentifier)"]
        let checkOutput = Pipe()
        check.standardOutput = checkOutput
        try check.run()
        let data = checkOutput.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, "the Python client failed")
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        let completion = try XCTUnwrap(results["completion"] as? [String: Any])
        XCTAssertEqual(completion["finish_reason"] as? String, "length")
        XCTAssertEqual(completion["logprobs"] as? Int, 8)
        XCTAssertEqual(completion["all_negative"] as? Bool, true)
        XCTAssertEqual(completion["usage"] as? [Int], [4, 8])
        XCTAssertTrue(((completion["text"] as? String) ?? "").hasPrefix(" "), "a continuation keeps its leading space")
        XCTAssertEqual(results["deterministic"] as? Bool, true)
        XCTAssertEqual(results["stream_equals"] as? Bool, true)
        XCTAssertEqual((results["chat"] as? [String: Any])?["role"] as? String, "assistant")
        XCTAssertEqual((results["chat"] as? [String: Any])?["logprobs"] as? Int, 6)
        XCTAssertEqual(results["chat_stream_equals"] as? Bool, true)
        XCTAssertEqual(results["chat_stream_finish"] as? String, "length")
        if let stop = results["stop"] { XCTAssertEqual(stop as? Bool, true) }
        XCTAssertEqual(results["models"] as? [String], ["tiny-llama"])
        XCTAssertEqual(results["health"] as? Int, 200)
        let bad = try XCTUnwrap(results["bad_status"] as? [String: Int])
        XCTAssertEqual(bad["oversized_body"], 413)
        for (name, status) in bad where name != "oversized_body" { XCTAssertEqual(status, 400, name) }
        XCTAssertEqual(results["bad_have_error_object"] as? Bool, true)
        XCTAssertEqual(results["after_disconnect"] as? Int, 200)
        let load = try XCTUnwrap(results["load"] as? [String: Int])
        XCTAssertEqual(load["failed"], 0)
        XCTAssertGreaterThan(load["requests"] ?? 0, 16)
        // Stable memory: the last third of the load holds no more than the first third plus
        // 32 MB (a leak of one KV slot or one request's buffers per request would show).
        let memory = try XCTUnwrap(results["rss_mb"] as? [String: Any], "\(results)").mapValues { ($0 as? NSNumber)?.doubleValue ?? 0 }
        XCTAssertGreaterThan(memory["samples"] ?? 0, 10)
        XCTAssertLessThanOrEqual(memory["last_third_max"] ?? .infinity, (memory["first_third_max"] ?? 0) + 32, "\(memory)")
        XCTAssertEqual(results["metrics"] as? Bool, true)

        // Graceful shutdown on SIGTERM: the process ends by itself, successfully.
        server.terminate()
        let deadline = Date().addingTimeInterval(20)
        while server.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(server.isRunning, "the server stops within 20 s of SIGTERM")
        XCTAssertEqual(server.terminationStatus, 0)
    }
}
