import Foundation
import LlamaTokenizer

/// Command-line flags in the style of SentencePiece's tools (absl flags): `--name=value`,
/// `--name value`, or a bare `--name` for `true`; one or two leading dashes.
struct SentencePieceFlags {
    /// Flag values by name, in the order given (later values win).
    private(set) var values: [String: String] = [:]
    /// Names that were read by the command, to report unknown flags.
    private var known: Set<String> = []

    /// Parses `arguments`; `booleanNames` may appear without a value.
    init(_ arguments: [String], booleanNames: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("-") else { throw TokenizerCLIError.usage("unexpected argument \(argument)") }
            let body = argument.drop { $0 == "-" }
            if let equals = body.firstIndex(of: "=") {
                values[String(body[..<equals])] = String(body[body.index(after: equals)...])
            } else if booleanNames.contains(String(body)) {
                if index + 1 < arguments.count, ["true", "false", "1", "0"].contains(arguments[index + 1].lowercased()) {
                    values[String(body)] = arguments[index + 1]
                    index += 1
                } else {
                    values[String(body)] = "true"
                }
            } else {
                guard index + 1 < arguments.count else { throw TokenizerCLIError.usage("--\(body) needs a value") }
                values[String(body)] = arguments[index + 1]
                index += 1
            }
            index += 1
        }
    }

    mutating func string(_ name: String) -> String? {
        known.insert(name)
        return values[name]
    }

    mutating func list(_ name: String) -> [String]? {
        string(name).map { $0.split(separator: ",").map(String.init) }
    }

    mutating func integer(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else { throw TokenizerCLIError.usage("--\(name): \(text) is not an integer") }
        return value
    }

    mutating func float(_ name: String) throws -> Float? {
        guard let text = string(name) else { return nil }
        guard let value = Float(text) else { throw TokenizerCLIError.usage("--\(name): \(text) is not a number") }
        return value
    }

    mutating func boolean(_ name: String) throws -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw TokenizerCLIError.usage("--\(name): \(text) is not true or false")
        }
    }

    /// Fails on flags no command read.
    func checkAllUsed() throws {
        let unknown = Set(values.keys).subtracting(known).sorted()
        if !unknown.isEmpty {
            throw TokenizerCLIError.usage("unknown flag(s): " + unknown.map { "--\($0)" }.joined(separator: ", "))
        }
    }
}

/// Errors of the tokenizer commands that are not library errors.
enum TokenizerCLIError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case let .usage(message): return message
        }
    }
}

/// Line input and output for the encode/decode commands.
enum TokenizerIO {
    /// All lines of the named files, or of standard input when `paths` is empty (split at `\n`).
    static func readLines(_ paths: [String]) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        if paths.isEmpty {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            lines = splitLines(Array(data))
        } else {
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw TokenizerError.unreadableFile(path: path, reason: "no such file or not readable")
                }
                lines.append(contentsOf: splitLines(Array(data)))
            }
        }
        return lines
    }

    private static func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Calls `body` with blocks of up to `blockSize` lines of the named files, or of
    /// standard input when `paths` is empty.
    static func forEachBlock(of paths: [String], blockSize: Int, _ body: ([[UInt8]]) throws -> Void) throws {
        var block: [[UInt8]] = []
        block.reserveCapacity(blockSize)
        let collect: (ArraySlice<UInt8>) throws -> Bool = { line in
            block.append(Array(line))
            if block.count == blockSize {
                try body(block)
                block.removeAll(keepingCapacity: true)
            }
            return true
        }
        if paths.isEmpty {
            try LineReader.forEachLine(descriptor: 0, name: "<stdin>", collect)
        } else {
            for path in paths { try LineReader.forEachLine(of: URL(fileURLWithPath: path), collect) }
        }
        if !block.isEmpty { try body(block) }
    }

    /// Writes output text to standard output as it comes, or to a file that is replaced
    /// atomically at `finish` (a temporary file next to it, fsync, rename).
    final class LineWriter {
        private let path: String?
        private let temporaryPath: String?
        private let handle: FileHandle

        init(path: String?) throws {
            self.path = path
            if let path {
                let url = URL(fileURLWithPath: path)
                let temporary = url.deletingLastPathComponent()
                    .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
                guard FileManager.default.createFile(atPath: temporary, contents: nil),
                      let handle = FileHandle(forWritingAtPath: temporary)
                else {
                    throw TokenizerError.unwritableFile(path: path, reason: "cannot create \(temporary)")
                }
                self.temporaryPath = temporary
                self.handle = handle
            } else {
                temporaryPath = nil
                handle = FileHandle.standardOutput
            }
        }

        func write(_ bytes: [UInt8]) {
            handle.write(Data(bytes))
        }

        func finish() throws {
            guard let path, let temporaryPath else { return }
            do {
                try handle.synchronize()
                try handle.close()
            } catch {
                throw TokenizerError.unwritableFile(path: path, reason: "\(error)")
            }
            if rename(temporaryPath, path) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporaryPath)
                throw TokenizerError.unwritableFile(path: path, reason: reason)
            }
        }
    }

    /// Writes `text` to the file at `path` atomically, or to standard output.
    static func write(_ text: String, to path: String?) throws {
        if let path {
            try AtomicFileWriter.write(Data(text.utf8), to: URL(fileURLWithPath: path))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// Appends the decimal digits of `value`.
    static func appendDecimal(_ value: Int32, to bytes: inout [UInt8]) {
        var magnitude = Int64(value)
        if magnitude < 0 {
            bytes.append(0x2D)
            magnitude = -magnitude
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(0x30 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
