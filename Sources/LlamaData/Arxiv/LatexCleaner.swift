import Foundation

/// Cleans arXiv LaTeX as the LLaMA paper describes (section 2.1, following Lewkowycz et
/// al., 2022) and RedPajama's `arxiv_cleaner.py` implements: comments removed, user macros
/// (`\newcommand`, `\renewcommand`, `\providecommand`, `\def`, with and without arguments)
/// expanded inline and their definitions dropped, everything before the first section
/// removed, the bibliography removed.
public enum LatexCleaner {
    /// Sectioning commands whose first occurrence starts the kept text.
    private static let firstSection = try? NSRegularExpression(
        pattern: #"\\(?:part|chapter|section|subsection|subsubsection|paragraph)\*?\s*[\[{]"#)
    /// Removed spans: (a literal every match starts with, checked by a byte scan first so
    /// that the regular expression only runs on texts that can match, the expression).
    private static let bibliography: [(String, NSRegularExpression)] = [
        ("\\begin{thebibliography}", #"\\begin\{thebibliography\}[\s\S]*?(\\end\{thebibliography\}|\z)"#),
        ("\\bibliography", #"\\bibliography\{[^}]*\}"#), ("\\bibliographystyle", #"\\bibliographystyle\{[^}]*\}"#),
        ("\\printbibliography", #"\\printbibliography(\[[^\]]*\])?"#), ("\\addbibresource", #"\\addbibresource\{[^}]*\}"#),
        ("\\begin{comment}", #"\\begin\{comment\}[\s\S]*?\\end\{comment\}"#),
    ].compactMap { literal, pattern in (try? NSRegularExpression(pattern: pattern)).map { (literal, $0) } }

    /// The cleaned text of one paper's (already concatenated) LaTeX, or nil when it has no
    /// section.
    public static func clean(_ latex: String) -> String? {
        let withoutComments = removingComments(latex)
        let (withoutDefinitions, macros) = LatexMacros.extractDefinitions(withoutComments)
        var text = withoutDefinitions
        guard let firstSection, let match = firstSection.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range, in: text) else { return nil }
        text = String(text[range.lowerBound...])
        if TextScanning.contains(text, "\\end{document}"), let end = text.range(of: "\\end{document}") {
            text = String(text[..<end.lowerBound])
        }
        for (literal, pattern) in bibliography where TextScanning.contains(text, literal) {
            text = pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "")
        }
        text = LatexMacros.expand(text, macros: macros)
        return collapseBlankLines(text)
    }

    /// `%` comments removed to the end of their line (not `\%`); a line that held only a
    /// comment is removed whole, as TeX ignores it.
    public static func removingComments(_ latex: String) -> String {
        guard TextScanning.contains(latex, "%") else { return latex }
        var output: [UInt8] = []
        output.reserveCapacity(latex.utf8.count)
        for line in latex.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var backslashes = 0
            var cut: String.UTF8View.Index?
            for index in line.indices {
                let byte = line[index]
                if byte == 0x25, backslashes % 2 == 0 { cut = index; break }
                backslashes = byte == 0x5C ? backslashes + 1 : 0
            }
            if let cut {
                let kept = line[..<cut]
                if kept.allSatisfy(TextScanning.isASCIISpace) { continue }
                output.append(contentsOf: kept)
            } else {
                output.append(contentsOf: line)
            }
            output.append(0x0A)
        }
        if !output.isEmpty, latex.utf8.last != 0x0A { output.removeLast() }
        return String(decoding: output, as: UTF8.self)
    }

    /// Trailing spaces removed, at most one blank line in a row, ends trimmed.
    static func collapseBlankLines(_ text: String) -> String {
        HTMLText.normalizeBlankLines(text)
    }
}
