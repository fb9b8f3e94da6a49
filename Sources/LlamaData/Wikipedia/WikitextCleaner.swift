/// Wikitext (MediaWiki markup) to plain text, following what WikiExtractor (Attardi, 2015;
/// the tool used for Wikipedia in GPT/LLaMA-era corpora) keeps: the prose, link labels and
/// section titles. Removed: comments, `<ref>` and other non-prose tags with their content,
/// templates and parser functions (`{{…}}`, `{{{…}}}`), tables (`{|…|}`), file, image and
/// category links in the wiki's own namespace names, interlanguage links, external-link
/// URLs (their label kept), bold/italic quotes, remaining HTML tags (content kept), magic
/// words (`__TOC__`), list markers and horizontal rules. Character references are decoded.
///
/// Markup characters are ASCII, so every pass works on UTF-8 bytes.
public struct WikitextCleaner: Sendable {
    /// Namespace names (lower case, without the colon) whose links are removed: files and
    /// categories.
    public var removedNamespaces: Set<String>

    /// Tags whose whole content is removed.
    static let droppedTags: [String] = ["ref", "references", "gallery", "math", "chem", "timeline", "imagemap", "score",
                                        "graph", "templatedata", "mapframe", "maplink", "syntaxhighlight", "source",
                                        "hiero", "inputbox", "categorytree", "noinclude", "indicator"]

    public init(removedNamespaces: Set<String> = WikipediaNamespaces.fileAndCategoryNames) {
        self.removedNamespaces = removedNamespaces
    }

    /// The plain text of `wikitext`.
    public func plainText(_ wikitext: String) -> String {
        var bytes = Array(wikitext.utf8)
        bytes = Self.removingComments(bytes)
        bytes = Self.removingDroppedTags(bytes)
        bytes = Self.removingTemplatesAndTables(bytes)
        bytes = removingLinks(bytes)
        bytes = Self.replacingExternalLinks(bytes)
        bytes = Self.removingQuotesAndMagicWords(bytes)
        bytes = Self.removingTags(bytes)
        // Non-breaking spaces become plain spaces, as WikiExtractor writes them.
        let text = TextScanning.replacingNoBreakSpaces(HTMLEntities.decode(String(decoding: bytes, as: UTF8.self)))
        return Self.cleanLines(text)
    }

    // MARK: - Passes

