import Foundation
import LlamaData
import XCTest

/// Scores against the python `kenlm` package (skipped when it is not installed): test.arpa,
/// toy0.arpa and a model we estimate, on sentences with OOV words and Unicode spaces (which
/// KenLM does not split on), to 1e-4 relative.
final class NGramKenLMTests: XCTestCase {
    private let sentences = ["looking on a little more", "a b a", "zebra looking on", "a zebra b </s> quux",
                             "", "the cat sat on the mat", "<unk> however <unk>", "b b b b b b b a a a",
                             "looking\u{0B}on\u{A0}a \u{301}little\u{2003}more\u{0C}a\u{1C}b\u{85}a"]

    private func kenlmScores(model path: String) throws -> [Double] {
        let script = """
            import sys, kenlm
            m = kenlm.Model(sys.argv[1])
            for line in sys.stdin.read().split("\\n"):
                print(repr(m.score(line)))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(sentences.joined(separator: "\n").utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("python kenlm not available") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
    }

    private func assertMatchesKenLM(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ARPAFormat.read(path: path)
        let expected = try kenlmScores(model: path)
        XCTAssertEqual(expected.count, sentences.count, file: file, line: line)
        for (sentence, reference) in zip(sentences, expected) {
            let ours = model.score(Substring(sentence))
            XCTAssertEqual(ours, reference, accuracy: 1e-4 * max(1, abs(reference)), "\(path): \(sentence)",
                           file: file, line: line)
        }
    }

    func testTestARPAMatchesKenLM() throws { try assertMatchesKenLM(DataFixtures.path("kenlm/test.arpa")) }

    func testToyARPAMatchesKenLM() throws { try assertMatchesKenLM(DataFixtures.path("kenlm/toy0.arpa")) }

    func testEstimatedModelMatchesKenLM() throws {
        var estimator = KneserNeyEstimator(order: 3)
        let corpus = ["b d", "d", "c b", "c d", "c b c b c", "d", "c b d", "b", "c", "b b b a", "b b", "b b c"]
        for sentence in corpus { try estimator.add(sentence: Substring(sentence)) }
        let model = try estimator.estimate()
        let directory = try DataFixtures.scratchDirectory()
        try ARPAFormat.write(model, to: directory + "/estimated.arpa")
        try assertMatchesKenLM(directory + "/estimated.arpa")
    }
}
