/// Decoding, matching SentencePiece `SentencePieceProcessor::Decode`
/// (src/sentencepiece_processor.cc):
/// - control pieces decode to nothing, `<unk>` to `trainer_spec.unk_surface` (" ⁇ ");
/// - `▁` becomes a space, and the first piece loses one leading `▁` when the model adds a
///   dummy prefix or removes extra whitespace (with removal, until some text is out);
/// - runs of byte pieces are reassembled into UTF-8; each byte that does not form a valid
///   character becomes U+FFFD;
/// - the model's denormalizer, if any, is applied last.
extension SentencePieceTokenizer {
    /// Decodes ids into text. Ids outside the vocabulary are skipped (use
    /// `decodeChecked` to have them reported).
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeToBytes(ids.filter { $0 >= 0 && Int($0) < vocabularySize }), as: UTF8.self)
    }

    /// Decodes ids into text, throwing `TokenizerError.idOutOfRange` for an invalid id
    /// (as SentencePiece does).
    public func decodeChecked(_ ids: [Int32]) throws -> String {
        for id in ids where id < 0 || Int(id) >= vocabularySize {
            throw TokenizerError.idOutOfRange(id: id, vocabularySize: vocabularySize)
        }
        return String(decoding: decodeToBytes(ids), as: UTF8.self)
    }

    /// Decodes piece strings into text (SentencePiece `DecodePieces`): each piece is
    /// looked up by its text, unknown texts count as `<unk>` but are copied as they are.
    public func decode(pieces: [String]) -> String {
        let entries = pieces.map { piece -> (bytes: [UInt8], id: Int32) in
            let bytes = Array(piece.utf8)
            return (bytes, reservedPieces[bytes] ?? segmentablePieces[bytes] ?? unkId)
        }
        return String(decoding: decodeEntries(entries), as: UTF8.self)
    }

    /// Decodes valid ids into UTF-8 bytes.
    func decodeToBytes(_ ids: [Int32]) -> [UInt8] {
        decodeEntries(ids.map { (pieceBytes[Int($0)], $0) })
    }

    private func decodeEntries(_ entries: [(bytes: [UInt8], id: Int32)]) -> [UInt8] {
        var text: [UInt8] = []
        var pendingBytes: [UInt8] = []
        var expectsLeadingSpace = true
        var leadingSpaceSeen = false
        let stripsLeadingSpace = model.normalizerSpec.addDummyPrefix || model.normalizerSpec.removeExtraWhitespaces
        let removesExtraWhitespaces = model.normalizerSpec.removeExtraWhitespaces
        for entry in entries {
            let type = pieceTypes[Int(entry.id)]
            if type == .byte {
                if let value = Self.byteValue(ofPiece: entry.bytes) { pendingBytes.append(value) }
                continue
            }
            Self.appendDecodedBytes(&pendingBytes, to: &text)
            if leadingSpaceSeen || !text.isEmpty { expectsLeadingSpace = false }
            leadingSpaceSeen = false
            switch type {
            case .control:
                continue
            case .unknown:
                text.append(contentsOf: entry.id >= 0 && pieceBytes[Int(entry.id)] == entry.bytes ? unknownSurface : entry.bytes)
                continue
            default:
                break
            }
            var start = 0
            let bytes = entry.bytes
            if expectsLeadingSpace && stripsLeadingSpace && bytes.starts(with: UTF8Scanning.spaceSymbol) {
                start = 3
                leadingSpaceSeen = !removesExtraWhitespaces
            }
            Self.appendUnescaped(bytes, from: start, to: &text)
        }
        Self.appendDecodedBytes(&pendingBytes, to: &text)
        if let denormalizer {
            return denormalizer.normalize(text)
        }
        return text
    }

    /// Appends `bytes[start...]` with every `▁` replaced by a space.
    static func appendUnescaped(_ bytes: [UInt8], from start: Int, to text: inout [UInt8]) {
        var index = start
        let count = bytes.count
        while index < count {
            if index + 2 < count && bytes[index] == 0xE2 && bytes[index + 1] == 0x96 && bytes[index + 2] == 0x81 {
                text.append(0x20)
                index += 3
            } else {
                text.append(bytes[index])
                index += 1
            }
        }
    }

    /// Appends a run of fallback bytes: valid characters as they are, each invalid byte as U+FFFD.
    static func appendDecodedBytes(_ pending: inout [UInt8], to text: inout [UInt8]) {
        if pending.isEmpty { return }
        pending.withUnsafeBufferPointer { buffer in
            var position = 0
            while position < buffer.count {
                if let (_, length) = UTF8Scanning.decodeCharacter(buffer, at: position, end: buffer.count) {
                    text.append(contentsOf: buffer[position..<(position + length)])
                    position += length
                } else {
                    text.append(contentsOf: UTF8Scanning.replacementCharacter)
                    position += 1
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
