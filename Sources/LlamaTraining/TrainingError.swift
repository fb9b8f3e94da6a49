/// Errors of the training module; each names the file, field or step involved.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The model, optimizer state and activations would not fit in memory (checked before allocating).
    case doesNotFit(requiredBytes: Int, availableBytes: Int, detail: String)
    /// The loss (or the gradient norm) stopped being a finite number at `step`; the last
    /// good checkpoint, if any, is kept untouched.
    case nonFiniteLoss(step: Int, loss: Float, lastCheckpoint: String?)
    /// A token shard, manifest or `.bin` file that is missing or unreadable.
    case missingData(path: String, reason: String)
    /// A token shard or manifest whose content is invalid.
    case invalidData(path: String, field: String, reason: String)
    /// A checkpoint that cannot be resumed (missing file, damaged state, other model).
    case invalidCheckpoint(path: String, reason: String)
    /// A checkpoint made for a different model configuration than the one asked for.
    case configurationMismatch(path: String, field: String, checkpoint: String, requested: String)
    /// An option value that cannot work.
    case invalidOption(name: String, reason: String)

    public var description: String {
        switch self {
        case let .doesNotFit(required, available, detail):
            return "training needs about \(required >> 20) MiB but only \(available >> 20) MiB is available (\(detail)); "
                + "use a smaller model, batch or context, or --activation-checkpointing"
        case let .nonFiniteLoss(step, loss, last):
            return "loss became \(loss) at step \(step); stopped without saving. "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint had been written yet.")
        case let .missingData(path, reason): return "\(path): \(reason)"
        case let .invalidData(path, field, reason): return "\(path): field '\(field)': \(reason)"
        case let .invalidCheckpoint(path, reason): return "\(path): cannot resume: \(reason)"
        case let .configurationMismatch(path, field, checkpoint, requested):
            return "\(path): checkpoint was made with \(field) = \(checkpoint) but this run asks for \(requested); "
                + "use the checkpoint's configuration or a new --output directory"
        case let .invalidOption(name, reason): return "option \(name): \(reason)"
        }
    }
}
