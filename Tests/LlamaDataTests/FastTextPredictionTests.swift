import Foundation
import LlamaData
import XCTest

/// Our predictions against the python `fasttext` package (0.9.2) on models it trains in the
/// test: every loss, with and without character and word n-grams, and quantized `.ftz`
/// models (with norm quantization and a pruning cutoff); labels equal and probabilities to 1e-5.
final class FastTextPredictionTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = try DataFixtures.scratchDirectory()
        let lines = FastTextReference.labelledLines(count: 1500, seed: 7)
        try FastTextReference.trainingText(lines).write(toFile: scratch + "/train.txt", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// Trains with fasttext, predicts with both, compares.
    private func assertMatchesFastText(options: String, quantize: String = "", k: Int = 3, threshold: Float = 0,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        let modelPath = scratch + (quantize.isEmpty ? "/model.bin" : "/model.ftz")
        let lines = FastTextReference.predictionLines(seed: 11)
        let expected = try FastTextReference.referencePredictions(
            train: scratch + "/train.txt", model: modelPath, options: options, quantize: quantize, lines: lines, k: k,
            threshold: threshold)
        let model = try FastTextModel.load(path: modelPath)
        XCTAssertEqual(model.isQuantized, !quantize.isEmpty, file: file, line: line)
        XCTAssertEqual(expected.count, lines.count, file: file, line: line)
        var compared = 0
        for (text, reference) in zip(lines, expected) {
            let ours = model.predict(text, k: k, threshold: threshold)
            XCTAssertEqual(ours.map(\.label), reference.map(\.0), "labels of \(text.prefix(60))", file: file, line: line)
            for (mine, theirs) in zip(ours, reference) {
                XCTAssertEqual(mine.probability, theirs.1, accuracy: 1e-5, "\(mine.label) of \(text.prefix(60))",
                               file: file, line: line)
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, lines.count, file: file, line: line)
    }

    func testSoftmaxWordsOnly() throws {
        try assertMatchesFastText(options: #"{"dim": 12, "epoch": 5, "loss": "softmax"}"#)
    }

    func testSoftmaxCharacterAndWordNgrams() throws {
        try assertMatchesFastText(
            options: #"{"dim": 16, "epoch": 5, "minn": 2, "maxn": 4, "wordNgrams": 2, "bucket": 20000}"#, k: 4)
    }

    func testHierarchicalSoftmaxWithNgrams() throws {
        try assertMatchesFastText(
            options: #"{"dim": 10, "epoch": 5, "loss": "hs", "minn": 3, "maxn": 5, "wordNgrams": 3, "bucket": 5000}"#,
            k: 6)
    }

    func testHierarchicalSoftmaxThreshold() throws {
        try assertMatchesFastText(options: #"{"dim": 8, "epoch": 3, "loss": "hs"}"#, k: 5, threshold: 0.05)
    }

    func testOneVersusAllWithThreshold() throws {
        try assertMatchesFastText(
            options: #"{"dim": 12, "epoch": 5, "loss": "ova", "minn": 2, "maxn": 3, "bucket": 3000}"#, k: 6,
            threshold: 0.1)
    }

    func testQuantizedWithNormsAndCutoff() throws {
        try assertMatchesFastText(
            options: #"{"dim": 16, "epoch": 5, "minn": 2, "maxn": 4, "wordNgrams": 2, "bucket": 4000}"#,
            quantize: #"{"qnorm": true, "cutoff": 600, "retrain": false}"#, k: 3)
    }

    func testQuantizedWithoutNormsOddSubvectors() throws {
        try assertMatchesFastText(options: #"{"dim": 10, "epoch": 4, "minn": 3, "maxn": 3, "bucket": 2000}"#,
                                  quantize: #"{"qnorm": false, "dsub": 4, "retrain": false}"#, k: 2)
    }

    /// `llama data langid predict-prob` prints what `fasttext predict-prob` prints: the
    /// expected text is formatted by python from fasttext's float32 probabilities as C++'s
    /// `std::cout << float` does (%g).
    func testPredictProbCommandOutput() throws {
        let modelPath = scratch + "/model.bin"
        let lines = FastTextReference.predictionLines(seed: 3).filter { !$0.contains("</s>") }
        let expected = try FastTextReference.referencePredictions(
            train: scratch + "/train.txt", model: modelPath, options: #"{"dim": 8, "epoch": 3, "minn": 2, "maxn": 3}"#,
            lines: lines, k: 2, threshold: 0)
        let expectedText = expected.map { predictions in
            predictions.map { "\($0.0) \(String(format: "%g", Double($0.1)))" }.joined(separator: " ") + "\n"
        }.joined()
        let input = scratch + "/lines.txt"
        try lines.map { $0 + "\n" }.joined().write(toFile: input, atomically: true, encoding: .utf8)
        let result = try runLlama(["data", "langid", "predict-prob", modelPath, input, "2"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.output, expectedText)
        let labelsOnly = try runLlama(["data", "langid", "predict", modelPath, input, "2"])
        XCTAssertEqual(labelsOnly.output,
                       expected.map { $0.map(\.0).joined(separator: " ") + "\n" }.joined())
    }

    /// One model shared by many threads predicts what it predicts alone (no shared scratch).
    func testConcurrentPredictionsEqualSequential() throws {
        let modelPath = scratch + "/model.bin"
        _ = try FastTextReference.referencePredictions(
            train: scratch + "/train.txt", model: modelPath,
            options: #"{"dim": 8, "epoch": 2, "minn": 2, "maxn": 3, "wordNgrams": 2, "bucket": 3000}"#, lines: [], k: 1,
            threshold: 0)
        let model = try FastTextModel.load(path: modelPath)
        let lines = FastTextReference.predictionLines(seed: 9)
        let sequential = lines.map { model.predict($0, k: 3, threshold: 0).map { "\($0.label) \($0.probability)" } }
        let results = UnsafeMutableBufferPointer<[String]>.allocate(capacity: lines.count * 4)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: lines.count * 4) { index in
            results[index] = model.predict(lines[index % lines.count], k: 3, threshold: 0)
                .map { "\($0.label) \($0.probability)" }
        }
        for index in 0..<results.count { XCTAssertEqual(results[index], sequential[index % lines.count]) }
    }

    /// A truncated or corrupted model is a clear error naming the file and what is wrong.
    func testCorruptModelFilesAreClearErrors() throws {
        let modelPath = scratch + "/model.bin"
        _ = try FastTextReference.referencePredictions(train: scratch + "/train.txt", model: modelPath,
                                                       options: #"{"dim": 4, "epoch": 1}"#, lines: [], k: 1,
                                                       threshold: 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: modelPath))
        let broken = scratch + "/broken.bin"
        for cut in [0, 3, 10, 40, 70, bytes.count / 2, bytes.count - 1] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: broken))
            XCTAssertThrowsError(try FastTextModel.load(path: broken), "cut at \(cut)") { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(broken), message)
                XCTAssertTrue(message.contains("invalid fastText model"), message)
            }
        }
        var wrongMagic = bytes
        wrongMagic[0] ^= 0xFF
        try wrongMagic.write(to: URL(fileURLWithPath: broken))
        XCTAssertThrowsError(try FastTextModel.load(path: broken)) { error in
            XCTAssertTrue("\(error)".contains("magic number"), "\(error)")
        }
        var extra = bytes
        extra.append(contentsOf: [1, 2, 3])
        try extra.write(to: URL(fileURLWithPath: broken))
        XCTAssertThrowsError(try FastTextModel.load(path: broken)) { error in
            XCTAssertTrue("\(error)".contains("unexpected bytes"), "\(error)")
        }
        XCTAssertThrowsError(try FastTextModel.load(path: scratch + "/missing.bin")) { error in
            XCTAssertEqual(error as? DataError, .fileNotFound(path: scratch + "/missing.bin"))
        }
    }

    /// CCNet's use (cc_net/split_by_lang.py): whole document with newlines removed, top label
    /// without prefix, score rounded to 2 decimals, 0.5 threshold on the rounded score.
    func testLanguageIdentificationMatchesTopPrediction() throws {
        let modelPath = scratch + "/model.bin"
        let documents = ["der die und\nin den von zu das", "the of and\nto in is was", "и в не\nна я быть",
                         "zzqx", "de la que el\nen y a los se"]
        let flattened = documents.map { $0.replacingOccurrences(of: "\n", with: "") }
        let expected = try FastTextReference.referencePredictions(
            train: scratch + "/train.txt", model: modelPath, options: #"{"dim": 8, "epoch": 25, "minn": 2, "maxn": 4}"#,
            lines: flattened, k: 1, threshold: 0)
        let identification = LanguageIdentification(classifier: try FastTextModel.load(path: modelPath))
        var identified = 0
        for (document, reference) in zip(documents, expected) {
            let top = try XCTUnwrap(reference.first)
            let rounded = (Double(top.1) * 100).rounded() / 100
            let result = identification.identify(document)
            if rounded < 0.5 { XCTAssertNil(result); continue }
            identified += 1
            XCTAssertEqual(result?.language, String(top.0.dropFirst("__label__".count)))
            XCTAssertEqual(result?.score ?? -1, rounded, accuracy: 1e-9)
        }
        XCTAssertGreaterThan(identified, 0)
    }

    /// The CCNet pipeline with a real fastText language-id model (trained by the fasttext
    /// package): each kept page has fastText's top label and rounded probability for its
    /// text with newlines removed; pages under 0.5 are dropped.
    func testCCNetPipelineWithFastTextLanguageId() throws {
        let modelPath = scratch + "/lid.bin"
        // Titles differ in letters (CCNet's dedup maps digits to 0, so "Title 1" = "Title 2").
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let pages = FastTextReference.labelledLines(count: 24, seed: 99).enumerated().map { index, line in
            "Title \(letters[index])\n" + line.text + "\n" + line.text.split(separator: " ").reversed().joined(separator: " ")
        } + ["Mixed\nzzqx qqxz\nxxqz"]
        let expected = try FastTextReference.referencePredictions(
            train: scratch + "/train.txt", model: modelPath, options: #"{"dim": 8, "epoch": 25, "minn": 2, "maxn": 4}"#,
            // The first line of a WET page is its title, the rest raw_content (what is classified).
            lines: pages.map { $0.split(separator: "\n").dropFirst().joined() }, k: 1, threshold: 0)
        let input = scratch + "/pages.warc.wet"
        try Data(pages.enumerated().flatMap { WETFixture.record(url: "http://lid.example/\($0.offset)", text: $0.element) })
            .write(to: URL(fileURLWithPath: input))
        var configuration = CCNetConfiguration()
        configuration.languageIdentification = LanguageIdentification(classifier: try FastTextModel.load(path: modelPath))
        _ = try CCNetPipeline(configuration: configuration, directory: scratch + "/ccnet").mine(inputs: [input])
        let documents = try DataFixtures.documents(scratch + "/ccnet/pages.jsonl")
        var byURL: [String: [String: Any]] = [:]
        for document in documents { if let url = document["url"] as? String { byURL[url] = document } }
        var kept = 0
        for (index, reference) in expected.enumerated() {
            let top = try XCTUnwrap(reference.first)
            let score = (Double(top.1) * 100).rounded() / 100
            let document = byURL["http://lid.example/\(index)"]
            guard score >= 0.5 else { XCTAssertNil(document, "page \(index)"); continue }
            kept += 1
            XCTAssertEqual(document?["language"] as? String, String(top.0.dropFirst("__label__".count)), "page \(index)")
            XCTAssertEqual(document?["language_score"] as? Double ?? -1, score, accuracy: 1e-9, "page \(index)")
        }
        XCTAssertEqual(documents.count, kept)
        XCTAssertGreaterThan(kept, 20)
    }

    private func runLlama(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try FastTextCommand.run(arguments)
    }
}

/// Runs the built `llama` executable.
enum FastTextCommand {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let executable = DataCommandTests.executable
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw XCTSkip("\(executable) is not built: run swift build first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self),
                String(decoding: errorData, as: UTF8.self))
    }
}
