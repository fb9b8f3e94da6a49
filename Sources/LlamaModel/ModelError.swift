/// Errors of the model module; each names the file and the field or tensor involved.
public enum ModelError: Error, CustomStringConvertible {
    /// A configuration value that no LLaMA model can have.
    case invalidConfiguration(path: String, field: String, reason: String)
    /// A checkpoint folder that lacks a file it needs.
    case missingFile(path: String, reason: String)
    /// A tensor in a checkpoint that disagrees with the configuration.
    case invalidTensor(path: String, name: String, reason: String)
    /// A model that would not fit in this machine's memory.
    case doesNotFit(path: String, requiredBytes: Int, availableBytes: Int)

    /// A token id outside the vocabulary, or more tokens than the context holds.
    case invalidInput(reason: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(path, field, reason): return "\(path): config field '\(field)': \(reason)"
        case let .missingFile(path, reason): return "\(path): \(reason)"
        case let .invalidTensor(path, name, reason): return "\(path): tensor '\(name)': \(reason)"
        case let .invalidInput(reason): return reason
        case let .doesNotFit(path, required, available):
            return "\(path): needs about \(required / (1 << 20)) MiB but only \(available / (1 << 20)) MiB of memory is available"
        }
    }
}
