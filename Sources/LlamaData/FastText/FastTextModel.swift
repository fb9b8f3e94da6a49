import Foundation

/// A supervised fastText model (`.bin`, or `.ftz` with product-quantized matrices) read from
/// the file format of fastText 0.9.2 (magic 793712314, version 12; src/fasttext.cc
/// `saveModel`/`loadModel`), predicting labels exactly as fastText does.
///
/// Layout: magic, version (int32); args (12 int32 + double t); dictionary (size, nwords,
/// nlabels int32, ntokens, pruneidx_size int64, entries as NUL-terminated word + int64 count +
/// int8 type, then pruneidx_size (bucket, row) int32 pairs); quant flag (byte); input matrix
/// (dense: int64 rows, int64 columns, floats; quantized: see `FastTextQuantizedMatrix`);
/// qout flag (byte); output matrix.
///
/// The model is immutable after loading: `predict` keeps its scratch space on the stack of
/// the caller, so one model can serve many threads at once.
public final class FastTextModel: @unchecked Sendable {
    static let magic: Int32 = 793_712_314
    static let version: Int32 = 12

    /// The file the model was read from (or will be written to).
    public let path: String
    public let args: FastTextArgs
    let dictionary: FastTextDictionary
    /// (words + buckets, dim)
    let input: FastTextMatrix
    /// (labels, dim)
    let output: FastTextMatrix
    /// Labels with their prefix (`__label__en`), by label id.
    public let labels: [String]
    let tree: FastTextHuffmanTree?

    /// Whether the input matrix is product-quantized (an `.ftz` model).
    public var isQuantized: Bool {
        if case .quantized = input { return true }
        return false
    }

    /// Number of words in the vocabulary.
    public var wordCount: Int { dictionary.wordCount }

    init(path: String, args: FastTextArgs, dictionary: FastTextDictionary, input: FastTextMatrix,
         output: FastTextMatrix) {
        self.path = path
        self.args = args
        self.dictionary = dictionary
        self.input = input
        self.output = output
        labels = (0..<dictionary.labelCount).map {
            String(decoding: dictionary.entry(dictionary.wordCount + $0), as: UTF8.self)
        }
        tree = args.loss == .hierarchicalSoftmax
            ? FastTextHuffmanTree(counts: Array(dictionary.counts[dictionary.wordCount...])) : nil
    }

    /// Reads a `.bin` or `.ftz` model; a truncated or inconsistent file throws
    /// `DataError.invalidFastTextModel` naming the file, the byte offset and the problem.
    public static func load(path: String) throws -> FastTextModel {
        var reader = try FastTextBinaryReader(path: path)
        let magicValue = try reader.int32("magic number")
        guard magicValue == magic else {
            throw reader.failure("magic number \(magicValue), expected \(magic) (not a fastText model)", at: 0)
        }
        let versionValue = try reader.int32("version")
        guard versionValue == version || versionValue == 11 else {
            throw reader.failure("format version \(versionValue), expected \(version)", at: 4)
        }
        var args = try FastTextArgs.read(&reader)
        // fastText: version 11 supervised models did not use character n-grams.
        if versionValue == 11 && args.model == .supervised { args.maxn = 0 }
        guard args.model == .supervised else {
            throw reader.failure("model kind \(args.model) is not supervised: it has no labels to predict")
        }
        let dictionary = try readDictionary(&reader, args: args)
        let quantizedInput = try reader.bool("input quantization flag")
        let input: FastTextMatrix = quantizedInput
            ? .quantized(try FastTextQuantizedMatrix.read(&reader, name: "input"))
            : .dense(try FastTextDenseMatrix.read(&reader, name: "input"))
        if !quantizedInput && dictionary.pruneIndex != nil {
            throw reader.failure("pruned dictionary with an unquantized input matrix (fastText issue #332)")
        }
        let quantizedOutput = try reader.bool("output quantization flag")
        let output: FastTextMatrix = quantizedInput && quantizedOutput
            ? .quantized(try FastTextQuantizedMatrix.read(&reader, name: "output"))
            : .dense(try FastTextDenseMatrix.read(&reader, name: "output"))
        guard reader.remaining == 0 else { throw reader.failure("\(reader.remaining) unexpected bytes after the model") }
        let neededRows = dictionary.wordCount
            + (dictionary.pruneIndex?.rowCount ?? args.bucket)
        guard input.columns == args.dim, output.columns == args.dim else {
            throw reader.failure("matrix widths \(input.columns), \(output.columns) differ from dim \(args.dim)")
        }
        guard input.rows >= neededRows else {
            throw reader.failure("input matrix has \(input.rows) rows, \(neededRows) needed (words + buckets)")
        }
        guard output.rows == dictionary.labelCount, dictionary.labelCount > 0 else {
            throw reader.failure("output matrix has \(output.rows) rows for \(dictionary.labelCount) labels")
        }
        return FastTextModel(path: path, args: args, dictionary: dictionary, input: input, output: output)
    }

