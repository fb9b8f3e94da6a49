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
    private static let bibliography: [NSRegularExpression] = [
        #"\\begin\{thebibliography\}[\s\S]*?(\\end\{thebibliography\}|\z)"#,
        #"\\bibliography\{[^}]*\}"#, #"\\bibliographystyle\{[^}]*\}"#, #"\\printbibliography(\[[^\]]*\])?"#,
        #"\\addbibresource\{[^}]*\}"#,
        #"\\begin\{comment\}[\s\S]*?\\end\{comment\}"#,
    ].compactMap { try? NSRegularExpression(pattern: $0) }

    /// The cleaned text of one paper's (already concatenated) LaTeX, or nil when it has no
    /// section.
    public static func clean(_ latex: String) -> String? {
        let withoutComments = removingComments(latex)
        let (withoutDefinitions, macros) = LatexMacros.extractDefinitions(withoutComments)
        var text = withoutDefinitions
        guard let firstSection, let match = firstSection.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range, in: text) else { return nil }
        text = String(text[range.lowerBound...])
        if let end = text.range(of: "\\end{document}") { text = String(text[..<end.lowerBound]) }
        for pattern in bibliography {
            text = pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "")
        }
        text = LatexMacros.expand(text, macros: macros)
        return collapseBlankLines(text)
    }

    /// `%` comments removed to the end of their line (not `\%`); a line that held only a
    /// comment is removed whole, as TeX ignores it.
    public static func removingComments(_ latex: String) -> String {
        var lines: [Substring] = []
        for line in latex.split(separator: "\n", omittingEmptySubsequences: false) {
            var previousBackslashes = 0
            var cut: Substring.Index?
            for index in line.indices {
                let character = line[index]
                if character == "%", previousBackslashes % 2 == 0 { cut = index; break }
                previousBackslashes = character == "\\" ? previousBackslashes + 1 : 0
            }
            if let cut {
                let kept = line[..<cut]
                if kept.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                lines.append(kept)
            } else {
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Trailing spaces removed, at most one blank line in a row, ends trimmed.
    static func collapseBlankLines(_ text: String) -> String {
        HTMLText.normalizeBlankLines(text)
    }
}
