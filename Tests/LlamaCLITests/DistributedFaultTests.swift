import Foundation
import XCTest

/// Faults under mpirun end the whole job promptly, naming the rank, never hanging.
final class DistributedFaultTests: MPITestCase {
    /// Rank 1 gets a missing data file (mpirun's `A : B` form starts different commands):
    /// it aborts the job through MPI_Abort with a message naming it, while rank 0 waits in
    /// a collective and is stopped by mpirun.
    func testFailingRankAbortsTheJobNamingIt() throws {
        _ = try mpirun()
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        let start = Date()
        let result = try runRanks(2, trainArguments(data: data, output: directory + "/run"),
                                  mpmd: trainArguments(data: directory + "/missing.bin", output: directory + "/run"), timeout: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("rank 1 of 2: error:"), result.errors)
        XCTAssertTrue(result.errors.contains("missing.bin"), result.errors)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60)
    }

    /// A rank killed with SIGKILL mid-run ends the job within a bounded time with
    /// mpirun's report naming the rank; no checkpoint is left half-written.
    func testKilledRankEndsTheJob() throws {
        let launcher = try mpirun()
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", "2", CLI.executable]
            + trainArguments(data: data, output: directory + "/run", steps: 100_000)
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(60)
        var victim: pid_t?
        while victim == nil && Date() < deadline && process.isRunning {
            usleep(100_000)
            let metrics = (try? String(contentsOfFile: directory + "/run/metrics.jsonl", encoding: .utf8)) ?? ""
            if metrics.contains("\"step\":4,") { victim = rankProcess(1, launchedBy: process.processIdentifier) }
        }
        let pid = try XCTUnwrap(victim, "rank 1 never reached step 4")
        kill(pid, SIGKILL)
        let killed = Date()
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        let report = errors.fileHandleForReading.readDataToEndOfFile()
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "the job outlived its killed rank by 30 s")
        process.waitUntilExit()
        print(String(format: "job ended %.1f s after rank 1 was killed", Date().timeIntervalSince(killed)))
        XCTAssertNotEqual(process.terminationStatus, 0)
        let text = String(decoding: report, as: UTF8.self)
        XCTAssertTrue(text.contains("rank 1"), text)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/run/checkpoints")) ?? []
        for name in names where name.hasPrefix("step-") {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/run/checkpoints/" + name + "/state.json"), name)
        }
    }

    /// A process that looks launched by mpirun but finds no libmpi stops with an error
    /// saying so (and how to fix it) instead of crashing; without those variables MPI is
    /// never looked for (every other CLI test).
    func testMissingMPILibraryIsAClearError() throws {
        let directory = try temporaryDirectory()
        let result = try CLI.run(trainArguments(data: try writeData(directory), output: directory + "/run"),
                                 environment: ["OMPI_COMM_WORLD_SIZE": "2", "LLAMA_MPI_LIBRARY": directory + "/libmpi.so.40"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("libmpi could not be loaded"), result.errors)
        XCTAssertTrue(result.errors.contains(directory + "/libmpi.so.40"), result.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/run/metrics.jsonl"))
    }

    /// The pid of the process with OMPI_COMM_WORLD_RANK=`rank` among `parent`'s children.
    func rankProcess(_ rank: Int, launchedBy parent: pid_t) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}
