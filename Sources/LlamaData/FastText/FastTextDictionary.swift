import Foundation

/// The vocabulary of a fastText model: words (ids 0..<wordCount) then labels, with fastText's
/// tokenisation, character n-grams, word n-gram hashing and the pruned-bucket remapping of
/// quantized models (fastText 0.9.2 `Dictionary`, src/dictionary.cc).
struct FastTextDictionary: @unchecked Sendable {
    /// End-of-sentence token fastText appends for each newline.
    static let endOfSentence: [UInt8] = Array("</s>".utf8)
    /// The same bytes at a fixed address, for the tokeniser (allocated once, never freed).
    private nonisolated(unsafe) static let endOfSentenceBuffer: UnsafeBufferPointer<UInt8> = {
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: endOfSentence.count)
        _ = storage.initialize(from: endOfSentence)
        return UnsafeBufferPointer(storage)
    }()

    /// Entry bytes, concatenated; entry i is `entryBytes[entryStarts[i]..<entryStarts[i + 1]]`.
    private(set) var entryBytes: [UInt8] = []
    private(set) var entryStarts: [Int] = [0]
    private(set) var counts: [Int64] = []
    /// 0: word, 1: label (fastText's `entry_type`).
    private(set) var types: [UInt8] = []
    private(set) var wordCount = 0
    private(set) var labelCount = 0
    var tokenCount: Int64 = 0
    /// Buckets kept by quantization with a cutoff: n-gram bucket → row after the words.
    /// `nil` when the model is not pruned (fastText's pruneidx_size_ -1).
    private(set) var pruneIndex: FastTextPruneIndex?
    private(set) var pruneOrder: [(Int32, Int32)] = []

    let minn: Int
    let maxn: Int
    let bucket: Int
    let wordNgrams: Int
    let labelPrefix: [UInt8]

    /// Open-addressing table of entry ids by FNV hash (power-of-two size, linear probing).
    private var table: [Int32] = []
    private var tableMask = 0
    /// Input rows of each word: its own id then its character n-gram rows (fastText initNgrams),
    /// flat; word i's rows are `subwordRows[subwordStarts[i]..<subwordStarts[i + 1]]`.
    private var subwordRows: [Int32] = []
    private var subwordStarts: [Int] = [0]

    var entryCount: Int { counts.count }

    init(args: FastTextArgs) {
        minn = args.minn
        maxn = args.maxn
        bucket = args.bucket
        wordNgrams = args.wordNgrams
        labelPrefix = Array(args.labelPrefix.utf8)
    }

    /// fastText's FNV-1a hash, including its quirk of sign-extending each byte (`int8_t`).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for byte in bytes {
            h ^= UInt32(bitPattern: Int32(Int8(bitPattern: byte)))
            h = h &* 16_777_619
        }
        return h
    }

    static func hash(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBufferPointer { hash($0) } }

    func entry(_ id: Int) -> [UInt8] { Array(entryBytes[entryStarts[id]..<entryStarts[id + 1]]) }

    func isLabel(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count >= labelPrefix.count && zip(bytes, labelPrefix).allSatisfy { $0 == $1 }
    }

    // MARK: Building

    /// Appends an entry (the caller keeps words before labels).
    mutating func append(_ bytes: [UInt8], count: Int64, isLabel: Bool) {
        entryBytes.append(contentsOf: bytes)
        entryStarts.append(entryBytes.count)
        counts.append(count)
        types.append(isLabel ? 1 : 0)
        if isLabel { labelCount += 1 } else { wordCount += 1 }
    }

    mutating func setPruneIndex(_ pairs: [(Int32, Int32)]?) {
        pruneOrder = pairs ?? []
        pruneIndex = pairs.map { FastTextPruneIndex($0) }
    }

    /// Builds the lookup table and each word's input rows; call after the last `append`.
    mutating func finish() {
        var size = 16
        while size < entryCount * 2 { size <<= 1 }
        table = [Int32](repeating: -1, count: size)
        tableMask = size - 1
        for id in 0..<entryCount {
            let bytes = entry(id)
            var slot = Int(Self.hash(bytes)) & tableMask
            while table[slot] >= 0 { slot = (slot + 1) & tableMask }
            table[slot] = Int32(id)
        }
        subwordRows = []
        subwordStarts = [0]
        var scratch: [UInt8] = []
        for id in 0..<wordCount {
            subwordRows.append(Int32(id))
            let word = entry(id)
            if word != Self.endOfSentence {
                scratch = [UInt8(ascii: "<")] + word + [UInt8(ascii: ">")]
                scratch.withUnsafeBufferPointer { appendCharacterNgrams(of: $0, to: &subwordRows) }
            }
            subwordStarts.append(subwordRows.count)
        }
    }

    /// The id of `bytes` (hash `h`), or -1.
    @inline(__always)
    func id(of bytes: UnsafeBufferPointer<UInt8>, hash h: UInt32) -> Int {
        if table.isEmpty { return -1 }
        return table.withUnsafeBufferPointer { slots in
            entryBytes.withUnsafeBufferPointer { all in
                var slot = Int(h) & tableMask
                while true {
                    let candidate = Int(slots[slot])
                    if candidate < 0 { return -1 }
                    let start = entryStarts[candidate], length = entryStarts[candidate + 1] - start
                    if length == bytes.count {
                        guard length > 0, let stored = all.baseAddress, let probe = bytes.baseAddress else {
                            return candidate
                        }
                        if memcmp(stored + start, probe, length) == 0 { return candidate }
                    }
                    slot = (slot + 1) & tableMask
                }
            }
        }
    }

    func id(of bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { id(of: $0, hash: Self.hash($0)) }
    }

    // MARK: Input rows

    /// fastText's pushHash: bucket `h` becomes row wordCount + h, or its pruned row, or nothing.
    @inline(__always)
    private func pushBucket(_ h: Int32, to rows: inout [Int32]) {
        guard h >= 0 else { return }
        if let pruneIndex {
            guard let row = pruneIndex[h] else { return }
            rows.append(Int32(wordCount) + row)
        } else {
            rows.append(Int32(wordCount) + h)
        }
    }

    /// Character n-grams of a `<word>` (UTF-8 aware: n counts characters), as fastText's
    /// computeSubwords, each hashed modulo `bucket`.
    func appendCharacterNgrams(of word: UnsafeBufferPointer<UInt8>, to rows: inout [Int32]) {
        guard bucket > 0, maxn > 0 else { return }
        let size = word.count
        for i in 0..<size where word[i] & 0xC0 != 0x80 {
            var h: UInt32 = 2_166_136_261
            var j = i, n = 1
            while j < size && n <= maxn {
                repeat {
                    h ^= UInt32(bitPattern: Int32(Int8(bitPattern: word[j])))
                    h = h &* 16_777_619
                    j += 1
                } while j < size && word[j] & 0xC0 == 0x80
                if n >= minn && !(n == 1 && (i == 0 || j == size)) {
                    pushBucket(Int32(truncatingIfNeeded: h % UInt32(bucket)), to: &rows)
                }
                n += 1
            }
        }
    }

    /// Reads one line of tokens from `bytes` at `position` as fastText's getLine does and
    /// appends its input rows (words, character n-grams, word n-grams) and label ids.
    ///
    /// Tokens are separated by space, \n, \r, \t, \v, \f and NUL. With `newlineEndsLine` a
    /// newline ends the line with the token `</s>` (fastText's file reading); otherwise
    /// newlines are plain separators and `</s>` is added at the end of `bytes` (a whole
    /// text as one line). The line also ends at a literal `</s>` token, as in fastText.
    func readLine(_ bytes: UnsafeBufferPointer<UInt8>, position: inout Int, newlineEndsLine: Bool,
                  rows: inout [Int32], labels: inout [Int32]) -> Int {
        var wordHashes: [UInt32] = []
        var tokens = 0
        var scratch: [UInt8] = []
        let end = bytes.count
        func isSpace(_ c: UInt8) -> Bool {
            c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 || c == 0x0B || c == 0x0C || c == 0
        }
        while true {
            while position < end, isSpace(bytes[position]) {
                if bytes[position] == 0x0A && newlineEndsLine { break }
                position += 1
            }
            let token: UnsafeBufferPointer<UInt8>
            var isEnd = false
            if position >= end {
                if newlineEndsLine { break }
                token = Self.endOfSentenceBuffer
                isEnd = true
            } else if bytes[position] == 0x0A {
                position += 1
                token = Self.endOfSentenceBuffer
                isEnd = true
            } else {
                let start = position
                while position < end, !isSpace(bytes[position]) { position += 1 }
                token = UnsafeBufferPointer(rebasing: bytes[start..<position])
            }
            let h = Self.hash(token)
            let wid = id(of: token, hash: h)
            let label = wid < 0 ? isLabel(token) : types[wid] == 1
            tokens += 1
            if !label {
                appendWordRows(token, id: wid, to: &rows, scratch: &scratch)
                wordHashes.append(h)
            } else if wid >= 0 {
                labels.append(Int32(wid - wordCount))
            }
            if isEnd || (token.count == 4 && token.elementsEqual(Self.endOfSentence)) { break }
        }
        appendWordNgrams(wordHashes, to: &rows)
        return tokens
    }

    /// fastText's addSubwords: a known word's rows, or an unknown word's character n-grams.
    @inline(__always)
    private func appendWordRows(_ token: UnsafeBufferPointer<UInt8>, id wid: Int, to rows: inout [Int32],
                                scratch: inout [UInt8]) {
        if wid < 0 {
            if token.count == 4 && token.elementsEqual(Self.endOfSentence) { return }
            guard maxn > 0 else { return }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(UInt8(ascii: "<"))
            scratch.append(contentsOf: token)
            scratch.append(UInt8(ascii: ">"))
            scratch.withUnsafeBufferPointer { appendCharacterNgrams(of: $0, to: &rows) }
        } else if maxn <= 0 {
            rows.append(Int32(wid))
        } else {
            rows.append(contentsOf: subwordRows[subwordStarts[wid]..<subwordStarts[wid + 1]])
        }
    }

    /// fastText's addWordNgrams. The hashes pass through `int32_t` and are sign-extended to
    /// 64 bits before mixing, as fastText's `std::vector<int32_t>` of hashes does.
    private func appendWordNgrams(_ hashes: [UInt32], to rows: inout [Int32]) {
        guard wordNgrams > 1, bucket > 0 else { return }
        let modulus = UInt64(bucket)
        for i in 0..<hashes.count {
            var h = UInt64(bitPattern: Int64(Int32(bitPattern: hashes[i])))
            var j = i + 1
            while j < hashes.count && j < i + wordNgrams {
                h = h &* 116_049_371 &+ UInt64(bitPattern: Int64(Int32(bitPattern: hashes[j])))
                pushBucket(Int32(truncatingIfNeeded: h % modulus), to: &rows)
                j += 1
            }
        }
    }
}
