import Foundation
@testable import LlamaData
import XCTest

final class C4Tests: XCTestCase {
    func testWETFixtureMatchesHandWrittenExpectation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let files = ShardFiles(directory: scratch, name: "pages")
        let report = try C4Pipeline.run(inputPath: DataFixtures.path("c4/pages.warc.wet"), files: files, cleaner: C4Cleaner(),
                                        deduplicator: C4SpanDeduplicator())
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("c4/expected.txt"))
        let counts = report.counts
        XCTAssertEqual(counts["c4.pages.read"], 7)
        XCTAssertEqual(counts["c4.pages.removed.lorem-ipsum"], 1)
        XCTAssertEqual(counts["c4.pages.removed.curly-bracket"], 1)
        XCTAssertEqual(counts["c4.pages.removed.bad-word"], 1)
        XCTAssertEqual(counts["c4.pages.removed.too-few-sentences"], 1)
        XCTAssertEqual(counts["c4.lines.removed.javascript"], 1)
        XCTAssertEqual(counts["c4.sentences.removed.duplicate-span"], 3)
        XCTAssertEqual(counts["c4.pages.kept"], 3)
        XCTAssertEqual(report.warnings, [.invalidUTF8(path: DataFixtures.path("c4/pages.warc.wet"), record: "http://latin1.example/8")])
        XCTAssertEqual(try DataFixtures.documents(files.output).first?["meta"] as? [String: String], ["url": "http://garden.example/1"])
    }

    func testGzipWETGivesTheSameOutputAndTruncationKeepsEarlierPages() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let compressed = try DataFixtures.runProgram("gzip", ["-c", DataFixtures.path("c4/pages.warc.wet")])
        let input = scratch + "/pages.warc.wet.gz"
        try compressed.write(to: URL(fileURLWithPath: input))
        let files = ShardFiles(directory: scratch, inputPath: input)
        XCTAssertEqual(files.output, scratch + "/pages.jsonl")
        _ = try C4Pipeline.run(inputPath: input, files: files, cleaner: C4Cleaner(), deduplicator: C4SpanDeduplicator())
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("c4/expected.txt"))

        let truncated = scratch + "/cut.warc.wet.gz"
        try compressed.prefix(compressed.count * 2 / 3).write(to: URL(fileURLWithPath: truncated))
        let cutFiles = ShardFiles(directory: scratch, inputPath: truncated)
        let report = try C4Pipeline.run(inputPath: truncated, files: cutFiles, cleaner: C4Cleaner(), deduplicator: C4SpanDeduplicator())
        XCTAssertEqual(try DataFixtures.texts(cutFiles.output).first, try DataFixtures.expectedTexts("c4/expected.txt").first)
        XCTAssertTrue(report.warnings.contains { if case .invalidGzip = $0 { return true }; return false }, "\(report.warnings)")
    }

    func testSpanDedupCarriesAcrossShardsThroughSavedKeys() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let first = ShardFiles(directory: scratch, name: "first")
        _ = try C4Pipeline.run(inputPath: DataFixtures.path("c4/pages.warc.wet"), files: first, cleaner: C4Cleaner(),
                               deduplicator: C4SpanDeduplicator())
        // A resumed run restores the first shard's keys: every page of the same input is now a repeat.
        let deduplicator = C4SpanDeduplicator()
        deduplicator.insert(keys: first.savedKeys())
        let second = ShardFiles(directory: scratch, name: "second")
        let report = try C4Pipeline.run(inputPath: DataFixtures.path("c4/pages.warc.wet"), files: second, cleaner: C4Cleaner(),
                                        deduplicator: deduplicator)
        XCTAssertEqual(try DataFixtures.texts(second.output), [])
        XCTAssertEqual(report.counts["c4.pages.removed.too-few-sentences-after-dedup"], 3)
        XCTAssertEqual(first.savedCounts()["c4.pages.kept"], 3)
    }

    func testBadWordsMatchWholeWordsOnly() {
        let filter = BadWordsFilter.c4English
        XCTAssertEqual(filter.phraseCount, 377)
        XCTAssertNil(filter.firstMatch(in: "The classic bass guitar was assessed in Scunthorpe."))
        XCTAssertEqual(filter.firstMatch(in: "What an ASS."), "ass")
        XCTAssertEqual(filter.firstMatch(in: "two words: blow job!"), "blow job")
        XCTAssertEqual(filter.firstMatch(in: "g-spot"), "g-spot")
        XCTAssertNil(filter.firstMatch(in: "blowjobs"))
    }

    func testEmbeddedListEqualsShippedFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/LlamaData/BadWords/ldnoobw-en.txt").path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertEqual(BadWordsFilter.c4EnglishListText + "\n", text)
    }

    func testSentenceSplitter() {
        XCTAssertEqual(SentenceSplitter.sentences("It is good. It is hot! Is it cheap? \"Yes.\" Then e.g. this."),
                       ["It is good.", "It is hot!", "Is it cheap?", "\"Yes.\"", "Then e.g. this."])
    }

    func testReferenceExtrasRemoveCitationsAndPolicyLines() {
        var configuration = C4Configuration()
        configuration.referenceImplementationExtras = true
        var counts = StageCounts()
        let page = C4Cleaner(configuration: configuration).clean(url: "u", text: """
            The river is long and wide and deep.[1] It is very old.[citation needed]
            Read our privacy policy before you use this site today.
            The town has three bridges over the river now.
            """, counts: &counts)
        XCTAssertEqual(page?.lines, ["The river is long and wide and deep. It is very old.", "The town has three bridges over the river now."])
        XCTAssertEqual(counts["c4.lines.removed.policy"], 1)
    }
}
