import CZlib
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
    /// Bytes written so far (before compression).
    public private(set) var byteCount = 0
    /// The deflate stream when the file is gzip-compressed.
    private var deflater: UnsafeMutablePointer<z_stream>?

    /// A writer for `path`; with `gzip` the file is one gzip member (zlib deflate, level 6).
    public init(path: String, gzip: Bool = false) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        temporaryPath = (directory.isEmpty ? "." : directory) + "/." + (path as NSString).lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw DataError.io(path: temporaryPath, operation: "create", errno: errno) }
        buffer.reserveCapacity(1 << 20)
        if gzip {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 16: a 32 KiB window with a gzip header (zlib.h, deflateInit2).
            guard deflateInit2_(stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                throw DataError.io(path: temporaryPath, operation: "deflateInit2", errno: 0)
            }
            deflater = stream
        }
    }

    deinit {
        if let deflater {
            deflateEnd(deflater)
            deflater.deallocate()
        }
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

    private func flush(finish: Bool = false) throws {
        guard let deflater else { return try writeBuffer() }
        var input = buffer
        buffer.removeAll(keepingCapacity: true)
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var status = Z_OK
        try input.withUnsafeMutableBufferPointer { inputBytes in
            deflater.pointee.next_in = inputBytes.baseAddress
            deflater.pointee.avail_in = uInt(inputBytes.count)
            repeat {
                let produced = output.withUnsafeMutableBufferPointer { outputBytes -> Int in
                    deflater.pointee.next_out = outputBytes.baseAddress
                    deflater.pointee.avail_out = uInt(outputBytes.count)
                    status = deflate(deflater, finish ? Z_FINISH : Z_NO_FLUSH)
                    return outputBytes.count - Int(deflater.pointee.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw DataError.io(path: temporaryPath, operation: "deflate", errno: 0)
                }
                buffer.append(contentsOf: output[0..<produced])
                try writeBuffer()
            } while deflater.pointee.avail_in > 0 || (finish && status != Z_STREAM_END)
        }
    }

    private func writeBuffer() throws {
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
        try flush(finish: true)
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
