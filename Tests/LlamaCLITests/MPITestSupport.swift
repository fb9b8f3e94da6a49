import Foundation
import LlamaCore
import XCTest

/// Helpers of the tests that run `llama train` under mpirun: data, arguments, launching
/// ranks with a time limit, reading metrics and checkpoints.
class MPITestCase: XCTestCase {
    /// mpirun, or a skip when OpenMPI is not installed.
    func mpirun() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        let folders = path.split(separator: ":").map(String.init) + ["/usr/bin"]
        if let folder = folders.first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/mpirun") }) {
            return folder + "/mpirun"
        }
        throw XCTSkip("mpirun is not installed (Debian: openmpi-bin)")
    }

    func temporaryDirectory() throws -> String {
        let path = try CLI.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The first 40,000 bytes of a corpus text as uint16 byte-tokenizer ids (bytes at 3…258).
    func writeData(_ directory: String) throws -> String {
        let text = try Data(contentsOf: URL(fileURLWithPath: CLI.repository + "/Sources/LlamaTraining/Resources/corpora/botchan.txt"))
        let ids = text.prefix(40_000).map { UInt16($0) + 3 }
        let path = directory + "/botchan.bin"
        try ids.withUnsafeBytes { try AtomicFile.write(path: path, chunks: [$0]) }
        return path
    }

    /// A tiny model, 4 micro-batches of 2 × 16 tokens per step (split 2 + 2 over two ranks).
    func trainArguments(data: String, output: String, steps: Int = 6) -> [String] {
        ["train", "--data", data, "--preset", "tiny", "--context", "16", "--batch-size", "2", "--batch-tokens", "128",
         "--steps", "\(steps)", "--warmup", "2", "--lr", "0.003", "--eval-interval", "0", "--checkpoint-interval", "3",
         "--log-interval", "1", "--output", output]
    }

    /// Runs `llama arguments…` on `ranks` MPI ranks; gives up (killing mpirun) after `timeout` seconds.
    func runRanks(_ ranks: Int, _ arguments: [String], mpmd: [String]? = nil, timeout: Double = 120) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try mpirun())
        var command = ["--oversubscribe", "--allow-run-as-root", "-np", "\(mpmd == nil ? ranks : 1)", CLI.executable] + arguments
        if let mpmd { command += [":", "-np", "\(ranks - 1)", CLI.executable] + mpmd }
        process.arguments = command
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("mpirun did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        return CLI.Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                          errors: String(decoding: errorData, as: UTF8.self))
    }

    /// (step, loss, grad norm) of every progress record in `output`/metrics.jsonl.
    func curve(_ output: String) throws -> [(step: Int, loss: Double, norm: Double)] {
        let text = try String(contentsOfFile: output + "/metrics.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int, let loss = object["loss"] as? Double, let norm = object["grad_norm"] as? Double
            else { return nil }
            return (step, loss, norm)
        }
    }

    /// Every tensor of a checkpoint file as floats, by name.
    func tensors(_ path: String) throws -> [String: [Float]] {
        let file = try SafetensorsFile(path: path)
        var result: [String: [Float]] = [:]
        for name in file.names { result[name] = try file.tensor(name).toFloatArray() }
        return result
    }

    /// The largest |a − b| over all tensors (which must have the same names and sizes).
    func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        var largest: Float = 0
        for (name, values) in a {
            guard let other = b[name], other.count == values.count else {
                XCTFail("\(name) differs in size")
                continue
            }
            for i in values.indices { largest = max(largest, abs(values[i] - other[i])) }
        }
        return largest
    }

    func checkSucceeded(_ result: CLI.Result, _ what: String) {
        XCTAssertEqual(result.status, 0, "\(what) failed:\n\(result.output)\n\(result.errors)")
    }

}
