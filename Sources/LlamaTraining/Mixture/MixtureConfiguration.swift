import Foundation
import LlamaData

/// One source of the training mixture as the user gives it: cleaned JSONL documents (files,
/// directories or glob patterns) and how much of it the mixture takes.
public struct MixtureSource: Codable, Equatable, Sendable {
    /// Source name; also the output folder and the shard file prefix.
    public var name: String
    /// JSONL files (plain or .gz), directories (their `*.jsonl`, `*.jsonl.gz`) or glob patterns.
    public var files: [String]
    /// Sampling proportion (normalised over the sources); default: the paper's Table 1 for
    /// the source's name, else 1.
    public var weight: Double?
    /// Passes over the source; default: the paper's Table 1 for the name, else 1. Ignored
    /// when the mixture has `total_tokens` (the weight then decides).
    public var epochs: Double?
    /// JSON field holding the text (default: "text", else "raw_content" as CCNet writes it).
    public var field: String?

    public init(name: String, files: [String], weight: Double? = nil, epochs: Double? = nil, field: String? = nil) {
        self.name = name
        self.files = files
        self.weight = weight
        self.epochs = epochs
        self.field = field
    }

    /// Parses `name=PATTERN[:weight[:epochs]]` (trailing numbers are the weight and the epochs;
    /// the pattern may itself hold colons).
    /// - Throws: `DataError.invalidConfiguration` for a spec without `=` or an empty name.
    public static func parse(_ spec: String) throws -> MixtureSource {
        guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex else {
            throw DataError.invalidConfiguration(path: "--source", reason: "'\(spec)' is not name=PATTERN[:weight[:epochs]]")
        }
        let name = String(spec[..<equals])
        var parts = spec[spec.index(after: equals)...].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var numbers: [Double] = []
        while parts.count > 1, numbers.count < 2, let last = parts.last, let value = Double(last) {
            numbers.insert(value, at: 0)
            parts.removeLast()
        }
        let pattern = parts.joined(separator: ":")
        guard !pattern.isEmpty else {
            throw DataError.invalidConfiguration(path: "--source", reason: "'\(spec)' names no files")
        }
        return MixtureSource(name: name, files: [pattern], weight: numbers.first, epochs: numbers.count > 1 ? numbers[1] : nil)
    }
}

/// A mixture: sources and how their documents become token shards (`llama data mix`,
/// docs/data.md). Read from a JSON file:
/// `{"seed": 1, "total_tokens": 1000000, "sources": [{"name": "c4", "files": ["c4/*.jsonl"], "weight": 0.15}]}`.
public struct MixtureConfiguration: Codable, Equatable, Sendable {
    public var sources: [MixtureSource]
    /// Seed of the fractional-epoch sampling (default 1).
    public var seed: UInt64?
    /// When given, every source is sampled to `weight × totalTokens` tokens (epochs follow
    /// from its size); otherwise each source is written `epochs` times.
    public var totalTokens: Int?
    /// Tokens per shard file (default 100 M, docs/token-shards.md).
    public var shardTokens: Int?

    enum CodingKeys: String, CodingKey {
        case sources, seed
        case totalTokens = "total_tokens"
        case shardTokens = "shard_tokens"
    }

    public init(sources: [MixtureSource], seed: UInt64? = nil, totalTokens: Int? = nil, shardTokens: Int? = nil) {
        self.sources = sources
        self.seed = seed
        self.totalTokens = totalTokens
        self.shardTokens = shardTokens
    }

    /// Reads a mixture file; relative file patterns are taken relative to its folder.
    public static func load(path: String) throws -> MixtureConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        var configuration: MixtureConfiguration
        do { configuration = try JSONDecoder().decode(MixtureConfiguration.self, from: data) } catch {
            throw DataError.invalidConfiguration(path: path, reason: "not a mixture file: \(error)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        for index in configuration.sources.indices {
            configuration.sources[index].files = configuration.sources[index].files.map {
                $0.hasPrefix("/") || folder.isEmpty ? $0 : folder + "/" + $0
            }
        }
        return configuration
    }

    /// The paper's Table 1 row for a source name (case and punctuation ignored:
    /// "CommonCrawl", "common-crawl", "github" …).
    public static func paperRow(for name: String) -> (proportion: Double, epochs: Double)? {
        let key = name.lowercased().filter { $0.isLetter || $0.isNumber }
        return DataSampler.paperMixture.first { $0.source.lowercased() == key }.map { ($0.proportion, $0.epochs) }
    }

    /// The sources with defaults filled in, files expanded, weights normalised to sum 1.
    /// - Throws: `DataError.invalidConfiguration` for duplicate names, a bad name, a pattern
    ///   matching nothing, or a weight or epoch count that is negative or not finite.
    public func resolved() throws -> [ResolvedMixtureSource] {
        var names = Set<String>()
        var result: [ResolvedMixtureSource] = []
        for source in sources {
            guard !source.name.isEmpty, !source.name.contains("/"), names.insert(source.name).inserted else {
                throw DataError.invalidConfiguration(path: source.name, reason: "source names must be unique, non-empty, without '/'")
            }
            let paper = Self.paperRow(for: source.name)
            let weight = source.weight ?? paper?.proportion ?? 1
            let epochs = source.epochs ?? paper?.epochs ?? 1
            guard weight.isFinite, weight >= 0, epochs.isFinite, epochs >= 0 else {
                throw DataError.invalidConfiguration(path: source.name, reason: "weight \(weight) and epochs \(epochs) must be finite and ≥ 0")
            }
            var files: [String] = []
            for pattern in source.files {
                let matches = FileGlob.expand(pattern)
                guard !matches.isEmpty else {
                    throw DataError.invalidConfiguration(path: pattern, reason: "no JSONL files match (source \(source.name))")
                }
                files += matches
            }
            result.append(ResolvedMixtureSource(name: source.name, files: files, weight: weight, epochs: epochs,
                                                field: source.field))
        }
        let total = result.reduce(0) { $0 + $1.weight }
        guard total > 0 else { throw DataError.invalidConfiguration(path: "mixture", reason: "the weights sum to 0") }
        for index in result.indices { result[index].weight /= total }
        return result
    }
}

/// A source ready to run: its files in order and its normalised weight.
public struct ResolvedMixtureSource: Equatable, Sendable {
    public var name: String
    public var files: [String]
    /// Share of the mixture's tokens, the weights summing to 1.
    public var weight: Double
    /// Configured passes over the source.
    public var epochs: Double
    /// The text field; nil: "text", else "raw_content".
    public var field: String?
}

/// File patterns: a file, a directory (its `*.jsonl` and `*.jsonl.gz`, sorted), or a glob(3)
/// pattern (matches sorted by name, as glob returns them).
public enum FileGlob {
    public static func expand(_ pattern: String) -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: pattern, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return [pattern] }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: pattern)) ?? []
            return names.filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".jsonl.gz") }.sorted().map { pattern + "/" + $0 }
        }
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { index in result.gl_pathv[index].map { String(cString: $0) } }
    }
}
