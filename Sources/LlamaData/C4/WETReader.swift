/// One text record of a Common Crawl WET file.
public struct WETRecord: Sendable {
    /// `WARC-Target-URI`: the page's URL.
    public var url: String
    /// The page's extracted plain text.
    public var text: String
    /// `WARC-Date`: when the page was fetched.
    public var date: String
    /// `WARC-Block-Digest` (`sha1:` + base32 of the content's SHA-1), computed when absent.
    public var digest: String
    /// `Content-Length`: bytes of the content.
    public var length: Int

    public init(url: String, text: String, date: String = "", digest: String = "", length: Int? = nil) {
        self.url = url
        self.text = text
        self.date = date
        self.digest = digest
        self.length = length ?? text.utf8.count
    }
}

/// Reads Common Crawl WET files (WARC/1.0, ISO 28500, with `WARC-Type: conversion` records
/// holding each page's extracted text), plain or gzip-compressed (one member per record).
/// Each record is a header block of `Name: value` lines, an empty line, `Content-Length`
/// bytes of content and two CRLFs. Records other than `conversion` (the `warcinfo` record)
/// are skipped; records whose content is not UTF-8 are skipped with a warning.
public enum WETReader {
    /// Calls `body` for every conversion record; returns the warnings for skipped input.
    public static func forEachRecord(in source: ByteSource, _ body: (WETRecord) throws -> Void) throws -> [DataError] {
        let reader = ByteLineReader(source: source)
        var warnings: [DataError] = []
        var recordIndex = 0
        while true {
            // Find the next "WARC/" version line.
            var versionLine: [UInt8]?
            var reportedGarbage = false  // one warning per run of stray lines
            while let line = reader.nextLine() {
                if line.starts(with: Array("WARC/".utf8)) { versionLine = line; break }
                // A damaged member's stray bytes may end without a line break, gluing the next
                // record's version line to them.
                if let start = gluedVersion(in: line) {
                    warnings.append(.invalidWARC(path: source.path, offset: reader.byteOffset, reason: "text outside a record"))
                    versionLine = Array(line[start...])
                    break
                }
                if !reportedGarbage && !line.allSatisfy({ $0 == 0x0D || $0 == 0x20 }) {
                    reportedGarbage = true
                    warnings.append(.invalidWARC(path: source.path, offset: reader.byteOffset, reason: "text outside a record"))
                }
            }
            guard versionLine != nil else { break }
            let headerOffset = reader.byteOffset
            var fields: [String: String] = [:]
            var restarted = false
            while let line = reader.nextLine() {
                // The next record's version line inside this header (this record was cut short
                // and stray bytes ran into it): give it back and drop this record.
                if let start = gluedVersion(in: line) ?? (line.starts(with: Array("WARC/".utf8)) ? 0 : nil) {
                    reader.unread(Array(line[start...]) + [0x0A])
                    restarted = true
                    break
                }
                let text = TextScanning.trimmed(Substring(String(decoding: line, as: UTF8.self)))
                if text.isEmpty { break }
                if let colon = text.firstIndex(of: ":") {
                    fields[text[..<colon].lowercased()] = String(TextScanning.trimmed(text[text.index(after: colon)...]))
                }
            }
            if restarted {
                warnings.append(.invalidWARC(path: source.path, offset: headerOffset, reason: "record truncated: the next record starts inside its header"))
                continue
            }
            guard let lengthText = fields["content-length"], let length = Int(lengthText), length >= 0 else {
                warnings.append(.invalidWARC(path: source.path, offset: headerOffset, reason: "missing Content-Length"))
                continue
            }
            var content = reader.readBytes(count: length)
            recordIndex += 1
            // A record cut short (a damaged gzip member skipped) runs into the next one: its
            // content then holds the next record's version and type lines. Give those back.
            if let next = nextRecordStart(in: content) {
                reader.unread(Array(content[next...]))
                content.removeSubrange(next...)
                warnings.append(.invalidWARC(path: source.path, offset: headerOffset, reason: "record truncated: the next record starts inside its content"))
                continue
            }
            guard content.count == length else {
                warnings.append(.invalidWARC(path: source.path, offset: headerOffset, reason: "record truncated"))
                break
            }
            guard fields["warc-type"] == "conversion" else { continue }
            let url = fields["warc-target-uri"] ?? "record-\(recordIndex)"
            guard let text = String(validating: content, as: UTF8.self) else {
                warnings.append(.invalidUTF8(path: source.path, record: url))
                continue
            }
            let digest = fields["warc-block-digest"] ?? ("sha1:" + SHA1.base32(SHA1.digest(content)))
            try body(WETRecord(url: url, text: text, date: fields["warc-date"] ?? "", digest: digest, length: length))
        }
        if let gzip = source as? GzipByteSource { warnings += gzip.warnings }
        if let error = reader.error {
            warnings.append(error as? DataError ?? .io(path: source.path, operation: "read", errno: 0))
        }
        return warnings
    }

    private static let version = Array("WARC/1.0".utf8)

    /// Offset of "WARC/1.0" inside `line` after other bytes (not at its start), if any.
    static func gluedVersion(in line: [UInt8]) -> Int? {
        var index = 1
        while index + version.count <= line.count {
            guard let w = line[index...].firstIndex(of: 0x57) else { return nil }  // "W"
            if line[w...].starts(with: version) { return w }
            index = w + 1
        }
        return nil
    }

    private static let versionAndType = Array("WARC/1.0\r\nWARC-Type:".utf8)
    private static let versionAndTypeLF = Array("WARC/1.0\nWARC-Type:".utf8)

    /// Offset of "WARC/1.0" followed by a "WARC-Type:" line inside `content` (not only at a
    /// line start: a damaged member may leave stray bytes before it).
    static func nextRecordStart(in content: [UInt8]) -> Int? {
        var index = 0
        while index + versionAndTypeLF.count <= content.count {
            guard let w = content[index...].firstIndex(of: 0x57) else { return nil }  // "W"
            if content[w...].starts(with: versionAndType) || content[w...].starts(with: versionAndTypeLF) { return w }
            index = w + 1
        }
        return nil
    }
}

import Foundation
