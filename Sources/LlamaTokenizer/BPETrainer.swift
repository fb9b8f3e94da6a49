import Foundation

/// SentencePiece's BPE trainer, reimplemented to learn the same vocabulary in the same order.
///
/// Follows `bpe::Trainer` (src/bpe_model_trainer.cc) and `TrainerInterface`
/// (src/trainer_interface.cc) of sentencepiece 0.2.3: sentences are loaded (optionally sampled), normalized, cut
/// at meta pieces, split into words at `▁`; characters are kept up to
/// `characterCoverage`; then the most frequent adjacent pair is merged repeatedly
/// (ties: fewer characters, then byte order), and the model is written as meta pieces,
/// merged pieces (score `-rank`) and finally the characters.
public final class BPETrainer {
    /// The options this trainer runs with.
    public let options: BPETrainerOptions
    /// Meta pieces by id: unk/bos/eos/pad, control, user-defined and byte pieces.
    let metaPieces: [Int32: (piece: String, type: PieceType)]

    /// The escaped space `▁` (U+2581).
    static let spaceCharacter: UInt32 = 0x2581
    /// Stands for characters outside the kept alphabet during training (U+2585).
    static let unknownCharacter: UInt32 = 0x2585
    /// Marks a cut where a meta piece was (U+001F in sentencepiece 0.2.3, which used a tab
    /// before); never part of a piece.
    static let boundaryCharacter: UInt32 = 0x1F

    /// Validates the options like SentencePiece's `VerifySpec` and `InitMetaPieces`.
    ///
    /// - Throws: `TokenizerError.invalidTrainingOption` naming the option.
    public init(options: BPETrainerOptions) throws {
        func invalid(_ name: String, _ reason: String) -> TokenizerError { .invalidTrainingOption(name: name, reason: reason) }
        guard options.vocabSize > 0 else { throw invalid("vocab_size", "must be positive, got \(options.vocabSize)") }
        guard options.characterCoverage >= 0.98 && options.characterCoverage <= 1.0 else {
            throw invalid("character_coverage", "must be in [0.98, 1], got \(options.characterCoverage)")
        }
        guard (1...512).contains(options.maxSentencepieceLength) else {
            throw invalid("max_sentencepiece_length", "must be in [1, 512], got \(options.maxSentencepieceLength)")
        }
        guard options.maxSentenceLength >= 10 else { throw invalid("max_sentence_length", "must be at least 10") }
        guard options.inputSentenceSize == 0 || options.inputSentenceSize > 100 else {
            throw invalid("input_sentence_size", "must be 0 (all) or more than 100")
        }
        guard options.inputFormat == "text" || options.inputFormat == "tsv" else {
            throw invalid("input_format", "must be text or tsv, got \(options.inputFormat)")
        }
        guard options.numThreads >= 1 else { throw invalid("num_threads", "must be at least 1") }
        for (name, piece) in [("unk_piece", options.unkPiece), ("bos_piece", options.bosPiece),
                              ("eos_piece", options.eosPiece), ("pad_piece", options.padPiece)] where piece.isEmpty {
            throw invalid(name, "must not be empty")
        }
        guard options.normalizationRuleName == "identity" || NormalizationRules.names.contains(options.normalizationRuleName) else {
            throw invalid("normalization_rule_name", "unknown rule \"\(options.normalizationRuleName)\"")
        }
        self.options = options

        var meta: [Int32: (piece: String, type: PieceType)] = [:]
        var hasUnknown = false
        for (name, id, piece) in [("unk_id", options.unkId, options.unkPiece), ("bos_id", options.bosId, options.bosPiece),
                                  ("eos_id", options.eosId, options.eosPiece), ("pad_id", options.padId, options.padPiece)] {
            if id < 0 { continue }
            if Int(id) >= options.vocabSize || meta[id] != nil || (hasUnknown && piece == options.unkPiece) {
                throw invalid(name, "id \(id) is out of range or already taken")
            }
            if piece == options.unkPiece { hasUnknown = true }
            meta[id] = (piece, piece == options.unkPiece ? .unknown : .control)
        }
        if !hasUnknown { throw invalid("unk_id", "\(options.unkPiece) must be defined") }
        var seen = Set<String>()
        var nextId: Int32 = 0
        func insert(_ piece: String, _ type: PieceType, _ name: String) throws {
            if !seen.insert(piece).inserted { throw invalid(name, "\(piece) is already defined") }
            if piece == options.unkPiece { throw invalid(name, "\(piece) must not be defined as a control or user-defined symbol") }
            if piece == options.bosPiece && options.bosId >= 0 {
                meta[options.bosId]?.type = type
            } else if piece == options.eosPiece && options.eosId >= 0 {
                meta[options.eosId]?.type = type
            } else if piece == options.padPiece && options.padId >= 0 {
                meta[options.padId]?.type = type
            } else {
                while meta[nextId] != nil { nextId += 1 }
                meta[nextId] = (piece, type)
            }
        }
        for piece in options.controlSymbols { try insert(piece, .control, "control_symbols") }
        for piece in options.userDefinedSymbols { try insert(piece, .userDefined, "user_defined_symbols") }
        if options.byteFallback {
            for byte in 0..<256 { try insert(String(format: "<0x%02X>", byte), .byte, "byte_fallback") }
        }
        metaPieces = meta
    }

