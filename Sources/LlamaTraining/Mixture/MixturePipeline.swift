import Dispatch
import Foundation
import LlamaCore
import LlamaData

/// What the mixture step did for one source; saved as `NAME/mix.json` (written last, so its
/// presence marks the source complete) and collected in `mixture.json`.
public struct MixtureSourceResult: Codable, Equatable, Sendable {
    public var name: String
    /// Normalised weight and configured epochs.
    public var weight: Double
    public var epochsConfigured: Double
    /// Passes actually planned: `epochs`, or `weight × total_tokens / source_tokens`.
    public var epochsPlanned: Double
    /// Valid documents in the source (one pass) and their tokens with BOS/EOS, when counted.
    public var sourceDocuments: Int
    public var sourceTokens: Int?
    /// Documents and token ids written to the shards.
    public var documents: Int
    public var tokens: Int
    /// Lines skipped: not JSON objects, not UTF-8, without a non-empty text field; read errors
    /// (a truncated .gz file: what came before was kept).
    public var skippedInvalidJSON: Int
    public var skippedInvalidUTF8: Int
    public var skippedNoText: Int
    public var readErrors: Int

    enum CodingKeys: String, CodingKey {
        case name, weight, documents, tokens
        case epochsConfigured = "epochs_configured"
        case epochsPlanned = "epochs_planned"
        case sourceDocuments = "source_documents"
        case sourceTokens = "source_tokens"
        case skippedInvalidJSON = "skipped_invalid_json"
        case skippedInvalidUTF8 = "skipped_invalid_utf8"
        case skippedNoText = "skipped_no_text"
        case readErrors = "read_errors"
    }
}

/// Cleaned JSONL documents of the mixture's sources → token shards (docs/token-shards.md),
/// one folder per source, as the paper's Table 1 mixes them.
///
/// Epochs: pass `p < ⌊e⌋` writes every document in input order; the last, partial pass
/// writes each document with probability `e − ⌊e⌋`, decided by a hash of (seed, source,
/// pass, document index) — so the choice does not depend on threads, batches or restarts.
/// With `total_tokens` a first pass counts the source's tokens and `e = weight × total /
/// source tokens`. Documents are tokenised on every core (`OrderedBatches`) and written in
/// order. After every shard `progress.json` records the shards written and the documents
/// they hold; a rerun skips that many documents and continues with the next shard.
public enum MixturePipeline {
    /// Runs the sources of `configuration` that belong to `share` (round-robin over the list)
    /// into `directory/NAME/`, skipping finished ones; writes `directory/mixture.json` once
    /// every source is complete. Returns the results of the complete sources.
    @discardableResult
    public static func run(configuration: MixtureConfiguration, tokenizer: TextTokenizer, directory: String,
                           share: WorkShare = .everything, log: ((String) -> Void)? = nil,
                           bar: ProgressBar? = nil) throws -> [MixtureSourceResult] {
        let sources = try configuration.resolved()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for source in share.select(sources) {
            let folder = directory + "/" + source.name
            if FileManager.default.fileExists(atPath: folder + "/mix.json") {
                log?("mix \(source.name): complete in an earlier run, skipped")
                continue
            }
            bar?.label = "mix \(source.name)"
            let result = try runSource(source, configuration: configuration, tokenizer: tokenizer, folder: folder, log: log,
                                       bar: bar)
            log?(String(format: "mix %@: %d documents, %d tokens, %.2f epochs", source.name, result.documents,
                        result.tokens, result.epochsPlanned))
        }
        let results = sources.compactMap { loadResult(folder: directory + "/" + $0.name) }
        if results.count == sources.count { try writeSummary(results, to: directory + "/mixture.json") }
        return results
    }

    /// The saved result of a finished source folder.
    public static func loadResult(folder: String) -> MixtureSourceResult? {
        FileManager.default.contents(atPath: folder + "/mix.json").flatMap { try? JSONDecoder().decode(MixtureSourceResult.self, from: $0) }
    }

    /// Writes `mixture.json`: every source's result, in configuration order.
    public static func writeSummary(_ results: [MixtureSourceResult], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(path: path, data: try encoder.encode(["sources": results]))
    }

    /// Progress of an interrupted source.
    struct Progress: Codable {
        var settings: String
        var sourceTokens: Int?
        var written: TokenShardManifest?
    }

    /// What must not change between a run and its resumption.
    static func settingsKey(_ source: ResolvedMixtureSource, configuration: MixtureConfiguration, tokenizer: TextTokenizer) -> String {
        "seed \(configuration.seed ?? 1); files \(source.files); field \(source.field ?? "text|raw_content"); weight \(source.weight); "
            + "epochs \(source.epochs); total \(configuration.totalTokens ?? -1); shard \(configuration.shardTokens ?? 0); "
            + "vocabulary \(tokenizer.vocabularySize)"
    }

