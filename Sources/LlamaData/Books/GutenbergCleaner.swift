import Foundation

/// What was removed from one book.
public struct GutenbergCleanResult: Sendable {
    /// The book's text without header and licence footer.
    public var text: String
    /// True when a start marker was found and everything up to it removed.
    public var headerRemoved: Bool
    /// True when an end marker was found and everything from it removed.
    public var footerRemoved: Bool
}

/// Removes Project Gutenberg's header and licence footer. The markers are the current ones
/// ("*** START OF THE PROJECT GUTENBERG EBOOK TITLE ***", "*** END OF THE PROJECT
/// GUTENBERG EBOOK TITLE ***") and the older variants collected by the `gutenberg` Python
/// package's `strip_headers` (c-w/gutenberg, `_domain_model/text.py`): "THIS PROJECT
/// GUTENBERG", "START OF THE COPYRIGHTED", "*END*THE SMALL PRINT!", "End of the Project
/// Gutenberg EBook of …", "End of Project Gutenberg's …". A "Produced by …" credit
/// paragraph right after the start marker goes too. Texts without markers (other books)
/// are kept whole.
public enum GutenbergCleaner {
    private static let startPatterns: [NSRegularExpression] = [
        #"^\s*\*+\s*START\s+OF\s+(THE|THIS)\s+(COPYRIGHTED\s+)?PROJECT\s+GUTENBERG"#,
        #"^\s*\*+\s*BEGINNING\s+OF\s+(THE|THIS)\s+PROJECT\s+GUTENBERG"#,
        #"^\s*\*?\s*END\*?\s*THE\s+SMALL\s+PRINT"#,
    ].compactMap { try? NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }
    private static let endPatterns: [NSRegularExpression] = [
        #"^\s*\*+\s*END\s+OF\s+(THE\s+|THIS\s+)?PROJECT\s+GUTENBERG"#,
        #"^\s*END\s+OF\s+(THE\s+|THIS\s+)?PROJECT\s+GUTENBERG"#,
        #"^\s*END\s+OF\s+PROJECT\s+GUTENBERG'?S"#,
        #"^\s*\*+\s*END\s+OF\s+THE\s+COPYRIGHTED\s+PROJECT\s+GUTENBERG"#,
    ].compactMap { try? NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }
    private static let creditPrefixes = ["produced by", "e-text prepared by", "etext prepared by", "this etext was prepared by",
                                         "this etext was produced by", "this ebook was prepared by", "transcribed from"]

    /// Cleans one book's text (line endings normalized to `\n`).
    public static func clean(_ text: String) -> GutenbergCleanResult {
        let normalized = text.contains("\r\n") ? text.replacingOccurrences(of: "\r\n", with: "\n") : text
        let lines = normalized.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { Substring($0) }
        var start = 0
        var end = lines.count
        var headerRemoved = false, footerRemoved = false
        for (index, line) in lines.enumerated() where matchesAny(startPatterns, line) {
            start = index + 1
            headerRemoved = true
            break
        }
        for index in start..<lines.count where matchesAny(endPatterns, lines[index]) {
            end = index
            footerRemoved = true
            break
        }
        if headerRemoved {
            // Skip blank lines, then a credit paragraph ("Produced by …") if there is one.
            var position = start
            while position < end, lines[position].trimmingCharacters(in: .whitespaces).isEmpty { position += 1 }
            if position < end, creditPrefixes.contains(where: { lines[position].lowercased().hasPrefix($0) }) {
                while position < end, !lines[position].trimmingCharacters(in: .whitespaces).isEmpty { position += 1 }
                start = position
            }
        }
        let body = lines[start..<end].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return GutenbergCleanResult(text: body, headerRemoved: headerRemoved, footerRemoved: footerRemoved)
    }

    private static func matchesAny(_ patterns: [NSRegularExpression], _ line: Substring) -> Bool {
        // Every marker starts with "*" or "E"/"e" after spaces: skip other lines without a regex.
        guard let first = line.utf8.first(where: { !TextScanning.isASCIISpace($0) }),
              first == 0x2A || first == 0x45 || first == 0x65, line.utf8.count < 400 else { return false }
        let text = String(line)
        let range = NSRange(text.startIndex..., in: text)
        return patterns.contains { $0.firstMatch(in: text, range: range) != nil }
    }
}
