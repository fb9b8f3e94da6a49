import ArgumentParser
import Foundation
import LlamaTokenizer

/// `llama tokenizer train`: trains a BPE model with `spm_train`'s flags and writes
/// `<model_prefix>.model` and `<model_prefix>.vocab` atomically.
struct TokenizerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a SentencePiece BPE model (spm_train flags).",
        discussion: """
            Required: --input=FILE[,FILE...] --model_prefix=PREFIX. Options (spm_train names and defaults): \
            --model_type=bpe --vocab_size=8000 --character_coverage=0.9995 --max_sentencepiece_length=16 \
            --max_sentence_length=4192 --split_by_whitespace --split_by_unicode_script --split_by_number \
            --split_digits=false --treat_whitespace_as_suffix=false --allow_whitespace_only_pieces=false \
            --byte_fallback=false --user_defined_symbols=A,B --control_symbols=A,B --required_chars=S \
            --normalization_rule_name=nmt_nfkc|nfkc|nmt_nfkc_cf|nfkc_cf|identity --add_dummy_prefix \
            --remove_extra_whitespaces --input_sentence_size=0 --shuffle_input_sentence --seed=12345678 \
            --input_format=text|tsv --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --unk_piece=<unk> \
            --bos_piece=<s> --eos_piece=</s> --pad_piece=<pad> --unk_surface=" ⁇ " --hard_vocab_limit \
            --vocabulary_output_piece_score --num_threads=N --json (print a JSON summary).
            """)

    @Argument(parsing: .captureForPassthrough, help: "spm_train-style flags")
    var flags: [String] = []

    static let booleanFlags: Set<String> = [
        "split_by_whitespace", "split_by_unicode_script", "split_by_number", "split_digits", "treat_whitespace_as_suffix",
        "allow_whitespace_only_pieces", "byte_fallback", "add_dummy_prefix", "remove_extra_whitespaces",
        "shuffle_input_sentence", "hard_vocab_limit", "vocabulary_output_piece_score", "json",
    ]

    func run() throws {
        try TokenizerCommand.reportingErrors {
            var parsed = try SentencePieceFlags(flags, booleanNames: Self.booleanFlags)
            guard let inputs = parsed.list("input"), !inputs.isEmpty else { throw TokenizerCLIError.usage("--input is required") }
            guard let prefix = parsed.string("model_prefix") else { throw TokenizerCLIError.usage("--model_prefix is required") }
            let modelType = parsed.string("model_type") ?? "bpe"
            guard modelType.lowercased() == "bpe" else {
                throw TokenizerCLIError.usage("--model_type=\(modelType) is not supported; only bpe is")
            }
            let options = try Self.options(from: &parsed)
            let json = try parsed.boolean("json") ?? false
            try parsed.checkAllUsed()

            let start = Date()
            let trainer = try BPETrainer(options: options)
            var model = try trainer.train(inputFiles: inputs.map { URL(fileURLWithPath: $0) })
            model.trainerSpec.input = inputs
            model.trainerSpec.modelPrefix = prefix
            let seconds = Date().timeIntervalSince(start)
            let modelURL = URL(fileURLWithPath: prefix + ".model"), vocabURL = URL(fileURLWithPath: prefix + ".vocab")
            let writeStart = Date()
            try SentencePieceModelFile.write(model, to: modelURL)
            try AtomicFileWriter.write(Data(BPETrainer.vocabularyText(of: model, withScores: options.vocabularyOutputPieceScore).utf8),
                                       to: vocabURL)
            BPETrainer.trace("write", writeStart)
            if json {
                print("{\"model\":\(TokenizerIO.jsonString(modelURL.path)),\"vocab\":\(TokenizerIO.jsonString(vocabURL.path)),"
                    + "\"pieces\":\(model.pieces.count),\"seconds\":\(String(format: "%.3f", seconds))}")
            } else {
                print("trained \(model.pieces.count) pieces in \(String(format: "%.2f", seconds)) s: \(modelURL.path), \(vocabURL.path)")
            }
        }
    }

    /// Reads the trainer options from spm_train flags.
    static func options(from parsed: inout SentencePieceFlags) throws -> BPETrainerOptions {
        var options = BPETrainerOptions()
        if let value = try parsed.integer("vocab_size") { options.vocabSize = value }
        if let value = try parsed.float("character_coverage") { options.characterCoverage = value }
        if let value = try parsed.integer("max_sentencepiece_length") { options.maxSentencepieceLength = value }
        if let value = try parsed.integer("max_sentence_length") { options.maxSentenceLength = value }
        if let value = try parsed.boolean("split_by_whitespace") { options.splitByWhitespace = value }
        if let value = try parsed.boolean("split_by_unicode_script") { options.splitByUnicodeScript = value }
        if let value = try parsed.boolean("split_by_number") { options.splitByNumber = value }
        if let value = try parsed.boolean("split_digits") { options.splitDigits = value }
        if let value = try parsed.boolean("treat_whitespace_as_suffix") { options.treatWhitespaceAsSuffix = value }
        if let value = try parsed.boolean("allow_whitespace_only_pieces") { options.allowWhitespaceOnlyPieces = value }
        if let value = try parsed.boolean("byte_fallback") { options.byteFallback = value }
        if let value = parsed.list("user_defined_symbols") { options.userDefinedSymbols = value }
        if let value = parsed.list("control_symbols") { options.controlSymbols = value }
        if let value = parsed.string("required_chars") { options.requiredChars = value }
        if let value = parsed.string("normalization_rule_name") { options.normalizationRuleName = value }
        if let value = try parsed.boolean("add_dummy_prefix") { options.addDummyPrefix = value }
        if let value = try parsed.boolean("remove_extra_whitespaces") { options.removeExtraWhitespaces = value }
        if let value = try parsed.integer("input_sentence_size") {
            guard value >= 0 else { throw TokenizerCLIError.usage("--input_sentence_size must not be negative") }
            options.inputSentenceSize = UInt64(value)
        }
        if let value = try parsed.boolean("shuffle_input_sentence") { options.shuffleInputSentence = value }
        if let value = try parsed.integer("seed") ?? parsed.integer("random_seed") {
            guard let seed = UInt32(exactly: value) else { throw TokenizerCLIError.usage("--seed must be in 0...\(UInt32.max)") }
            options.seed = seed
        }
        if let value = parsed.string("input_format") { options.inputFormat = value }
        if let value = try parsed.integer("unk_id") { options.unkId = Int32(value) }
        if let value = try parsed.integer("bos_id") { options.bosId = Int32(value) }
        if let value = try parsed.integer("eos_id") { options.eosId = Int32(value) }
        if let value = try parsed.integer("pad_id") { options.padId = Int32(value) }
        if let value = parsed.string("unk_piece") { options.unkPiece = value }
        if let value = parsed.string("bos_piece") { options.bosPiece = value }
        if let value = parsed.string("eos_piece") { options.eosPiece = value }
        if let value = parsed.string("pad_piece") { options.padPiece = value }
        if let value = parsed.string("unk_surface") { options.unkSurface = value }
        if let value = try parsed.boolean("hard_vocab_limit") { options.hardVocabLimit = value }
        if let value = try parsed.boolean("vocabulary_output_piece_score") { options.vocabularyOutputPieceScore = value }
        if let value = try parsed.integer("num_threads") { options.numThreads = max(1, value) }
        return options
    }
}
