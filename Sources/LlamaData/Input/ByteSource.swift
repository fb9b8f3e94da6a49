import Foundation
import LlamaCore
#if canImport(Glibc)
import Glibc
#endif

/// A stream of bytes read in chunks: a file, a decompressor's output, or memory.
public protocol ByteSource: AnyObject {
    /// The file the bytes come from, for messages.
    var path: String { get }
    /// Reads up to `count` bytes into `buffer`; returns how many, 0 at the end. Throws for
    /// corrupt or truncated data after every good byte before it has been returned.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads everything that is left.
    public func readAll() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Fills `buffer` completely unless the stream ends first; returns the bytes read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { break }
            filled += count
        }
        return filled
    }
}

/// Bytes of a file, read with POSIX `read`.
public final class FileByteSource: ByteSource {
    public let path: String
    private let descriptor: Int32
    /// Bytes read so far (the offset of the next byte).
    public private(set) var offset = 0

    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw DataError.fileNotFound(path: path) }
            throw DataError.io(path: path, operation: "open", errno: errno)
        }
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, base, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw DataError.io(path: path, operation: "read", errno: errno)
            }
            offset += count
            InputProgress.add(count)
            return count
        }
    }
}

/// Bytes held in memory (an archive member, a test's input).
public final class MemoryByteSource: ByteSource {
    public let path: String
    private let bytes: [UInt8]
    private var position = 0

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - position)
        if count > 0 {
            bytes.withUnsafeBytes { source in
                if let from = source.baseAddress { buffer.baseAddress?.copyMemory(from: from + position, byteCount: count) }
            }
            position += count
        }
        return count
    }
}

/// The output of an external decompressor, read from a pipe. bzip2 files go through the
/// `bzip2 -dc` program (Debian package bzip2) rather than a linked libbz2: one process per
/// file, which also runs the decompression on the second core while this one parses.
public final class ProcessByteSource: ByteSource {
    public let path: String
    private let process: Process
    private let handle: FileHandle
    private let program: String
    private let fileSize: Int
    /// Input bytes counted for the progress bar so far, and output bytes since the last count.
    private var counted = 0
    private var outputSinceCount = 0

    public init(path: String, program: String, arguments: [String]) throws {
        self.path = path
        self.program = program
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        process = Process()
        let candidates = ["/usr/bin/" + program, "/bin/" + program, "/usr/local/bin/" + program]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DataError.decompressorFailed(path: path, program: program, status: 127)
        }
        process.executableURL = URL(fileURLWithPath: executable)
        // The file goes in on stdin, so that its read position (`/proc/PID/fdinfo/0`) tells
        // the progress bar how far the decompressor has come.
        process.arguments = arguments
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw DataError.io(path: path, operation: "open", errno: errno)
        }
        process.standardInput = input
        fileSize = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        handle = pipe.fileHandleForReading
        do { try process.run() } catch {
            throw DataError.decompressorFailed(path: path, program: program, status: -1)
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// Adds the decompressor's progress through the file since the last call to `InputProgress`.
    private func countInput() {
        outputSinceCount = 0
        guard let info = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/fdinfo/0", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("pos:") }),
              let position = Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces)) else { return }
        if position > counted {
            InputProgress.add(position - counted)
            counted = position
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(handle.fileDescriptor, base, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw DataError.io(path: path, operation: "read from \(program)", errno: errno)
            }
            if count == 0 {
                process.waitUntilExit()
                if process.terminationStatus != 0 {
                    throw DataError.decompressorFailed(path: path, program: program, status: process.terminationStatus)
                }
                InputProgress.add(max(0, fileSize - counted))
                counted = max(counted, fileSize)
            } else {
                outputSinceCount += count
                if outputSinceCount >= 1 << 20 { countInput() }
            }
            return count
        }
    }
}

/// Opening input files whatever their compression.
public enum InputFile {
    /// Opens `path`, decompressing gzip (zlib, in process) or bzip2 (the `bzip2` program)
    /// when the file starts with their magic bytes.
    public static func open(_ path: String) throws -> ByteSource {
        let file = try FileByteSource(path: path)
        var magic = [UInt8](repeating: 0, count: 3)
        let count = try magic.withUnsafeMutableBytes { try file.readFully(into: $0) }
        if count >= 2, magic[0] == 0x1F, magic[1] == 0x8B {
            return GzipByteSource(source: try FileByteSource(path: path))
        }
        if count == 3, magic == [0x42, 0x5A, 0x68] {  // "BZh"
            return try ProcessByteSource(path: path, program: "bzip2", arguments: ["-dc"])
        }
        return try FileByteSource(path: path)
    }
}
