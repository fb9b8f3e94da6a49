import Foundation

/// The kind of a vocabulary entry (`ModelProto.SentencePiece.Type`).
public enum PieceType: Int, Sendable {
    /// An ordinary subword piece.
    case normal = 1
    /// The unknown piece, `<unk>`.
    case unknown = 2
    /// A control piece such as `<s>` and `</s>`: never produced from text, decoded as nothing.
    case control = 3
    /// A user-defined piece: always kept whole in the input, never normalized.
    case userDefined = 4
    /// A piece excluded from segmentation; merged results are split back into their parts.
    case unused = 5
    /// A byte piece `<0xNN>` used when a character has no piece (byte fallback).
    case byte = 6
}

/// A SentencePiece tokenizer that gives the same ids, pieces and decoded text as the
/// `sentencepiece` library for the same `.model` file: BPE models, and Unigram models
/// (Viterbi segmentation; training is BPE only).
///
/// The behaviour follows SentencePiece's `SentencePieceProcessor` with a `bpe::Model`
/// (src/sentencepiece_processor.cc, src/bpe_model.cc, src/model_interface.cc,
/// src/normalizer.cc). Instances are immutable and safe to share between threads.
public final class SentencePieceTokenizer: @unchecked Sendable {
    /// The parsed model file, kept whole so it can be written back unchanged.
    public let model: Sentencepiece_ModelProto
    /// Piece bytes by id, `(vocabularySize)`.
    let pieceBytes: [[UInt8]]
    /// Piece type by id, `(vocabularySize)`.
    let pieceTypes: [PieceType]
    /// Piece score by id, `(vocabularySize)`; higher scores merge first.
    let pieceScores: [Float]
    /// Normal, user-defined and unused pieces by their bytes (SentencePiece `pieces_`).
    let segmentablePieces: [[UInt8]: Int32]
    /// Unknown, control and byte pieces by their bytes (SentencePiece `reserved_id_map_`).
    let reservedPieces: [[UInt8]: Int32]
    /// One-character segmentable pieces keyed by `IntegerTable.characterKey`.
    let characterTable: IntegerTable
    /// BPE merges: `pairKey(left, right)` → id of the piece `left + right`.
    let mergeTable: IntegerTable
    /// Whether some segmentable piece contains a character that is not itself a piece;
    /// only then can a pair with an unknown character merge, which needs a byte lookup.
    let mergesUnknownCharacters: Bool
    /// Whether the vocabulary has unused pieces, which are re-split after merging.
    let hasUnusedPieces: Bool
    /// Whether text can be cut before every `▁` that follows another character and each
    /// part segmented alone with the same result: true when no segmentable piece holds a
    /// `▁` after another character and no piece is unused (whose re-split would depend on
    /// the whole text). Enables the per-segment cache.
    let segmentsAreIndependent: Bool
    /// Byte piece ids by byte value, `(256)`, when byte fallback is on.
    let byteIds: [Int32]?
    /// The text normalizer of the model.
    let normalizer: Normalizer
    /// The denormalizer applied to decoded text, when the model has one.
    let denormalizer: Normalizer?
    /// User-defined pieces, matched before splitting text into characters.
    let userDefinedMatcher: SymbolMatcher
    /// Text that decodes `<unk>` (`trainer_spec.unk_surface`, default " ⁇ ").
    let unknownSurface: [UInt8]
    /// For a Unigram model: the trie over its segmentable pieces (nil for BPE).
    let unigramTrie: PieceTrie?
    /// For a Unigram model: the lowest score of a normal piece (`min_score_`).
    let unigramMinimumScore: Float

    /// Number of pieces in the vocabulary.
    public var vocabularySize: Int { pieceBytes.count }
    /// Id of the unknown piece.
    public let unkId: Int32
    /// Id of the beginning-of-sentence piece, when it is a control piece.
    public let bosId: Int32?
    /// Id of the end-of-sentence piece, when it is a control piece.
    public let eosId: Int32?
    /// Id of the padding piece, when it is a control piece.
    public let padId: Int32?

    /// Loads a SentencePiece `.model` file.
    ///
    /// - Throws: `TokenizerError` naming the file when it cannot be read, is not a
    ///   SentencePiece model, is inconsistent, or is not a BPE model.
    public convenience init(contentsOf url: URL) throws {
        try self.init(model: SentencePieceModelFile.read(contentsOf: url), source: url.path)
    }