    static func runSource(_ source: ResolvedMixtureSource, configuration: MixtureConfiguration, tokenizer: TextTokenizer,
                          folder: String, log: ((String) -> Void)?, bar: ProgressBar?) throws -> MixtureSourceResult {
        // The bar's total grows by the source's size for each pass over it, as passes are decided.
        let sourceBytes = bar == nil ? 0 : ProgressBar.size(of: source.files)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let seed = configuration.seed ?? 1
        let settings = settingsKey(source, configuration: configuration, tokenizer: tokenizer)
        let progressPath = folder + "/progress.json"
        var progress = Progress(settings: settings)
        if let data = FileManager.default.contents(atPath: progressPath) {
            guard let saved = try? JSONDecoder().decode(Progress.self, from: data) else {
                throw DataError.invalidFile(path: progressPath, reason: "unreadable progress record; delete the folder to start over")
            }
            guard saved.settings == settings else {
                throw DataError.invalidConfiguration(path: folder, reason: "holds a run with other settings (\(saved.settings)); delete it or choose another output")
            }
            progress = saved
        }
        let saveProgress = { (progress: Progress) in
            try AtomicFile.write(path: progressPath, data: try JSONEncoder().encode(progress))
        }
        var result = MixtureSourceResult(name: source.name, weight: source.weight, epochsConfigured: source.epochs,
                                         epochsPlanned: source.epochs, sourceDocuments: 0, sourceTokens: progress.sourceTokens,
                                         documents: 0, tokens: 0, skippedInvalidJSON: 0, skippedInvalidUTF8: 0,
                                         skippedNoText: 0, readErrors: 0)
        if let total = configuration.totalTokens {
            if progress.sourceTokens == nil {
                bar?.expect(bytes: sourceBytes)
                var counted = 0
                let counter = OrderedBatches<String, Int>(batchSize: 512, transform: { tokenizer.encode($0).count + 2 },
                                                          consume: { counted += $0 })
                _ = try MixtureDocuments.forEach(source: source, log: log, stage: "count") { _, text in try counter.add(text) }
                try counter.finish()
                progress.sourceTokens = counted
                try saveProgress(progress)
            }
            let sourceTokens = progress.sourceTokens ?? 0
            result.sourceTokens = sourceTokens
            result.epochsPlanned = sourceTokens > 0 ? source.weight * Double(total) / Double(sourceTokens) : 0
        }
        let writer = try TokenShardWriter(directory: folder, source: source.name, vocabularySize: tokenizer.vocabularySize,
                                          bosId: tokenizer.bosId, eosId: tokenizer.eosId,
                                          shardTokens: configuration.shardTokens ?? 100_000_000)
        if let written = progress.written {
            try writer.resume(from: written)
            log?("mix \(source.name): resuming after \(written.shards.count) shard(s), \(written.documents) documents")
        }
        let skip = progress.written?.documents ?? 0
        writer.shardWritten = { manifest in
            progress.written = manifest
            try saveProgress(progress)
        }
        let batches = OrderedBatches<String, [Int32]>(batchSize: 512, transform: { tokenizer.encode($0) },
                                                      consume: { try writer.append(document: $0) })
        let epochs = result.epochsPlanned
        let fullPasses = Int(epochs.rounded(.down)), fraction = epochs - Double(fullPasses)
        let passes = fraction > 0 ? fullPasses + 1 : fullPasses
        var streamPosition = 0
        bar?.expect(bytes: sourceBytes * max(passes, 1))
        for pass in 0..<max(passes, 1) {
            let counts = try MixtureDocuments.forEach(source: source, log: log, stage: "pass \(pass + 1)/\(passes)") { index, text in
                guard pass < passes else { return }
                if pass == fullPasses,
                   uniform(seed: seed, source: source.name, pass: pass, document: index) >= fraction { return }
                streamPosition += 1
                if streamPosition > skip { try batches.add(text) }
            }
            if pass == 0 {
                result.sourceDocuments = counts.documents
                result.skippedInvalidJSON = counts.invalidJSON
                result.skippedInvalidUTF8 = counts.invalidUTF8
                result.skippedNoText = counts.noText
                result.readErrors = counts.readErrors
            }
        }
        try batches.finish()
        let manifest = try writer.finish()
        result.documents = manifest.documents
        result.tokens = manifest.tokens
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(path: folder + "/mix.json", data: try encoder.encode(result))
        try? FileManager.default.removeItem(atPath: progressPath)
        return result
    }

    /// A uniform number in [0, 1) from (seed, source, pass, document): SplitMix64 (Steele et
    /// al. 2014) over the inputs, the source name hashed with FNV-1a 64.
    public static func uniform(seed: UInt64, source: String, pass: Int, document: Int) -> Double {
        var nameHash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in source.utf8 { nameHash = (nameHash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var state = splitMix(seed ^ nameHash)
        state = splitMix(state ^ UInt64(truncatingIfNeeded: pass))
        state = splitMix(state ^ UInt64(truncatingIfNeeded: document))
        return Double(state >> 11) / Double(UInt64(1) << 53)
    }

    private static func splitMix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Reading a source's documents: JSONL files in order, bad lines counted.
enum MixtureDocuments {
    struct Counts {
        var documents = 0, invalidJSON = 0, invalidUTF8 = 0, noText = 0, readErrors = 0
    }

    /// Calls `body(documentIndex, text)` for every document with a non-empty text field.
    static func forEach(source: ResolvedMixtureSource, log: ((String) -> Void)?, stage: String,
                        _ body: (Int, String) throws -> Void) throws -> Counts {
        var counts = Counts()
        var bytes = 0, lastReport = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for file in source.files {
            let warnings = try JSONLReader.forEachObject(in: try InputFile.open(file)) { object, length in
                bytes += length
                let value = source.field.map { object[$0] } ?? (object["text"] ?? object["raw_content"])
                guard let text = value as? String, !text.isEmpty else {
                    counts.noText += 1
                    return
                }
                try body(counts.documents, text)
                counts.documents += 1
                if bytes - lastReport >= 64 << 20, let log {
                    lastReport = bytes
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    log(String(format: "mix %@ %@: %.1f MB, %d documents, %.1f MB/s", source.name, stage,
                               Double(bytes) / 1e6, counts.documents, Double(bytes) / 1e6 / max(seconds, 1e-9)))
                }
            }
            for warning in warnings {
                switch warning {
                case .invalidJSON: counts.invalidJSON += 1
                case .invalidUTF8: counts.invalidUTF8 += 1
                default: counts.readErrors += 1
                }
            }
        }
        return counts
    }
}
