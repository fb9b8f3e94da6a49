import Foundation
@testable import LlamaData
import XCTest

final class GitHubTests: XCTestCase {
    func testJSONLFixtureMatchesHandWrittenExpectation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = DataFixtures.path("github/files.jsonl")
        let files = ShardFiles(directory: scratch, inputPath: input)
        let report = try GitHubPipeline.run(inputPath: input, files: files, cleaner: GitHubCleaner(), deduplicator: ExactDeduplicator())
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("github/expected.txt"))
        let counts = report.counts
        XCTAssertEqual(counts["github.files.read"], 12)
        XCTAssertEqual(counts["github.files.removed.license"], 1)
        XCTAssertEqual(counts["github.files.removed.extension"], 1)
        XCTAssertEqual(counts["github.files.removed.max-line-length"], 1)
        XCTAssertEqual(counts["github.files.removed.mean-line-length"], 1)
        XCTAssertEqual(counts["github.files.removed.alphanumeric-fraction"], 1)
        XCTAssertEqual(counts["github.files.removed.duplicate"], 1)
        XCTAssertEqual(counts["github.files.skipped.binary"], 1)
        XCTAssertEqual(counts["github.files.skipped.invalid-json"], 1)
        XCTAssertEqual(counts["github.files.skipped.invalid-utf8"], 1)
        XCTAssertEqual(counts["github.files.kept"], 3)
        XCTAssertEqual(report.warnings, [
            .binaryContent(path: input, record: "line 8 (data.py)"),
            .invalidJSON(path: input, line: 9, reason: "not a JSON object"),
            .invalidUTF8(path: input, record: "line 10"),
        ])
        let first = try DataFixtures.documents(files.output)[0]
        let meta = first["meta"] as? [String: String]
        XCTAssertEqual(meta?["repository"], "alice/calc")
        XCTAssertEqual(meta?["license"], "mit")
        let expectedHash = String(decoding: try DataFixtures.runProgram("sh", ["-c", "printf '%s' \"$0\" | sha256sum", first["text"] as? String ?? ""]),
                                  as: UTF8.self).prefix(64)
        XCTAssertEqual(meta?["sha256"], String(expectedHash))
    }

    func testSHA256MatchesSha256sum() throws {
        for text in ["", "abc", String(repeating: "a", count: 1000), "héllo wörld\n"] {
            let reference = String(decoding: try DataFixtures.runProgram("sh", ["-c", "printf '%s' \"$0\" | sha256sum", text]),
                                   as: UTF8.self).prefix(64)
            XCTAssertEqual(SHA256.hexDigest(Array(text.utf8)), String(reference), text)
        }
    }

    func testLineStatisticsFollowPythonSplitlines() {
        let statistics = GitHubCleaner.lineStatistics("ab\ncdef\n")
        XCTAssertEqual(statistics.maximumLineLength, 4)
        XCTAssertEqual(statistics.meanLineLength, 3)
        XCTAssertEqual(statistics.alphanumericFraction, 6.0 / 8.0)
    }

    func testHeadersWithoutLicenceWordsStay() {
        let code = "// Utility functions.\nint x;\n"
        XCTAssertEqual(LicenseHeader.remove(from: code), code)
        XCTAssertEqual(LicenseHeader.remove(from: "<!-- Copyright 2020 A -->\n<html></html>\n"), "<html></html>\n")
    }
}
