import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs untrusted Python programs (model-written HumanEval/MBPP solutions) one per
/// process, under limits; see docs/evaluation.md for what each guard enforces.
///
/// - a private directory (mode 0700, removed afterwards) as the working directory;
/// - wall-clock limit (the process group is killed) and RLIMIT_CPU;
/// - RLIMIT_AS (memory), RLIMIT_FSIZE (file size), RLIMIT_NPROC (processes), no core dumps;
/// - as root: the program runs as user `nobody` (so RLIMIT_NPROC and file permissions
///   apply) in a new network namespace (`unshare -n`: no interface but a down loopback);
/// - always: a CPython audit hook (PEP 578) that the program cannot remove refuses
///   sockets, process creation (fork, exec, subprocess, os.system), ctypes, and opening
///   files for writing outside the private directory.
/// Whatever the program does — crash, hang, escape attempt — the outcome is a result,
/// never an error of the run.
public struct Sandbox: Sendable {
    /// The interpreter: the system's, which user `nobody` can read (a pyenv under /root is not).
    public var python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env python3"
    /// Wall-clock seconds before the process group is killed.
    public var timeLimit: Double = 10
    /// Address-space limit in bytes.
    public var memoryLimit: Int = 1 << 30
    /// Largest file the program may write, in bytes.
    public var fileSizeLimit: Int = 16 << 20
    /// Process limit of the sandbox user (effective when the sandbox drops to `nobody`).
    public var processLimit: Int = 64

    public init() {}

    /// What happened to one program.
    public enum Outcome: Equatable, Sendable {
        case passed
        case failed(exitStatus: Int32)
        case killedBySignal(Int32)
        case timedOut
        case couldNotStart(String)

        public var passed: Bool { self == .passed }
    }

    /// Whether the process runs as root (then the user switch and `unshare -n` are used).
    public static var isRoot: Bool { geteuid() == 0 }

    /// Where each run's folder goes: the temporary directory, except as root when a folder
    /// above it is not searchable by others (a private TMPDIR, as `mktemp -d` makes it): the
    /// program runs as nobody and could not reach its own folder there, so /tmp is used.
    /// Decided once per process rather than by a walk of `stat` calls for every program.
    static let parentDirectory: String = {
        let temporary = NSTemporaryDirectory()
        guard isRoot else { return temporary }
        var path = URL(fileURLWithPath: temporary).standardizedFileURL.path
        while path != "/" && !path.isEmpty {
            var status = stat()
            if stat(path, &status) != 0 || status.st_mode & S_IXOTH == 0 { return "/tmp/" }
            path = (path as NSString).deletingLastPathComponent
        }
        return temporary.hasSuffix("/") ? temporary : temporary + "/"
    }()

    /// Whether `unshare -n` works here (root, and the tool present).
    public static let hasNetworkNamespace: Bool = {
        guard isRoot, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["-n", "true"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do { try probe.run() } catch { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// Runs `program` (Python source) and reports how it ended.
    public func run(_ program: String) -> Outcome {
        let directory = Self.parentDirectory + "llama-sandbox-" + UUID().uuidString
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            try program.write(toFile: directory + "/program.py", atomically: false, encoding: .utf8)
            try Self.launcher.write(toFile: directory + "/launcher.py", atomically: false, encoding: .utf8)
            if Self.isRoot {
                for path in [directory, directory + "/program.py", directory + "/launcher.py"] { chown(path, 65534, 65534) }
            }
        } catch {
            return .couldNotStart("cannot prepare \(directory): \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        var arguments = python.split(separator: " ").map(String.init) + ["-I", "-S", directory + "/launcher.py", directory,
                         String(Int(timeLimit.rounded(.up)) + 1), String(memoryLimit), String(fileSizeLimit), String(processLimit)]
        if Self.hasNetworkNamespace { arguments = ["/usr/bin/unshare", "-n"] + arguments }
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": directory, "TMPDIR": directory, "PYTHONDONTWRITEBYTECODE": "1"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .couldNotStart("\(error)") }
        let deadline = Date().addingTimeInterval(timeLimit)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            // The launcher made itself a process-group leader: kill the whole group.
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return .timedOut
        }
        process.waitUntilExit()
        kill(-process.processIdentifier, SIGKILL)  // Leftover children, if any escaped the hook.
        if process.terminationReason == .uncaughtSignal { return .killedBySignal(process.terminationStatus) }
        return process.terminationStatus == 0 ? .passed : .failed(exitStatus: process.terminationStatus)
    }

    /// Runs programs on `workers` processes at a time; results in input order.
    public func run(_ programs: [String], workers: Int = 2) -> [Outcome] {
        let outcomes = OutcomeList(count: programs.count)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, workers)
        for (index, program) in programs.enumerated() {
            queue.addOperation { outcomes.set(index, self.run(program)) }
        }
        queue.waitUntilAllOperationsAreFinished()
        return outcomes.values
    }

    /// Outcomes filled in by concurrent workers, under a lock.
    private final class OutcomeList: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [Outcome]
        init(count: Int) { storage = [Outcome](repeating: .timedOut, count: count) }
        func set(_ index: Int, _ outcome: Outcome) { lock.lock(); storage[index] = outcome; lock.unlock() }
        var values: [Outcome] { lock.lock(); defer { lock.unlock() }; return storage }
    }

    /// The Python launcher: limits, user switch, audit hook, then the program.
    static let launcher = #"""
import os, sys, resource
directory, cpu, memory, fsize, nproc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
try:
    os.setsid()
except OSError:
    pass  # Already a session leader (Foundation's Process may start it as one).
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
os.chdir(directory)
source = open(os.path.join(directory, "program.py")).read()
root = os.path.realpath(directory)
blocked = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty",
           "ctypes.", "os.kill", "os.chroot", "os.setuid", "pty.", "sys.addaudithook", "os.putenv")
def guard(event, arguments):
    if event.startswith(blocked) or event in ("os.fork", "os.spawn", "os.startfile"):
        raise PermissionError("sandbox: " + event + " is not allowed")
    if event == "open":
        path, mode, flags = arguments
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND))
        if writing and isinstance(path, (str, bytes)):
            target = os.path.realpath(os.fsdecode(path))
            if target != root and not target.startswith(root + os.sep):
                raise PermissionError("sandbox: writing outside the sandbox: " + target)
    if event in ("os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown", "shutil.rmtree", "os.truncate", "os.utime"):
        for path in arguments:
            if isinstance(path, (str, bytes)):
                target = os.path.realpath(os.fsdecode(path))
                if target != root and not target.startswith(root + os.sep):
                    raise PermissionError("sandbox: " + event + " outside the sandbox: " + target)
sys.addaudithook(guard)
exec(compile(source, "program.py", "exec"), {"__name__": "__main__"})
"""#
}
