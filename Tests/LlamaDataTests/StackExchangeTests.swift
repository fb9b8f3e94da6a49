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

    func testHTMLText() {
        XCTAssertEqual(HTMLText.plainText("<p>a &lt;b&gt; &amp;amp; c</p><ul><li>one</li><li>two</li></ul>"), "a <b> &amp; c\n\none\ntwo")
        XCTAssertEqual(HTMLText.plainText("x < y and <3"), "x < y and <3")
    }
}
