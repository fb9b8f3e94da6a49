import Foundation
@testable import LlamaData
import XCTest

final class StackExchangeTests: XCTestCase {
    func testPostsFixtureMatchesHandWrittenExpectation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = DataFixtures.path("stackexchange/cooking.stackexchange.com/Posts.xml")
        XCTAssertEqual(StackExchangePipeline.siteName(for: input), "cooking.stackexchange.com")
        let files = ShardFiles(directory: scratch, name: "cooking.stackexchange.com")
        let report = try StackExchangePipeline.run(inputPath: input, files: files)
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("stackexchange/expected.txt"))
        XCTAssertEqual(report.counts["stackexchange.questions.read"], 3)
        XCTAssertEqual(report.counts["stackexchange.answers.read"], 5)
        XCTAssertEqual(report.counts["stackexchange.answers.skipped.no-question"], 1)
        XCTAssertEqual(report.counts["stackexchange.posts.skipped.other-type"], 1)
        XCTAssertEqual(report.counts["stackexchange.documents.kept"], 3)
        let meta = try DataFixtures.documents(files.output)[0]["meta"] as? [String: Any]
        XCTAssertEqual(meta?["tags"] as? [String], ["python", "list"])
        XCTAssertEqual(meta?["site"] as? String, "cooking.stackexchange.com")
        XCTAssertEqual(meta?["question_id"] as? Int, 1)
    }

    func testMalformedXMLKeepsPostsBeforeTheError() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let whole = try String(contentsOfFile: DataFixtures.path("stackexchange/cooking.stackexchange.com/Posts.xml"), encoding: .utf8)
        guard let cut = whole.range(of: "<row Id=\"5\"") else { return XCTFail("fixture changed") }
        let input = scratch + "/Posts.xml"
        try (String(whole[..<cut.lowerBound]) + "<row Id=\"5\" Body=\"unterminated").write(toFile: input, atomically: true, encoding: .utf8)
        let files = ShardFiles(directory: scratch, name: "broken")
        let report = try StackExchangePipeline.run(inputPath: input, files: files)
        XCTAssertEqual(try DataFixtures.texts(files.output), [try DataFixtures.expectedTexts("stackexchange/expected.txt")[0]])
        XCTAssertEqual(report.warnings.count, 1)
    }

    /// Answers before their question, interleaved with other threads, and for a question that
    /// is not in the file; a gzip-compressed dump. Grouping goes through the scratch file,
    /// which leaves nothing behind in the output folder.
    func testAnswersAnywhereInTheFileAreGroupedInOrder() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <posts>
              <row Id="30" PostTypeId="2" ParentId="20" Score="1" Body="&lt;p&gt;late low&lt;/p&gt;" />
              <row Id="31" PostTypeId="2" ParentId="99" Score="9" Body="&lt;p&gt;orphan&lt;/p&gt;" />
              <row Id="20" PostTypeId="1" Score="3" Title="Second &amp;amp; last" Tags="|b|" Body="&lt;p&gt;Q two&lt;/p&gt;" />
              <row Id="10" PostTypeId="1" Score="5" Title="First" Tags="&lt;a&gt;" Body="&lt;p&gt;Q one&lt;/p&gt;" />
              <row Id="32" PostTypeId="2" ParentId="20" Score="7" Body="&lt;p&gt;high&lt;/p&gt;" />
              <row Id="33" PostTypeId="2" ParentId="10" Score="2" Body="&lt;p&gt;only&lt;/p&gt;" />
              <row Id="34" PostTypeId="2" ParentId="20" Score="1" Body="&lt;p&gt;later low&lt;/p&gt;" />
            </posts>
            """
        let input = scratch + "/Posts.xml"
        try xml.write(toFile: input, atomically: true, encoding: .utf8)
        _ = try DataFixtures.runProgram("gzip", ["-k", input])
        try FileManager.default.createDirectory(atPath: scratch + "/out", withIntermediateDirectories: true)
        for path in [input, input + ".gz"] {
            let files = ShardFiles(directory: scratch + "/out", name: "site")
            try? FileManager.default.removeItem(atPath: files.output)
            let report = try StackExchangePipeline.run(inputPath: path, files: files)
            XCTAssertEqual(try DataFixtures.texts(files.output), [
                "Q: First\n\nQ one\n\nA: only",
                // Ties on score: the lower post identifier first.
                "Q: Second & last\n\nQ two\n\nA: high\n\nA: late low\n\nA: later low",
            ], path)
            XCTAssertEqual(report.counts["stackexchange.answers.skipped.no-question"], 1)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch + "/out").sorted(),
                           ["site.counts.json", "site.jsonl"])
        }
    }

    func testHTMLText() {
        XCTAssertEqual(HTMLText.plainText("<p>a &lt;b&gt; &amp;amp; c</p><ul><li>one</li><li>two</li></ul>"), "a <b> &amp; c\n\none\ntwo")
        XCTAssertEqual(HTMLText.plainText("x < y and <3"), "x < y and <3")
    }
}
