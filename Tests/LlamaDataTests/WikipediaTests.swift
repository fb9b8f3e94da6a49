import Foundation
@testable import LlamaData
import XCTest

final class WikipediaTests: XCTestCase {
    func testDumpFixtureMatchesHandWrittenExpectation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = DataFixtures.path("wikipedia/pages-articles.xml")
        let files = ShardFiles(directory: scratch, inputPath: input)
        XCTAssertEqual(files.output, scratch + "/pages-articles.jsonl")
        let report = try WikipediaPipeline.run(inputPath: input, files: files)
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("wikipedia/expected.txt"))
        XCTAssertEqual(report.counts["wikipedia.pages.read"], 5)
        XCTAssertEqual(report.counts["wikipedia.pages.skipped.redirect"], 1)
        XCTAssertEqual(report.counts["wikipedia.pages.skipped.namespace"], 2)
        XCTAssertEqual(report.counts["wikipedia.pages.kept"], 2)
        XCTAssertEqual(report.warnings, [])
        let meta = try DataFixtures.documents(files.output)[0]["meta"] as? [String: String]
        XCTAssertEqual(meta, ["title": "Example River", "id": "1", "language": "en"])
    }

    func testBzip2DumpGivesTheSameOutput() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = scratch + "/enwiki-pages-articles.xml.bz2"
        try DataFixtures.runProgram("bzip2", ["-c", DataFixtures.path("wikipedia/pages-articles.xml")])
            .write(to: URL(fileURLWithPath: input))
        let files = ShardFiles(directory: scratch, inputPath: input)
        _ = try WikipediaPipeline.run(inputPath: input, files: files)
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("wikipedia/expected.txt"))
    }

    func testMalformedXMLKeepsPagesBeforeTheError() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let whole = try String(contentsOfFile: DataFixtures.path("wikipedia/pages-articles.xml"), encoding: .utf8)
        // Cut inside the last page's text and append a stray closing tag.
        guard let cut = whole.range(of: "is a [[village") else { return XCTFail("fixture changed") }
        let input = scratch + "/broken.xml"
        try (String(whole[..<cut.lowerBound]) + "</page></oops>").write(toFile: input, atomically: true, encoding: .utf8)
        let files = ShardFiles(directory: scratch, inputPath: input)
        let report = try WikipediaPipeline.run(inputPath: input, files: files)
        XCTAssertEqual(try DataFixtures.texts(files.output), [try DataFixtures.expectedTexts("wikipedia/expected.txt")[0]])
        XCTAssertEqual(report.warnings.count, 1)
        guard case .malformedXML(let path, let line, _, _)? = report.warnings.first else { return XCTFail("\(report.warnings)") }
        XCTAssertEqual(path, input)
        XCTAssertGreaterThan(line, 1)
    }

    func testMarkupPieces() {
        let cleaner = WikitextCleaner()
        XCTAssertEqual(cleaner.plainText("[[Fichier:X.jpg|vignette|Légende [[Paris]]]]Texte."), "Texte.")
        XCTAssertEqual(cleaner.plainText("[[Категория:Реки]]Река [[Волга|Волги]]."), "Река Волги.")
        XCTAssertEqual(cleaner.plainText("[[:Category:Rivers|rivers]] and [[Help:Links]]"), "rivers and Help:Links")
        XCTAssertEqual(cleaner.plainText("a {{{1|default}}} b {{#if:x|y|z}} c"), "a  b  c")
        XCTAssertEqual(cleaner.plainText("x&lt;y &#169; &#x41;"), "x<y © A")
        XCTAssertEqual(cleaner.plainText("''It's'' __NOTOC__ fine"), "It's  fine")
        XCTAssertEqual(cleaner.plainText("one<br />two<BR>three <b>bold</b>"), "one\ntwo\nthree bold")
    }
}
