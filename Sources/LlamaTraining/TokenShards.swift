import Foundation
import LlamaCore

/// The manifest of one source's token shards (`manifest.json`), described in
/// docs/token-shards.md. Shards are headerless little-endian arrays of `dtype` ids — the
/// nanoGPT / llama2.c `.bin` convention — and every document in them is written as
/// BOS, its tokens, EOS.
public struct TokenShardManifest: Codable, Equatable, Sendable {
    /// One shard file of the source.
    public struct Shard: Codable, Equatable, Sendable {
        /// File name, relative to the manifest's folder.
        public var file: String
        /// Number of token ids in the file.
        public var tokens: Int
        /// Number of documents that start in the file.
        public var documents: Int
    }

    /// Always "llama-token-shards".
    public var format: String = "llama-token-shards"
    public var version: Int = 1
    /// Name of the source (e.g. "commoncrawl", "kjv").
    public var source: String
    /// Element type of the shard files: "uint16" or "uint32".
    public var dtype: String
    public var vocabularySize: Int
    public var bosId: Int32
    public var eosId: Int32
    public var documents: Int
    public var tokens: Int
    public var shards: [Shard]

    enum CodingKeys: String, CodingKey {
        case format, version, source, dtype, documents, tokens, shards
        case vocabularySize = "vocabulary_size"
        case bosId = "bos_id"
        case eosId = "eos_id"
    }
}

/// Writes one source's documents as token shards plus `manifest.json` (every file
/// atomically; the manifest last, so a folder with a manifest is always complete).
/// The data pipeline and `llama train`'s built-in corpus both write through this type.
public final class TokenShardWriter {
    public let directory: String
    public let source: String
    public let vocabularySize: Int
    public let bosId: Int32, eosId: Int32
    /// Most tokens per shard file.
    public let shardTokens: Int
    private let wide: Bool
    private var buffer: [Int32] = []
    private var bufferDocuments = 0
    private var shards: [TokenShardManifest.Shard] = []
    private var documents = 0, tokens = 0
    /// Called after every shard file is written with the manifest of the shards so far, so a
    /// caller can record progress and `resume(from:)` after an interruption.
    public var shardWritten: ((TokenShardManifest) throws -> Void)?

    /// Ids are stored as uint16 when `vocabularySize` ≤ 65,536, else uint32.
    public init(directory: String, source: String, vocabularySize: Int, bosId: Int32, eosId: Int32,
                shardTokens: Int = 100_000_000) throws {
        self.directory = directory
        self.source = source
        self.vocabularySize = vocabularySize
        self.bosId = bosId
        self.eosId = eosId
        self.shardTokens = max(shardTokens, 1)
        wide = vocabularySize > 65_536
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.missingData(path: directory, reason: "cannot create the shard folder: \(error)")
        }
    }

    /// Continues after the shards of `partial` (a manifest passed to `shardWritten` in an
    /// earlier run): the next shard gets the next number and the totals include them.
    /// - Throws: `TrainingError.invalidData` when a listed shard is missing or has another size.
    public func resume(from partial: TokenShardManifest) throws {
        precondition(buffer.isEmpty && shards.isEmpty, "resume before appending")
        let width = wide ? 4 : 2
        for shard in partial.shards {
            let path = directory + "/" + shard.file
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue
            guard size == shard.tokens * width else {
                throw TrainingError.invalidData(path: path, field: "size",
                                                reason: "expected \(shard.tokens * width) bytes from the progress record, found \(size.map(String.init) ?? "no file")")
            }
        }
        shards = partial.shards
        documents = partial.documents
        tokens = partial.tokens
    }

    /// The manifest of the shards written so far.
    public var writtenManifest: TokenShardManifest {
        TokenShardManifest(source: source, dtype: wide ? "uint32" : "uint16", vocabularySize: vocabularySize,
                           bosId: bosId, eosId: eosId, documents: documents - bufferDocuments, tokens: tokens, shards: shards)
    }

    /// Appends one document as BOS, `tokens`, EOS.
    public func append(document: [Int32]) throws {
        if let bad = document.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw TrainingError.invalidData(path: directory, field: "token id", reason: "\(bad) is outside the vocabulary (0..<\(vocabularySize))")
        }
        buffer.append(bosId)
        buffer += document
        buffer.append(eosId)
        bufferDocuments += 1
        documents += 1
        if buffer.count >= shardTokens { try flush() }
    }

    /// Writes the last shard and the manifest; returns the manifest.
    @discardableResult
    public func finish() throws -> TokenShardManifest {
        try flush()
        let manifest = TokenShardManifest(source: source, dtype: wide ? "uint32" : "uint16", vocabularySize: vocabularySize,
                                          bosId: bosId, eosId: eosId, documents: documents, tokens: tokens, shards: shards)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(path: directory + "/manifest.json", data: try encoder.encode(manifest))
        return manifest
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let name = String(format: "%@-%05d.bin", source, shards.count)
        if wide {
            let values = buffer.map { UInt32(bitPattern: $0).littleEndian }
            try values.withUnsafeBytes { try AtomicFile.write(path: directory + "/" + name, chunks: [$0]) }
        } else {
            let values = buffer.map { UInt16(truncatingIfNeeded: $0).littleEndian }
            try values.withUnsafeBytes { try AtomicFile.write(path: directory + "/" + name, chunks: [$0]) }
        }
        shards.append(.init(file: name, tokens: buffer.count, documents: bufferDocuments))
        tokens += buffer.count
        buffer.removeAll(keepingCapacity: true)
        bufferDocuments = 0
        try shardWritten?(writtenManifest)
    }
}

