/// Errors of the tokenizer module: every case names the file or input involved.
public enum TokenizerError: Error, CustomStringConvertible {
    /// A `.model` file that could not be read or parsed.
    case invalidModelFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidModelFile(path, reason): return "\(path): invalid SentencePiece model: \(reason)"
        }
    }
}
