/// The loss a fastText model was trained with (fastText's `loss_name`, values as stored).
public enum FastTextLoss: Int32, Sendable, CaseIterable {
    case hierarchicalSoftmax = 1, negativeSampling = 2, softmax = 3, oneVersusAll = 4

    /// fastText's command-line spelling (`-loss hs|ns|softmax|ova`).
    public init?(name: String) {
        switch name {
        case "hs": self = .hierarchicalSoftmax
        case "ns": self = .negativeSampling
        case "softmax": self = .softmax
        case "ova", "one-vs-all": self = .oneVersusAll
        default: return nil
        }
    }
}

/// The model kind (fastText's `model_name`): only supervised models predict labels.
public enum FastTextModelKind: Int32, Sendable {
    case cbow = 1, skipgram = 2, supervised = 3
}

/// The hyper-parameters stored at the head of a fastText model (fastText `Args::save`), plus
/// the training-only options that are not stored.
public struct FastTextArgs: Sendable, Equatable {
    /// Width of the input and output rows.
    public var dim = 100
    public var windowSize = 5
    public var epoch = 5
    public var minCount = 1
    public var negatives = 5
    /// Longest word n-gram (1: words only).
    public var wordNgrams = 1
    public var loss: FastTextLoss = .softmax
    public var model: FastTextModelKind = .supervised
    /// Rows of the hashed n-gram table (0 when neither char nor word n-grams are used).
    public var bucket = 2_000_000
    /// Character n-gram lengths (in UTF-8 characters); maxn 0 disables them.
    public var minn = 0
    public var maxn = 0
    public var lrUpdateRate = 100
    /// Sub-sampling threshold (unsupervised models only).
    public var samplingThreshold = 1e-4

    // Training-only, not stored in the file.
    public var learningRate = 0.1
    public var threads = 2
    public var labelPrefix = "__label__"
    public var seed = 0
    public var minCountLabel = 0

    /// fastText's defaults for `fasttext supervised`.
    public init() {}

    /// fastText's rule: without word or character n-grams no bucket rows are allocated.
    public mutating func normalizeBucket() {
        if wordNgrams <= 1 && maxn == 0 { bucket = 0 }
    }

    static func read(_ reader: inout FastTextBinaryReader) throws -> FastTextArgs {
        var args = FastTextArgs()
        func positive(_ value: Int32, _ field: String, allowZero: Bool = false) throws -> Int {
            guard value > 0 || (allowZero && value == 0) else {
                throw reader.failure("args.\(field) is \(value)", at: reader.offset - 4)
            }
            return Int(value)
        }
        args.dim = try positive(try reader.int32("args.dim"), "dim")
        args.windowSize = Int(try reader.int32("args.ws"))
        args.epoch = Int(try reader.int32("args.epoch"))
        args.minCount = Int(try reader.int32("args.minCount"))
        args.negatives = Int(try reader.int32("args.neg"))
        args.wordNgrams = Int(try reader.int32("args.wordNgrams"))
        let lossValue = try reader.int32("args.loss")
        guard let loss = FastTextLoss(rawValue: lossValue) else {
            throw reader.failure("unknown loss \(lossValue)", at: reader.offset - 4)
        }
        args.loss = loss
        let modelValue = try reader.int32("args.model")
        guard let model = FastTextModelKind(rawValue: modelValue) else {
            throw reader.failure("unknown model kind \(modelValue)", at: reader.offset - 4)
        }
        args.model = model
        args.bucket = try positive(try reader.int32("args.bucket"), "bucket", allowZero: true)
        args.minn = Int(try reader.int32("args.minn"))
        args.maxn = Int(try reader.int32("args.maxn"))
        args.lrUpdateRate = Int(try reader.int32("args.lrUpdateRate"))
        args.samplingThreshold = try reader.double("args.t")
        return args
    }

    func write(_ writer: inout FastTextBinaryWriter) {
        for value in [dim, windowSize, epoch, minCount, negatives, wordNgrams] { writer.int32(Int32(value)) }
        writer.int32(loss.rawValue)
        writer.int32(model.rawValue)
        for value in [bucket, minn, maxn, lrUpdateRate] { writer.int32(Int32(value)) }
        writer.double(samplingThreshold)
    }
}
