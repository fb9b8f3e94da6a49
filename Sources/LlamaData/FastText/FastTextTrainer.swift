import Foundation
import LlamaCore
import Synchronization

/// Supervised fastText training (src/fasttext.cc `train`, `trainThread`, `supervised`;
/// src/model.cc `update`; src/loss.cc): the input text is read once into a dictionary as
/// fastText's `readFromFile` builds it, every line becomes (input rows, labels), and
/// `args.threads` threads run SGD over disjoint starting points of the lines without locks
/// (Hogwild), with the learning rate decaying linearly to zero over `epoch` passes counted in
/// tokens. Each example: hidden = mean of its input rows; the loss (softmax, hierarchical
/// softmax or one-vs-all) updates the output rows and accumulates the gradient of the hidden
/// vector, which divided by the number of rows is added to each input row.
public enum FastTextTrainer {
    /// Trains on `inputPath` (one example a line, labels are tokens starting with
    /// `args.labelPrefix`). `progress` receives the fraction done and the learning rate.
    public static func train(inputPath: String, args requested: FastTextArgs,
                             progress: ((Double, Double) -> Void)? = nil) throws -> FastTextModel {
        guard let data = FileManager.default.contents(atPath: inputPath) else {
            throw DataError.fileNotFound(path: inputPath)
        }
        return try train(text: [UInt8](data), args: requested, path: inputPath, progress: progress)
    }

    /// Trains on the lines of `text` (see `train(inputPath:args:progress:)`).
    public static func train(text: [UInt8], args requested: FastTextArgs, path: String = "<memory>",
                             progress: ((Double, Double) -> Void)? = nil) throws -> FastTextModel {
        var args = requested
        args.model = .supervised
        args.normalizeBucket()
        guard args.dim > 0, args.epoch > 0, args.threads > 0, args.learningRate > 0 else {
            throw DataError.invalidFastTextTraining(path: path, reason: "dim, epoch, thread and lr must be positive")
        }
        guard args.loss != .negativeSampling else {
            throw DataError.invalidFastTextTraining(path: path, reason: "-loss ns is not supported; use softmax, hs or ova")
        }
        guard args.maxn == 0 || (args.minn > 0 && args.minn <= args.maxn) else {
            throw DataError.invalidFastTextTraining(path: path, reason: "need 0 < minn <= maxn (or maxn 0)")
        }
        let dictionary = try buildDictionary(text, args: args, path: path)
        let examples = FastTextExamples(text: text, dictionary: dictionary)
        guard examples.count > 0 else {
            throw DataError.invalidFastTextTraining(path: path, reason: "no line has both a label and words")
        }
        let input = FastTextDenseMatrix(rows: dictionary.wordCount + args.bucket, columns: args.dim)
        initialize(input, bound: 1 / Float(args.dim), seed: UInt64(args.seed))
        let output = FastTextDenseMatrix(rows: dictionary.labelCount, columns: args.dim)
        let model = FastTextModel(path: path, args: args, dictionary: dictionary, input: .dense(input),
                                  output: .dense(output))
        let state = SharedProgress()
        let totalTokens = Int64(args.epoch) * dictionary.tokenCount
        let threadCount = args.threads
        DispatchQueue.concurrentPerform(iterations: threadCount) { thread in
            var worker = FastTextWorker(model: model, input: input, output: output,
                                        seed: UInt64(args.seed + thread))
            var index = thread * examples.count / threadCount
            var localTokens: Int64 = 0
            var reported = 0
            while true {
                let done = state.tokens.load(ordering: .relaxed)
                if done >= totalTokens { break }
                let fraction = Float(done) / Float(totalTokens)
                let rate = Float(args.learningRate) * (1 - fraction)
                let example = examples[index]
                index = index + 1 == examples.count ? 0 : index + 1
                localTokens += Int64(example.tokens)
                worker.update(rows: example.rows, labels: example.labels, learningRate: rate)
                if localTokens > Int64(args.lrUpdateRate) {
                    state.tokens.add(localTokens, ordering: .relaxed)
                    localTokens = 0
                    if thread == 0, let progress {
                        reported += 1
                        if reported % 1000 == 0 { progress(Double(fraction), Double(rate)) }
                    }
                }
            }
        }
        return model
    }

