/// Which character sequences may become pieces during training
/// (SentencePiece `TrainerInterface::IsValidSentencePiece`, src/trainer_interface.cc).
///
/// An instance holds the options and script numbers it needs, so that the merge loop's
/// checks read no global state.
struct PieceValidity {
    /// Script value meaning "compatible with any script" (SentencePiece `kAnyType`).
    private static let anyScript = UInt16.max

    private let options: BPETrainerOptions
    private let han = UnicodeScript.han
    private let hiragana = UnicodeScript.hiragana
    private let katakana = UnicodeScript.katakana
    private let inherited = UnicodeScript.inherited
    /// `UnicodeScript.script(of:)` of the code points below `directScripts.count`.
    private let directScripts = UnicodeScript.direct

    init(options: BPETrainerOptions) {
        self.options = options
    }

    @inline(__always)
    private func script(of character: UInt32) -> UInt16 {
        character < UInt32(directScripts.count) ? directScripts[Int(character)] : UnicodeScript.script(of: character)
    }

    /// ASCII decimal digits and fullwidth digits (SentencePiece `is_unicode_decimal_number`).
    @inline(__always)
    static func isDecimalNumber(_ character: UInt32) -> Bool {
        (character >= 0x30 && character <= 0x39) || (character >= 0xFF10 && character <= 0xFF19)
    }

    /// Whether `characters` may be a piece:
    /// - 1 to `maxSentencepieceLength` characters; no U+2585, NUL, U+001F, space or surrogate;
    /// - `▁` only at the start (at the end with `treatWhitespaceAsSuffix`; anywhere but the
    ///   end without `splitByWhitespace`), unless the piece is all `▁` and
    ///   `allowWhitespaceOnlyPieces` is set;
    /// - with `splitDigits`, a digit only alone;
    /// - with `splitByUnicodeScript`, one script (Hiragana, Katakana and U+30FC count as
    ///   Han; combining marks take the script before them; digits count as any script
    ///   unless `splitByNumber`).
    func isValid(_ characters: UnsafeBufferPointer<UInt32>) -> Bool {
        let count = characters.count
        if count == 0 || count > options.maxSentencepieceLength { return false }
        var previousScript = Self.anyScript
        let allWhitespace = characters.allSatisfy { $0 == BPETrainer.spaceCharacter }
        for (position, character) in characters.enumerated() {
            if character == BPETrainer.unknownCharacter || character == 0 || character == BPETrainer.boundaryCharacter
                || character == 0x20 || !UTF8Scanning.isValidCodePoint(character)
            {
                return false
            }
            if character == BPETrainer.spaceCharacter {
                if !options.allowWhitespaceOnlyPieces || !allWhitespace {
                    if options.treatWhitespaceAsSuffix {
                        if (options.splitByWhitespace && position < count - 1)
                            || (!options.splitByWhitespace && position < count - 1 && position == 0)
                        {
                            return false
                        }
                    } else if (options.splitByWhitespace && position > 0)
                        || (!options.splitByWhitespace && position > 0 && position == count - 1)
                    {
                        return false
                    }
                }
                continue
            }
            var script = self.script(of: character)
            if script == hiragana || script == katakana || character == 0x30FC {
                script = han
            } else if script == inherited {
                script = previousScript
            }
            let isDigit = Self.isDecimalNumber(character)
            if !options.splitByNumber && isDigit { script = Self.anyScript }
            if options.splitDigits && isDigit && count > 1 { return false }
            if options.splitByUnicodeScript && script != Self.anyScript && previousScript != Self.anyScript && previousScript != script {
                return false
            }
            previousScript = script
        }
        return true
    }
}
