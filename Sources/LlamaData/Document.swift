/// A value in a document's `meta` object, written as JSON.
public enum MetaValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case strings([String])
}

/// One cleaned document, written as a JSONL line `{"text": …, "source": …, "meta": {…}}`
/// (the layout of RedPajama's and the Pile's JSONL files).
public struct CleanedDocument: Sendable, Equatable {
    /// The cleaned text.
    public var text: String
    /// The source name: `c4`, `github`, `wikipedia`, `books`, `arxiv`, `stackexchange`.
    public var source: String
    /// Where the text came from (URL, path, title, language, …).
    public var meta: [String: MetaValue]

    public init(text: String, source: String, meta: [String: MetaValue] = [:]) {
        self.text = text
        self.source = source
        self.meta = meta
    }

    /// The JSONL line (without its newline). Keys of `meta` are written in sorted order so
    /// that the same document always gives the same bytes.
    public func jsonLine() -> String {
        var line = "{\"text\":"
        JSONText.appendString(text, to: &line)
        line += ",\"source\":"
        JSONText.appendString(source, to: &line)
        line += ",\"meta\":{"
        for (index, key) in meta.keys.sorted().enumerated() {
            if index > 0 { line += "," }
            JSONText.appendString(key, to: &line)
            line += ":"
            switch meta[key] {
            case let .string(value)?: JSONText.appendString(value, to: &line)
            case let .integer(value)?: line += String(value)
            case let .number(value)?: line += value.isFinite ? String(value) : "null"
            case let .boolean(value)?: line += value ? "true" : "false"
            case let .strings(values)?:
                line += "["
                for (position, value) in values.enumerated() {
                    if position > 0 { line += "," }
                    JSONText.appendString(value, to: &line)
                }
                line += "]"
            case nil: line += "null"
            }
        }
        line += "}}"
        return line
    }
}

/// JSON string escaping as RFC 8259 requires: quote, backslash and control characters
/// escaped, everything else (including `/` and non-ASCII) written as UTF-8. Works on the
/// UTF-8 bytes (every byte to escape is ASCII).
enum JSONText {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func appendString(_ value: String, to output: inout String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count + 2)
        bytes.append(0x22)
        for byte in value.utf8 {
            switch byte {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20:
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
        output += String(decoding: bytes, as: UTF8.self)
    }
}
