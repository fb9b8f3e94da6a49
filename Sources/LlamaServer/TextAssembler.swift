import LlamaTokenizer

/// Turns generated tokens into text for a client: bytes of byte-fallback pieces are joined
/// into whole characters, and stop strings end the text (never shown, and text that may be
/// the start of a stop string is held back until it is known not to be).
struct TextAssembler {
    private var decoder: StreamingDecoder
    private let stops: [String]
    /// All text decoded so far.
    private(set) var text = ""
    /// How much of `text` (in characters) has been handed out.
    private var emitted = 0
    /// Whether a stop string was reached.
    private(set) var stopped = false
    private var isFirst = true

    init(tokenizer: SentencePieceTokenizer, stops: [String]) {
        decoder = StreamingDecoder(tokenizer: tokenizer)
        self.stops = stops
    }

    /// Adds a token; returns the text that may be shown now.
    mutating func append(_ token: Int32) -> String {
        guard !stopped else { return "" }
        var piece = decoder.append(token)
        // The decoder drops the space of a leading "▁" (the start of a text); a completion
        // continues its prompt, so that space is part of the continuation.
        if isFirst && decoder.tokenizer.piece(for: token).hasPrefix("▁") && !piece.hasPrefix(" ") { piece = " " + piece }
        isFirst = false
        text += piece
        return release(final: false)
    }

    /// Everything not yet shown, at the end of generation.
    mutating func finish() -> String {
        guard !stopped else { return "" }
        text += decoder.finish()
        return release(final: true)
    }

    /// The shown text so far plus what can be released.
    private mutating func release(final: Bool) -> String {
        var limit = text.count
        if let cut = stops.compactMap({ text.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            limit = text.distance(from: text.startIndex, to: cut.lowerBound)
            text = String(text[..<cut.lowerBound])
            stopped = true
        } else if !final {
            // Hold back the longest tail that is a prefix of some stop string.
            for stop in stops {
                for length in stride(from: min(stop.count - 1, text.count), to: 0, by: -1)
                where text.hasSuffix(String(stop.prefix(length))) {
                    limit = min(limit, text.count - length)
                    break
                }
            }
        }
        guard limit > emitted else { return "" }
        let start = text.index(text.startIndex, offsetBy: emitted), end = text.index(text.startIndex, offsetBy: limit)
        emitted = limit
        return String(text[start..<end])
    }
}
