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
/// escaped, everything else (including `/` and non-ASCII) written as UTF-8.
enum JSONText {
    static func appendString(_ value: String, to output: inout String) {
        output += "\""
        var pending = Substring.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": flush(&pending, &output); output += "\\\""
            case "\\": flush(&pending, &output); output += "\\\\"
            case "\n": flush(&pending, &output); output += "\\n"
            case "\r": flush(&pending, &output); output += "\\r"
            case "\t": flush(&pending, &output); output += "\\t"
            default:
                if scalar.value < 0x20 {
                    flush(&pending, &output)
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    pending.append(scalar)
                }
            }
        }
        flush(&pending, &output)
        output += "\""
    }

    private static func flush(_ pending: inout Substring.UnicodeScalarView, _ output: inout String) {
        if !pending.isEmpty {
            output += String(pending)
            pending.removeAll(keepingCapacity: true)
        }
    }
}
