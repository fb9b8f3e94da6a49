import Foundation

/// One web page through the CCNet pipeline, with the fields of cc_net's JSON output
/// (`cc_net/process_wet_file.py` `parse_doc`, `dedup.finalize_doc`, `split_by_lang`,
/// `perplexity`): the WET record's first content line is the title, the rest `raw_content`.
public struct CCNetDocument: Sendable, Equatable {
    public var url: String
    /// `WARC-Date` of the record.
    public var dateDownload: String
    /// `WARC-Block-Digest`: `sha1:` and the base32 SHA-1 of the record's content.
    public var digest: String
    /// Code points of `rawContent` (cc_net: Python's `len(content)` after dedup; the WET
    /// `Content-Length` before it).
    public var length: Int
    /// Lines of `rawContent`.
    public var nlines: Int
    /// The URL's host (with port), as Python's `urlparse(url).netloc`.
    public var sourceDomain: String
    public var title: String
    public var rawContent: String
    /// Before line dedup.
    public var originalNlines: Int
    public var originalLength: Int
    public var language: String?
    public var languageScore: Double?
    public var perplexity: Double?
    /// `head`, `middle`, `tail`, or `all` when the language has no model or cutoffs.
    public var bucket: String?
    public var qualityScore: Double?

    public init(url: String, dateDownload: String, digest: String, title: String, rawContent: String, length: Int? = nil) {
        self.url = url
        self.dateDownload = dateDownload
        self.digest = digest
        self.title = title
        self.rawContent = rawContent
        self.length = length ?? rawContent.unicodeScalars.count
        nlines = Self.lines(rawContent).count
        sourceDomain = Self.netloc(of: url)
        originalNlines = nlines
        originalLength = self.length
    }

    /// A WET conversion record: title = first line, raw content = the other lines, with the
    /// two trailing empty lines WET adds removed (`parse_doc`).
    public init(record: WETRecord) {
        var lines = Self.lines(record.text).map { line -> Substring in
            line.last == "\r" ? line.dropLast() : line
        }
        if lines.count >= 2, lines[lines.count - 1].isEmpty, lines[lines.count - 2].isEmpty { lines.removeLast(2) }
        let title = lines.first.map(String.init) ?? ""
        self.init(url: record.url, dateDownload: record.date, digest: record.digest, title: title,
                  rawContent: lines.dropFirst().joined(separator: "\n"), length: record.length)
    }

    /// A JSONL object: cc_net's fields, or `{"text", "url"}` documents of the other cleaners.
    public init?(object: [String: Any]) {
        guard let content = (object["raw_content"] as? String) ?? (object["text"] as? String) else { return nil }
        let url = (object["url"] as? String) ?? ((object["meta"] as? [String: Any])?["url"] as? String) ?? ""
        let digest = (object["digest"] as? String) ?? ("sha1:" + SHA1.base32(SHA1.digest(content.utf8)))
        self.init(url: url, dateDownload: (object["date_download"] as? String) ?? "", digest: digest,
                  title: (object["title"] as? String) ?? "", rawContent: content)
    }

    /// The host part of a URL: between `//` and the next `/`, `?` or `#`.
    public static func netloc(of url: String) -> String {
        guard let scheme = url.range(of: "//") else { return "" }
        let rest = url[scheme.upperBound...]
        return String(rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
    }

    /// Keeps the lines at `indices` (line dedup) and updates `nlines` and `length`.
    public mutating func keepLines(_ indices: [Int], of lines: [Substring]) {
        rawContent = indices.map { lines[$0] }.joined(separator: "\n")
        nlines = indices.count
        length = rawContent.unicodeScalars.count
    }

    /// `text.split("\n")` as Python splits: at every newline byte (a `\r\n` pair, one
    /// `Character` in Swift, is split too), on UTF-8 without grapheme breaking.
    public static func lines(_ text: String) -> [Substring] {
        var result: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex, index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == 0x0A {
                result.append(text[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        result.append(text[start..<utf8.endIndex])
        return result
    }

    /// The JSONL line, fields in cc_net's order; absent optional fields are left out.
    public func jsonLine() -> String {
        var line = "{"
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            line += (line.count > 1 ? ",\"" : "\"") + name + "\":"
            JSONText.appendString(value, to: &line)
        }
        func number(_ name: String, _ value: CustomStringConvertible?) {
            guard let value else { return }
            line += ",\"" + name + "\":" + value.description
        }
        string("url", url)
        string("date_download", dateDownload)
        string("digest", digest)
        number("length", length)
        number("nlines", nlines)
        string("source_domain", sourceDomain)
        string("title", title)
        string("raw_content", rawContent)
        number("original_nlines", originalNlines)
        number("original_length", originalLength)
        string("language", language)
        number("language_score", languageScore)
        number("perplexity", perplexity)
        string("bucket", bucket)
        number("quality_score", qualityScore)
        return line + "}"
    }
}
