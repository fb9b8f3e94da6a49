/// Errors of the tokenizer module: every case names the file, option or input involved.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A `.model` file that could not be read or parsed.
    case invalidModelFile(path: String, reason: String)
    /// A well-formed model whose type (word, char) this module does not encode with.
    case unsupportedModelType(path: String, modelType: String)
    /// A file that could not be read.
    case unreadableFile(path: String, reason: String)
    /// A file that could not be written.
    case unwritableFile(path: String, reason: String)
    /// A training option with a value SentencePiece would also refuse.
    case invalidTrainingOption(name: String, reason: String)
    /// Training input without a single usable sentence.
    case emptyTrainingInput(path: String)
    /// A vocabulary size the training corpus cannot reach.
    case vocabularySizeUnreachable(path: String, requested: Int, reason: String)
    /// An id outside the vocabulary.
    case idOutOfRange(id: Int32, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .invalidModelFile(path, reason):
            return "\(path): invalid SentencePiece model: \(reason)"
        case let .unsupportedModelType(path, modelType):
            return "\(path): model_type \(modelType) is not supported (BPE and Unigram models are); "
                + "retrain with --model_type=bpe"
        case let .unreadableFile(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .unwritableFile(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .invalidTrainingOption(name, reason):
            return "--\(name): \(reason)"
        case let .emptyTrainingInput(path):
            return "\(path): no training sentences (the input is empty or every line was skipped)"
        case let .vocabularySizeUnreachable(path, requested, reason):
            return "\(path): vocab_size \(requested) cannot be reached: \(reason)"
        case let .idOutOfRange(id, vocabularySize):
            return "id \(id) is outside the vocabulary (0..<\(vocabularySize))"
        }
    }
}
