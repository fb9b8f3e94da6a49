import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a crash never leaves a half-written one: the bytes go to a
/// temporary file in the same directory, are flushed to disk with fsync, and the file is
/// renamed over the destination (rename is atomic on POSIX file systems); the directory
/// is fsynced too so the rename itself survives a power loss.
public enum AtomicFile {
    /// Writes `chunks` one after another to `path`, atomically.
    public static func write(path: String, chunks: [UnsafeRawBufferPointer]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/." + (path as NSString).lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw CoreError.io(path: temporary, operation: "create", errno: errno) }
        var succeeded = false
        defer {
            if !succeeded { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            for chunk in chunks {
                guard let base = chunk.baseAddress else { continue }
                var offset = 0
                while offset < chunk.count {
                    let written = Glibc.write(descriptor, base + offset, chunk.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw CoreError.io(path: temporary, operation: "write", errno: errno)
                    }
                    offset += written
                }
            }
            guard fsync(descriptor) == 0 else { throw CoreError.io(path: temporary, operation: "fsync", errno: errno) }
        }
        guard rename(temporary, path) == 0 else { throw CoreError.io(path: path, operation: "rename", errno: errno) }
        succeeded = true
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Writes `data` to `path`, atomically.
    public static func write(path: String, data: Data) throws {
        try data.withUnsafeBytes { buffer in try write(path: path, chunks: [buffer]) }
    }

    /// Writes UTF-8 `text` to `path`, atomically.
    public static func write(path: String, text: String) throws {
        try write(path: path, data: Data(text.utf8))
    }
}