    /// `<!-- … -->` removed (an unterminated comment runs to the end, as MediaWiki does).
    static func removingComments(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == 0x3C, matches(input, index, "<!--") {
                guard let end = find(input, "-->", from: index + 4) else { break }
                index = end + 3
                continue
            }
            output.append(input[index])
            index += 1
        }
        return output
    }

    /// `<ref …/>`, `<ref …>…</ref>` and the other dropped tags removed with their content.
    static func removingDroppedTags(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        scan: while index < input.count {
            if input[index] == 0x3C {
                for tag in droppedTags where matchesTagName(input, index + 1, tag) {
                    guard let close = input[index...].firstIndex(of: 0x3E) else { break }
                    if input[close - 1] == 0x2F {  // self-closing
                        index = close + 1
                        continue scan
                    }
                    if let end = findCaseInsensitive(input, "</" + tag, from: close + 1),
                       let endClose = input[end...].firstIndex(of: 0x3E) {
                        index = endClose + 1
                    } else {
                        index = close + 1
                    }
                    continue scan
                }
            }
            output.append(input[index])
            index += 1
        }
        return output
    }

    /// Templates, parser functions, template parameters and tables removed, nested to any
    /// depth. Tables open with `{|` and close with `|}` at the start of a line.
    static func removingTemplatesAndTables(_ input: [UInt8]) -> [UInt8] {
        enum Opener { case template2, template3, table }
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var stack: [Opener] = []
        var index = 0
        func atLineStart(_ position: Int) -> Bool {
            var back = position - 1
            while back >= 0, input[back] == 0x20 || input[back] == 0x09 { back -= 1 }
            return back < 0 || input[back] == 0x0A
        }
        while index < input.count {
            let byte = input[index]
            if byte == 0x7B, matches(input, index, "{{{") {
                stack.append(.template3); index += 3; continue
            }
            if byte == 0x7B, matches(input, index, "{{") {
                stack.append(.template2); index += 2; continue
            }
            if byte == 0x7B, matches(input, index, "{|"), atLineStart(index) {
                stack.append(.table); index += 2; continue
            }
            if let top = stack.last {
                if top == .template3, matches(input, index, "}}}") { stack.removeLast(); index += 3; continue }
                if top == .template2, matches(input, index, "}}") { stack.removeLast(); index += 2; continue }
                if top == .table, matches(input, index, "|}"), atLineStart(index) { stack.removeLast(); index += 2; continue }
                index += 1
                continue
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// Internal links: `[[target|label]]` → label, `[[target]]` → target; file, image,
    /// category and interlanguage links removed whole (with nested links in captions).
    func removingLinks(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            guard input[index] == 0x5B, Self.matches(input, index, "[[") else {
                output.append(input[index])
                index += 1
                continue
            }
            // Find the matching "]]", counting nested "[[".
            var depth = 1
            var position = index + 2
            while position < input.count - 1, depth > 0 {
                if input[position] == 0x5B, input[position + 1] == 0x5B { depth += 1; position += 2; continue }
                if input[position] == 0x5D, input[position + 1] == 0x5D { depth -= 1; position += 2; continue }
                position += 1
            }
            guard depth == 0 else {  // unbalanced: keep the brackets' text as it is
                output.append(contentsOf: input[index..<(index + 2)])
                index += 2
                continue
            }
            let inner = Array(input[(index + 2)..<(position - 2)])
            index = position
            let pipe = topLevelPipes(inner)
            let target = Array(inner[0..<(pipe.first ?? inner.count)])
            if isRemovedLink(target) { continue }
            var label: [UInt8]
            if let last = pipe.last {
                label = Array(inner[(last + 1)...])
                if label.allSatisfy({ $0 == 0x20 }) { label = target }  // the pipe trick
            } else {
                label = target
            }
            if label.first == 0x3A { label.removeFirst() }  // [[:Category:X]] shows "Category:X"
            output.append(contentsOf: removingLinks(label))
        }
        return output
    }

    private func topLevelPipes(_ inner: [UInt8]) -> [Int] {
        var result: [Int] = []
        var depth = 0
        var index = 0
        while index < inner.count {
            if inner[index] == 0x5B, index + 1 < inner.count, inner[index + 1] == 0x5B { depth += 1; index += 2; continue }
            if inner[index] == 0x5D, index + 1 < inner.count, inner[index + 1] == 0x5D { depth -= 1; index += 2; continue }
            if inner[index] == 0x7C, depth == 0 { result.append(index) }
            index += 1
        }
        return result
    }

    /// True for file, image, media and category links (not `[[:Category:…]]`), and for
    /// interlanguage links (`[[de:…]]`).
    private func isRemovedLink(_ target: [UInt8]) -> Bool {
        guard let colon = target.firstIndex(of: 0x3A), colon > 0 else { return false }
        let prefix = String(decoding: target[0..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
            .replacingOccurrences(of: "_", with: " ")
        if removedNamespaces.contains(prefix) { return true }
        return WikipediaNamespaces.isLanguageCode(prefix)
    }

    /// `[http://… label]` → label; `[http://…]` removed.
    static func replacingExternalLinks(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == 0x5B, matches(input, index + 1, "http://") || matches(input, index + 1, "https://")
                || matches(input, index + 1, "//") || matches(input, index + 1, "ftp://"),
               let close = input[index...].firstIndex(of: 0x5D),
               !input[index..<close].contains(0x0A) {
                if let space = input[index..<close].firstIndex(of: 0x20) {
                    output.append(contentsOf: input[(space + 1)..<close])
                }
                index = close + 1
                continue
            }
            output.append(input[index])
            index += 1
        }
        return output
    }

    /// Runs of two, three or five apostrophes (italic, bold) and `__MAGIC__` words removed.
    static func removingQuotesAndMagicWords(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x27 {
                var end = index
                while end < input.count, input[end] == 0x27 { end += 1 }
                let run = end - index
                // 2 italic, 3 bold, 5 both; 4 is an apostrophe then bold; more than 5 keeps the extra.
                let literal = run < 2 ? run : (run == 4 ? 1 : max(0, run - 5))
                output.append(contentsOf: repeatElement(0x27, count: literal))
                index = end
                continue
            }
            if byte == 0x5F, matches(input, index, "__") {
                var end = index + 2
                while end < input.count, (input[end] >= 0x41 && input[end] <= 0x5A) { end += 1 }
                if end > index + 2, matches(input, end, "__") {
                    index = end + 2
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// Remaining HTML tags (`<span …>`, `</div>`) removed, their content kept; `<br>` is a newline.
    static func removingTags(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == 0x3C, index + 1 < input.count,
               isASCIILetter(input[index + 1]) || (input[index + 1] == 0x2F && index + 2 < input.count && isASCIILetter(input[index + 2])),
               let close = input[index...].prefix(2048).firstIndex(of: 0x3E) {
                // A line break tag (<br>, <br/>, <br />) becomes a newline; other tags vanish.
                if close - index >= 3, input[index + 1] | 0x20 == 0x62, input[index + 2] | 0x20 == 0x72,
                   !isASCIILetter(input[index + 3]) {
                    output.append(0x0A)
                }
                index = close + 1
                continue
            }
            output.append(input[index])
            index += 1
        }
        return output
    }

    /// Headings become their title, list markers and indentation go, rules and empty
    /// lines collapse (one blank line between paragraphs).
    static func cleanLines(_ text: String) -> String {
        var lines: [String] = []
        var pendingBlank = false
        for rawLine in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = TextScanning.trimmed(Substring(rawLine))
            if line.hasPrefix("="), line.hasSuffix("="), line.count >= 2 {
                line = line.drop { $0 == "=" }
                while line.last == "=" { line = line.dropLast() }
                line = TextScanning.trimmed(line)
            }
            if line.hasPrefix("----") { line = "" }
            if let first = line.first, "*#:;".contains(first) {
                line = TextScanning.trimmed(line.drop { "*#:;".contains($0) })
            }
            if line.isEmpty {
                pendingBlank = !lines.isEmpty
                continue
            }
            if pendingBlank { lines.append("") }
            pendingBlank = false
            lines.append(String(line))
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Byte helpers

    @inline(__always)
    static func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    @inline(__always)
    static func matches(_ input: [UInt8], _ index: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index >= 0, index + count <= input.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where input[index + offset] != pointer[offset] { return false }
        return true
    }

    static func find(_ input: [UInt8], _ literal: StaticString, from start: Int) -> Int? {
        var index = start
        while index < input.count {
            if matches(input, index, literal) { return index }
            index += 1
        }
        return nil
    }

    /// True when `input[index...]` starts with tag `name` (case-insensitive) followed by a
    /// space, `>` or `/`.
    static func matchesTagName(_ input: [UInt8], _ index: Int, _ name: String) -> Bool {
        let nameBytes = Array(name.utf8)
        guard index + nameBytes.count < input.count else { return false }
        for offset in 0..<nameBytes.count where input[index + offset] | 0x20 != nameBytes[offset] { return false }
        let next = input[index + nameBytes.count]
        return next == 0x20 || next == 0x3E || next == 0x2F || next == 0x09 || next == 0x0A
    }

    static func findCaseInsensitive(_ input: [UInt8], _ literal: String, from start: Int) -> Int? {
        let bytes = Array(literal.utf8)
        guard !bytes.isEmpty, input.count >= bytes.count else { return nil }
        var index = start
        while index + bytes.count <= input.count {
            var found = true
            for offset in 0..<bytes.count where input[index + offset] | 0x20 != bytes[offset] | 0x20 {
                found = false
                break
            }
            if found { return index }
            index += 1
        }
        return nil
    }
}

import Foundation