    /// Trains on the lines of `inputFiles` and returns the model.
    ///
    /// - Throws: `TokenizerError` naming the file when an input cannot be read, holds no
    ///   sentence, or cannot give `vocabSize` pieces.
    public func train(inputFiles: [URL]) throws -> Sentencepiece_ModelProto {
        let source = inputFiles.map(\.path).joined(separator: ",")
        let start = Date()
        let corpus = try loadSentences(from: inputFiles)
        Self.trace("load", start)
        return try train(corpus: consume corpus, source: source)
    }

    /// Trains on sentences given in memory (one sentence per element).
    public func train(sentences: [String]) throws -> Sentencepiece_ModelProto {
        var selector = SentenceSelector(options: options)
        for sentence in sentences {
            if !selector.add(Array(sentence.utf8)[...], frequency: 1) { break }
        }
        return try train(corpus: selector.finish(), source: "<memory>")
    }

    private func train(corpus: consuming TrainingSentences, source: String) throws -> Sentencepiece_ModelProto {
        if corpus.isEmpty { throw TokenizerError.emptyTrainingInput(path: source) }
        var start = Date()
        let charsMap = try NormalizationRules.precompiledCharsMap(named: options.normalizationRuleName)
        let words = try prepareWords(corpus, charsMap: charsMap, source: source)
        _ = consume corpus
        Self.trace("prepare", start); start = Date()
        let requiredCharacters = words.requiredCharacters
        let target = options.vocabSize - metaPieces.count - requiredCharacters.count
        let pieces: [[UInt32]]
        do {
            // The merger's storage is released before the model is built.
            var merger = try PairMerger(words: consume words, options: options, source: source)
            Self.trace("pairs", start); start = Date()
            pieces = merger.run(targetCount: target)
            Self.trace("merge", start); start = Date()
            if Self.tracing { FileHandle.standardError.write(Data("[tokenizer trainer]   storage: \(merger.storageSummary)\n".utf8)) }
        }
        defer { Self.trace("model", start) }
        return try makeModel(mergedPieces: pieces, requiredCharacters: requiredCharacters, charsMap: charsMap, source: source)
    }

    /// Reads sentences from the files, applying SentencePiece's filters and sampling.
    func loadSentences(from inputFiles: [URL]) throws -> TrainingSentences {
        var selector = SentenceSelector(options: options)
        if options.inputSentenceSize == 0 {
            // Every line is kept: room for all of them at once instead of growing by copies.
            selector.reserveBytes(inputFiles.reduce(0) { total, url in
                total + ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0)
            })
        }
        let isTSV = options.inputFormat == "tsv"
        for url in inputFiles {
            var keepGoing = true
            var lineNumber = 0
            try LineReader.forEachLine(of: url) { line in
                lineNumber += 1
                var sentence = line
                var frequency: Int64 = 1
                if isTSV {
                    let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
                    guard fields.count == 2, let count = Int64(String(decoding: fields[1], as: UTF8.self)), count >= 1 else {
                        throw TokenizerError.invalidTrainingOption(
                            name: "input_format", reason: "\(url.path):\(lineNumber): expected sentence<TAB>count")
                    }
                    sentence = fields[0]
                    frequency = count
                }
                keepGoing = selector.add(sentence, frequency: frequency)
                return keepGoing
            }
            if !keepGoing { break }
        }
        return selector.finish()
    }
}

extension BPETrainer {
    /// Whether phase timings go to standard error (`LLAMA_TOKENIZER_TRACE=1`).
    public static let tracing = ProcessInfo.processInfo.environment["LLAMA_TOKENIZER_TRACE"] == "1"

    /// Prints the time since `start` for a training phase when tracing.
    public static func trace(_ phase: String, _ start: Date) {
        if tracing {
            FileHandle.standardError.write(Data("[tokenizer trainer] \(phase): \(String(format: "%.3f", Date().timeIntervalSince(start))) s\n".utf8))
        }
    }
}
