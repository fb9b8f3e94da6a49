/// Options of the BPE trainer, named after SentencePiece's `TrainerSpec` / `spm_train` flags
/// (in camel case; the CLI accepts the snake_case flag names) and with the same defaults.
public struct BPETrainerOptions: Sendable, Equatable {
    /// Size of the vocabulary, meta pieces included (`vocab_size`).
    public var vocabSize = 8000
    /// Fraction of characters (by count) that get a piece; the rest become `<unk>` (`character_coverage`).
    public var characterCoverage: Float = 0.9995
    /// Longest piece, in characters (`max_sentencepiece_length`).
    public var maxSentencepieceLength = 16
    /// Longer input lines, in bytes, are skipped (`max_sentence_length`).
    public var maxSentenceLength = 4192
    /// Pieces never cross a whitespace (`split_by_whitespace`).
    public var splitByWhitespace = true
    /// Pieces never mix Unicode scripts (`split_by_unicode_script`).
    public var splitByUnicodeScript = true
    /// Digits are a script of their own (`split_by_number`).
    public var splitByNumber = true
    /// Every digit is a piece of its own (`split_digits`).
    public var splitDigits = false
    /// `▁` ends pieces instead of starting them (`treat_whitespace_as_suffix`).
    public var treatWhitespaceAsSuffix = false
    /// Runs of `▁` may form pieces (`allow_whitespace_only_pieces`).
    public var allowWhitespaceOnlyPieces = false
    /// Add the 256 byte pieces so unknown characters decompose into bytes (`byte_fallback`).
    public var byteFallback = false
    /// Pieces always kept whole in the input (`user_defined_symbols`).
    public var userDefinedSymbols: [String] = []
    /// Pieces that only ids produce, such as language tags (`control_symbols`).
    public var controlSymbols: [String] = []
    /// Characters that always get a piece (`required_chars`).
    public var requiredChars = ""
    /// `nmt_nfkc`, `nfkc`, `nmt_nfkc_cf`, `nfkc_cf` or `identity` (`normalization_rule_name`).
    public var normalizationRuleName = "nmt_nfkc"
    /// Put `▁` in front of every sentence (`add_dummy_prefix`).
    public var addDummyPrefix = true
    /// Drop leading, trailing and repeated whitespace (`remove_extra_whitespaces`).
    public var removeExtraWhitespaces = true
    /// Use at most this many sentences; 0 uses all (`input_sentence_size`).
    public var inputSentenceSize: UInt64 = 0
    /// With `inputSentenceSize`, sample sentences uniformly instead of taking the first ones
    /// (`shuffle_input_sentence`).
    public var shuffleInputSentence = true
    /// Seed of the sentence sampler (`std::mt19937`). SentencePiece always uses the
    /// constant 12345678 here; with it the sample is that of sentencepiece ≤ 0.2.1
    /// (0.2.2 and later sample differently in every process, see docs/tokenizer.md).
    public var seed: UInt32 = 12_345_678
    /// Input format: `text` (one sentence per line) or `tsv` (`sentence<TAB>count`) (`input_format`).
    public var inputFormat = "text"
    /// Ids of the special pieces; -1 leaves one out (`unk_id`, `bos_id`, `eos_id`, `pad_id`).
    public var unkId: Int32 = 0
    public var bosId: Int32 = 1
    public var eosId: Int32 = 2
    public var padId: Int32 = -1
    /// Texts of the special pieces (`unk_piece`, `bos_piece`, `eos_piece`, `pad_piece`).
    public var unkPiece = "<unk>"
    public var bosPiece = "<s>"
    public var eosPiece = "</s>"
    public var padPiece = "<pad>"
    /// Text that `<unk>` decodes to (`unk_surface`).
    public var unkSurface = " \u{2047} "
    /// Fail when `vocabSize` pieces cannot be found; otherwise write fewer (`hard_vocab_limit`).
    public var hardVocabLimit = true
    /// Write scores in the `.vocab` file (`vocabulary_output_piece_score`).
    public var vocabularyOutputPieceScore = true
    /// Threads for loading and counting (`num_threads`); the merge loop itself is sequential.
    public var numThreads = 2

    /// Default options (SentencePiece's defaults, with `model_type=bpe`).
    public init() {}
}
