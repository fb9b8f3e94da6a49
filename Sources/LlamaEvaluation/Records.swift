import LlamaCore
import Foundation

/// One record of a dataset file with the place it came from, and typed field access
/// that names the field and line on failure.
public struct Record {
    public let path: String
    /// 1-based line of a JSONL/CSV record; the record's index + 1 in a JSON array.
    public let line: Int
    public let fields: [String: Any]

    public init(path: String, line: Int, fields: [String: Any]) {
        self.path = path
        self.line = line
        self.fields = fields
    }

    public var source: String { "\(path):\(line)" }

    /// The raw value at `field`; dots walk into nested objects ("question.stem").
    public func value(_ field: String) throws -> Any {
        var current: Any = fields
        for part in field.split(separator: ".") {
            guard let object = current as? [String: Any], let next = object[String(part)], !(next is NSNull) else {
                throw EvaluationError.missingField(path: path, line: line, field: field)
            }
            current = next
        }
        return current
    }

    public func has(_ field: String) -> Bool { (try? value(field)) != nil }

    /// A string field; numbers and booleans are written out as text.
    public func string(_ field: String) throws -> String {
        let raw = try value(field)
        if let text = raw as? String { return text }
        if let number = raw as? NSNumber { return number.stringValue }
        throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected text")
    }

    public func strings(_ field: String) throws -> [String] {
        let raw = try value(field)
        if let single = raw as? String { return [single] }
        guard let list = raw as? [Any] else {
            throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected a list of texts")
        }
        return try list.map { item in
            if let text = item as? String { return text }
            if let number = item as? NSNumber { return number.stringValue }
            throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected a list of texts")
        }
    }

    public func integer(_ field: String) throws -> Int {
        let raw = try value(field)
        if let number = raw as? NSNumber, let value = Int(exactly: number.doubleValue) {
            return value
        }
        if let text = raw as? String, let value = Int(text.trimmingCharacters(in: .whitespaces)) { return value }
        throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected an integer")
    }

    public func boolean(_ field: String) throws -> Bool {
        let raw = try value(field)
        if let flag = raw as? Bool { return flag }
        if let text = raw as? String, ["true", "false"].contains(text.lowercased()) { return text.lowercased() == "true" }
        throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected true or false")
    }

    public func object(_ field: String) throws -> [String: Any] {
        guard let object = try value(field) as? [String: Any] else {
            throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected an object")
        }
        return object
    }

    public func list(_ field: String) throws -> [Any] {
        guard let list = try value(field) as? [Any] else {
            throw EvaluationError.invalidField(path: path, line: line, field: field, reason: "expected a list")
        }
        return list
    }
}

/// Readers of the file formats datasets are published in.
public enum RecordReader {
    static func text(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.unreadableFile(path: path, reason: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.unreadableFile(path: path, reason: "is not UTF-8")
        }
        return text
    }

