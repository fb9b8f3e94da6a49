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
