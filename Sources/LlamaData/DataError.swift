/// Errors and warnings of the data module. Every case names the file and the byte offset,
/// line or record involved, so that a message alone tells a user what to look at.
///
/// Cleaners skip bad input and go on: what they skip is reported as a warning holding one of
/// these values (see `ShardReport.warnings`); only failures that stop a whole shard throw.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file that does not exist or cannot be opened.
    case fileNotFound(path: String)
    /// An operating-system call on a file failed.
    case io(path: String, operation: String, errno: Int32)
    /// XML that the parser rejected at `line`, `column`; what came before it was kept.
    case malformedXML(path: String, line: Int, column: Int, reason: String)
    /// A JSONL record on `line` that is not a JSON object with the fields needed.
    case invalidJSON(path: String, line: Int, reason: String)
    /// Bytes at `offset` (or in `record`) that are not valid UTF-8.
    case invalidUTF8(path: String, record: String)
    /// A gzip stream that is corrupt or ends early at compressed byte `offset`.
    case invalidGzip(path: String, offset: Int, reason: String)
    /// A tar archive whose header at `offset` is invalid or whose data ends early.
    case invalidTar(path: String, offset: Int, reason: String)
    /// A record that holds binary data (NUL bytes) where text was expected.
    case binaryContent(path: String, record: String)
    /// A WARC/WET record whose header at `offset` cannot be read.
    case invalidWARC(path: String, offset: Int, reason: String)
    /// An external decompressor (such as `bzip2`) that failed.
    case decompressorFailed(path: String, program: String, status: Int32)
    /// An ARPA n-gram model file whose header or n-gram entry on `line` is malformed.
    case invalidARPA(path: String, line: Int, reason: String)
    /// A corpus an n-gram model cannot be estimated from (`line` 0 when no single line is at fault).
    case invalidCorpus(path: String, line: Int, reason: String)
    /// A fastText `.bin` / `.ftz` model that is truncated or inconsistent at byte `offset`.
    case invalidFastTextModel(path: String, offset: Int, reason: String)
    /// Training data or options a fastText model cannot be trained from.
    case invalidFastTextTraining(path: String, reason: String)
    /// A worker share (`--shard-index`/`--shard-count`, Slurm or MPI variables) that makes no sense.
    case invalidShare(reason: String)
    /// A file written by this module (hash set, cutoffs, manifest) that is malformed.
    case invalidFile(path: String, reason: String)
    /// A configuration (mixture, pipeline options) that cannot be run.
    case invalidConfiguration(path: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path): return "\(path): no such file"
        case let .io(path, operation, code): return "\(path): \(operation) failed (errno \(code))"
        case let .malformedXML(path, line, column, reason):
            return "\(path):\(line):\(column): malformed XML: \(reason)"
        case let .invalidJSON(path, line, reason): return "\(path):\(line): invalid JSONL record: \(reason)"
        case let .invalidUTF8(path, record): return "\(path): \(record): invalid UTF-8"
        case let .invalidGzip(path, offset, reason): return "\(path): byte \(offset): invalid gzip data: \(reason)"
        case let .invalidTar(path, offset, reason): return "\(path): byte \(offset): invalid tar archive: \(reason)"
        case let .binaryContent(path, record): return "\(path): \(record): binary content skipped"
        case let .invalidWARC(path, offset, reason): return "\(path): byte \(offset): invalid WARC record: \(reason)"
        case let .decompressorFailed(path, program, status):
            return "\(path): \(program) failed with status \(status)"
        case let .invalidARPA(path, line, reason): return "\(path):\(line): invalid ARPA file: \(reason)"
        case let .invalidCorpus(path, line, reason): return "\(path):\(line): cannot estimate n-gram model: \(reason)"
        case let .invalidFastTextModel(path, offset, reason):
            return "\(path): byte \(offset): invalid fastText model: \(reason)"
        case let .invalidFastTextTraining(path, reason): return "\(path): cannot train fastText model: \(reason)"
        case let .invalidShare(reason): return "invalid worker share: \(reason)"
        case let .invalidFile(path, reason): return "\(path): \(reason)"
        case let .invalidConfiguration(path, reason): return "\(path): \(reason)"
        }
    }
}