    /// JSON Lines: one object per non-empty line.
    public static func jsonLines(_ path: String) throws -> [Record] {
        var records: [Record] = []
        for (index, line) in try text(path).lines().enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let object: Any
            do { object = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) } catch {
                throw EvaluationError.malformedLine(path: path, line: index + 1, reason: "not valid JSON")
            }
            guard let fields = object as? [String: Any] else {
                throw EvaluationError.malformedLine(path: path, line: index + 1, reason: "expected a JSON object")
            }
            records.append(Record(path: path, line: index + 1, fields: fields))
        }
        return records
    }

    /// One JSON document: a list of objects, an object holding such a list under
    /// `listKey` (TriviaQA's "Data"), or a single object (a RACE or MATH file).
    public static func json(_ path: String, listKey: String? = nil) throws -> [Record] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(try text(path).utf8)) } catch let error as EvaluationError {
            throw error
        } catch {
            throw EvaluationError.malformedLine(path: path, line: lineOfJSONError(error), reason: "not valid JSON")
        }
        var list: [Any]
        if let array = object as? [Any] { list = array } else if let dictionary = object as? [String: Any] {
            if let listKey {
                guard let inner = dictionary[listKey] as? [Any] else {
                    throw EvaluationError.missingField(path: path, line: 0, field: listKey)
                }
                list = inner
            } else { list = [dictionary] }
        } else { throw EvaluationError.malformedLine(path: path, line: 1, reason: "expected a JSON object or list") }
        return try list.enumerated().map { index, item in
            guard let fields = item as? [String: Any] else {
                throw EvaluationError.malformedLine(path: path, line: index + 1, reason: "record \(index + 1) is not an object")
            }
            return Record(path: path, line: list.count == 1 && listKey == nil ? 0 : index + 1, fields: fields)
        }
    }

    private static func lineOfJSONError(_ error: Error) -> Int {
        let text = "\(error)"
        if let range = text.range(of: "line ") {
            return Int(text[range.upperBound...].prefix(while: { $0.isNumber })) ?? 0
        }
        return 0
    }

    /// Reads a JSONL file, a JSON file, or every `.json`/`.txt` file of a directory
    /// (RACE and MATH ship one JSON object per file), in sorted file order.
    public static func records(_ path: String, listKey: String? = nil) throws -> [Record] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.unreadableFile(path: path, reason: "does not exist")
        }
        if isDirectory.boolValue {
            guard let enumerator = FileManager.default.enumerator(atPath: path) else {
                throw EvaluationError.unreadableFile(path: path, reason: "cannot list the directory")
            }
            let files = enumerator.compactMap { $0 as? String }
                .filter { $0.hasSuffix(".json") || $0.hasSuffix(".txt") || $0.hasSuffix(".jsonl") }.sorted()
            return try files.flatMap { try records(path + "/" + $0, listKey: listKey) }
        }
        if path.hasSuffix(".jsonl") { return try jsonLines(path) }
        if path.hasSuffix(".csv") || path.hasSuffix(".tsv") {
            throw EvaluationError.unreadableFile(path: path, reason: "a CSV/TSV file needs column names; use RecordReader.delimited")
        }
        let content = try text(path).trimmingCharacters(in: .whitespacesAndNewlines)
        // A JSON document, unless it is several lines of objects (JSONL under another name).
        if content.hasPrefix("{"), content.contains("}\n{") || content.contains("}\r\n{") { return try jsonLines(path) }
        return try json(path, listKey: listKey)
    }

    /// CSV (RFC 4180 quoting) or TSV rows as records. `columns` names the columns of a
    /// file without a header (MMLU); otherwise the first row is the header.
    public static func delimited(_ path: String, separator: Character, columns: [String]? = nil) throws -> [Record] {
        let rows = try parseDelimited(text(path), separator: separator, path: path)
        var header = columns
        var records: [Record] = []
        for (line, row) in rows {
            if row.count == 1 && row[0].isEmpty { continue }
            guard let names = header else { header = row; continue }
            guard row.count >= names.count else {
                throw EvaluationError.malformedLine(path: path, line: line, reason: "\(row.count) columns, expected \(names.count)")
            }
            var fields: [String: Any] = [:]
            for (name, value) in zip(names, row) where !name.isEmpty { fields[name] = value }
            records.append(Record(path: path, line: line, fields: fields))
        }
        return records
    }

    /// Splits CSV text into rows, each with its starting line (quoted fields may span lines).
    static func parseDelimited(_ text: String, separator: Character, path: String) throws -> [(Int, [String])] {
        var rows: [(Int, [String])] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1, rowLine = 1
        var iterator = Array(text).makeIterator()
        var pending: Character? = nil
        func next() -> Character? {
            if let character = pending { pending = nil; return character }
            return iterator.next()
        }
        while let character = next() {
            if character == "\n" || character == "\r\n" { line += 1 }
            if inQuotes {
                if character == "\"" {
                    if let following = next() {
                        if following == "\"" { field.append("\"") } else { inQuotes = false; pending = following }
                    } else { inQuotes = false }
                } else { field.append(character) }
                continue
            }
            switch character {
            case "\"" where field.isEmpty && separator == ",": inQuotes = true
            case separator: row.append(field); field = ""
            case "\n", "\r\n", "\r":
                row.append(field); field = ""
                rows.append((rowLine, row)); row = []
                rowLine = line
            default: field.append(character)
            }
        }
        if inQuotes { throw EvaluationError.malformedLine(path: path, line: rowLine, reason: "unterminated quoted field") }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append((rowLine, row)) }
        return rows
    }
}
