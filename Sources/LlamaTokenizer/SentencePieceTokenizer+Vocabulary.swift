import Foundation

extension SentencePieceTokenizer {
    /// A tokenizer from a bare vocabulary: what a GGUF file keeps of a SentencePiece model
    /// (llama.cpp's "llama" tokenizer, `tokenizer.ggml.tokens` / `scores` / `token_type`).
    ///
    /// The pieces are merged by score as a BPE model, with the settings LLaMA's own
    /// `tokenizer.model` has and llama.cpp assumes: no Unicode normalization, whitespace kept as
    /// it is and written as ▁, a space put before the text (`addSpacePrefix`, GGUF's
    /// `tokenizer.ggml.add_space_prefix`), and byte fallback when the vocabulary has byte
    /// pieces. For a model trained that way (LLaMA's) the result encodes and decodes exactly as
    /// the `.model` file it came from.
    ///
    /// - Parameters:
    ///   - types: SentencePiece piece types (1 normal, 2 unknown, 3 control, 4 user-defined,
    ///     5 unused, 6 byte), the numbering GGUF uses too.
    ///   - source: names the vocabulary in errors (e.g. the GGUF file's path).
    /// - Throws: `TokenizerError.invalidModelFile` when the lists disagree in length or the
    ///   pieces do not make a valid model (empty or repeated pieces, no unknown piece).
    public convenience init(pieces: [String], scores: [Float], types: [Int32], unknownId: Int32, bosId: Int32?,
                            eosId: Int32?, padId: Int32?, addSpacePrefix: Bool = true, source: String) throws {
        guard pieces.count == scores.count, pieces.count == types.count else {
            throw TokenizerError.invalidModelFile(
                path: source, reason: "\(pieces.count) pieces, \(scores.count) scores and \(types.count) types")
        }
        var model = Sentencepiece_ModelProto()
        for (index, text) in pieces.enumerated() {
            var piece = Sentencepiece_ModelProto.SentencePiece()
            piece.piece = text
            piece.score = scores[index]
            guard let type = Sentencepiece_ModelProto.SentencePiece.TypeEnum(rawValue: Int(types[index])) else {
                throw TokenizerError.invalidModelFile(path: source, reason: "piece \(index) has unknown type \(types[index])")
            }
            piece.type = type
            model.pieces.append(piece)
        }
        model.trainerSpec.modelType = .bpe
        model.trainerSpec.vocabSize = Int32(pieces.count)
        model.trainerSpec.unkID = unknownId
        model.trainerSpec.bosID = bosId ?? -1
        model.trainerSpec.eosID = eosId ?? -1
        model.trainerSpec.padID = padId ?? -1
        model.trainerSpec.byteFallback = types.contains(Int32(Sentencepiece_ModelProto.SentencePiece.TypeEnum.byte.rawValue))
        model.normalizerSpec.name = "identity"
        model.normalizerSpec.addDummyPrefix = addSpacePrefix
        model.normalizerSpec.removeExtraWhitespaces = false
        model.normalizerSpec.escapeWhitespaces = true
        try self.init(model: model, source: source)
    }
}
