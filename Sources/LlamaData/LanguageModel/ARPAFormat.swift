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
/// log10 back-off weight, separated by tabs or spaces. Entries are read from the bytes (the file
/// is memory-mapped) straight into the model's hash tables.
public enum ARPAFormat {
    /// Reads an ARPA file.
    /// - Throws: `DataError.invalidARPA` naming the file and line of a malformed header or entry,
    ///   of a section whose number of entries differs from the header's count, of a positive
    ///   probability, or of an n-gram whose words are not unigrams or whose context is missing
    ///   (KenLM refuses those files too).
    public static func read(path: String) throws -> NGramModel {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError.fileNotFound(path: path)
        }
        return try data.withUnsafeBytes { try read(buffer: $0, path: path) }
    }

    /// Reads ARPA text held in memory; `path` names it in errors.
    public static func read(bytes: [UInt8], path: String) throws -> NGramModel {
        try bytes.withUnsafeBytes { try read(buffer: $0, path: path) }
    }

    static func read(buffer: UnsafeRawBufferPointer, path: String) throws -> NGramModel {
        var lines = ARPALines(buffer: buffer)
        func fail(_ reason: String) -> DataError {
            DataError.invalidARPA(path: path, line: lines.number, reason: reason)
        }
        func nextText() throws -> String? {
            guard let line = lines.next() else { return nil }
            guard let text = String(validating: line, as: UTF8.self) else { throw fail("not UTF-8") }
            return text
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
        guard counts.count <= NGramModel.maximumOrder else {
            throw fail("order \(counts.count) is above the highest supported, \(NGramModel.maximumOrder)")
        }
        let order = counts.count
        var builder = try NGramModelBuilder(order: order, expectedCounts: counts, path: path)
        for length in 1...order {
            line = try nextText()
            while let text = line, text.allSatisfy(\.isWhitespace) { line = try nextText() }
            guard line == "\\\(length)-grams:" else {
                throw fail("expected \\\(length)-grams:, found \"\(line ?? "end of file")\"")
            }
            let expected = counts[length - 1]
            var entries = 0
            func countMismatch() -> DataError { fail("\(length)-gram section has \(entries) entries, header says \(expected)") }
            while let bytes = lines.next() {
                var fields = ARPAFields(line: bytes)
                if fields.count == 0 { break }
                if fields.line[fields.starts[0]] == UInt8(ascii: "\\") { throw countMismatch() }
                try readEntry(&fields, length: length, order: order, line: lines.number, into: &builder)
                entries += 1
                guard entries <= expected else { throw fail("more \(length)-grams than the header's \(expected)") }
            }
            guard entries == expected else { throw countMismatch() }
        }
        line = try nextText()
        while let text = line, text.allSatisfy(\.isWhitespace) { line = try nextText() }
        guard line == "\\end\\" else { throw fail("expected \\end\\, found \"\(line ?? "end of file")\"") }
        return NGramModel(builder: builder, listing: nil)
    }

    /// Adds the entry of one line of the section of n-grams of order `length`.
    private static func readEntry(_ fields: inout ARPAFields, length: Int, order: Int, line: Int,
                                  into builder: inout NGramModelBuilder) throws {
        func fail(_ reason: String) -> DataError { DataError.invalidARPA(path: builder.path, line: line, reason: reason) }
        guard fields.count == length + 1 || (length < order && fields.count == length + 2) else {
            throw fail("a \(length)-gram entry needs a probability, \(length) word(s)"
                       + (length < order ? " and an optional back-off" : "") + ": \"\(fields.text)\"")
        }
        guard let probability = parseFloat(fields[0]) else { throw fail("bad probability \"\(fields.string(0))\"") }
        var backoff: Float = 0
        if fields.count == length + 2 {
            guard let value = parseFloat(fields[length + 1]) else { throw fail("bad back-off \"\(fields.string(length + 1))\"") }
            backoff = value
        }
        if length == 1 {
            guard let word = String(validating: fields[1], as: UTF8.self) else { throw fail("not UTF-8") }
            try builder.addUnigram(word, hash: NGramHash.word(fields[1]), probability: probability, backoff: backoff, line: line)
            return
        }
        var reversed = SIMD8<UInt64>()
        for position in 1...length { reversed[length - position] = NGramHash.word(fields[position]) }
        try builder.addNGram(reversed: reversed, length: length, probability: probability, backoff: backoff, line: line) {
            (1...length).map { fields.string($0) }
        }
    }

    /// 10^`exponent` for `exponent` in 0…22, the powers of ten exact in double precision.
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> Double {
        var power = 1.0
        for _ in 0..<exponent { power *= 10 }
        return power
    }

    /// A decimal number as the nearest float, as `Float(String)` (strtof) rounds it. A plain
    /// decimal of up to 2⁵³ − 1 as an integer mantissa and up to 22 decimals (all lmplz and
    /// SRILM write) is one correctly rounded division of two exact doubles (Clinger's fast path),
    /// then rounded to single precision; that second rounding can only differ from rounding the
    /// decimal directly when the double falls exactly halfway between two floats, which goes to
    /// `Float(String)` with anything else.
    static func parseFloat(_ field: UnsafeRawBufferPointer) -> Float? {
        var offset = 0
        let negative = field.first == UInt8(ascii: "-")
        if negative { offset = 1 }
        var mantissa: UInt64 = 0
        var decimals = 0
        var digits = 0
        var seenPoint = false
        var fast = offset < field.count
        while offset < field.count, fast {
            let byte = field[offset]
            if byte &- UInt8(ascii: "0") < 10 {
                mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
                digits += 1
                if seenPoint { decimals += 1 }
                fast = mantissa < 1 << 53 && decimals <= 22
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                fast = false
            }
            offset += 1
        }
        let value = Double(mantissa) / powerOfTen(decimals)
        // Halfway between two floats: the 29 bits below single precision are 1000…0.
        guard fast, digits > 0, value.bitPattern & 0x1FFF_FFFF != 0x1000_0000 else {
            return Float(String(decoding: field, as: UTF8.self))
        }
        return Float(negative ? -value : value)
    }

    /// ARPA text of `model`: unigrams in identifier order, higher orders sorted by their words'
    /// identifiers, floats in their shortest round-trip form; back-off weights are written for
    /// every order below the highest (as lmplz writes them).
    /// - Throws: `DataError.invalidConfiguration` for a model read from a file (see `sortedEntries`).
    public static func text(of model: NGramModel) throws -> String {
        var output = "\\data\\\n"
        for (index, count) in model.counts.enumerated() { output += "ngram \(index + 1)=\(count)\n" }
        for length in 1...model.order {
            output += "\n\\\(length)-grams:\n"
            for (words, entry) in try model.sortedEntries(order: length) {
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
        for line in try text(of: model).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            try writer.write(line: String(line))
        }
        try writer.commit()
    }
}

/// The lines of a buffer, cut at LF with a CR before it removed, numbered from 1.
struct ARPALines {
    let buffer: UnsafeRawBufferPointer
    private var offset = 0
    /// The number of the last line returned.
    private(set) var number = 0

    init(buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard offset < buffer.count, let base = buffer.baseAddress else { return nil }
        let start = offset
        var end = buffer.count
        if let newline = memchr(base + start, 0x0A, buffer.count - start) {
            end = base.distance(to: UnsafeRawPointer(newline))
        }
        offset = end + 1
        number += 1
        if end > start, buffer[end - 1] == 0x0D { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<end])
    }
}