    /// Creates a tokenizer from a parsed model; `source` names it in errors.
    public init(model: Sentencepiece_ModelProto, source: String = "<memory>") throws {
        func invalid(_ reason: String) -> TokenizerError { .invalidModelFile(path: source, reason: reason) }
        let trainerSpec = model.trainerSpec
        switch trainerSpec.modelType {
        case .bpe, .unigram: break
        case .word: throw TokenizerError.unsupportedModelType(path: source, modelType: "WORD")
        case .char: throw TokenizerError.unsupportedModelType(path: source, modelType: "CHAR")
        }
        self.model = model
        let byteFallback = trainerSpec.byteFallback

        var bytes: [[UInt8]] = [], types: [PieceType] = [], scores: [Float] = []
        bytes.reserveCapacity(model.pieces.count)
        var segmentable: [[UInt8]: Int32] = [:], reserved: [[UInt8]: Int32] = [:]
        var userDefined: [[UInt8]] = []
        var unknownId: Int32 = -1
        var byteIdTable = [Int32](repeating: -1, count: 256)
        for (index, piece) in model.pieces.enumerated() {
            let id = Int32(index)
            let pieceUTF8 = Array(piece.piece.utf8)
            if pieceUTF8.isEmpty { throw invalid("piece \(index) is empty") }
            if pieceUTF8.count >= 8000 { throw invalid("piece \(index) is too long (\(pieceUTF8.count) bytes)") }
            guard let type = PieceType(rawValue: piece.type.rawValue) else {
                throw invalid("piece \(index) has unknown type \(piece.type.rawValue)")
            }
            bytes.append(pieceUTF8)
            types.append(type)
            scores.append(piece.score)
            // sentencepiece 0.2.3 skips an unused "\0" piece (a placeholder) and refuses other NULs.
            if pieceUTF8 == [0] && type == .unused { continue }
            if pieceUTF8.contains(0) { throw invalid("piece \(index) contains a NUL character") }
            // One name space for all pieces: a text may not appear twice, whatever the types.
            if segmentable[pieceUTF8] != nil || reserved[pieceUTF8] != nil {
                throw invalid("piece \"\(piece.piece)\" is defined twice")
            }
            let isSegmentable = type == .normal || type == .userDefined || type == .unused
            if isSegmentable {
                segmentable[pieceUTF8] = id
            } else {
                reserved[pieceUTF8] = id
            }
            if type == .userDefined { userDefined.append(pieceUTF8) }
            if type == .unknown {
                if unknownId >= 0 { throw invalid("more than one unknown piece (\(unknownId) and \(index))") }
                unknownId = id
            }
            if type == .byte {
                if !byteFallback { throw invalid("byte piece \(piece.piece) found although trainer_spec.byte_fallback is false") }
                guard let value = Self.byteValue(ofPiece: pieceUTF8) else { throw invalid("byte piece \(piece.piece) is not of the form <0xNN>") }
                byteIdTable[Int(value)] = id
            }
        }
        if unknownId < 0 { throw invalid("no unknown piece (<unk>) is defined") }
        if byteFallback && byteIdTable.contains(-1) {
            throw invalid("trainer_spec.byte_fallback is true but the 256 byte pieces <0x00>…<0xFF> are not all present")
        }
        pieceBytes = bytes
        pieceTypes = types
        pieceScores = scores
        segmentablePieces = segmentable
        reservedPieces = reserved
        unkId = unknownId
        byteIds = byteFallback ? byteIdTable : nil
        hasUnusedPieces = types.contains(.unused)
        var spaceFollowsCharacter = false
        for piece in segmentable.keys where piece.count > 3 {
            var index = 1
            while index + 2 < piece.count {
                if piece[index] == 0xE2 && piece[index + 1] == 0x96 && piece[index + 2] == 0x81
                    && !(index >= 3 && piece[index - 3] == 0xE2 && piece[index - 2] == 0x96 && piece[index - 1] == 0x81)
                {
                    spaceFollowsCharacter = true
                }
                index += 1
            }
        }
        let isUnigram = trainerSpec.modelType == .unigram
        segmentsAreIndependent = !spaceFollowsCharacter && !hasUnusedPieces && !isUnigram
        if isUnigram {
            if scores.contains(where: { $0.isNaN || $0.isInfinite }) { throw invalid("a piece score is NaN or infinite") }
            unigramTrie = PieceTrie(segmentable.map { ($0.key, $0.value) })
            unigramMinimumScore = zip(types, scores).filter { $0.0 == .normal }.map(\.1).min() ?? Float.greatestFiniteMagnitude
        } else {
            unigramTrie = nil
            unigramMinimumScore = 0
        }

        // One-character pieces and merge pairs, for integer lookups while encoding.
        var characterEntries: [(key: UInt64, value: Int32)] = []
        var mergeEntries: [(key: UInt64, value: Int32)] = []
        var containsUnknownCharacter = false
        for (piece, id) in segmentable {
            piece.withUnsafeBufferPointer { buffer in
                if buffer.count <= 4 {
                    characterEntries.append((IntegerTable.characterKey(buffer, start: 0, length: buffer.count), id))
                }
                var position = 0
                while position < buffer.count {
                    let length = min(UTF8Scanning.characterLength(leadByte: buffer[position]), buffer.count - position)
                    if segmentable[Array(buffer[position..<(position + length)])] == nil { containsUnknownCharacter = true }
                    position += length
                }
                for split in 1..<max(buffer.count, 1) {
                    if let left = segmentable[Array(buffer[..<split])], let right = segmentable[Array(buffer[split...])] {
                        mergeEntries.append((IntegerTable.pairKey(left, right), id))
                    }
                }
            }
        }
        characterTable = IntegerTable(characterEntries)
        mergeTable = IntegerTable(mergeEntries)
        mergesUnknownCharacters = containsUnknownCharacter

        userDefinedMatcher = SymbolMatcher(symbols: userDefined)
        let normalizerSpec = model.normalizerSpec
        normalizer = try Normalizer(
            precompiledCharsMap: Array(normalizerSpec.precompiledCharsmap),
            addDummyPrefix: normalizerSpec.addDummyPrefix,
            removeExtraWhitespaces: normalizerSpec.removeExtraWhitespaces,
            escapeWhitespaces: normalizerSpec.escapeWhitespaces,
            treatWhitespaceAsSuffix: trainerSpec.treatWhitespaceAsSuffix,
            protectedSymbols: userDefinedMatcher, source: source)
        if model.hasDenormalizerSpec && !model.denormalizerSpec.precompiledCharsmap.isEmpty {
            let spec = model.denormalizerSpec
            denormalizer = try Normalizer(
                precompiledCharsMap: Array(spec.precompiledCharsmap), addDummyPrefix: spec.addDummyPrefix,
                removeExtraWhitespaces: spec.removeExtraWhitespaces, escapeWhitespaces: spec.escapeWhitespaces,
                treatWhitespaceAsSuffix: false, protectedSymbols: SymbolMatcher(symbols: []), source: source)
        } else {
            denormalizer = nil
        }
        unknownSurface = trainerSpec.hasUnkSurface ? Array(trainerSpec.unkSurface.utf8) : [0x20, 0xE2, 0x81, 0x87, 0x20]

        // SentencePiece's bos_id()/eos_id()/pad_id(): the id of the named piece, if it is a control piece.
        func controlId(_ piece: String) -> Int32? {
            let key = Array(piece.utf8)
            let id = reserved[key] ?? segmentable[key] ?? unknownId
            return types[Int(id)] == .control ? id : nil
        }
        bosId = controlId(trainerSpec.bosPiece)
        eosId = controlId(trainerSpec.eosPiece)
        padId = controlId(trainerSpec.padPiece)
    }

