/// Errors of the evaluation module; each names the file, line or field involved.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// A dataset or task file that cannot be read at all.
    case unreadableFile(path: String, reason: String)
    /// A line (1-based; 0 when the file is one JSON document) that is not valid in its format.
    case malformedLine(path: String, line: Int, reason: String)
    /// A record without a field the task needs.
    case missingField(path: String, line: Int, field: String)
    /// A field whose value has the wrong type or an impossible value.
    case invalidField(path: String, line: Int, field: String, reason: String)
    /// A task file that asks for something the harness does not have.
    case invalidTask(path: String, field: String, reason: String)
    /// A model call that failed (the model's own error, as text).
    case modelFailure(reason: String)
    /// The code sandbox could not be set up (not a failing program: that is a result).
    case sandboxUnavailable(reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "\(path): \(reason)"
        case let .malformedLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .missingField(path, line, field): return "\(path):\(line): missing field '\(field)'"
        case let .invalidField(path, line, field, reason): return "\(path):\(line): field '\(field)': \(reason)"
        case let .invalidTask(path, field, reason): return "\(path): task field '\(field)': \(reason)"
        case let .modelFailure(reason): return "model: \(reason)"
        case let .sandboxUnavailable(reason): return "sandbox: \(reason)"
        }
    }
}
