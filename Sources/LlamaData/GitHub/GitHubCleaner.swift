import Foundation

/// Settings of the GitHub cleaner. The thresholds are those of RedPajama's GitHub subset
/// (Together Computer, 2023, `data_prep/github/github_clean_dedup_local.py`), the public
/// replication of the LLaMA data, which the LLaMA paper's "low quality files were filtered
/// with heuristics based on the line length or proportion of alphanumeric characters"
/// describes.
public struct GitHubConfiguration: Sendable {
    /// Files with a longer line are dropped.
    public var maximumLineLength = 1000
    /// Files whose mean line length is larger are dropped.
    public var maximumMeanLineLength = 100.0
    /// Files with a smaller fraction of alphanumeric characters are dropped.
    public var minimumAlphanumericFraction = 0.25
    /// Licences kept (compared lower-cased): Apache, BSD and MIT, as in the paper.
    public var licenses: Set<String> = ["apache-2.0", "apache-1.1", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear",
                                        "bsd-4-clause", "0bsd", "bsd", "mit", "mit-0", "apache"]
    /// File extensions kept (with the dot, compared lower-cased), and whole file names
    /// such as `Makefile`: RedPajama's programming-language list, plus Swift, Kotlin, R,
    /// OCaml, Elixir, Erlang, Clojure, Dart, Groovy, notebooks, TOML and YAML.
    public var extensions: Set<String> = [
        ".asm", ".bat", ".cmd", ".c", ".h", ".cs", ".cpp", ".hpp", ".c++", ".h++", ".cc", ".hh", ".cmake", ".css",
        ".dockerfile", ".f90", ".f", ".f03", ".f08", ".f77", ".f95", ".for", ".fpp", ".go", ".hs", ".html", ".java",
        ".js", ".jl", ".lua", ".md", ".markdown", ".php", ".php3", ".php4", ".php5", ".phps", ".phpt", ".pl", ".pm",
        ".pod", ".perl", ".ps1", ".psd1", ".psm1", ".py", ".rb", ".rs", ".sql", ".scala", ".sh", ".bash", ".command",
        ".zsh", ".ts", ".tsx", ".tex", ".vb", "dockerfile", "makefile", ".xml", ".rst", ".m", ".smali", ".swift",
        ".kt", ".r", ".ml", ".ex", ".erl", ".clj", ".dart", ".groovy", ".ipynb", ".toml", ".yaml", ".yml",
    ]

    public init() {}
}

/// One source file of a GitHub dump.
public struct GitHubRecord: Sendable {
    public var repository: String
    public var path: String
    public var license: String
    public var content: String
}

/// The result of cleaning one JSONL line.
public enum GitHubLineResult: Sendable {
    /// A cleaned file and the key of its content.
    case kept(CleanedDocument, HashKey)
    /// Removed by the rule named.
    case removed(String)
    /// Bad input, skipped with a warning.
    case skipped(String, DataError)
}

/// Cleans GitHub files: licence and extension allow-lists, RedPajama's line-length and
/// alphanumeric thresholds, licence-header boilerplate removed with regular expressions.
/// Exact deduplication (on the cleaned content's SHA-256) is done by the caller, in order.
public struct GitHubCleaner: Sendable {
    public let configuration: GitHubConfiguration

    public init(configuration: GitHubConfiguration = GitHubConfiguration()) {
        self.configuration = configuration
    }

    /// Parses and cleans one JSONL line (`{"repository" or "repo_name", "path", "license",
    /// "content"}`) of file `path` at 1-based `lineNumber`.
    public func clean(line: [UInt8], lineNumber: Int, path: String) -> GitHubLineResult {
        guard String(validating: line, as: UTF8.self) != nil else {
            return .skipped("github.files.skipped.invalid-utf8", .invalidUTF8(path: path, record: "line \(lineNumber)"))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            return .skipped("github.files.skipped.invalid-json", .invalidJSON(path: path, line: lineNumber, reason: "not a JSON object"))
        }
        guard let content = object["content"] as? String, let filePath = object["path"] as? String else {
            return .skipped("github.files.skipped.invalid-json",
                            .invalidJSON(path: path, line: lineNumber, reason: "missing \"content\" or \"path\""))
        }
        let record = GitHubRecord(repository: (object["repository"] as? String) ?? (object["repo_name"] as? String) ?? "",
                                  path: filePath, license: (object["license"] as? String) ?? "", content: content)
        if record.content.utf8.contains(0) {
            return .skipped("github.files.skipped.binary", .binaryContent(path: path, record: "line \(lineNumber) (\(record.path))"))
        }
        return clean(record)
    }

