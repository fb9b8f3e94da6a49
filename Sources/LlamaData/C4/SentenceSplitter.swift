/// Splits text into sentences for C4's sentence rules. C4's reference implementation uses
/// NLTK's Punkt tokenizer (Kiss and Strunk, 2006), a trained model not available here; this
/// splitter follows Punkt's basic rule without its learned abbreviation list: a sentence
/// ends after `.`, `!` or `?` (and any closing quotes or brackets after them) when
/// whitespace follows and the next word does not start with a lower-case letter.
public enum SentenceSplitter {
    /// The sentences of `text`, scanned as UTF-8 bytes (enders and ASCII closers are single
    /// bytes; the curly closers ” ’ » are matched as their byte sequences).
    public static func sentences(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var result: [String] = []
        var start = 0
        var index = 0
        func skipSpaces(_ position: inout Int) {
            while position < bytes.count, TextScanning.isASCIISpace(bytes[position]) { position += 1 }
        }
        /// The length of a closer at `position` (0 when none).
        func closerLength(_ position: Int) -> Int {
            let byte = bytes[position]
            if byte == 0x22 || byte == 0x27 || byte == 0x29 || byte == 0x5D { return 1 }
            if byte == 0xE2, position + 2 < bytes.count, bytes[position + 1] == 0x80,
               bytes[position + 2] == 0x9D || bytes[position + 2] == 0x99 { return 3 }  // ” ’
            if byte == 0xC2, position + 1 < bytes.count, bytes[position + 1] == 0xBB { return 2 }  // »
            return 0
        }
        func startsLowercase(_ position: Int) -> Bool {
            let byte = bytes[position]
            if byte < 0x80 { return byte >= 0x61 && byte <= 0x7A }
            var iterator = bytes[position...].makeIterator()
            var decoder = UTF8()
            if case .scalarValue(let scalar) = decoder.decode(&iterator) { return scalar.properties.isLowercase }
            return false
        }
        func append(_ from: Int, _ to: Int) {
            var end = to
            while end > from, TextScanning.isASCIISpace(bytes[end - 1]) { end -= 1 }
            if from < end { result.append(String(decoding: bytes[from..<end], as: UTF8.self)) }
        }
        skipSpaces(&start)
        index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x2E || byte == 0x21 || byte == 0x3F {
                var end = index + 1
                while end < bytes.count {
                    if bytes[end] == 0x2E || bytes[end] == 0x21 || bytes[end] == 0x3F { end += 1; continue }
                    let length = closerLength(end)
                    if length == 0 { break }
                    end += length
                }
                var next = end
                skipSpaces(&next)
                if next > end, next < bytes.count, !startsLowercase(next) {
                    append(start, end)
                    start = next
                    index = next
                    continue
                }
                index = end
                continue
            }
            index += 1
        }
        append(start, bytes.count)
        return result
    }
}