/// Reads token ids, memory-mapped, from a shard folder (its `manifest.json`) or from a plain
/// `.bin` file of uint16 or uint32 ids; all shards of a source read as one sequence.
public final class TokenShardReader: @unchecked Sendable {
    /// Folder or file the tokens come from.
    public let path: String
    /// The manifest, or one made up for a plain `.bin` file.
    public let manifest: TokenShardManifest
    private let files: [MappedFile]
    /// Index of the first token of each file, and the total at the end.
    private let starts: [Int]
    private let width: Int

    /// Number of token ids.
    public var count: Int { starts.last ?? 0 }

    /// Opens `path`: a folder with `manifest.json`, a `manifest.json`, or a `.bin` file whose
    /// ids are `binDType` ("uint16" or "uint32").
    public init(path: String, binDType: String = "uint16") throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TrainingError.missingData(path: path, reason: "no such file or folder")
        }
        let manifestPath = isDirectory.boolValue ? path + "/manifest.json" : (path.hasSuffix(".json") ? path : nil)
        if let manifestPath {
            guard let data = FileManager.default.contents(atPath: manifestPath) else {
                throw TrainingError.missingData(path: manifestPath, reason: "the shard manifest is missing")
            }
            let decoded: TokenShardManifest
            do { decoded = try JSONDecoder().decode(TokenShardManifest.self, from: data) } catch {
                throw TrainingError.invalidData(path: manifestPath, field: "manifest", reason: "\(error)")
            }
            manifest = decoded
            let folder = (manifestPath as NSString).deletingLastPathComponent
            var mapped: [MappedFile] = []
            for shard in decoded.shards {
                let file = folder + "/" + shard.file
                guard FileManager.default.fileExists(atPath: file) else {
                    throw TrainingError.missingData(path: file, reason: "shard listed in \(manifestPath) is missing")
                }
                mapped.append(try MappedFile(path: file))
            }
            files = mapped
        } else {
            files = [try MappedFile(path: path)]
            manifest = TokenShardManifest(source: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                                          dtype: binDType, vocabularySize: 0, bosId: -1, eosId: -1, documents: 0,
                                          tokens: 0, shards: [.init(file: path, tokens: 0, documents: 0)])
        }
        switch manifest.dtype {
        case "uint16": width = 2
        case "uint32": width = 4
        default: throw TrainingError.invalidData(path: path, field: "dtype", reason: "'\(manifest.dtype)' is not uint16 or uint32")
        }
        var running = 0, offsets: [Int] = []
        for (index, file) in files.enumerated() {
            guard file.size % width == 0 else {
                throw TrainingError.invalidData(path: file.path, field: "size", reason: "\(file.size) bytes is not a whole number of \(manifest.dtype) ids")
            }
            let tokens = file.size / width
            if manifest.vocabularySize > 0 && manifest.shards[index].tokens != tokens {
                throw TrainingError.invalidData(path: file.path, field: "tokens",
                                                reason: "manifest says \(manifest.shards[index].tokens), file holds \(tokens)")
            }
            offsets.append(running)
            running += tokens
        }
        offsets.append(running)
        starts = offsets
    }

    /// Copies ids `start ..< start + destination.count` into `destination`.
    public func copy(from start: Int, into destination: UnsafeMutableBufferPointer<Int32>) {
        precondition(start >= 0 && start + destination.count <= count, "token range beyond \(path)")
        var fileIndex = 0
        while starts[fileIndex + 1] <= start { fileIndex += 1 }
        for i in 0..<destination.count {
            let position = start + i
            while starts[fileIndex + 1] <= position { fileIndex += 1 }
            let offset = (position - starts[fileIndex]) * width
            let bytes = files[fileIndex].bytes
            destination[i] = width == 2 ? Int32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                : Int32(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        }
    }

    /// Ids `start ..< start + length` as an array.
    public func tokens(from start: Int, count length: Int) -> [Int32] {
        var result = [Int32](repeating: 0, count: length)
        result.withUnsafeMutableBufferPointer { copy(from: start, into: $0) }
        return result
    }
}
