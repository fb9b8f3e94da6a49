import Foundation
import LlamaModel
import LlamaTokenizer
import ArgumentParser

/// A model opened from a Hugging Face folder or a GGUF file, and what keeps it mapped.
struct OpenedModel {
    let configuration: LlamaConfiguration
    let weights: LlamaWeights
    /// The GGUF vocabulary, when the model came from a GGUF file that has one.
    let vocabulary: GGUFVocabulary?
    /// The mapped files behind the weights.
    let owner: Any

    /// Opens `path`: a `.gguf` file or a Hugging Face checkpoint folder. The weights are
    /// mapped from the file; when they take at most a quarter of the physical memory they are
    /// then copied into memory of their own on 2 MiB pages and the mapping is dropped
    /// (llama.cpp's `--no-mmap`): decode streams every weight once per token, and on the 2-core
    /// test machine it runs 1.3–1.6× faster from huge pages than from the file's 4 KiB pages.
    /// `LLAMA_MMAP=1` keeps the mapping, `LLAMA_MMAP=0` always copies. A large checkpoint (a 7B
    /// F16 one on 24 GiB) stays mapped, so it is never held twice.
    static func open(_ path: String) throws -> OpenedModel {
        let opened: OpenedModel
        if path.hasSuffix(".gguf") {
            let loaded = try GGUFModel.load(path: path)
            opened = OpenedModel(configuration: loaded.configuration, weights: loaded.weights, vocabulary: loaded.vocabulary,
                                 owner: loaded.file)
        } else {
            let loaded = try Checkpoint.load(directory: path)
            opened = OpenedModel(configuration: loaded.configuration, weights: loaded.weights, vocabulary: nil, owner: loaded.files)
        }
        let bytes = opened.weights.namedParameters.reduce(0) { $0 + $1.tensor.byteCount }
        let setting = ProcessInfo.processInfo.environment["LLAMA_MMAP"]
        guard setting == "0" || (setting != "1" && bytes <= Int(ProcessInfo.processInfo.physicalMemory / 4)) else { return opened }
        return OpenedModel(configuration: opened.configuration, weights: opened.weights.residentCopy(),
                           vocabulary: opened.vocabulary, owner: ())
    }
}

/// The GGUF vocabulary of a SentencePiece model (what llama.cpp's converter embeds).
func ggufVocabulary(fromSentencePiece path: String) throws -> GGUFVocabulary {
    let tokenizer = try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: path))
    let ids = (0..<Int32(tokenizer.vocabularySize))
    return GGUFVocabulary(tokens: ids.map { tokenizer.piece(for: $0) }, scores: ids.map { tokenizer.score(for: $0) },
                          types: ids.map { Int32(tokenizer.pieceType(for: $0)?.rawValue ?? 1) },
                          bosId: tokenizer.bosId, eosId: tokenizer.eosId, unknownId: tokenizer.unkId, paddingId: tokenizer.padId)
}

/// The tokenizer of a model: the one `--tokenizer` names, else `tokenizer.model` in a Hugging
/// Face folder or beside a GGUF file, else the vocabulary inside the GGUF file (as llama.cpp
/// uses it: a SentencePiece BPE vocabulary with LLaMA's normalizer settings).
func openTokenizer(model: String, explicit: String?) throws -> SentencePieceTokenizer {
    let candidates = explicit.map { [$0] } ?? [
        model + "/tokenizer.model", ((model as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tokenizer.model"),
    ]
    if let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) {
        return try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: path))
    }
    if explicit == nil, model.hasSuffix(".gguf"), let tokenizer = try ggufTokenizer(path: model) { return tokenizer }
    throw ValidationError("no tokenizer: \(candidates.joined(separator: " or ")) does not exist and the model has no GGUF vocabulary; pass --tokenizer or --prompt-ids")
}

/// The tokenizer in a GGUF file's `tokenizer.ggml.*` keys (nil when it has none), as llama.cpp
/// uses it: a SentencePiece BPE vocabulary with LLaMA's normalizer settings.
func ggufTokenizer(path: String) throws -> SentencePieceTokenizer? {
    guard let vocabulary = try GGUFModel.vocabulary(path: path) else { return nil }
    guard vocabulary.model == "llama" else {
        throw ValidationError("\(path): tokenizer.ggml.model is '\(vocabulary.model)'; only SentencePiece ('llama') vocabularies are supported")
    }
    guard let unknown = vocabulary.unknownId ?? vocabulary.types.firstIndex(of: 2).map(Int32.init) else {
        throw ValidationError("\(path): the vocabulary has no unknown token")
    }
    return try SentencePieceTokenizer(pieces: vocabulary.tokens, scores: vocabulary.scores, types: vocabulary.types,
                                      unknownId: unknown, bosId: vocabulary.bosId, eosId: vocabulary.eosId,
                                      padId: vocabulary.paddingId, addSpacePrefix: vocabulary.addSpacePrefix, source: path)
}

/// A tokenizer file for the `tokenizer` commands: a SentencePiece `.model`, or a `.gguf` file's vocabulary.
func openTokenizerFile(_ path: String) throws -> SentencePieceTokenizer {
    if path.hasSuffix(".gguf") {
        guard let tokenizer = try ggufTokenizer(path: path) else { throw ValidationError("\(path): the GGUF file has no tokenizer vocabulary") }
        return tokenizer
    }
    return try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: path))
}
