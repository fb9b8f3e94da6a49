import XCTest
@testable import LlamaCore

/// Lines as Python's `str.splitlines` on a file read in text mode and `wc -l` count them,
/// for LF and CRLF files (Swift's split on "\n" sees "\r\n" as one Character and misses it).
final class TextLinesTests: XCTestCase {
    func testLFAndCRLFFilesGiveTheSameLines() {
        XCTAssertEqual("a b\nc\n\nd".lines(), ["a b", "c", "", "d"])
        XCTAssertEqual("a b\r\nc\r\n\r\nd\r\n".lines(), ["a b", "c", "", "d"])
        XCTAssertEqual("a b\r\nc\r\n\r\nd\r\n".lines(omittingEmpty: true), ["a b", "c", "d"])
        XCTAssertEqual("\u{FEFF}caf\u{E9}\r\n\u{1F600} x\n".lines(), ["\u{FEFF}caf\u{E9}", "\u{1F600} x"])
        // A lone carriage return is not a line break here (KenLM treats it as a space).
        XCTAssertEqual("a\rb\nc".lines(), ["a\rb", "c"])
        XCTAssertEqual("".lines(), [])
        XCTAssertEqual("\n".lines(), [""])
        XCTAssertEqual("x".lines(), ["x"])
    }
}
