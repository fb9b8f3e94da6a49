import Foundation
import XCTest
@testable import LlamaData

/// WET files written here in the WARC/1.0 format, with the damage of issue 5's list.
enum WETFixture {
    /// One WARC/1.0 conversion record (CRLF header lines, content, two CRLFs).
    static func record(url: String, content: [UInt8], date: String = "2019-02-15T19:15:59Z", digest: Bool = true,
                       version: Bool = true) -> [UInt8] {
        var header = version ? "WARC/1.0\r\n" : ""
        header += "WARC-Type: conversion\r\nWARC-Target-URI: \(url)\r\nWARC-Date: \(date)\r\n"
        header += "WARC-Record-ID: <urn:uuid:\(UUID().uuidString.lowercased())>\r\n"
        if digest { header += "WARC-Block-Digest: sha1:\(SHA1.base32(SHA1.digest(content)))\r\n" }
        header += "Content-Type: text/plain\r\nContent-Length: \(content.count)\r\n\r\n"
        return Array(header.utf8) + content + Array("\r\n\r\n".utf8)
    }

    static func record(url: String, text: String, digest: Bool = true) -> [UInt8] {
        record(url: url, content: Array(text.utf8), digest: digest)
    }

    static let warcinfo = Array("WARC/1.0\r\nWARC-Type: warcinfo\r\nContent-Length: 10\r\n\r\nisPartOf: \r\n\r\n".utf8)

    /// Gzip members, one per record, as Common Crawl writes them.
    static func gzipMembers(_ records: [[UInt8]], scratch: String) throws -> [[UInt8]] {
        try records.enumerated().map { index, bytes in
            let path = scratch + "/member-\(index)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return [UInt8](try DataFixtures.runProgram("gzip", ["-c", "-n", path]))
        }
    }
}

final class WETRobustnessTests: XCTestCase {
    private func urls(_ path: String) throws -> ([String], [DataError]) {
        var urls: [String] = []
        let warnings = try WETReader.forEachRecord(in: try InputFile.open(path)) { urls.append($0.url) }
        return (urls, warnings)
    }

    private func pages(_ count: Int) -> [[UInt8]] {
        (0..<count).map { WETFixture.record(url: "http://site.example/\($0)", text: "Page \($0)\nIts text, line two.\n") }
    }

    func testMultiMemberGzipIsStreamedWholeWithFields() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let members = try WETFixture.gzipMembers([WETFixture.warcinfo] + pages(40), scratch: scratch)
        try Data(members.flatMap { $0 }).write(to: URL(fileURLWithPath: scratch + "/a.warc.wet.gz"))
        var records: [WETRecord] = []
        let warnings = try WETReader.forEachRecord(in: try InputFile.open(scratch + "/a.warc.wet.gz")) { records.append($0) }
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(records.map(\.url), (0..<40).map { "http://site.example/\($0)" })
        let content = Array("Page 7\nIts text, line two.\n".utf8)
        XCTAssertEqual(records[7].date, "2019-02-15T19:15:59Z")
        XCTAssertEqual(records[7].length, content.count)
        XCTAssertEqual(records[7].digest, "sha1:" + SHA1.base32(SHA1.digest(content)))
    }

    func testTruncatedMemberInTheMiddleLosesOnlyItsRecords() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var members = try WETFixture.gzipMembers(pages(6), scratch: scratch)
        members[2] = Array(members[2].prefix(members[2].count / 2))  // member 2 cut in half
        try Data(members.flatMap { $0 }).write(to: URL(fileURLWithPath: scratch + "/cut.warc.wet.gz"))
        let (found, warnings) = try urls(scratch + "/cut.warc.wet.gz")
        // Page 2 is lost. inflate reads on into member 3 as the rest of the cut member; the
        // decoder then searches the failed member's bytes again and finds member 3's header.
        XCTAssertEqual(found, [0, 1, 3, 4, 5].map { "http://site.example/\($0)" })
        XCTAssertFalse(found.contains("http://site.example/2"))
        XCTAssertTrue(warnings.contains { if case .invalidGzip = $0 { return true }; return false }, "\(warnings)")
    }

    /// Stray bytes without a line break glue the next record's version line to them: inside a
    /// cut record's header, and between records. Both records after them are still found.
    func testNextRecordGluedToStrayBytesIsFound() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let records = pages(3)
        let cut = Array(records[0].prefix(40)) + Array("\u{1}\u{2}garbage".utf8)  // inside "WARC-Target-URI"
        try Data(cut + records[1] + Array("junk".utf8) + records[2]).write(to: URL(fileURLWithPath: scratch + "/glued.warc.wet"))
        let (found, warnings) = try urls(scratch + "/glued.warc.wet")
        XCTAssertEqual(found, [1, 2].map { "http://site.example/\($0)" })
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
    }

    func testGarbageBetweenMembersAndBetweenRecordsIsSkipped() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let members = try WETFixture.gzipMembers(pages(4), scratch: scratch)
        let garbage = Array("this is not gzip data at all\n".utf8)
        try Data(members[0] + members[1] + garbage + members[2] + members[3]).write(to: URL(fileURLWithPath: scratch + "/g.warc.wet.gz"))
        let (found, warnings) = try urls(scratch + "/g.warc.wet.gz")
        XCTAssertEqual(found, (0..<4).map { "http://site.example/\($0)" })
        XCTAssertEqual(warnings.count, 1, "\(warnings)")

        let plain = pages(3)
        try Data(plain[0] + Array("stray line\nanother stray line\n".utf8) + plain[1] + plain[2])
            .write(to: URL(fileURLWithPath: scratch + "/p.warc.wet"))
        let (plainFound, plainWarnings) = try urls(scratch + "/p.warc.wet")
        XCTAssertEqual(plainFound, (0..<3).map { "http://site.example/\($0)" })
        XCTAssertEqual(plainWarnings, [.invalidWARC(path: scratch + "/p.warc.wet", offset: plain[0].count + 11, reason: "text outside a record")])
    }

    func testMissingHeaderAndInvalidUTF8AreSkippedWithWarnings() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let noVersion = WETFixture.record(url: "http://noversion.example/", content: Array("lost\n".utf8), version: false)
        let badText = WETFixture.record(url: "http://latin1.example/", content: [0x63, 0x61, 0x66, 0xE9, 0x0A])
        let noLength = Array("WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://nolength.example/\r\n\r\nbody\r\n\r\n".utf8)
        let all = pages(2)
        try Data(all[0] + noVersion + badText + noLength + all[1]).write(to: URL(fileURLWithPath: scratch + "/m.warc.wet"))
        let (found, warnings) = try urls(scratch + "/m.warc.wet")
        XCTAssertEqual(found, ["http://site.example/0", "http://site.example/1"])
        XCTAssertEqual(warnings.count, 4, "\(warnings)")
        XCTAssertTrue(warnings.contains(.invalidUTF8(path: scratch + "/m.warc.wet", record: "http://latin1.example/")))
        XCTAssertTrue(warnings.contains { if case .invalidWARC(_, _, "missing Content-Length") = $0 { return true }; return false })
    }
}
