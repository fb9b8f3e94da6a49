import Foundation
import LlamaData
import XCTest

/// Our supervised training: accuracy on held-out generated multilingual text comparable to
/// fasttext's own training with the same options, and `.bin` files that the python package
/// loads and predicts with exactly as we do.
final class FastTextTrainingTests: XCTestCase {
    private var scratch = ""
    private let training = FastTextReference.labelledLines(count: 3000, seed: 21)
    private let heldOut = FastTextReference.labelledLines(count: 400, seed: 22)

    override func setUpWithError() throws {
        scratch = try DataFixtures.scratchDirectory()
        try FastTextReference.trainingText(training).write(toFile: scratch + "/train.txt", atomically: true,
                                                           encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    private func accuracy(_ predict: (String) -> String?) -> Double {
        let correct = heldOut.filter { predict($0.text) == "__label__" + $0.language }.count
        return Double(correct) / Double(heldOut.count)
    }

    private func trainOurs(_ configure: (inout FastTextArgs) -> Void) throws -> FastTextModel {
        var args = FastTextArgs()
        args.dim = 16
        args.epoch = 15
        args.threads = 2
        configure(&args)
        return try FastTextTrainer.train(inputPath: scratch + "/train.txt", args: args)
    }

    /// Trains ours, saves it, and checks python fasttext loads it and predicts the same.
    private func assertPythonAgrees(_ model: FastTextModel, name: String, k: Int,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let path = scratch + "/\(name).bin"
        try model.save(to: path)
        let lines = FastTextReference.predictionLines(seed: 5)
        let reference = try FastTextReference.referencePredictions(train: "", model: path, options: "", lines: lines,
                                                                   k: k, threshold: 0)
        let reloaded = try FastTextModel.load(path: path)
        for (text, expected) in zip(lines, reference) {
            let ours = model.predict(text, k: k, threshold: 0)
            XCTAssertEqual(ours.map(\.label), expected.map(\.0), "\(name): \(text.prefix(50))", file: file, line: line)
            for (mine, theirs) in zip(ours, expected) {
                XCTAssertEqual(mine.probability, theirs.1, accuracy: 1e-5, file: file, line: line)
            }
            let again = reloaded.predict(text, k: k, threshold: 0)
            XCTAssertEqual(again.map(\.label), ours.map(\.label), file: file, line: line)
        }
    }

    func testSoftmaxWithNgramsIsAccurateAndLoadsInFastText() throws {
        let model = try trainOurs { args in
            args.minn = 2
            args.maxn = 4
            args.wordNgrams = 2
            args.bucket = 50_000
        }
        let ours = accuracy { model.predict($0, k: 1, threshold: 0).first?.label }
        XCTAssertGreaterThanOrEqual(ours, 0.9, "our accuracy")
        try assertPythonAgrees(model, name: "softmax", k: 3)
        // fasttext's own training with the same options on the same data.
        let reference = try FastTextReference.referencePredictions(
            train: scratch + "/train.txt", model: scratch + "/reference.bin",
            options: #"{"dim": 16, "epoch": 15, "minn": 2, "maxn": 4, "wordNgrams": 2, "bucket": 50000}"#,
            lines: heldOut.map(\.text), k: 1, threshold: 0)
        let theirs = Double(zip(heldOut, reference).filter { "__label__" + $0.0.language == $0.1.first?.0 }.count)
            / Double(heldOut.count)
        XCTAssertGreaterThanOrEqual(theirs, 0.9, "fasttext accuracy")
        XCTAssertGreaterThanOrEqual(ours, theirs - 0.03, "ours \(ours) vs fasttext \(theirs)")
    }

    func testHierarchicalSoftmaxTrainsAndLoadsInFastText() throws {
        let model = try trainOurs { args in
            args.loss = .hierarchicalSoftmax
            args.minn = 3
            args.maxn = 5
            args.bucket = 20_000
        }
        XCTAssertGreaterThanOrEqual(accuracy { model.predict($0, k: 1, threshold: 0).first?.label }, 0.9)
        try assertPythonAgrees(model, name: "hs", k: 4)
    }

    func testOneVersusAllWordsOnlyTrainsAndLoadsInFastText() throws {
        let model = try trainOurs { args in
            args.loss = .oneVersusAll
        }
        XCTAssertGreaterThanOrEqual(accuracy { model.predict($0, k: 1, threshold: 0).first?.label }, 0.9)
        try assertPythonAgrees(model, name: "ova", k: 2)
    }

    func testTrainingWithoutLabelsIsAnError() throws {
        try "no labels here\nnor here\n".write(toFile: scratch + "/plain.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FastTextTrainer.train(inputPath: scratch + "/plain.txt", args: FastTextArgs())) {
            XCTAssertTrue("\($0)".contains("no labels"), "\($0)")
        }
    }

    /// The quality classifier separates two kinds of documents (JSONL with raw_content vs
    /// plain lines) and `score` keeps those at or above the threshold.
    func testQualityClassifierTrainsAndScores() throws {
        let english = FastTextReference.labelledLines(count: 800, seed: 31).filter { $0.language == "en" }
        let german = FastTextReference.labelledLines(count: 800, seed: 32).filter { $0.language == "de" }
        let positive = try english.map { line -> String in
            String(decoding: try JSONSerialization.data(withJSONObject: ["raw_content": line.text + "\n" + line.text]),
                   as: UTF8.self)
        }.joined(separator: "\n")
        try positive.write(toFile: scratch + "/wiki.jsonl", atomically: true, encoding: .utf8)
        try german.map(\.text).joined(separator: "\n").write(toFile: scratch + "/cc.txt", atomically: true,
                                                            encoding: .utf8)
        var args = FastTextArgs()
        args.dim = 8
        args.epoch = 30
        args.learningRate = 0.5
        let result = try QualityClassifier.train(positivePath: scratch + "/wiki.jsonl", negativePath: scratch + "/cc.txt",
                                                 args: args)
        XCTAssertEqual(result.positive, english.count)
        XCTAssertEqual(result.negative, german.count)
        let classifier = try QualityClassifier(model: result.model)
        XCTAssertGreaterThan(classifier.score("the of and to in is was that"), 0.9)
        XCTAssertLessThan(classifier.score("der die und in den von zu das"), 0.1)
        // The score is fasttext's probability of __label__wiki for the same model.
        try result.model.save(to: scratch + "/quality.bin")
        let reference = try FastTextReference.referencePredictions(
            train: "", model: scratch + "/quality.bin", options: "", lines: ["the of and", "der die und"], k: 2,
            threshold: 0)
        for (text, expected) in zip(["the of and", "der die und"], reference) {
            let wiki = expected.first { $0.0 == QualityClassifier.positiveLabel }?.1 ?? -1
            XCTAssertEqual(classifier.score(text), wiki, accuracy: 1e-5)
        }
    }

    /// `llama data quality train` then `score`: kept documents carry quality_score ≥ threshold,
    /// equal to the library's score of the saved model; the counts are printed.
    func testQualityCommandsTrainAndFilter() throws {
        let english = FastTextReference.labelledLines(count: 600, seed: 41).filter { $0.language == "en" }.map(\.text)
        let german = FastTextReference.labelledLines(count: 600, seed: 42).filter { $0.language == "de" }.map(\.text)
        try english.joined(separator: "\n").write(toFile: scratch + "/wiki.txt", atomically: true, encoding: .utf8)
        try german.joined(separator: "\n").write(toFile: scratch + "/cc.txt", atomically: true, encoding: .utf8)
        let train = try FastTextCommand.run(["data", "quality", "train", "--positive", scratch + "/wiki.txt",
                                             "--negative", scratch + "/cc.txt", "--output", scratch + "/q.bin",
                                             "-dim", "8", "-epoch", "30", "-lr", "0.5"])
        XCTAssertEqual(train.status, 0, train.errors)
        let documents: [[String: Any]] = [["raw_content": "the of and\nto in is was", "url": "a"],
                                          ["raw_content": "der die und in den von", "url": "b"],
                                          ["text": "that for it with as his", "url": "c"]]
        let input = try documents.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
            .joined(separator: "\n") + "\nnot json\n"
        try input.write(toFile: scratch + "/docs.jsonl", atomically: true, encoding: .utf8)
        let score = try FastTextCommand.run(["data", "quality", "score", "--model", scratch + "/q.bin", "--threshold",
                                             "0.5", scratch + "/docs.jsonl", "-o", scratch + "/kept.jsonl"])
        XCTAssertEqual(score.status, 0, score.errors)
        XCTAssertTrue(score.output.contains("kept 2, dropped 1"), score.output)
        let kept = try DataFixtures.documents(scratch + "/kept.jsonl")
        XCTAssertEqual(kept.compactMap { $0["url"] as? String }, ["a", "c"])
        let classifier = try QualityClassifier(model: try FastTextModel.load(path: scratch + "/q.bin"))
        for document in kept {
            let text = (document["raw_content"] as? String) ?? (document["text"] as? String) ?? ""
            let recorded = document["quality_score"] as? Double ?? -1
            XCTAssertEqual(recorded, Double(classifier.score(text)), accuracy: 1e-6)
            XCTAssertGreaterThanOrEqual(recorded, 0.5)
        }
    }
}
