import ArgumentParser
import Dispatch
import Foundation
import LlamaData

/// `llama data langid`: fastText language identification (predict like `fasttext
/// predict[-prob]`, train supervised models, benchmark against the fasttext package).
struct DataLangIdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "langid",
        abstract: "Predict with and train fastText supervised models (.bin, .ftz), as the fasttext tool does.",
        subcommands: [DataLangIdPredictCommand.self, DataLangIdPredictProbCommand.self, DataLangIdTrainCommand.self,
                      DataLangIdBenchCommand.self])
}

/// The bytes of FILE, or of standard input for `-`.
func readInputBytes(_ path: String) throws -> [UInt8] {
    if path == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
    return [UInt8](data)
}

/// Prints one line per input line as fastText's printPredictions: `label[ prob]` pairs
/// separated by spaces, probabilities as C++ `std::cout << float` (%g, 6 digits).
func printPredictions(model: FastTextModel, input: String, k: Int, threshold: Float, probabilities: Bool) throws {
    let bytes = try readInputBytes(input)
    var output = ""
    bytes.withUnsafeBufferPointer { buffer in
        model.predictLines(buffer, k: k, threshold: threshold) { predictions in
            var first = true
            for prediction in predictions {
                if !first { output += " " }
                first = false
                output += model.labels[prediction.label]
                if probabilities { output += " " + String(format: "%g", Double(prediction.probability)) }
            }
            output += "\n"
            if output.utf8.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(output.utf8))
                output = ""
            }
        }
    }
    FileHandle.standardOutput.write(Data(output.utf8))
}

/// The positional arguments of `fasttext predict` / `predict-prob`.
struct PredictionArguments: ParsableArguments {
    @Argument(help: "Model (.bin or .ftz).") var model: String
    @Argument(help: "Text file, one example a line ('-': stdin).") var input: String
    @Argument(help: "Number of labels.") var k = 1
    @Argument(help: "Minimum probability.") var threshold: Float = 0

    func print(probabilities: Bool) throws {
        try printPredictions(model: try FastTextModel.load(path: model), input: input, k: k, threshold: threshold,
                             probabilities: probabilities)
    }
}

struct DataLangIdPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Print the k most likely labels of each line (fasttext predict).")

    @OptionGroup var arguments: PredictionArguments

    func run() throws {
        try arguments.print(probabilities: false)
    }
}

struct DataLangIdPredictProbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict-prob",
        abstract: "Print the k most likely labels of each line with their probabilities (fasttext predict-prob).")

    @OptionGroup var arguments: PredictionArguments

    func run() throws {
        try arguments.print(probabilities: true)
    }
}

/// fastText's supervised training options, with its single-dash spellings.
struct FastTextTrainingOptions: ParsableArguments {
    @Option(name: [.customLong("dim", withSingleDash: true), .customLong("dim")], help: "Vector size.")
    var dim = 100
    @Option(name: [.customLong("epoch", withSingleDash: true), .customLong("epoch")], help: "Passes over the data.")
    var epoch = 5
    @Option(name: [.customLong("lr", withSingleDash: true), .customLong("lr")], help: "Learning rate.")
    var lr = 0.1
    @Option(name: [.customLong("wordNgrams", withSingleDash: true), .customLong("word-ngrams")],
            help: "Longest word n-gram.")
    var wordNgrams = 1
    @Option(name: [.customLong("minn", withSingleDash: true), .customLong("minn")], help: "Shortest char n-gram.")
    var minn = 0
    @Option(name: [.customLong("maxn", withSingleDash: true), .customLong("maxn")], help: "Longest char n-gram (0: none).")
    var maxn = 0
    @Option(name: [.customLong("bucket", withSingleDash: true), .customLong("bucket")], help: "Hashed n-gram rows.")
    var bucket = 2_000_000
    @Option(name: [.customLong("minCount", withSingleDash: true), .customLong("min-count")],
            help: "Minimal word count.")
    var minCount = 1
    @Option(name: [.customLong("loss", withSingleDash: true), .customLong("loss")], help: "softmax, hs or ova.")
    var loss = "softmax"
    @Option(name: [.customLong("thread", withSingleDash: true), .customLong("thread")], help: "Training threads.")
    var thread = 2
    @Option(name: [.customLong("lrUpdateRate", withSingleDash: true), .customLong("lr-update-rate")],
            help: "Tokens between learning-rate updates.")
    var lrUpdateRate = 100
    @Option(name: [.customLong("label", withSingleDash: true), .customLong("label")], help: "Label prefix.")
    var label = "__label__"
    @Option(name: [.customLong("seed", withSingleDash: true), .customLong("seed")], help: "Random seed.")
    var seed = 0

    func arguments() throws -> FastTextArgs {
        guard let lossValue = FastTextLoss(name: loss) else { throw ValidationError("unknown -loss \(loss)") }
        var args = FastTextArgs()
        args.dim = dim
        args.epoch = epoch
        args.learningRate = lr
        args.wordNgrams = wordNgrams
        args.minn = minn
        args.maxn = maxn
        args.bucket = bucket
        args.minCount = minCount
        args.loss = lossValue
        args.threads = thread
        args.lrUpdateRate = lrUpdateRate
        args.labelPrefix = label
        args.seed = seed
        return args
    }
}

struct DataLangIdTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a supervised classifier as `fasttext supervised` and save a .bin.")

    @Option(name: [.customLong("input"), .customLong("input", withSingleDash: true)],
            help: "Training text: one example a line, labels as __label__X tokens.")
    var input: String
    @Option(name: [.customLong("output"), .customLong("output", withSingleDash: true)], help: "Model file to write.")
    var output: String
    @OptionGroup var options: FastTextTrainingOptions

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let model = try FastTextTrainer.train(inputPath: input, args: try options.arguments()) { fraction, rate in
            ShardLoop.log(String(format: "progress %5.1f%%  lr %.6f", fraction * 100, rate))
        }
        try model.save(to: output)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "%d words, %d labels; trained in %.2f s; wrote %@", model.wordCount, model.labels.count,
                     seconds, output))
    }
}