    /// Cleans one file record.
    public func clean(_ record: GitHubRecord) -> GitHubLineResult {
        guard configuration.licenses.contains(record.license.lowercased()) else { return .removed("github.files.removed.license") }
        let name = (record.path as NSString).lastPathComponent.lowercased()
        let dot = name.lastIndex(of: ".").map { String(name[$0...]) } ?? ""
        guard configuration.extensions.contains(dot) || configuration.extensions.contains(name) else {
            return .removed("github.files.removed.extension")
        }
        let statistics = Self.lineStatistics(record.content)
        if statistics.maximumLineLength > configuration.maximumLineLength { return .removed("github.files.removed.max-line-length") }
        if statistics.meanLineLength > configuration.maximumMeanLineLength { return .removed("github.files.removed.mean-line-length") }
        if statistics.alphanumericFraction < configuration.minimumAlphanumericFraction {
            return .removed("github.files.removed.alphanumeric-fraction")
        }
        let text = LicenseHeader.remove(from: record.content)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .removed("github.files.removed.empty") }
        let hex = SHA256.hexDigest(Array(text.utf8))
        let document = CleanedDocument(text: text, source: "github", meta: [
            "repository": .string(record.repository), "path": .string(record.path),
            "license": .string(record.license), "sha256": .string(hex),
        ])
        return .kept(document, SHA256.key(Array(text.utf8)))
    }

    /// Line statistics as RedPajama computes them with Python strings: lengths in code
    /// points of the lines of `str.splitlines()` (line breaks: LF, CR, CRLF, VT, FF, FS, GS,
    /// RS, NEL, LS, PS), and the fraction of code points that are alphanumeric
    /// (`str.isalnum()`: letters or numeric characters).
    public static func lineStatistics(_ content: String) -> (maximumLineLength: Int, meanLineLength: Double, alphanumericFraction: Double) {
        var maximum = 0, total = 0, lines = 0, current = 0
        var alphanumeric = 0, characters = 0
        var previousWasCarriageReturn = false
        for scalar in content.unicodeScalars {
            characters += 1
            let value = scalar.value
            let isBreak = value == 0x0A || value == 0x0D || value == 0x0B || value == 0x0C || (value >= 0x1C && value <= 0x1E)
                || value == 0x85 || value == 0x2028 || value == 0x2029
            if isBreak {
                if value == 0x0A, previousWasCarriageReturn {
                    previousWasCarriageReturn = false
                    continue  // CRLF is one break
                }
                maximum = max(maximum, current)
                total += current
                lines += 1
                current = 0
                previousWasCarriageReturn = value == 0x0D
                continue
            }
            previousWasCarriageReturn = false
            current += 1
            if value < 0x80 {
                if (value >= 0x30 && value <= 0x39) || ((value | 0x20) >= 0x61 && (value | 0x20) <= 0x7A) { alphanumeric += 1 }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                alphanumeric += 1
            }
        }
        if current > 0 {  // a last line without its break
            maximum = max(maximum, current)
            total += current
            lines += 1
        }
        let mean = lines > 0 ? Double(total) / Double(lines) : 0
        return (maximum, mean, characters > 0 ? Double(alphanumeric) / Double(characters) : 0)
    }
}

/// Licence-header boilerplate: a comment block at the top of a file (after an optional
/// shebang or encoding line) that mentions a copyright or licence is removed.
public enum LicenseHeader {
    /// Leading block comments (`/* … */`, `<!-- … -->`, `""" … """`) or runs of line
    /// comments (`//`, `#`, `--`, `;`, `%`), with the blank lines after them.
    private static let patterns: [NSRegularExpression] = [
        #"\A(?:#![^\n]*\n)?\s*/\*[\s\S]*?\*/[ \t]*\n?\s*"#,
        #"\A(?:#![^\n]*\n)?\s*<!--[\s\S]*?-->[ \t]*\n?\s*"#,
        #"\A(?:#![^\n]*\n)?\s*(?:"""|''')[\s\S]*?(?:"""|''')[ \t]*\n?\s*"#,
        #"\A(?:#![^\n]*\n)?(?:[ \t]*(?://|#|--|;|%)[^\n]*\n)+\s*"#,
    ].compactMap { try? NSRegularExpression(pattern: $0) }
    /// Words that make a leading comment licence boilerplate.
    private static let keywords = try? NSRegularExpression(
        pattern: #"copyright|licen[cs]e|permission is hereby granted|all rights reserved|spdx-license-identifier|\(c\)|©"#,
        options: [.caseInsensitive])

    /// `content` without its licence header (unchanged when it has none). A shebang line is
    /// kept.
    public static func remove(from content: String) -> String {
        let whole = NSRange(content.startIndex..., in: content)
        for pattern in patterns {
            guard let match = pattern.firstMatch(in: content, range: whole), match.range.length > 0,
                  let range = Range(match.range, in: content) else { continue }
            let header = String(content[range])
            guard let keywords, keywords.firstMatch(in: header, range: NSRange(header.startIndex..., in: header)) != nil else {
                continue
            }
            let shebang = content.hasPrefix("#!") ? String(content.prefix { $0 != "\n" }) + "\n" : ""
            return shebang + content[range.upperBound...]
        }
        return content
    }
}