    /// fastText's DenseMatrix::uniform, with our own seeded generator: U(-bound, bound).
    private static func initialize(_ matrix: FastTextDenseMatrix, bound: Float, seed: UInt64) {
        let count = matrix.rows * matrix.columns
        let blocks = 16
        DispatchQueue.concurrentPerform(iterations: blocks) { block in
            var generator = SeededGenerator(seed: seed &* 1000 &+ UInt64(block))
            let start = block * count / blocks, end = (block + 1) * count / blocks
            for index in start..<end { matrix.values[index] = (generator.nextFloat() * 2 - 1) * bound }
        }
    }

    /// Counts every token (fastText readFromFile: a newline is the token `</s>`), keeps words
    /// seen `minCount` times and labels seen `minCountLabel` times, words first, each kind by
    /// descending count (ties: first seen first).
    static func buildDictionary(_ text: [UInt8], args: FastTextArgs, path: String) throws -> FastTextDictionary {
        var indexOf: [ArraySlice<UInt8>: Int] = [:]
        var entries: [(bytes: ArraySlice<UInt8>, count: Int64)] = []
        var tokens: Int64 = 0
        let eos = ArraySlice(FastTextDictionary.endOfSentence)
        func add(_ token: ArraySlice<UInt8>) {
            tokens += 1
            if let index = indexOf[token] {
                entries[index].count += 1
            } else {
                indexOf[token] = entries.count
                entries.append((token, 1))
            }
        }
        var position = 0
        let end = text.count
        while position < end {
            let byte = text[position]
            if byte == 0x0A {
                add(eos)
                position += 1
            } else if byte == 0x20 || byte == 0x0D || byte == 0x09 || byte == 0x0B || byte == 0x0C || byte == 0 {
                position += 1
            } else {
                let start = position
                while position < end {
                    let c = text[position]
                    if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 || c == 0x0B || c == 0x0C || c == 0 { break }
                    position += 1
                }
                add(text[start..<position])
            }
        }
        var dictionary = FastTextDictionary(args: args)
        let prefix = Array(args.labelPrefix.utf8)
        func isLabel(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.starts(with: prefix) }
        let order = entries.indices.sorted { a, b in
            let labelA = isLabel(entries[a].bytes), labelB = isLabel(entries[b].bytes)
            if labelA != labelB { return !labelA }
            if entries[a].count != entries[b].count { return entries[a].count > entries[b].count }
            return a < b
        }
        for index in order {
            let entry = entries[index]
            let label = isLabel(entry.bytes)
            if entry.count < Int64(label ? args.minCountLabel : args.minCount) { continue }
            dictionary.append(Array(entry.bytes), count: entry.count, isLabel: label)
        }
        dictionary.tokenCount = tokens
        guard dictionary.labelCount > 0 else {
            throw DataError.invalidFastTextTraining(path: path, reason: "no labels starting with \(args.labelPrefix)")
        }
        dictionary.finish()
        return dictionary
    }
}

/// Tokens consumed by all threads, the clock of the learning-rate schedule.
private final class SharedProgress: Sendable {
    let tokens = Atomic<Int64>(0)
}

/// Every line of the training text as input rows and label ids (flat).
struct FastTextExamples: @unchecked Sendable {
    private var rows: [Int32] = []
    private var labels: [Int32] = []
    /// Per example: end of its rows, end of its labels, tokens read.
    private var bounds: [(rowEnd: Int, labelEnd: Int, tokens: Int)] = []

    init(text: [UInt8], dictionary: FastTextDictionary) {
        var lineRows: [Int32] = [], lineLabels: [Int32] = []
        text.withUnsafeBufferPointer { buffer in
            var position = 0
            var pendingTokens = 0
            while position < buffer.count {
                lineRows.removeAll(keepingCapacity: true)
                lineLabels.removeAll(keepingCapacity: true)
                pendingTokens += dictionary.readLine(buffer, position: &position, newlineEndsLine: true,
                                                     rows: &lineRows, labels: &lineLabels)
                // fastText counts the tokens of lines it cannot learn from as well.
                guard !lineRows.isEmpty, !lineLabels.isEmpty else { continue }
                rows.append(contentsOf: lineRows)
                labels.append(contentsOf: lineLabels)
                bounds.append((rows.count, labels.count, pendingTokens))
                pendingTokens = 0
            }
        }
    }

    var count: Int { bounds.count }

    subscript(index: Int) -> (rows: ArraySlice<Int32>, labels: ArraySlice<Int32>, tokens: Int) {
        let rowStart = index == 0 ? 0 : bounds[index - 1].rowEnd
        let labelStart = index == 0 ? 0 : bounds[index - 1].labelEnd
        return (rows[rowStart..<bounds[index].rowEnd], labels[labelStart..<bounds[index].labelEnd],
                bounds[index].tokens)
    }
}
