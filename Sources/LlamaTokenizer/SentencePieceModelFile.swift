import Foundation
import LlamaCore
import SwiftProtobuf

/// Reading and writing SentencePiece `.model` files (a serialized `ModelProto`, proto2).
///
/// Fields this module does not interpret, and fields or extensions unknown to the
/// `.proto` it was generated from, are kept in the message's unknown-field storage, so a
/// read → write round trip keeps everything SentencePiece wrote.
public enum SentencePieceModelFile {
    /// Reads and parses a `.model` file.
    ///
    /// - Throws: `TokenizerError.unreadableFile` or `.invalidModelFile`, naming the file.
    public static func read(contentsOf url: URL) throws -> Sentencepiece_ModelProto {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, source: url.path)
    }

    /// Parses serialized `ModelProto` bytes; `source` names them in errors.
    public static func parse(_ data: Data, source: String) throws -> Sentencepiece_ModelProto {
        if data.isEmpty {
            throw TokenizerError.invalidModelFile(path: source, reason: "the file is empty")
        }
        let model: Sentencepiece_ModelProto
        do {
            model = try Sentencepiece_ModelProto(serializedBytes: data)
        } catch {
            throw TokenizerError.invalidModelFile(path: source, reason: "not a ModelProto protobuf (\(error))")
        }
        if model.pieces.isEmpty {
            throw TokenizerError.invalidModelFile(path: source, reason: "no pieces (truncated or not a SentencePiece model)")
        }
        return model
    }

    /// Serializes `model` and writes it atomically: a temporary file in the same directory,
    /// fsync, then rename over `url`.
    public static func write(_ model: Sentencepiece_ModelProto, to url: URL) throws {
        let data: Data
        do {
            data = try model.serializedData()
        } catch {
            throw TokenizerError.unwritableFile(path: url.path, reason: "serialization failed: \(error)")
        }
        try AtomicFileWriter.write(data, to: url)
    }
}

/// Writes files so that readers see either the old or the complete new content, through
/// `LlamaCore.AtomicFile` (temporary file, fsync, rename), with the tokenizer's error type.
public enum AtomicFileWriter {
    public static func write(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write(path: url.path, data: data)
        } catch {
            throw TokenizerError.unwritableFile(path: url.path, reason: "\(error)")
        }
    }
}
