import Foundation
import LlamaData
import XCTest

/// `llama data …` end to end: the built executable on the fixtures, run twice to check that
/// finished shards are skipped and their counts restored.
final class DataCommandTests: XCTestCase {
    /// The `llama` executable beside the test bundle (or `LLAMA_BIN`).
    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["LLAMA_BIN"] { return path }
        return URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("llama").path
    }

    private func llama(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw XCTSkip("\(Self.executable) is not built: run swift build first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") && !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMI_") }
                .merging(environment) { $1 }
        }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func testGitHubRunIsResumableAndPrintsCounts() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = DataFixtures.path("github/files.jsonl")
        let copy = scratch + "/second.jsonl"
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let first = try llama(["data", "github", "-o", scratch + "/out", input, copy])
        XCTAssertEqual(first.status, 0, first.errors)
        XCTAssertTrue(first.output.contains("github.files.kept: 3"), first.output)
        XCTAssertTrue(first.output.contains("github.files.removed.duplicate: 5"), first.output)
        XCTAssertTrue(first.errors.contains("warning: \(input):9: invalid JSONL record"), first.errors)
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: scratch + "/out/files.jsonl"))
        XCTAssertEqual(try DataFixtures.texts(scratch + "/out/second.jsonl"), [])

        // Remove the second shard: the rerun skips the first, restores its keys, redoes the second.
        try FileManager.default.removeItem(atPath: scratch + "/out/second.jsonl")
        let second = try llama(["data", "github", "-o", scratch + "/out", input, copy])
        XCTAssertEqual(second.status, 0, second.errors)
        XCTAssertTrue(second.errors.contains("complete in an earlier run, skipped"), second.errors)
        XCTAssertEqual(second.output.components(separatedBy: "\n").filter { $0.hasPrefix("github.") },
                       first.output.components(separatedBy: "\n").filter { $0.hasPrefix("github.") })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch + "/out/files.jsonl")), firstBytes)
        XCTAssertEqual(try DataFixtures.texts(scratch + "/out/second.jsonl"), [])
    }

    func testEverySubcommandRunsOnItsFixture() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let runs: [(String, String, String)] = [
            ("c4", "c4/pages.warc.wet", "pages"), ("wikipedia", "wikipedia/pages-articles.xml", "pages-articles"),
            ("books", "books/input", "input"), ("arxiv", "arxiv/paper", "paper"),
            ("stackexchange", "stackexchange/cooking.stackexchange.com/Posts.xml", "cooking.stackexchange.com"),
        ]
        for (command, input, name) in runs {
            let result = try llama(["data", command, "--quiet", "-o", scratch, DataFixtures.path(input)])
            XCTAssertEqual(result.status, 0, "\(command): \(result.errors)")
            assertTexts(try DataFixtures.texts(scratch + "/\(name).jsonl"),
                        try DataFixtures.expectedTexts(command == "c4" ? "c4/expected.txt" : "\(input.split(separator: "/")[0])/expected.txt"))
        }
        let missing = try llama(["data", "c4", "-o", scratch, scratch + "/missing.wet"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("missing.wet: no such file"), missing.errors)
    }

    /// Two workers (explicit flags for one cleaner, Slurm array variables for ccnet), then
    /// `llama data merge`: the same documents and counts as one process.
    func testTwoWorkersThenMergeEqualOneProcess() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = DataFixtures.path("github/files.jsonl")
        let copy = scratch + "/second.jsonl"
        try FileManager.default.copyItem(atPath: input, toPath: copy)
        let single = try llama(["data", "github", "--quiet", "-o", scratch + "/one", input, copy])
        XCTAssertEqual(single.status, 0, single.errors)
        for index in 0..<2 {
            let worker = try llama(["data", "github", "--quiet", "--shard-index", "\(index)", "--shard-count", "2", "-o", scratch + "/two", input, copy])
            XCTAssertEqual(worker.status, 0, worker.errors)
        }
        for name in ["files", "second"] {
            XCTAssertEqual(try DataFixtures.texts(scratch + "/two/\(name).jsonl"), try DataFixtures.texts(scratch + "/one/\(name).jsonl"))
        }
        let merged = try llama(["data", "merge", "counts", scratch + "/two/files.counts.json", scratch + "/two/second.counts.json"])
        XCTAssertEqual(merged.output.split(separator: "\n").filter { $0.hasPrefix("github.") },
                       single.output.split(separator: "\n").filter { $0.hasPrefix("github.") })

        // ccnet as a Slurm job array of 2 (tasks numbered from 1): hashes on both, then mine on both.
        let wet = DataFixtures.path("c4/pages.warc.wet")
        let wetCopy = scratch + "/again.warc.wet"
        try FileManager.default.copyItem(atPath: wet, toPath: wetCopy)
        let one = try llama(["data", "ccnet", "--quiet", "--language", "en", "-o", scratch + "/cc1", wet, wetCopy])
        XCTAssertEqual(one.status, 0, one.errors)
        for stage in ["hashes", "mine"] {
            for task in 1...2 {
                let run = try llama(["data", "ccnet", "--quiet", "--stage", stage, "--language", "en", "-o", scratch + "/cc2", wet, wetCopy],
                                    environment: ["SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
                XCTAssertEqual(run.status, 0, run.errors)
            }
        }
        for name in ["pages", "again"] {
            XCTAssertEqual(try String(contentsOfFile: scratch + "/cc2/\(name).jsonl", encoding: .utf8),
                           try String(contentsOfFile: scratch + "/cc1/\(name).jsonl", encoding: .utf8), name)
        }
        // The copy repeats every line of the first shard: all of them go as duplicates.
        XCTAssertEqual(try DataFixtures.documents(scratch + "/cc1/again.jsonl").count, 0)
        XCTAssertGreaterThan(try DataFixtures.documents(scratch + "/cc1/pages.jsonl").count, 0)
        let hashes = try llama(["data", "merge", "hashes", "-o", scratch + "/all.hashes", scratch + "/cc2/hashes/pages.hashes",
                                scratch + "/cc2/hashes/again.hashes"])
        XCTAssertEqual(hashes.status, 0, hashes.errors)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch + "/all.hashes")),
                       try Data(contentsOf: URL(fileURLWithPath: scratch + "/cc2/hashes/pages.hashes")))
    }

    /// Cleaners that deduplicate across shards, split over 2 workers running at the same time:
    /// the second worker cleans before the first has written anything. With the keys stage run
    /// first on both, every shard equals one process's; without it, a copy of an earlier shard
    /// is not recognised (the check that the test can see the difference).
    func testKeysStageMakesConcurrentWorkersEqualOneProcess() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let copies: [(command: String, original: String, copy: String, last: String)] = [
            ("github", "github/files.jsonl", "copy.jsonl", "books/input/book1.txt"),
            ("c4", "c4/pages.warc.wet", "copy.warc.wet", "c4/pages.warc.wet"),
            ("books", "books/input/book1.txt", "copy.txt", "books/input/book2.txt"),
        ]
        for (command, original, copyName, lastInput) in copies {
            let folder = scratch + "/" + command
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let copy = folder + "/" + copyName
            try FileManager.default.copyItem(atPath: DataFixtures.path(original), toPath: copy)
            // A third shard whose name differs from the first's (the c4 one repeats it again).
            let last = folder + "/last." + (lastInput.hasSuffix(".wet") ? "warc.wet" : (command == "github" ? "jsonl" : "txt"))
            try FileManager.default.copyItem(atPath: command == "github" ? DataFixtures.path(original) : DataFixtures.path(lastInput), toPath: last)
            let inputs = [DataFixtures.path(original), copy, last]
            let names = inputs.map { ShardFiles.stem(of: ($0 as NSString).lastPathComponent) }
            let single = try llama(["data", command, "--quiet", "-o", folder + "/one"] + inputs)
            XCTAssertEqual(single.status, 0, single.errors)
            XCTAssertEqual(try DataFixtures.texts(folder + "/one/\(names[1]).jsonl"), [], "\(command): the copy is a duplicate")

            let worker = { (stage: String, index: Int, out: String) throws -> String in
                let run = try self.llama(["data", command, "--quiet", "--stage", stage, "--shard-index", "\(index)",
                                          "--shard-count", "2", "-o", folder + "/" + out] + inputs)
                XCTAssertEqual(run.status, 0, "\(command) \(stage) \(index): \(run.errors)")
                return run.output
            }
            let early = try llama(["data", command, "--quiet", "--stage", "clean", "--shard-index", "1", "--shard-count", "2",
                                   "-o", folder + "/two"] + inputs)
            XCTAssertNotEqual(early.status, 0, "\(command): clean before keys must fail")
            XCTAssertTrue(early.errors.contains("run --stage keys"), early.errors)
            for index in [1, 0] { _ = try worker("keys", index, "two") }
            var counts: [String] = []
            for index in [1, 0] { counts += try worker("clean", index, "two").split(separator: "\n").map(String.init) }
            for name in names {
                XCTAssertEqual(try DataFixtures.texts(folder + "/two/\(name).jsonl"), try DataFixtures.texts(folder + "/one/\(name).jsonl"),
                               "\(command) \(name)")
            }
            let merged = try llama(["data", "merge", "counts"] + names.map { folder + "/two/\($0).counts.json" })
            XCTAssertEqual(merged.output.split(separator: "\n").filter { $0.hasPrefix(command + ".") },
                           single.output.split(separator: "\n").filter { $0.hasPrefix(command + ".") }, command)
            XCTAssertFalse(counts.isEmpty)

            // Without the keys stage the second worker, run first, keeps the copy.
            _ = try worker("all", 1, "naive")
            XCTAssertNotEqual(try DataFixtures.texts(folder + "/naive/\(names[1]).jsonl"), [], command)
        }
    }

    /// The progress bar in a log (stderr not a terminal): lines at the set interval with the
    /// shard, the share of the input read, and a last line at 100%.
    func testProgressLinesInALog() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let page = try Data(contentsOf: URL(fileURLWithPath: DataFixtures.path("c4/pages.warc.wet")))
        var big = Data()
        for _ in 0..<400 { big.append(page) }
        try big.write(to: URL(fileURLWithPath: scratch + "/big.warc.wet"))
        let run = try llama(["data", "c4", "-o", scratch + "/out", scratch + "/big.warc.wet"],
                            environment: ["LLAMA_PROGRESS_SECONDS": "0.02"])
        XCTAssertEqual(run.status, 0, run.errors)
        let lines = run.errors.split(separator: "\n").filter { $0.hasPrefix("c4 [1/1] big.warc.wet  |") }
        XCTAssertGreaterThan(lines.count, 1, run.errors)
        let megabytes = String(format: "%.1f", Double(big.count) / 1e6)
        XCTAssertTrue(lines.last?.contains("100%  \(megabytes)/\(megabytes) MB") ?? false, run.errors)
    }
}