    private static func readDictionary(_ reader: inout FastTextBinaryReader, args: FastTextArgs) throws
        -> FastTextDictionary {
        let start = reader.offset
        let size = Int(try reader.int32("dictionary size"))
        let words = Int(try reader.int32("dictionary nwords"))
        let labelCount = Int(try reader.int32("dictionary nlabels"))
        let tokens = try reader.int64("dictionary ntokens")
        let pruneSize = try reader.int64("dictionary pruneidx_size")
        guard size >= 0, words >= 0, labelCount >= 0, words + labelCount == size, pruneSize >= -1,
              pruneSize <= Int64(Int32.max) else {
            throw reader.failure("dictionary header size \(size), nwords \(words), nlabels \(labelCount), "
                                 + "pruneidx_size \(pruneSize) is inconsistent", at: start)
        }
        var dictionary = FastTextDictionary(args: args)
        dictionary.tokenCount = tokens
        for index in 0..<size {
            let entryStart = reader.offset
            let word = try reader.cString("dictionary entry \(index)")
            let count = try reader.int64("count of dictionary entry \(index)")
            let type = try reader.byte("type of dictionary entry \(index)")
            guard type <= 1, (type == 1) == (index >= words) else {
                throw reader.failure("dictionary entry \(index) has type \(type); words must come before labels",
                                     at: entryStart)
            }
            dictionary.append(word, count: count, isLabel: type == 1)
        }
        if pruneSize >= 0 {
            var pairs: [(Int32, Int32)] = []
            pairs.reserveCapacity(Int(pruneSize))
            for _ in 0..<pruneSize {
                let bucket = try reader.int32("prune index bucket"), row = try reader.int32("prune index row")
                guard bucket >= 0, row >= 0 else { throw reader.failure("negative prune index entry", at: reader.offset - 8) }
                pairs.append((bucket, row))
            }
            dictionary.setPruneIndex(pairs)
        }
        dictionary.finish()
        return dictionary
    }

    // MARK: Prediction

    /// The `k` most probable labels of `text` read as one line (newlines count as spaces and
    /// `</s>` ends it, as fastText's Python `predict`), those with probability ≥ `threshold`,
    /// most probable first (k -1: all labels). Labels keep their prefix (`__label__en`). Probabilities are those
    /// fastText reports (exp of its log(p + 1e-5)).
    public func predict(_ text: String, k: Int, threshold: Float) -> [(label: String, probability: Float)] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var position = 0
            var rows: [Int32] = [], labelIds: [Int32] = []
            _ = dictionary.readLine(UnsafeBufferPointer(buffer), position: &position, newlineEndsLine: false,
                                    rows: &rows, labels: &labelIds)
            return predict(rows: rows, k: k, threshold: threshold).map { (labels[$0.label], $0.probability) }
        }
    }

    /// Predictions for every line of `bytes` as `fasttext predict` reads a file: one result
    /// per line (a line ends at a newline or a literal `</s>`).
    public func predictLines(_ bytes: UnsafeBufferPointer<UInt8>, k: Int, threshold: Float,
                             _ body: ([(label: Int, probability: Float)]) -> Void) {
        var position = 0
        var rows: [Int32] = [], labelIds: [Int32] = []
        while position < bytes.count {
            rows.removeAll(keepingCapacity: true)
            _ = dictionary.readLine(bytes, position: &position, newlineEndsLine: true, rows: &rows, labels: &labelIds)
            body(predict(rows: rows, k: k, threshold: threshold))
        }
    }

    /// Top-k of the input rows' average (fastText FastText::predict; empty for no rows).
    func predict(rows: [Int32], k requested: Int, threshold: Float) -> [(label: Int, probability: Float)] {
        // fastText: k -1 means every label.
        let k = requested == -1 ? labels.count : requested
        guard !rows.isEmpty, k > 0 else { return [] }
        let dim = args.dim
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: dim + labels.count) { scratch in
            guard let hidden = scratch.baseAddress else { return [] }
            input.average(rows: rows, into: hidden)
            var best = FastTextTopK(k: k)
            if let tree {
                tree.search(k: k, threshold: threshold, hidden: hidden, output: output, into: &best)
            } else {
                let scores = hidden + dim
                computeOutput(hidden: hidden, into: scores)
                for label in 0..<labels.count where scores[label] >= threshold {
                    best.offer(score: FastTextTopK.stdLog(scores[label]), label: label)
                }
            }
            return best.sorted.map { (label: $0.label, probability: Float(exp($0.score))) }
        }
    }

    /// The output layer: softmax (fastText SoftmaxLoss::computeOutput) or a sigmoid per label
    /// through fastText's lookup table (one-vs-all and negative sampling).
    func computeOutput(hidden: UnsafePointer<Float>, into scores: UnsafeMutablePointer<Float>) {
        let count = labels.count
        for label in 0..<count { scores[label] = output.dot(row: label, hidden) }
        if args.loss == .softmax {
            var maximum = scores[0]
            for label in 0..<count { maximum = max(scores[label], maximum) }
            var total: Float = 0
            for label in 0..<count {
                scores[label] = exp(scores[label] - maximum)
                total += scores[label]
            }
            for label in 0..<count { scores[label] /= total }
        } else {
            for label in 0..<count { scores[label] = FastTextSigmoid.value(scores[label]) }
        }
    }
}