    /// The text of piece `id` (with `▁` for spaces); empty for an id out of range.
    public func piece(for id: Int32) -> String {
        guard id >= 0 && Int(id) < pieceBytes.count else { return "" }
        return String(decoding: pieceBytes[Int(id)], as: UTF8.self)
    }

    /// The type of piece `id`, or nil for an id out of range.
    public func pieceType(for id: Int32) -> PieceType? {
        guard id >= 0 && Int(id) < pieceTypes.count else { return nil }
        return pieceTypes[Int(id)]
    }

    /// The score of piece `id` (0 for an id out of range).
    public func score(for id: Int32) -> Float {
        guard id >= 0 && Int(id) < pieceScores.count else { return 0 }
        return pieceScores[Int(id)]
    }

    /// The id of a piece, or `unkId` when there is no such piece (SentencePiece `PieceToId`).
    public func id(for piece: String) -> Int32 {
        let key = Array(piece.utf8)
        return reservedPieces[key] ?? segmentablePieces[key] ?? unkId
    }

    /// The byte of a piece `<0xNN>`, or nil.
    static func byteValue(ofPiece piece: [UInt8]) -> UInt8? {
        guard piece.count == 6, piece[0] == 0x3C, piece[1] == 0x30, piece[2] == 0x78, piece[5] == 0x3E else { return nil }
        func hexDigit(_ character: UInt8) -> UInt8? {
            switch character {
            case 0x30...0x39: return character - 0x30
            case 0x41...0x46: return character - 0x41 + 10
            default: return nil
            }
        }
        guard let high = hexDigit(piece[3]), let low = hexDigit(piece[4]) else { return nil }
        return high << 4 | low
    }
}
