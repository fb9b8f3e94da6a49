import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML input for `XMLParser(stream:)`: the bytes of `InputFile.open` (plain, gzip
/// decompressed in process, bzip2 through `bzip2 -dc`), so that XML dumps are read like every
/// other input — streamed, and counted by the progress bar.
enum XMLInput {
    struct Opened {
        let stream: ByteSourceInputStream
        let path: String

        /// The read error that ended the stream early (a truncated or corrupt compressed
        /// file), as a warning; nil when the stream ended cleanly.
        func finish() -> DataError? {
            stream.close()
            guard let error = stream.failure else { return nil }
            return error as? DataError ?? .io(path: path, operation: "read", errno: 0)
        }
    }

    static func open(_ path: String) throws -> Opened {
        Opened(stream: ByteSourceInputStream(source: try InputFile.open(path)), path: path)
    }
}

/// An `InputStream` over a `ByteSource`. `XMLParser(stream:)` only opens, reads until a read
/// returns 0 (or less) and closes; a read that throws ends the stream (-1) and keeps the error.
final class ByteSourceInputStream: InputStream {
    private let source: ByteSource
    private var ended = false
    private(set) var failure: Error?

    init(source: ByteSource) {
        self.source = source
        super.init(data: Data())
    }

    override func open() {}
    override func close() {}
    override var hasBytesAvailable: Bool { !ended }
    override var streamStatus: Stream.Status { ended ? .atEnd : .open }
    override var streamError: Error? { failure }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength length: Int) -> Int {
        guard !ended, length > 0 else { return 0 }
        do {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: length))
            if count == 0 { ended = true }
            return count
        } catch {
            failure = error
            ended = true
            return -1
        }
    }
}
