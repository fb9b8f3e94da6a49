/// One text record of a Common Crawl WET file.
public struct WETRecord: Sendable {
    /// `WARC-Target-URI`: the page's URL.
    public var url: String
    /// The page's extracted plain text.
    public var text: String
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
            while let line = reader.nextLine() {
                if line.starts(with: Array("WARC/".utf8)) { versionLine = line; break }
                if !line.allSatisfy({ $0 == 0x0D || $0 == 0x20 }) {
                    warnings.append(.invalidWARC(path: source.path, offset: reader.byteOffset, reason: "text outside a record"))
                }
            }
            guard versionLine != nil else { break }
            let headerOffset = reader.byteOffset
            var fields: [String: String] = [:]
            while let line = reader.nextLine() {
                let text = TextScanning.trimmed(Substring(String(decoding: line, as: UTF8.self)))
                if text.isEmpty { break }
                if let colon = text.firstIndex(of: ":") {
                    fields[text[..<colon].lowercased()] = String(TextScanning.trimmed(text[text.index(after: colon)...]))
                }
            }
            guard let lengthText = fields["content-length"], let length = Int(lengthText), length >= 0 else {
                warnings.append(.invalidWARC(path: source.path, offset: headerOffset, reason: "missing Content-Length"))
                continue
            }
            let content = reader.readBytes(count: length)
            recordIndex += 1
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
            try body(WETRecord(url: url, text: text))
        }
        if let error = reader.error {
            warnings.append(error as? DataError ?? .io(path: source.path, operation: "read", errno: 0))
        }
        return warnings
    }
}

import Foundation
