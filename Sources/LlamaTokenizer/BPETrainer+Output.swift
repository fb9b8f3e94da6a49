import Foundation

extension BPETrainer {
    /// Builds the `ModelProto` the way SentencePiece's `TrainerInterface::Serialize` does:
    /// ids taken by meta pieces hold them (score 0); the other ids hold, in order, the
    /// merged pieces and then the kept characters, with score `-position`.
    func makeModel(mergedPieces: [[UInt32]], requiredCharacters: [(character: UInt32, count: Int64)], charsMap: [UInt8],
                   source: String) throws -> Sentencepiece_ModelProto
    {
        var ordinary: [[UInt32]] = mergedPieces
        ordinary.append(contentsOf: requiredCharacters.map { [$0.character] })
        var model = Sentencepiece_ModelProto()
        var seen = Set<String>()
        var next = 0
        for id in 0..<options.vocabSize {
            var piece = Sentencepiece_ModelProto.SentencePiece()
            if let meta = metaPieces[Int32(id)] {
                piece.piece = meta.piece
                piece.type = Sentencepiece_ModelProto.SentencePiece.TypeEnum(rawValue: meta.type.rawValue) ?? .normal
                piece.score = 0
            } else if next < ordinary.count {
                var bytes: [UInt8] = []
                for character in ordinary[next] { UTF8Scanning.appendEncoded(character, to: &bytes) }
                piece.piece = String(decoding: bytes, as: UTF8.self)
                piece.score = -Float(next)
                next += 1
            } else {
                continue
            }
            if !seen.insert(piece.piece).inserted {
                throw TokenizerError.invalidTrainingOption(name: "user_defined_symbols", reason: "piece \(piece.piece) is defined twice")
            }
            model.pieces.append(piece)
        }
        if options.hardVocabLimit && model.pieces.count != options.vocabSize {
            throw TokenizerError.vocabularySizeUnreachable(
                path: source, requested: options.vocabSize,
                reason: "the corpus gives only \(model.pieces.count) pieces; set vocab_size <= \(model.pieces.count) "
                    + "(or hard_vocab_limit=false)")
        }
        model.trainerSpec = trainerSpec(vocabularySize: model.pieces.count)
        var normalizerSpec = Sentencepiece_NormalizerSpec()
        normalizerSpec.name = options.normalizationRuleName
        normalizerSpec.precompiledCharsmap = Data(charsMap)
        normalizerSpec.addDummyPrefix = options.addDummyPrefix
        normalizerSpec.removeExtraWhitespaces = options.removeExtraWhitespaces
        normalizerSpec.escapeWhitespaces = true
        model.normalizerSpec = normalizerSpec
        return model
    }

    /// The trainer spec written into the model: every option, explicitly.
    func trainerSpec(vocabularySize: Int) -> Sentencepiece_TrainerSpec {
        var spec = Sentencepiece_TrainerSpec()
        spec.modelType = .bpe
        spec.vocabSize = Int32(vocabularySize)
        spec.characterCoverage = options.characterCoverage
        spec.inputFormat = options.inputFormat
        spec.inputSentenceSize = options.inputSentenceSize
        spec.shuffleInputSentence = options.shuffleInputSentence
        spec.maxSentenceLength = Int32(options.maxSentenceLength)
        spec.maxSentencepieceLength = Int32(options.maxSentencepieceLength)
        spec.numThreads = Int32(options.numThreads)
        spec.splitByUnicodeScript = options.splitByUnicodeScript
        spec.splitByNumber = options.splitByNumber
        spec.splitByWhitespace = options.splitByWhitespace
        spec.splitDigits = options.splitDigits
        spec.treatWhitespaceAsSuffix = options.treatWhitespaceAsSuffix
        spec.allowWhitespaceOnlyPieces = options.allowWhitespaceOnlyPieces
        spec.controlSymbols = options.controlSymbols
        spec.userDefinedSymbols = options.userDefinedSymbols
        if !options.requiredChars.isEmpty { spec.requiredChars = options.requiredChars }
        spec.byteFallback = options.byteFallback
        spec.vocabularyOutputPieceScore = options.vocabularyOutputPieceScore
        spec.hardVocabLimit = options.hardVocabLimit
        spec.useAllVocab = false
        spec.unkID = options.unkId
        spec.bosID = options.bosId
        spec.eosID = options.eosId
        spec.padID = options.padId
        spec.unkPiece = options.unkPiece
        spec.bosPiece = options.bosPiece
        spec.eosPiece = options.eosPiece
        spec.padPiece = options.padPiece
        spec.unkSurface = options.unkSurface
        return spec
    }

    /// The `.vocab` text SentencePiece writes next to a model: `piece<TAB>score` per line
    /// (score as C++ streams print floats, i.e. `%g`), or the piece alone.
    public static func vocabularyText(of model: Sentencepiece_ModelProto, withScores: Bool = true) -> String {
        var text: [UInt8] = []
        for piece in model.pieces {
            text.append(contentsOf: piece.piece.utf8)
            if withScores {
                text.append(0x09)
                appendScore(piece.score, to: &text)
            }
            text.append(0x0A)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `score` as `%g` prints it. Trained scores are whole numbers, which `%g`
    /// prints as integers below 10^6 (`-0` for negative zero); those are written directly
    /// (`String(format:)` costs microseconds per call), everything else goes through `%g`.
    static func appendScore(_ score: Float, to text: inout [UInt8]) {
        let magnitude = score.magnitude
        if magnitude < 1_000_000 && magnitude.rounded(.towardZero) == magnitude {
            if score.sign == .minus { text.append(0x2D) }
            text.append(contentsOf: String(Int(magnitude)).utf8)
        } else {
            text.append(contentsOf: String(format: "%g", Double(score)).utf8)
        }
    }
}
