/// HTML fragments (StackExchange post bodies) to plain text: tags removed, block elements
/// become line breaks, `<pre>`/`<code>` text kept byte for byte (whitespace included),
/// character references decoded once, after the tags are gone (so `&lt;div&gt;` in code
/// stays the text `<div>`).
public enum HTMLText {
    /// Elements whose start and end become paragraph breaks.
    private static let blockElements: Set<String> = ["p", "div", "pre", "blockquote", "ul", "ol", "table", "h1", "h2", "h3",
                                                     "h4", "h5", "h6", "hr", "tr"]
    /// Elements whose start becomes a line break.
    private static let lineElements: Set<String> = ["br", "li", "dt", "dd"]
    /// Elements whose content is dropped.
    private static let droppedElements: Set<String> = ["script", "style"]

    /// The text of `html`.
    public static func plainText(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            output += HTMLEntities.decode(String(rest[..<open]))
            let afterOpen = rest[rest.index(after: open)...]
            guard let close = afterOpen.firstIndex(of: ">"), let first = afterOpen.first,
                  first.isLetter || first == "/" || first == "!" else {
                output += "<"
                rest = afterOpen
                continue
            }
            let tag = afterOpen[..<close]
            rest = afterOpen[afterOpen.index(after: close)...]
            let isEnd = tag.hasPrefix("/")
            let name = tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
            if !isEnd, droppedElements.contains(name) {
                if let end = rest.range(of: "</\(name)", options: .caseInsensitive),
                   let endClose = rest[end.upperBound...].firstIndex(of: ">") {
                    rest = rest[rest.index(after: endClose)...]
                }
                continue
            }
            if blockElements.contains(name) {
                output += "\n\n"
            } else if lineElements.contains(name), !isEnd {
                output += "\n"
            }
        }
        output += HTMLEntities.decode(String(rest))
        return normalizeBlankLines(output)
    }

    /// Trailing spaces removed from lines, runs of blank lines made one, ends trimmed.
    static func normalizeBlankLines(_ text: String) -> String {
        var lines: [Substring] = []
        var blank = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }) {
            var trimmed = line
            while let last = trimmed.last, last == " " || last == "\t" || last == "\r" { trimmed = trimmed.dropLast() }
            if trimmed.isEmpty {
                blank += 1
                continue
            }
            if blank > 0, !lines.isEmpty { lines.append("") }
            blank = 0
            lines.append(trimmed)
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation
