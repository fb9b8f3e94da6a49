import Foundation

/// One paper's source files.
public struct ArxivPaper: Sendable {
    /// The paper's identifier: the archive member, file or directory name without extensions.
    public var identifier: String
    /// Its files, by path inside the paper (text files only matter).
    public var files: [TarEntry]
}

/// Reads arXiv LaTeX sources in the shapes they come in: a directory of one paper's files,
/// a single `.tex` file (or gzip-compressed one, as arXiv serves single-file papers), a
/// paper's `.tar` / `.tar.gz`, or a bulk archive (arXiv's `arXiv_src_*.tar`) whose members
/// are per-paper `.gz` files, each a gzip-compressed tar or single file. Tar is read by
/// `TarReader`, gzip by zlib.
public enum ArxivReader {
    /// Calls `body` for each paper; returns warnings for what was skipped (truncated or
    /// corrupt archives: the complete members before the damage are still used).
    public static func forEachPaper(at path: String, _ body: (ArxivPaper) throws -> Void) throws -> [DataError] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError.fileNotFound(path: path) }
        let identifier = baseName(path)
        if isDirectory.boolValue {
            var files: [TarEntry] = []
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let relative = enumerator?.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(relative)
                var childIsDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &childIsDirectory), !childIsDirectory.boolValue,
                   let data = FileManager.default.contents(atPath: full) {
                    files.append(TarEntry(name: relative, bytes: [UInt8](data)))
                }
            }
            try body(ArxivPaper(identifier: identifier, files: files.sorted { $0.name < $1.name }))
            return []
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        var warnings: [DataError] = []
        var bytes = [UInt8](data)
        if Gzip.isGzip(bytes) {
            do { bytes = try Gzip.decompress(bytes, path: path) } catch let error as DataError {
                warnings.append(error)
                return warnings
            }
        }
        guard TarReader.looksLikeTar(bytes) else {
            try body(ArxivPaper(identifier: identifier, files: [TarEntry(name: identifier + ".tex", bytes: bytes)]))
            return warnings
        }
        var entries: [TarEntry] = []
        do {
            try TarReader.forEachEntry(in: MemoryByteSource(path: path, bytes: bytes)) { entries.append($0) }
        } catch let error as DataError {
            warnings.append(error)
        }
        let nested = entries.filter { $0.name.hasSuffix(".gz") }
        if !nested.isEmpty, nested.count == entries.filter({ !$0.name.hasSuffix(".pdf") }).count {
            // A bulk archive: one paper per member.
            for member in nested {
                do {
                    let plain = try Gzip.decompress(member.bytes, path: path + ":" + member.name)
                    let memberIdentifier = baseName(member.name)
                    if TarReader.looksLikeTar(plain) {
                        var files: [TarEntry] = []
                        do {
                            try TarReader.forEachEntry(in: MemoryByteSource(path: path + ":" + member.name, bytes: plain)) { files.append($0) }
                        } catch let error as DataError { warnings.append(error) }
                        try body(ArxivPaper(identifier: memberIdentifier, files: files))
                    } else {
                        try body(ArxivPaper(identifier: memberIdentifier, files: [TarEntry(name: memberIdentifier + ".tex", bytes: plain)]))
                    }
                } catch let error as DataError {
                    warnings.append(error)
                }
            }
            return warnings
        }
        if !entries.isEmpty { try body(ArxivPaper(identifier: identifier, files: entries)) }
        return warnings
    }

    /// The paper's LaTeX as one text: the main file (the first, in name order, holding
    /// `\documentclass`) with `\input{…}` and `\include{…}` replaced by the files they name;
    /// without a main file, every `.tex` file in name order. Files that are not UTF-8 are
    /// left out and named in `skipped`.
    public static func combinedLatex(of paper: ArxivPaper) -> (text: String?, skipped: [String]) {
        var texts: [String: String] = [:]
        var skipped: [String] = []
        for file in paper.files where file.name.lowercased().hasSuffix(".tex") {
            if file.bytes.contains(0) { skipped.append(file.name); continue }
            if let text = String(validating: file.bytes, as: UTF8.self) { texts[normalize(file.name)] = text } else { skipped.append(file.name) }
        }
        let names = texts.keys.sorted()
        if let main = names.first(where: { texts[$0].map { TextScanning.contains($0, "\\documentclass") } == true }), let mainText = texts[main] {
            return (resolveInputs(mainText, texts: texts, depth: 0), skipped)
        }
        guard !names.isEmpty else { return (nil, skipped) }
        return (names.compactMap { texts[$0] }.joined(separator: "\n"), skipped)
    }

    private static let inputPattern = try? NSRegularExpression(pattern: #"\\(?:input|include)\s*\{([^}]*)\}"#)

    private static func resolveInputs(_ text: String, texts: [String: String], depth: Int) -> String {
        guard depth < 8, let inputPattern, TextScanning.contains(text, "\\in") else { return text }
        var result = ""
        var last = text.startIndex
        for match in inputPattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let whole = Range(match.range, in: text), let nameRange = Range(match.range(at: 1), in: text) else { continue }
            result += text[last..<whole.lowerBound]
            var name = normalize(String(text[nameRange]).trimmingCharacters(in: .whitespaces))
            if !name.hasSuffix(".tex") { name += ".tex" }
            if let included = texts[name] { result += resolveInputs(included, texts: texts, depth: depth + 1) }
            last = whole.upperBound
        }
        return result + text[last...]
    }

    private static func normalize(_ name: String) -> String {
        var result = name
        while result.hasPrefix("./") { result.removeFirst(2) }
        return result
    }

    static func baseName(_ path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for suffix in [".gz", ".tar", ".tex", ".tgz"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return name
    }
}
