import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Bytes read from input files by this process, counted where they are read (the data
/// pipeline's file and decompressor sources), so that a progress bar can follow any stage
/// without the stage reporting to it.
public enum InputProgress {
    private static let bytes = Atomic<Int>(0)

    /// Counts `count` more bytes read from an input file.
    @inline(__always)
    public static func add(_ count: Int) { bytes.add(count, ordering: .relaxed) }

    /// Bytes read so far.
    public static var bytesRead: Int { bytes.load(ordering: .relaxed) }
}

/// A progress bar on stderr for a stage that reads a known number of input bytes: on a
/// terminal it redraws one line five times a second
/// (`c4 [2/5] ██████▌      54%  102.3/190.0 MB  7.1 MB/s  0:12 left  2,345 documents`);
/// otherwise (a log file, a Slurm output) it writes the same text as a line every
/// `LLAMA_PROGRESS_SECONDS` seconds (default 30). Progress is the bytes `InputProgress`
/// counted since `start()`, so compressed inputs are measured in compressed bytes, as their
/// sizes on disk are.
public final class ProgressBar: @unchecked Sendable {
    /// What the bar shows before the bar itself (stage, shard).
    public var label: String {
        get { lock.withLock { _label } }
        set { lock.withLock { _label = newValue } }
    }

    private let lock = NSLock()
    private var _label: String
    private var totalBytes: Int
    private var items = 0
    private let itemName: String
    private let interactive: Bool
    private let interval: Double
    private var startBytes = 0
    private var startTime: UInt64 = 0
    private var timer: DispatchSourceTimer?
    private var drawn = false
    private var linesWritten = 0

    /// - Parameters:
    ///   - totalBytes: the input bytes the stage will read (file sizes on disk).
    ///   - itemName: what `set(items:)` counts, shown after the rate ("documents").
    ///   - interactive: redraw in place (default: stderr is a terminal).
    public init(label: String, totalBytes: Int, itemName: String = "documents", interactive: Bool? = nil) {
        _label = label
        self.totalBytes = max(totalBytes, 0)
        self.itemName = itemName
        self.interactive = interactive ?? (isatty(STDERR_FILENO) != 0)
        let seconds = Double(ProcessInfo.processInfo.environment["LLAMA_PROGRESS_SECONDS"] ?? "") ?? 30
        interval = self.interactive ? 0.2 : max(seconds, 0.05)
    }

    /// The sizes on disk of `paths` (files, or directories summed over their files).
    public static func size(of paths: [String]) -> Int {
        paths.reduce(0) { total, path in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return total }
            guard isDirectory.boolValue else { return total + fileSize(path) }
            let names = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
            return total + names.reduce(0) { $0 + fileSize(path + "/" + $1) }
        }
    }

    private static func fileSize(_ path: String) -> Int {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return 0 }
        return Int(status.st_size)
    }

    /// Starts counting input bytes from now and drawing.
    public func start() {
        lock.withLock {
            startBytes = InputProgress.bytesRead
            startTime = DispatchTime.now().uptimeNanoseconds
        }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.tick() }
        lock.withLock { self.timer = timer }
        timer.resume()
    }

    /// Sets the count shown after the rate (documents written so far, say).
    public func set(items: Int) { lock.withLock { self.items = items } }

    /// Adds to the bytes the stage will read (a pass decided on the way).
    public func expect(bytes: Int) { lock.withLock { totalBytes += bytes } }

    /// Writes `message` as a line of its own, keeping the bar below it on a terminal.
    public func log(_ message: String) {
        lock.withLock {
            var text = drawn ? "\r\u{1B}[K" : ""
            text += message + "\n"
            if drawn { text += Self.fitted(render()) }
            write(text)
        }
    }

    /// Draws the final state and ends the line (on a terminal), and stops the timer.
    public func finish() {
        lock.withLock {
            timer?.cancel()
            timer = nil
            if interactive {
                write("\r\u{1B}[K" + Self.fitted(render()) + "\n")
            } else if linesWritten > 0 {
                write(render() + "\n")
            }
            drawn = false
            linesWritten = 0
        }
    }

    deinit { timer?.cancel() }

    private func tick() {
        lock.withLock {
            guard timer != nil else { return }
            if interactive {
                write("\r\u{1B}[K" + Self.fitted(render()))
                drawn = true
            } else {
                write(render() + "\n")
                linesWritten += 1
            }
        }
    }

    /// The bar's text for the current counts (the lock held).
    private func render() -> String {
        let done = max(0, InputProgress.bytesRead - startBytes)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9
        let rate = Double(done) / max(seconds, 1e-9)
        let fraction = totalBytes > 0 ? min(1, Double(done) / Double(totalBytes)) : 0
        let megabytes = { (bytes: Int) in String(format: "%.1f", Double(bytes) / 1e6) }
        var parts = [_label, Self.bar(fraction: fraction, width: 24), String(format: "%3.0f%%", fraction * 100),
                     "\(megabytes(done))/\(megabytes(totalBytes)) MB", String(format: "%.1f MB/s", rate / 1e6)]
        if rate > 0, done < totalBytes { parts.append(Self.duration(Double(totalBytes - done) / rate) + " left") }
        if items > 0 { parts.append("\(items) \(itemName)") }
        return parts.joined(separator: "  ")
    }

    /// `line` cut to the terminal's width, so that a redraw overwrites one line.
    static func fitted(_ line: String) -> String {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return line }
        let width = Int(size.ws_col) - 1
        return line.count > width ? String(line.prefix(width)) : line
    }

    /// A bar of `width` cells filled to `fraction`, in eighths of a cell.
    static func bar(fraction: Double, width: Int) -> String {
        let eighths = Int((fraction * Double(width * 8)).rounded(.down))
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let full = min(eighths / 8, width)
        var text = String(repeating: "█", count: full)
        if full < width {
            text += partial[eighths % 8]
            text += String(repeating: " ", count: width - full - (eighths % 8 == 0 ? 0 : 1))
        }
        return "|" + text + "|"
    }

    /// `h:mm:ss` or `m:ss`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(min(seconds, 359_999).rounded())
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
