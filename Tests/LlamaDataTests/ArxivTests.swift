import Foundation
@testable import LlamaData
import XCTest

final class ArxivTests: XCTestCase {
    func testPaperDirectoryMatchesHandWrittenExpectation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let files = ShardFiles(directory: scratch, name: "paper")
        let report = try ArxivPipeline.run(inputPath: DataFixtures.path("arxiv/paper"), files: files)
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("arxiv/expected.txt"))
        XCTAssertEqual(report.counts["arxiv.papers.kept"], 1)
    }

    func testTarGzAndBulkArchivesAndTruncation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let expected = try DataFixtures.expectedTexts("arxiv/expected.txt")
        // One paper as .tar.gz, made by GNU tar with a long member name (a GNU 'L' record).
        let long = String(repeating: "n", count: 120)
        try FileManager.default.createDirectory(atPath: scratch + "/src/" + long, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: DataFixtures.path("arxiv/paper/main.tex"), toPath: scratch + "/src/main.tex")
        try FileManager.default.copyItem(atPath: DataFixtures.path("arxiv/paper/intro.tex"), toPath: scratch + "/src/intro.tex")
        try "binary \u{0}\u{1} data".write(toFile: scratch + "/src/\(long)/figure.tex", atomically: true, encoding: .utf8)
        try DataFixtures.runProgram("tar", ["--format=gnu", "-czf", scratch + "/2301.00001.tar.gz", "main.tex", "intro.tex", long],
                                    directory: scratch + "/src")
        let archive = ShardFiles(directory: scratch, inputPath: scratch + "/2301.00001.tar.gz")
        let archiveReport = try ArxivPipeline.run(inputPath: scratch + "/2301.00001.tar.gz", files: archive)
        assertTexts(try DataFixtures.texts(archive.output), expected)
        XCTAssertEqual(archiveReport.warnings, [.invalidUTF8(path: scratch + "/2301.00001.tar.gz", record: "2301.00001/\(long)/figure.tex")])

        // A bulk archive: per-paper .gz members (a gzip'd tar and a gzip'd single .tex).
        try FileManager.default.createDirectory(atPath: scratch + "/bulk", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: scratch + "/2301.00001.tar.gz", toPath: scratch + "/bulk/2301.00001.gz")
        let single = "\\documentclass{article}\\begin{document}\\section{Only}Text of a single-file paper.\\end{document}\n"
        try single.write(toFile: scratch + "/bulk/2301.00002", atomically: true, encoding: .utf8)
        try DataFixtures.runProgram("gzip", [scratch + "/bulk/2301.00002"])
        try DataFixtures.runProgram("tar", ["-cf", scratch + "/arXiv_src_2301_001.tar", "2301.00001.gz", "2301.00002.gz"],
                                    directory: scratch + "/bulk")
        let bulk = ShardFiles(directory: scratch, inputPath: scratch + "/arXiv_src_2301_001.tar")
        _ = try ArxivPipeline.run(inputPath: scratch + "/arXiv_src_2301_001.tar", files: bulk)
        let bulkDocuments = try DataFixtures.documents(bulk.output)
        XCTAssertEqual(bulkDocuments.compactMap { ($0["meta"] as? [String: String])?["identifier"] }, ["2301.00001", "2301.00002"])
        XCTAssertEqual(try DataFixtures.texts(bulk.output), [expected[0], "\\section{Only}Text of a single-file paper."])

        // A truncated bulk archive: the complete first member is still used.
        let whole = try Data(contentsOf: URL(fileURLWithPath: scratch + "/arXiv_src_2301_001.tar"))
        let cutPath = scratch + "/cut.tar"
        let secondHeader = whole.range(of: Data("2301.00002.gz".utf8))?.lowerBound ?? whole.count
        try whole.prefix(secondHeader + 700).write(to: URL(fileURLWithPath: cutPath))
        let cut = ShardFiles(directory: scratch, inputPath: cutPath)
        let cutReport = try ArxivPipeline.run(inputPath: cutPath, files: cut)
        XCTAssertEqual(try DataFixtures.texts(cut.output), [expected[0]])
        XCTAssertTrue(cutReport.warnings.contains { if case .invalidTar = $0 { return true }; return false }, "\(cutReport.warnings)")
    }

    func testMacroForms() {
        let source = """
            \\newcommand*\\R{\\mathbb{R}}
            \\providecommand{\\R}{ignored}
            \\def\\twice#1{#1#1}
            \\section{S} x \\in \\R, \\twice{ab}, \\twice x.
            """
        XCTAssertEqual(LatexCleaner.clean(source), "\\section{S} x \\in \\mathbb{R}, abab, xx.")
    }
}
