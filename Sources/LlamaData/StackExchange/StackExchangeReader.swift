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
/// Foundation's event parser, and groups answers under their questions. Post texts go to a
/// scratch file (`PostSpill`) as they are parsed; memory holds 32–40 bytes per post
/// (identifiers, scores, offsets), so a site larger than memory (StackOverflow's Posts.xml is
/// ~100 GB) is grouped with ~2 GB.
public final class StackExchangeReader: NSObject, XMLParserDelegate {
    private let path: String
    private let scratchDirectory: String
    private var spill: PostSpill?
    private var spillError: Error?
    private var questions: [(identifier: Int, score: Int, offset: Int, length: Int)] = []
    private var answers: [(parent: Int, identifier: Int, score: Int, offset: Int, length: Int)] = []
    /// Open elements; a document that ends with some still open was truncated.
    private var depth = 0
    /// Posts read, by kind.
    public private(set) var counts = StageCounts()

    /// A reader of `path` whose scratch file goes in `scratchDirectory` (default: the input's).
    public init(path: String, scratchDirectory: String? = nil) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        self.scratchDirectory = scratchDirectory ?? (directory.isEmpty ? "." : directory)
    }

    /// Reads the file, then calls `body` with each thread in question-identifier order, its
    /// answers in file order; returns warnings (a malformed document stops the parse; the
    /// posts before the error are used).
    public func forEachThread(_ body: (StackExchangeThread) throws -> Void) throws -> [DataError] {
        let spill = try PostSpill(directory: scratchDirectory)
        self.spill = spill
        defer { self.spill = nil }
        let opened = try XMLInput.open(path)
        let parser = XMLParser(stream: opened.stream)
        parser.delegate = self
        parser.shouldResolveExternalEntities = false
        let succeeded = parser.parse()
        if let spillError { throw spillError }
        var warnings: [DataError] = []
        // A read error (truncated or corrupt compressed input) is the cause of whatever the
        // parser then says, so it is the one warning.
        if let error = opened.finish() {
            warnings.append(error)
        } else if !succeeded {
            let reason = parser.parserError.map { "\($0)" } ?? "parse failed"
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber, reason: reason))
        } else if depth != 0 {
            warnings.append(.malformedXML(path: path, line: parser.lineNumber, column: parser.columnNumber,
                                          reason: "the document ends inside an element (truncated file)"))
        }
        try spill.flush()
        // Questions by identifier (the first of a repeated identifier wins), answers by parent
        // in file order; then one merge pass.
        let sortedQuestions = questions.enumerated().sorted { ($0.element.identifier, $0.offset) < ($1.element.identifier, $1.offset) }
            .map(\.element)
        questions = []
        let sortedAnswers = answers.enumerated().sorted { ($0.element.parent, $0.offset) < ($1.element.parent, $1.offset) }
            .map(\.element)
        answers = []
        var next = 0
        var previous: Int?
        for question in sortedQuestions {
            while next < sortedAnswers.count && sortedAnswers[next].parent < question.identifier {
                counts.add("stackexchange.answers.skipped.no-question")
                next += 1
            }
            guard question.identifier != previous else { continue }
            previous = question.identifier
            let fields = try spill.read(offset: question.offset, length: question.length)
            var thread = StackExchangeThread(identifier: question.identifier, title: fields[0], body: fields.count > 2 ? fields[2] : "",
                                             score: question.score, tags: fields.count > 1 ? Self.parseTags(fields[1]) : [], answers: [])
            while next < sortedAnswers.count && sortedAnswers[next].parent == question.identifier {
                let answer = sortedAnswers[next]
                let body = try spill.read(offset: answer.offset, length: answer.length).first ?? ""
                thread.answers.append((answer.identifier, answer.score, body))
                next += 1
            }
            try body(thread)
        }
        if next < sortedAnswers.count { counts.add("stackexchange.answers.skipped.no-question", sortedAnswers.count - next) }
        return warnings
    }

    public func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                       qualifiedName: String?, attributes: [String: String] = [:]) {
        depth += 1
        guard elementName == "row", let spill else { return }
        guard let identifier = attributes["Id"].flatMap({ Int($0) }), let type = attributes["PostTypeId"] else {
            counts.add("stackexchange.posts.skipped.missing-id")
            return
        }
        let score = attributes["Score"].flatMap { Int($0) } ?? 0
        let body = attributes["Body"] ?? ""
        do {
            switch type {
            case "1":
                counts.add("stackexchange.questions.read")
                let record = try spill.append([attributes["Title"] ?? "", attributes["Tags"] ?? "", body])
                questions.append((identifier, score, record.offset, record.length))
            case "2":
                counts.add("stackexchange.answers.read")
                guard let parent = attributes["ParentId"].flatMap({ Int($0) }) else {
                    counts.add("stackexchange.answers.skipped.no-question")
                    return
                }
                let record = try spill.append([body])
                answers.append((parent, identifier, score, record.offset, record.length))
            default:
                counts.add("stackexchange.posts.skipped.other-type")
            }
        } catch {
            spillError = error
            parser.abortParsing()
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
