#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file.
///
/// The pages are shared with the page cache (MAP_PRIVATE, PROT_READ|PROT_WRITE so that
/// tensors can expose mutable pointers; a write would copy the page, never touch the
/// file). A checkpoint mapped this way occupies RAM once, however many tensors view it.
public final class MappedFile: @unchecked Sendable {
    /// The path the mapping was made from.
    public let path: String
    /// First byte of the mapping.
    public let bytes: UnsafeMutableRawPointer
    /// Size of the file in bytes.
    public let size: Int

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw CoreError.fileNotFound(path: path) }
            throw CoreError.io(path: path, operation: "open", errno: errno)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw CoreError.io(path: path, operation: "fstat", errno: errno) }
        size = Int(status.st_size)
        if size == 0 {
            bytes = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
            return
        }
        guard let mapping = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0),
              mapping != MAP_FAILED else {
            throw CoreError.io(path: path, operation: "mmap", errno: errno)
        }
        bytes = mapping
    }

    deinit {
        if size == 0 { bytes.deallocate() } else { munmap(bytes, size) }
    }
}
