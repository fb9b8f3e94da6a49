import ArgumentParser
import Dispatch
import Foundation
import LlamaData

/// `llama data langid bench`: prediction speed (lines/s, one thread) of our fastText
/// predictor and of the fasttext package's C++ on the same model and lines, and optionally
/// training speed of both on the same data and options.
struct DataLangIdBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Predictions/s (and training time) against the fasttext python package.")

    @Option(help: "Model (.bin or .ftz).") var model: String?
    @Option(help: "Text lines to predict.") var input: String
    @Option(help: "Labels per prediction.") var k = 1
    @Option(help: "Also time training on this labelled file (with the options below) against fasttext.")
    var trainInput: String?
    @OptionGroup var options: FastTextTrainingOptions

    func run() throws {
        if let trainInput { try benchTraining(trainInput) }
        guard let model else { return }
        let fastText = try FastTextModel.load(path: model)
        let bytes = try readInputBytes(input)
        var lines = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var checksum: Float = 0
        bytes.withUnsafeBufferPointer { buffer in
            fastText.predictLines(buffer, k: k, threshold: 0) { predictions in
                lines += 1
                checksum += predictions.first?.probability ?? 0
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let ours = Double(lines) / seconds
        print(String(format: "ours:     %d lines in %.3f s: %.0f predictions/s (one thread; mean top prob %.4f)", lines,
                     seconds, ours, Double(checksum) / Double(max(lines, 1))))
        if let reference = pythonRate(model: model) {
            print(String(format: "fasttext: %.0f predictions/s (python model.predict(lines, k), C++ loop)", reference))
            print(String(format: "ratio ours / fasttext: %.2f", ours / reference))
        } else {
            print("fasttext: python package not importable; no reference figure")
        }
    }

    private func pythonRate(model: String) -> Double? {
        let script = """
            import sys, time, fasttext
            m = fasttext.load_model(sys.argv[1])
            lines = open(sys.argv[2], encoding="utf-8", errors="replace").read().split("\\n")
            if lines and lines[-1] == "": lines.pop()
            start = time.perf_counter()
            m.predict(lines, k=int(sys.argv[3]))
            print(len(lines) / (time.perf_counter() - start))
            """
        return runPython(script, [model, input, String(k)]).flatMap { Double($0) }
    }

    private func benchTraining(_ path: String) throws {
        let args = try options.arguments()
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try FastTextTrainer.train(inputPath: path, args: args)
        let ours = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "training ours:     %.2f s (%d threads, dim %d, epoch %d, loss %@)", ours, args.threads,
                     args.dim, args.epoch, options.loss))
        let script = """
            import sys, time, fasttext
            start = time.perf_counter()
            fasttext.train_supervised(input=sys.argv[1], dim=\(args.dim), epoch=\(args.epoch), lr=\(args.learningRate),
                wordNgrams=\(args.wordNgrams), minn=\(args.minn), maxn=\(args.maxn), bucket=\(args.bucket),
                minCount=\(args.minCount), loss="\(options.loss)", thread=\(args.threads), verbose=0)
            print(time.perf_counter() - start)
            """
        if let reference = runPython(script, [path]).flatMap({ Double($0) }) {
            print(String(format: "training fasttext: %.2f s; ratio fasttext / ours: %.2f", reference, reference / ours))
        }
    }
}

/// Runs a python3 script and returns its trimmed standard output, or nil when it fails.
func runPython(_ script: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
