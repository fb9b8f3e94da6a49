import Foundation

/// Reads JSON Lines (one JSON object per line, https://jsonlines.org). Lines that are not
/// UTF-8 or not JSON objects are skipped with a warning naming the line.
public enum JSONLReader {
    /// Calls `body` with each object and its line's byte length.
    public static func forEachObject(in source: ByteSource, _ body: ([String: Any], Int) throws -> Void) throws -> [DataError] {
        var warnings: [DataError] = []
        let readError = try forEachLine(in: source) { line, number in
            guard String(validating: line, as: UTF8.self) != nil else {
                warnings.append(.invalidUTF8(path: source.path, record: "line \(number)"))
                return
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                warnings.append(.invalidJSON(path: source.path, line: number, reason: "not a JSON object"))
                return
            }
            try body(object, line.count + 1)
        }
        if let readError { warnings.append(readError) }
        return warnings
    }

    /// Calls `body` with each non-blank line's bytes and 1-based number; returns the read
    /// error (a truncated or corrupt compressed file) that ended the lines early, if any.
    @discardableResult
    public static func forEachLine(in source: ByteSource, _ body: ([UInt8], Int) throws -> Void) throws -> DataError? {
        let reader = ByteLineReader(source: source)
        while var line = reader.nextLine() {
            if line.last == 0x0D { line.removeLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            try body(line, reader.lineNumber)
        }
        guard let error = reader.error else { return nil }
        return error as? DataError ?? .io(path: source.path, operation: "read", errno: 0)
    }
}
