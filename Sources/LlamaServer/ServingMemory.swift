/// How many positions each of `llama serve`'s sequences gets, so that the KV cache (one full
/// context per slot, allocated and zeroed at start) fits in memory: a 7B model with 8 slots of
/// 4096 positions would need 17 GB of cache alone.
public enum ServingMemory {
    /// A cache that cannot fit, with what it needs and what there is.
    public struct TooLarge: Error, CustomStringConvertible {
        public let description: String
    }

    /// Largest default context per sequence (llama.cpp's server defaults to 4096 too).
    public static let defaultContextLimit = 4096

    /// The context per sequence, and a note when the default was lowered to fit.
    ///
    /// - requested: `--context`, or nil for the default (the model's, at most 4096).
    /// - bytesPerPosition: KV cache bytes one position of one sequence takes (all layers, keys and values).
    /// - budget: bytes the cache may take (the caller's share of physical memory after the weights).
    /// Throws `TooLarge` when an explicit `--context` does not fit for all slots, or not even 256
    /// positions per slot do.
    public static func context(requested: Int?, modelContext: Int, slots: Int, bytesPerPosition: Int,
                               budget: Int) throws -> (context: Int, note: String?) {
        let gigabytes = { (bytes: Int) in (Double(bytes) / 1e9 * 10).rounded() / 10 }
        if let requested {
            let context = min(requested, modelContext)
            let bytes = slots * context * bytesPerPosition
            guard bytes <= budget else {
                throw TooLarge(description: "\(slots) sequences of \(context) positions need a \(gigabytes(bytes)) GB KV cache;"
                                         + " \(gigabytes(max(budget, 0))) GB are available: lower --context or --slots")
            }
            return (context, nil)
        }
        let wanted = min(modelContext, defaultContextLimit)
        let fitting = max(budget, 0) / max(slots * bytesPerPosition, 1) / 256 * 256
        guard fitting < wanted else { return (wanted, nil) }
        guard fitting >= 256 else {
            throw TooLarge(description: "\(slots) sequences do not fit a KV cache of 256 positions each in the"
                                     + " \(gigabytes(max(budget, 0))) GB available: lower --slots")
        }
        return (fitting, "context per sequence lowered to \(fitting) positions (\(wanted) wanted) so that the KV cache"
                + " (\(gigabytes(slots * fitting * bytesPerPosition)) GB for \(slots) sequences) fits in memory; --context and --slots choose")
    }
}
