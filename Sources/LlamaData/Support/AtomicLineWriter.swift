import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a large output file line by line so that it appears complete or not at all: the
/// lines go to a temporary file in the same directory, which `commit()` fsyncs and renames
/// over the destination (the same protocol as `LlamaCore.AtomicFile`, streamed). A writer
/// dropped without `commit()` removes its temporary file.
public final class AtomicLineWriter {
    /// The destination.
    public let path: String
    private let temporaryPath: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var committed = false
    /// Bytes written so far.
    public private(set) var byteCount = 0

    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        temporaryPath = (directory.isEmpty ? "." : directory) + "/." + (path as NSString).lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw DataError.io(path: temporaryPath, operation: "create", errno: errno) }
        buffer.reserveCapacity(1 << 20)
    }

    deinit {
        if !committed {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends `line` and a newline.
    public func write(line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        byteCount += line.utf8.count + 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { bytes -> Int in
                guard let base = bytes.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw DataError.io(path: temporaryPath, operation: "write", errno: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and renames the file into place.
    public func commit() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw DataError.io(path: temporaryPath, operation: "fsync", errno: errno) }
        close(descriptor)
        committed = true
        guard rename(temporaryPath, path) == 0 else {
            unlink(temporaryPath)
            throw DataError.io(path: path, operation: "rename", errno: errno)
        }
        let directory = (path as NSString).deletingLastPathComponent
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
