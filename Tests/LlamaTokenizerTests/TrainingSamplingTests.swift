import Foundation
import XCTest
@testable import LlamaTokenizer

/// `input_sentence_size` with `shuffle_input_sentence`: which sentences the reservoir sampler
/// keeps, compared with sentencepiece.
///
/// sentencepiece up to 0.2.1 samples with `std::mt19937` seeded with the constant 12345678
/// (`kSeed` in trainer_interface.cc; `set_random_generator_seed` does not reach this
/// sampler), and draws slots with libstdc++'s `std::uniform_int_distribution<uint64_t>`;
/// its sample is the same in every run, and ours reproduces it. From 0.2.2 on it samples
/// with `absl::BitGen` seeded with `std::seed_seq{12345678}`, but absl mixes a salt read
/// from the operating system's entropy once per process into every seed sequence
/// (absl/random/internal/salted_seed_seq.h), so that sample changes from process to
/// process and no other program can reproduce it.
final class TrainingSamplingTests: XCTestCase {
    /// The options both trainers use: 1000 of botchan.txt's 4288 lines, 600 pieces.
    private func sampledOptions() -> BPETrainerOptions {
        var options = BPETrainerOptions()
        options.vocabSize = 600
        options.inputSentenceSize = 1000
        options.shuffleInputSentence = true
        return options
    }

    /// `piece<TAB>score` lines of a `.vocab` file.
    private func readVocabulary(_ url: URL) throws -> [(piece: String, score: Float)] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            return (String(fields[0]), fields.count > 1 ? Float(String(fields[1])) ?? .nan : .nan)
        }
    }

    /// Exactly the vocabulary that sentencepiece 0.2.1 learned with the same options
    /// (fixture written by scripts/make_sampled_fixture.sh): pieces, order and scores.
    func testSampledTrainingMatchesSentencePiece021() throws {
        let expected = try readVocabulary(ReferenceTool.fixture("botchan_bpe_600_sampled_1000_spm021.vocab"))
        let model = try BPETrainer(options: sampledOptions()).train(inputFiles: [ReferenceTool.sharedCorpus("botchan.txt")])
        XCTAssertEqual(expected.count, 600)
        XCTAssertEqual(model.pieces.map(\.piece), expected.map(\.piece))
        XCTAssertEqual(model.pieces.map(\.score), expected.map(\.score))
    }

    /// The installed sentencepiece, trained live with the same options. Up to 0.2.1 the
    /// vocabularies must be identical. From 0.2.2 on the sample differs in every process
    /// (see above): two runs of sentencepiece 0.2.3 share 82–87% of their pieces and 3–9%
    /// of ids, and ours shares as much with any one of them (measured on this corpus over
    /// five runs), so only a loose floor is asserted and the overlap is printed.
    func testSampledTrainingAgainstInstalledSentencePiece() throws {
        let version = (try ReferenceTool.run(["version"]) as? [String: Any])?["version"] as? String ?? "?"
        let directory = try ReferenceTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try ReferenceTool.sharedCorpus("botchan.txt")
        let (referenceModel, _) = try ReferenceTool.train(
            input: corpus, prefix: directory.appendingPathComponent("reference"),
            options: ["model_type": "bpe", "vocab_size": 600, "input_sentence_size": 1000, "shuffle_input_sentence": true])
        let expected = try ReferenceTool.vocabulary(model: referenceModel).map(\.piece)
        let ours = try BPETrainer(options: sampledOptions()).train(inputFiles: [corpus]).pieces.map(\.piece)

        let sameId = Double(zip(ours, expected).filter { $0 == $1 }.count) / Double(max(expected.count, 1))
        let sameSet = Double(Set(ours).intersection(expected).count) / Double(max(expected.count, 1))
        print("[sampling cross-check] sentencepiece \(version): same piece at same id \(String(format: "%.2f", sameId * 100))%, "
            + "same piece set \(String(format: "%.2f", sameSet * 100))%")
        if Self.isReproducible(version: version) {
            XCTAssertEqual(ours, expected, "sentencepiece \(version) samples reproducibly; the vocabularies must be equal")
        } else {
            XCTAssertGreaterThanOrEqual(sameSet, 0.6, "a sample of the same size from the same file shares most pieces")
        }
    }

    /// Whether sentencepiece `version` samples with `std::mt19937` (0.2.1 and earlier).
    static func isReproducible(version: String) -> Bool {
        let parts = version.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
        guard parts.count >= 3 else { return false }
        return (parts[0], parts[1], parts[2]) <= (0, 2, 1)
    }

    func testReproducibleVersionsAreRecognised() {
        XCTAssertTrue(Self.isReproducible(version: "0.1.99"))
        XCTAssertTrue(Self.isReproducible(version: "0.2.1"))
        XCTAssertFalse(Self.isReproducible(version: "0.2.2"))
        XCTAssertFalse(Self.isReproducible(version: "0.2.3"))
    }
}
