import Foundation

/// Reading and writing the ARPA back-off model format (Doug Paul's format as SRILM's
/// `ngram-format(5)` describes it; KenLM reads it in `lm/read_arpa.cc`):
///
///     \data\
///     ngram 1=37
///     ngram 2=47
///
///     \1-grams:
///     -1.383514	,	-0.30103
///     …
///     \end\
///
/// Each entry is a log10 probability, the words, and for orders below the highest an optional
/// log10 back-off weight, separated by tabs or spaces.
public enum ARPAFormat {
    /// Reads an ARPA file.
    /// - Throws: `DataError.invalidARPA` naming the file and line of a malformed header or entry,
    ///   or of a section whose number of entries differs from the header's count.
    public static func read(path: String) throws -> NGramModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        return try read(bytes: [UInt8](data), path: path)
    }

    /// Reads ARPA text held in memory; `path` names it in errors.
    public static func read(bytes: [UInt8], path: String) throws -> NGramModel {
        let reader = ByteLineReader(source: MemoryByteSource(path: path, bytes: bytes))
        func fail(_ reason: String) -> DataError {
            DataError.invalidARPA(path: path, line: reader.lineNumber, reason: reason)
        }
        func nextText() throws -> String? {
            guard let line = reader.nextLine() else { return nil }
            guard let text = String(validating: line, as: UTF8.self) else { throw fail("not UTF-8") }
            return text.hasSuffix("\r") ? String(text.dropLast()) : text
        }
        // Header: blank lines, then \data\, then "ngram N=count" lines.
        var line = try nextText()
        while let text = line, text.allSatisfy(\.isWhitespace) { line = try nextText() }
        guard line == "\\data\\" else { throw fail("expected \\data\\") }
        var counts: [Int] = []
        while let text = try nextText() {
            if text.allSatisfy(\.isWhitespace) {
                if counts.isEmpty { continue }
                break
            }
            guard text.hasPrefix("ngram ") else { throw fail("expected \"ngram N=count\", found \"\(text)\"") }
            let fields = text.dropFirst(6).split(separator: "=")
            guard fields.count == 2,
                  let order = Int(fields[0].trimmingCharacters(in: .whitespaces)),
                  let count = Int(fields[1].trimmingCharacters(in: .whitespaces)), count >= 0 else {
                throw fail("malformed count line \"\(text)\"")
            }
            guard order == counts.count + 1 else { throw fail("ngram \(order)= out of order") }
            counts.append(count)
        }
        guard !counts.isEmpty else { throw fail("no ngram counts in the header") }
        let order = counts.count
        var ngrams: [[(words: [String], entry: NGramModel.Entry)]] = Array(repeating: [], count: order)
        var unigramWords: Set<String> = []
        for length in 1...order {
            line = try nextText()
            while let text = line, text.allSatisfy(\.isWhitespace) { line = try nextText() }
            guard line == "\\\(length)-grams:" else {
                throw fail("expected \\\(length)-grams:, found \"\(line ?? "end of file")\"")
            }
            ngrams[length - 1].reserveCapacity(counts[length - 1])
            while let text = try nextText() {
                if text.isEmpty { break }
                let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if fields.isEmpty { break }
                if fields[0].hasPrefix("\\") {
                    throw fail("\(length)-gram section has \(ngrams[length - 1].count) entries, header says \(counts[length - 1])")
                }
                guard fields.count == length + 1 || (length < order && fields.count == length + 2) else {
                    throw fail("a \(length)-gram entry needs a probability, \(length) word(s)"
                               + (length < order ? " and an optional back-off" : "") + ": \"\(text)\"")
                }
                guard let probability = Float(fields[0]) else { throw fail("bad probability \"\(fields[0])\"") }
                var backoff: Float = 0
                if fields.count == length + 2 {
                    guard let value = Float(fields[length + 1]) else { throw fail("bad back-off \"\(fields[length + 1])\"") }
                    backoff = value
                }
                let words = fields[1...length].map(String.init)
                if length == 1 {
                    unigramWords.insert(words[0])
                } else if let missing = words.first(where: { !unigramWords.contains($0) }) {
                    throw fail("word \"\(missing)\" is not among the unigrams")
                }
                ngrams[length - 1].append((words, NGramModel.Entry(probability: probability, backoff: backoff)))
                guard ngrams[length - 1].count <= counts[length - 1] else {
                    throw fail("more \(length)-grams than the header's \(counts[length - 1])")
                }
            }
            guard ngrams[length - 1].count == counts[length - 1] else {
                throw fail("\(length)-gram section has \(ngrams[length - 1].count) entries, header says \(counts[length - 1])")
            }
        }
        line = try nextText()
        while let text = line, text.allSatisfy(\.isWhitespace) { line = try nextText() }
        guard line == "\\end\\" else { throw fail("expected \\end\\, found \"\(line ?? "end of file")\"") }
        if let error = reader.error { throw error }
        return try NGramModel(order: order, ngrams: ngrams, path: path)
    }

    /// ARPA text of `model`: unigrams in identifier order, higher orders in key order, floats in
    /// their shortest round-trip form; back-off weights are written for every order below the
    /// highest (as lmplz writes them).
    public static func text(of model: NGramModel) -> String {
        var output = "\\data\\\n"
        for (index, count) in model.counts.enumerated() { output += "ngram \(index + 1)=\(count)\n" }
        for length in 1...model.order {
            output += "\n\\\(length)-grams:\n"
            for (words, entry) in model.sortedEntries(order: length) {
                output += "\(entry.probability)\t\(words.joined(separator: " "))"
                if length < model.order { output += "\t\(entry.backoff)" }
                output += "\n"
            }
        }
        output += "\n\\end\\\n"
        return output
    }

    /// Writes `model` to `path` atomically.
    public static func write(_ model: NGramModel, to path: String) throws {
        let writer = try AtomicLineWriter(path: path)
        for line in text(of: model).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            try writer.write(line: String(line))
        }
        try writer.commit()
    }
}

extension NGramModel {
    /// The n-grams of one order as words and entries; unigrams in identifier order (`<unk>`
    /// first, if the file had it), higher orders sorted by their words' identifiers.
    public func sortedEntries(order length: Int) -> [(words: [String], entry: Entry)] {
        if length == 1 {
            return unigrams.indices.compactMap { index in
                index == 0 && !hasExplicitUnknown ? nil : ([words[index]], unigrams[index])
            }
        }
        let bits = NGramKey.bitsPerWord(order: order)
        let mask: UInt128 = (1 << bits) - 1
        return higherOrders[length - 2].keys.sorted().map { key in
            let gramWords = (0..<length).reversed().map { position in
                words[Int((key >> (bits * position)) & mask)]
            }
            return (gramWords, higherOrders[length - 2][key] ?? Entry(probability: 0, backoff: 0))
        }
    }
}
