/// Errors of the core module. Every case names the file and the tensor, field or offset
/// involved, so that a message alone tells a user what to fix.
public enum CoreError: Error, CustomStringConvertible, Equatable {
    /// A file that does not exist or cannot be opened.
    case fileNotFound(path: String)
    /// An operating-system call on a file failed.
    case io(path: String, operation: String, errno: Int32)
    /// A safetensors file whose header or layout is invalid.
    case invalidSafetensors(path: String, reason: String)
    /// A tensor that a reader expected but the file does not hold.
    case missingTensor(path: String, name: String)
    /// A tensor whose shape differs from the one the configuration implies.
    case shapeMismatch(path: String, name: String, expected: [Int], found: [Int])
    /// A tensor whose element type cannot be used where it is needed.
    case unsupportedDType(path: String, name: String, dtype: String)
    /// A NumPy `.npy` file that cannot be read.
    case invalidNpy(path: String, reason: String)

    /// A GGUF file whose header, metadata or tensor table is invalid at `offset`.
    case invalidGGUF(path: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path): return "\(path): no such file"
        case let .io(path, operation, code): return "\(path): \(operation) failed (errno \(code))"
        case let .invalidSafetensors(path, reason): return "\(path): invalid safetensors file: \(reason)"
        case let .missingTensor(path, name): return "\(path): tensor '\(name)' is missing"
        case let .shapeMismatch(path, name, expected, found):
            return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unsupportedDType(path, name, dtype):
            return "\(path): tensor '\(name)' has unsupported dtype \(dtype)"
        case let .invalidNpy(path, reason): return "\(path): invalid .npy file: \(reason)"
        case let .invalidGGUF(path, offset, reason): return "\(path): invalid GGUF file at byte \(offset): \(reason)"
        }
    }
}
