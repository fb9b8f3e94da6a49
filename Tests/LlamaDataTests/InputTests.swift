import Foundation
@testable import LlamaData
import XCTest

final class InputTests: XCTestCase {
    func testConcatenatedGzipMembersAreAllRead() throws {
        let one = try DataFixtures.runProgram("sh", ["-c", "printf 'first\\n' | gzip -c"])
        let two = try DataFixtures.runProgram("sh", ["-c", "printf 'second\\n' | gzip -c"])
        let bytes = [UInt8](one + two)
        XCTAssertEqual(String(decoding: try Gzip.decompress(bytes, path: "m.gz"), as: UTF8.self), "first\nsecond\n")
        XCTAssertThrowsError(try Gzip.decompress(Array(bytes.prefix(bytes.count - 6)), path: "cut.gz")) { error in
            guard case .invalidGzip(let path, _, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "cut.gz")
        }
    }

    func testJSONLinesAndDocumentEscaping() throws {
        let document = CleanedDocument(text: "a\"b\\c\n\u{1}/é", source: "x", meta: ["k": .integer(3), "a": .strings(["t"])])
        XCTAssertEqual(document.jsonLine(), #"{"text":"a\"b\\c\n\u0001/é","source":"x","meta":{"a":["t"],"k":3}}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(document.jsonLine().utf8)) as? [String: Any]
        XCTAssertEqual(parsed?["text"] as? String, document.text)
    }

    func testStageCountsRoundTrip() {
        var counts = StageCounts()
        counts.add("b.read", 3)
        counts.add("a.kept")
        XCTAssertEqual(StageCounts.parse(jsonObject: counts.jsonObject()), counts)
    }

    func testShardNames() {
        XCTAssertEqual(ShardFiles.stem(of: "CC-MAIN-1.warc.wet.gz"), "CC-MAIN-1")
        XCTAssertEqual(ShardFiles.stem(of: "enwiki-pages-articles.xml.bz2"), "enwiki-pages-articles")
    }
}

final class ArchiveInputTests: XCTestCase {
    func testPaxAndUstarNamesAndBzip2JSONL() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let long = "directory-" + String(repeating: "x", count: 110) + "/file-with-a-long-name.tex"
        try FileManager.default.createDirectory(atPath: scratch + "/src/" + (long as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try "long".write(toFile: scratch + "/src/" + long, atomically: true, encoding: .utf8)
        try "short".write(toFile: scratch + "/src/a.tex", atomically: true, encoding: .utf8)
        for format in ["pax", "ustar", "gnu"] {
            let archive = scratch + "/\(format).tar"
            // ustar stores names up to 255 bytes in prefix + name; pax and GNU use extra records.
            try DataFixtures.runProgram("tar", ["--format=\(format)", "-cf", archive, "a.tex", long], directory: scratch + "/src")
            let entries = try TarReader.entries(of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: archive))), path: archive)
            XCTAssertEqual(entries.map(\.name), ["a.tex", long], format)
            XCTAssertEqual(entries.map { String(decoding: $0.bytes, as: UTF8.self) }, ["short", "long"], format)
        }

        let compressed = scratch + "/files.jsonl.bz2"
        try DataFixtures.runProgram("bzip2", ["-c", DataFixtures.path("github/files.jsonl")]).write(to: URL(fileURLWithPath: compressed))
        let files = ShardFiles(directory: scratch, inputPath: compressed)
        XCTAssertEqual(files.output, scratch + "/files.jsonl")
        _ = try GitHubPipeline.run(inputPath: compressed, files: files, cleaner: GitHubCleaner(), deduplicator: ExactDeduplicator())
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("github/expected.txt"))
    }
}
