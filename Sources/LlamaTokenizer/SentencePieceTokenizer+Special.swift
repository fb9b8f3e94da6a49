extension SentencePieceTokenizer {
    /// The control and unknown pieces (`<s>`, `</s>`, `<unk>`, a chat model's `<|im_end|>` …),
    /// longest first: the pieces `encode(parsingSpecial:)` takes from the text as they are.
    public var specialPieces: [(text: [UInt8], id: Int32)] {
        reservedPieces.compactMap { text, id -> ([UInt8], Int32)? in
            guard let type = pieceType(for: id), type == .control || type == .unknown, !text.isEmpty else { return nil }
            return (text, id)
        }.sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.1 < $1.1 }
    }

    /// Encodes text in which control pieces written out (`<s>`, `</s>`, `<|im_start|>` …) stand
    /// for their ids, as llama.cpp tokenizes a chat prompt rendered from a template (`llama_tokenize`
    /// with `parse_special`): the text is cut at each special piece (longest first, leftmost), and
    /// each stretch of text between them is encoded on its own, so it gets SentencePiece's dummy
    /// space prefix as llama.cpp gives one after every special piece.
    public func encode(parsingSpecial text: String, addBOS: Bool = false) -> [Int32] {
        let bytes = Array(text.utf8), specials = specialPieces
        var ids: [Int32] = []
        if addBOS, let bosId { ids.append(bosId) }
        var start = 0, position = 0
        func flush(until end: Int) {
            if end > start { ids += encode(bytes: Array(bytes[start..<end])) }
        }
        while position < bytes.count {
            let match = specials.first { special in
                special.text.count <= bytes.count - position
                    && special.text.indices.allSatisfy { bytes[position + $0] == special.text[$0] }
            }
            if let match {
                flush(until: position)
                ids.append(match.id)
                position += match.text.count
                start = position
            } else {
                position += 1
            }
        }
        flush(until: bytes.count)
        return ids
    }
}
