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
        // A read error (truncated or corrupt compressed input) is the cause of whatever the
        // parser then says, so it is the one warning.
        if let error = opened.finish() {
            warnings.append(error)
        } else if !succeeded {
            let reason = parser.parserError.map { "\($0)" } ?? "parse failed"
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber, reason: reason))
        } else if !elementPath.isEmpty {
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber,
                                          reason: "the document ends inside <\(elementPath.last ?? "")> (truncated file)"))
        }
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
