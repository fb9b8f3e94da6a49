/// Decodes ids one at a time during generation, returning text as soon as it is final.
///
/// The concatenation of everything `append` and `finish` return equals
/// `tokenizer.decode(allIds)` (except that the model's denormalizer, which no common
/// model has, is not applied). Byte pieces are held until they complete a UTF-8
/// character, so a multi-byte character split over several ids comes out whole.
public struct StreamingDecoder: Sendable {
    /// The tokenizer whose vocabulary the ids belong to.
    public let tokenizer: SentencePieceTokenizer
    private var pendingBytes: [UInt8] = []
    private var hasProducedText = false
    private var expectsLeadingSpace = true
    private var leadingSpaceSeen = false

    /// Creates a decoder at the start of a text, or (`continuing`) for ids that continue a
    /// text already shown, such as a generation after its prompt: then the space of a first
    /// "▁word" piece is kept, as `decode(prompt + ids)` keeps it.
    public init(tokenizer: SentencePieceTokenizer, continuing: Bool = false) {
        self.tokenizer = tokenizer
        expectsLeadingSpace = !continuing
    }

    /// Adds one id and returns the text it completes (possibly empty). Ids outside the
    /// vocabulary are ignored.
    public mutating func append(_ id: Int32) -> String {
        guard id >= 0 && Int(id) < tokenizer.vocabularySize else { return "" }
        var output: [UInt8] = []
        let bytes = tokenizer.pieceBytes[Int(id)]
        let type = tokenizer.pieceTypes[Int(id)]
        if type == .byte {
            if let value = SentencePieceTokenizer.byteValue(ofPiece: bytes) { pendingBytes.append(value) }
            emitCompleteCharacters(into: &output)
            return finishChunk(output)
        }
        SentencePieceTokenizer.appendDecodedBytes(&pendingBytes, to: &output)
        if !output.isEmpty { hasProducedText = true }
        if leadingSpaceSeen || hasProducedText { expectsLeadingSpace = false }
        leadingSpaceSeen = false
        switch type {
        case .control:
            break
        case .unknown:
            output.append(contentsOf: tokenizer.unknownSurface)
        default:
            let spec = tokenizer.model.normalizerSpec
            var start = 0
            if expectsLeadingSpace && (spec.addDummyPrefix || spec.removeExtraWhitespaces)
                && bytes.starts(with: UTF8Scanning.spaceSymbol)
            {
                start = 3
                leadingSpaceSeen = !spec.removeExtraWhitespaces
            }
            SentencePieceTokenizer.appendUnescaped(bytes, from: start, to: &output)
        }
        return finishChunk(output)
    }

    /// Returns what is still held back (incomplete byte sequences become U+FFFD) and
    /// resets the decoder for a new text.
    public mutating func finish() -> String {
        var output: [UInt8] = []
        SentencePieceTokenizer.appendDecodedBytes(&pendingBytes, to: &output)
        self = StreamingDecoder(tokenizer: tokenizer)
        return String(decoding: output, as: UTF8.self)
    }

    private mutating func finishChunk(_ output: [UInt8]) -> String {
        if !output.isEmpty { hasProducedText = true }
        return String(decoding: output, as: UTF8.self)
    }

    /// Moves the leading pending bytes whose decoding can no longer change to `output`.
    private mutating func emitCompleteCharacters(into output: inout [UInt8]) {
        var consumed = 0
        pendingBytes.withUnsafeBufferPointer { buffer in
            while consumed < buffer.count {
                let lead = buffer[consumed]
                let needed: Int
                switch lead {
                case 0xC0...0xDF: needed = 2
                case 0xE0...0xEF: needed = 3
                case 0xF0...0xF7: needed = 4
                default: needed = 1
                }
                let available = buffer.count - consumed
                if available < needed {
                    // Wait for more bytes unless the sequence is already broken.
                    var allTrail = true
                    for offset in 1..<available where buffer[consumed + offset] & 0xC0 != 0x80 { allTrail = false }
                    if allTrail { break }
                }
                if let (_, length) = UTF8Scanning.decodeCharacter(buffer, at: consumed, end: min(buffer.count, consumed + needed)) {
                    output.append(contentsOf: buffer[consumed..<(consumed + length)])
                    consumed += length
                } else {
                    output.append(contentsOf: UTF8Scanning.replacementCharacter)
                    consumed += 1
                }
            }
        }
        pendingBytes.removeFirst(consumed)
    }
}
