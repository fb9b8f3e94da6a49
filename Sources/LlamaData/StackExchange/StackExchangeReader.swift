import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A question with its answers, as read from Posts.xml.
public struct StackExchangeThread: Sendable {
    public var identifier: Int
    public var title: String
    /// The question's HTML body.
    public var body: String
    public var score: Int
    public var tags: [String]
    /// Answers as (identifier, score, HTML body), in file order.
    public var answers: [(identifier: Int, score: Int, body: String)]
}

/// Streams a StackExchange dump's `Posts.xml` (one `<row …/>` per post; PostTypeId 1 is a
/// question, 2 an answer whose ParentId is its question; Body is HTML in an attribute) with
/// Foundation's event parser, and groups answers under their questions. The grouping is
/// held in memory (question and answer bodies), so a site must fit in memory.
public final class StackExchangeReader: NSObject, XMLParserDelegate {
    private let path: String
    private var threads: [Int: StackExchangeThread] = [:]
    private var orphanAnswers: [Int: [(identifier: Int, score: Int, body: String)]] = [:]
    /// Open elements; a document that ends with some still open was truncated.
    private var depth = 0
    /// Posts read, by kind.
    public private(set) var counts = StageCounts()

    public init(path: String) {
        self.path = path
    }

    /// Reads the file; returns the threads in question-identifier order and warnings (a
    /// malformed document stops the parse; the posts before the error are used).
    public func read() throws -> (threads: [StackExchangeThread], warnings: [DataError]) {
        let opened = try XMLInput.open(path)
        let parser = XMLParser(stream: opened.stream)
        parser.delegate = self
        parser.shouldResolveExternalEntities = false
        var warnings: [DataError] = []
        if !parser.parse() {
            let reason = parser.parserError.map { "\($0)" } ?? "parse failed"
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber, reason: reason))
        } else if depth != 0 {
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber,
                                          reason: "the document ends inside an element (truncated file)"))
        }
        if let error = opened.finish() { warnings.append(error) }
        for (parent, answers) in orphanAnswers {
            if threads[parent] != nil { threads[parent]?.answers.append(contentsOf: answers) } else {
                counts.add("stackexchange.answers.skipped.no-question", answers.count)
            }
        }
        return (threads.keys.sorted().compactMap { threads[$0] }, warnings)
    }

    public func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                       qualifiedName: String?, attributes: [String: String] = [:]) {
        depth += 1
        guard elementName == "row" else { return }
        guard let identifier = attributes["Id"].flatMap({ Int($0) }), let type = attributes["PostTypeId"] else {
            counts.add("stackexchange.posts.skipped.missing-id")
            return
        }
        let score = attributes["Score"].flatMap { Int($0) } ?? 0
        let body = attributes["Body"] ?? ""
        switch type {
        case "1":
            counts.add("stackexchange.questions.read")
            let tags = Self.parseTags(attributes["Tags"] ?? "")
            threads[identifier] = StackExchangeThread(identifier: identifier, title: attributes["Title"] ?? "", body: body,
                                                      score: score, tags: tags, answers: [])
        case "2":
            counts.add("stackexchange.answers.read")
            guard let parent = attributes["ParentId"].flatMap({ Int($0) }) else {
                counts.add("stackexchange.answers.skipped.no-question")
                return
            }
            if threads[parent] != nil {
                threads[parent]?.answers.append((identifier, score, body))
            } else {
                orphanAnswers[parent, default: []].append((identifier, score, body))
            }
        default:
            counts.add("stackexchange.posts.skipped.other-type")
        }
    }

    public func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        depth -= 1
    }

    /// Tags as the dumps write them: `<python><list>` (older) or `|python|list|` (2024 on).
    static func parseTags(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "<" || $0 == ">" || $0 == "|" }).map(String.init)
    }
}

/// Turns a thread into a document: the title, the question, then the answers sorted by
/// score, highest first (ties: lower post identifier first), each HTML body converted to
/// text by `HTMLText` (code and entities kept).
public enum StackExchangeFormatter {
    /// The document text of `thread`.
    public static func text(of thread: StackExchangeThread) -> String {
        var parts = ["Q: " + HTMLEntities.decode(thread.title), HTMLText.plainText(thread.body)]
        let sorted = thread.answers.sorted { $0.score != $1.score ? $0.score > $1.score : $0.identifier < $1.identifier }
        for answer in sorted { parts.append("A: " + HTMLText.plainText(answer.body)) }
        return parts.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    /// The document of `thread` from site `site`.
    public static func document(of thread: StackExchangeThread, site: String) -> CleanedDocument {
        CleanedDocument(text: text(of: thread), source: "stackexchange", meta: [
            "site": .string(site), "question_id": .integer(thread.identifier), "score": .integer(thread.score),
            "answers": .integer(thread.answers.count), "tags": .strings(thread.tags),
        ])
    }
}