/// The fields of an entry line, separated by runs of spaces and tabs (up to 16 are told apart).
struct ARPAFields {
    let line: UnsafeRawBufferPointer
    private(set) var starts = SIMD16<Int>()
    private(set) var ends = SIMD16<Int>()
    private(set) var count = 0

    init(line: UnsafeRawBufferPointer) {
        self.line = line
        var offset = 0
        while count < 16 {
            while offset < line.count, line[offset] == 0x20 || line[offset] == 0x09 { offset += 1 }
            if offset == line.count { break }
            starts[count] = offset
            while offset < line.count, line[offset] != 0x20, line[offset] != 0x09 { offset += 1 }
            ends[count] = offset
            count += 1
        }
    }

    subscript(index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: line[starts[index]..<ends[index]]) }

    /// Field `index` as text (for messages).
    func string(_ index: Int) -> String { String(decoding: self[index], as: UTF8.self) }

    /// The whole line as text (for messages).
    var text: String { String(decoding: line, as: UTF8.self) }
}

extension NGramModel {
    /// The n-grams of one order as words and entries; unigrams in identifier order (`<unk>`
    /// first, if the file had it), higher orders sorted by their words' identifiers.
    /// - Throws: `DataError.invalidConfiguration` for a model read from an ARPA file, which keeps
    ///   only the hashed keys of its n-grams (as KenLM's probing model does), not their words.
    public func sortedEntries(order length: Int) throws -> [(words: [String], entry: Entry)] {
        guard let listing else {
            throw DataError.invalidConfiguration(path: "<model>", reason:
                "a model read from ARPA keeps hashed n-grams only; write the model it was estimated as instead")
        }
        if length == 1 {
            return words.indices.compactMap { index in
                index == 0 && !hasExplicitUnknown ? nil : entry([Int32(index)]).map { ([words[index]], $0) }
            }
        }
        var seen = Set<[Int32]>()
        var entries: [(identifiers: [Int32], words: [String], entry: Entry)] = []
        for (gramWords, entry) in listing[length - 1] {
            let identifiers = gramWords.map { identifier(of: $0) }
            if seen.insert(identifiers).inserted { entries.append((identifiers, gramWords, entry)) }
        }
        entries.sort { $0.identifiers.lexicographicallyPrecedes($1.identifiers) }
        return entries.map { ($0.words, $0.entry) }
    }
}
