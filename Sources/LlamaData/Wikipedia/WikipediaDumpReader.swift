import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One page of a pages-articles dump.
public struct WikipediaPage: Sendable {
    public var title: String
    public var namespace: Int
    public var identifier: String
    public var isRedirect: Bool
    /// The latest revision's wikitext.
    public var wikitext: String
}

/// Streams a MediaWiki XML export (`*-pages-articles.xml`, plain or `.bz2`; schema
/// https://www.mediawiki.org/xml/export-0.10.xsd) page by page with Foundation's event
/// parser. bzip2 files are decompressed by the `bzip2` program in a child process, which
/// runs on the other core while this one parses. The `<siteinfo>` namespace names and the
/// database name (`enwiki` → `en`) are read before the first page.
public final class WikipediaDumpReader: NSObject, XMLParserDelegate {
    /// Namespace names declared in the dump, by namespace key (6: files, 14: categories).
    public private(set) var namespaceNames: [Int: String] = [:]
    /// The dump's language from `<dbname>` (nil until read).
    public private(set) var language: String?

    private let path: String
    private var onPage: (WikipediaPage) -> Void = { _ in }
    private var elementPath: [String] = []
    private var text = ""
    private var page = WikipediaPage(title: "", namespace: 0, identifier: "", isRedirect: false, wikitext: "")
    private var namespaceKey = 0
    private var pageIdentifierRead = false

    public init(path: String) {
        self.path = path
    }

    /// Parses the whole dump, calling `body` for each page in order; returns warnings (a
    /// malformed document stops the parse: every page before the error was delivered).
    public func read(_ body: @escaping (WikipediaPage) -> Void) throws -> [DataError] {
        onPage = body
        let opened = try XMLInput.open(path)
        let parser = XMLParser(stream: opened.stream)
        parser.delegate = self
        parser.shouldResolveExternalEntities = false
        let succeeded = parser.parse()
        var warnings: [DataError] = []
        if !succeeded {
            let reason = parser.parserError.map { "\($0)" } ?? "parse failed"
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber, reason: reason))
        } else if !elementPath.isEmpty {
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber,
                                          reason: "the document ends inside <\(elementPath.last ?? "")> (truncated file)"))
        }
        if let error = opened.finish() { warnings.append(error) }
        return warnings
    }

    public func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                       qualifiedName: String?, attributes: [String: String] = [:]) {
        elementPath.append(elementName)
        text = ""
        switch elementName {
        case "page":
            page = WikipediaPage(title: "", namespace: 0, identifier: "", isRedirect: false, wikitext: "")
            pageIdentifierRead = false
        case "redirect": page.isRedirect = true
        case "namespace": namespaceKey = Int(attributes["key"] ?? "") ?? 0
        default: break
        }
    }

    public func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    public func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        let parent = elementPath.count >= 2 ? elementPath[elementPath.count - 2] : ""
        switch elementName {
        case "title" where parent == "page": page.title = text
        case "ns" where parent == "page": page.namespace = Int(text.trimmingCharacters(in: .whitespaces)) ?? -1
        case "id" where parent == "page" && !pageIdentifierRead:
            page.identifier = text
            pageIdentifierRead = true
        case "text" where parent == "revision": page.wikitext = text
        case "page": onPage(page)
        case "namespace": namespaceNames[namespaceKey] = text
        case "dbname":
            language = text.hasSuffix("wiki") ? String(text.dropLast(4)) : text
        default: break
        }
        text = ""
        elementPath.removeLast()
    }
}

/// Opens an XML input for `XMLParser(stream:)`: a plain file directly, a bzip2 or gzip
/// file through `bzip2 -dc` / `gzip -dc` in a child process, read through the pipe's
/// `/proc/self/fd` path.
enum XMLInput {
    struct Opened {
        let stream: InputStream
        let process: Process?
        /// Kept alive so that the pipe's descriptor stays open while the stream reads it.
        let pipe: Pipe?
        let path: String
        let program: String

        /// Waits for the decompressor; its failure (a truncated file) as a warning.
        func finish() -> DataError? {
            stream.close()
            guard let process else { return nil }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return process.terminationStatus == 0 ? nil
                : .decompressorFailed(path: path, program: program, status: process.terminationStatus)
        }
    }

    static func open(_ path: String) throws -> Opened {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError.fileNotFound(path: path) }
        let magic = [UInt8](handle.readData(ofLength: 3))
        try? handle.close()
        var program: String?
        if magic.count == 3, magic == [0x42, 0x5A, 0x68] { program = "bzip2" }
        if magic.count >= 2, magic[0] == 0x1F, magic[1] == 0x8B { program = "gzip" }
        guard let program else {
            guard let stream = InputStream(fileAtPath: path) else { throw DataError.fileNotFound(path: path) }
            return Opened(stream: stream, process: nil, pipe: nil, path: path, program: "")
        }
        guard let executable = ["/usr/bin/", "/bin/"].map({ $0 + program }).first(where: FileManager.default.isExecutableFile) else {
            throw DataError.decompressorFailed(path: path, program: program, status: 127)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw DataError.decompressorFailed(path: path, program: program, status: -1) }
        try? pipe.fileHandleForWriting.close()
        guard let stream = InputStream(fileAtPath: "/proc/self/fd/\(pipe.fileHandleForReading.fileDescriptor)") else {
            throw DataError.io(path: path, operation: "open pipe from \(program)", errno: 0)
        }
        return Opened(stream: stream, process: process, pipe: pipe, path: path, program: program)
    }
}
