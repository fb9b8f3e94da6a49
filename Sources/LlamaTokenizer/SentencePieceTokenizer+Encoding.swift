import Foundation

/// One piece of an encoding: its bytes in the normalized text and its id.
struct EncodedSegment {
    /// Start of the piece's bytes in the scratch buffer.
    var start: Int32
    /// Length of the piece in bytes.
    var length: Int32
    /// Piece id (`unkId` for unknown text).
    var id: Int32
}

/// A candidate merge of two adjacent symbols (SentencePiece bpe_model.cc `SymbolPair`).
private struct MergeCandidate {
    /// Score of the merged piece; higher merges first.
    var score: Float
    /// Index of the left symbol; on equal scores the leftmost pair merges first.
    var left: Int32
    /// Index of the right symbol.
    var right: Int32
    /// Byte length of the merged piece, to detect candidates made stale by other merges.
    var size: Int32
    /// Id of the merged piece.
    var mergedId: Int32

    /// Whether `self` merges before `other`: higher score, then smaller left index.
    @inline(__always)
    func precedes(_ other: MergeCandidate) -> Bool {
        score > other.score || (score == other.score && left < other.left)
    }
}

/// Reusable buffers for encoding one text; one per thread.
final class EncodingScratch {
    /// The normalized text plus bytes appended for re-split unused pieces.
    var text: [UInt8] = []
    /// Buffers of the BPE loop.
    var work = MergeWork()
    var segments: [EncodedSegment] = []
    /// Unused merged piece id → the pieces it was formed from (SentencePiece `rev_merge`).
    var unusedMerges: [Int32: (left: EncodedSegment, right: EncodedSegment)] = [:]
    /// Results for segments seen before (used when segments are independent).
    let cache = SegmentCache()
}

extension SentencePieceTokenizer {
    /// Encodes text into piece ids, exactly as `sentencepiece`'s `encode` does.
    ///
    /// - Parameters:
    ///   - addBOS: put `bosId` in front (when the model has one).
    ///   - addEOS: put `eosId` at the end (when the model has one).
    public func encode(_ text: String, addBOS: Bool = false, addEOS: Bool = false) -> [Int32] {
        var utf8 = text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)
        return encode(utf8Bytes: &utf8, addBOS: addBOS, addEOS: addEOS)
    }

    /// Encodes raw bytes, which may be malformed UTF-8 (each invalid byte is read as
    /// U+FFFD, as SentencePiece does).
    public func encode(bytes: [UInt8], addBOS: Bool = false, addEOS: Bool = false) -> [Int32] {
        var copy = bytes
        return encode(utf8Bytes: &copy, addBOS: addBOS, addEOS: addEOS)
    }

    private func encode(utf8Bytes: inout [UInt8], addBOS: Bool, addEOS: Bool) -> [Int32] {
        let scratch = EncodingScratch()
        var ids: [Int32] = []
        if addBOS, let bosId { ids.append(bosId) }
        utf8Bytes.withUnsafeBufferPointer { encodeIds($0, scratch: scratch, into: &ids) }
        if addEOS, let eosId { ids.append(eosId) }
        return ids
    }

    /// Encodes text into piece strings (`sentencepiece` `encode(..., out_type=str)`).
    /// A run of unknown characters is one piece, as in SentencePiece.
    public func encodeAsPieces(_ text: String) -> [String] {
        encodeAsPieces(bytes: Array(text.utf8))
    }

    /// Encodes raw bytes into piece strings.
    public func encodeAsPieces(bytes: [UInt8]) -> [String] {
        let scratch = EncodingScratch()
        bytes.withUnsafeBufferPointer { segment($0, scratch: scratch) }
        var pieces: [String] = []
        var previousWasUnknown = false
        for segment in scratch.segments {
            let id = segment.id
            let type = pieceTypes[Int(id)]
            let surface = scratch.text[Int(segment.start)..<Int(segment.start + segment.length)]
            if type == .control {
                pieces.append(String(decoding: surface, as: UTF8.self))
            } else if type == .unknown, let byteIds {
                for byte in surface { pieces.append(String(decoding: pieceBytes[Int(byteIds[Int(byte)])], as: UTF8.self)) }
            } else if type == .unknown && previousWasUnknown, let last = pieces.popLast() {
                pieces.append(last + String(decoding: surface, as: UTF8.self))
            } else {
                pieces.append(String(decoding: surface, as: UTF8.self))
            }
            previousWasUnknown = type == .unknown
        }
        return pieces
    }

    /// Encodes many texts, spreading them over `threadCount` threads; results keep input order.
    public func encode(batch texts: [String], addBOS: Bool = false, addEOS: Bool = false,
                       threadCount: Int = ProcessInfo.processInfo.activeProcessorCount) -> [[Int32]]
    {
        encodeBatch(count: texts.count, threadCount: threadCount) { index, scratch, ids in
            if addBOS, let bosId { ids.append(bosId) }
            let utf8 = Array(texts[index].utf8)
            utf8.withUnsafeBufferPointer { encodeIds($0, scratch: scratch, into: &ids) }
            if addEOS, let eosId { ids.append(eosId) }
        }
    }

    /// Encodes many byte strings (lines of a file, possibly malformed UTF-8) on `threadCount` threads.
    public func encode(batchOfBytes lines: [[UInt8]], addBOS: Bool = false, addEOS: Bool = false,
                       threadCount: Int = ProcessInfo.processInfo.activeProcessorCount) -> [[Int32]]
    {
        encodeBatch(count: lines.count, threadCount: threadCount) { index, scratch, ids in
            if addBOS, let bosId { ids.append(bosId) }
            lines[index].withUnsafeBufferPointer { encodeIds($0, scratch: scratch, into: &ids) }
            if addEOS, let eosId { ids.append(eosId) }
        }
    }

    private func encodeBatch(count: Int, threadCount: Int,
                             _ body: (Int, EncodingScratch, inout [Int32]) -> Void) -> [[Int32]]
    {
        var results = [[Int32]](repeating: [], count: count)
        let workers = max(1, min(threadCount, count))
        results.withUnsafeMutableBufferPointer { output in
            let output = output
            // Contiguous chunks; each worker owns its chunk and its scratch buffers.
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let scratch = EncodingScratch()
                let begin = count * worker / workers, end = count * (worker + 1) / workers
                for index in begin..<end {
                    var ids: [Int32] = []
                    body(index, scratch, &ids)
                    output[index] = ids
                }
            }
        }
        return results
    }

    /// Normalizes and segments `input`, then appends ids in SentencePiece's output form:
    /// an unknown piece becomes its byte pieces with byte fallback, and otherwise a run of
    /// unknown pieces becomes one `unkId` (`PopulateSentencePieceText`).
    func encodeIds(_ input: UnsafeBufferPointer<UInt8>, scratch: EncodingScratch, into ids: inout [Int32]) {
        segment(input, scratch: scratch)
        var previousWasUnknown = false
        for segment in scratch.segments {
            let id = segment.id
            let isUnknown = id == unkId
            if isUnknown {
                if let byteIds {
                    let start = Int(segment.start)
                    for offset in 0..<Int(segment.length) { ids.append(byteIds[Int(scratch.text[start + offset])]) }
                } else if !previousWasUnknown {
                    ids.append(id)
                }
            } else {
                ids.append(id)
            }
            previousWasUnknown = isUnknown
        }
    }

    /// Normalizes `input` into `scratch.text` and fills `scratch.segments` with the BPE
    /// segmentation of SentencePiece `bpe::Model::SampleEncode` (without dropout).
    ///
    /// The text is split into characters (a user-defined piece counts as one frozen
    /// character); then, repeatedly, the adjacent pair whose concatenation is the
    /// highest-scoring piece is merged, the leftmost pair first on equal scores.
    func segment(_ input: UnsafeBufferPointer<UInt8>, scratch: EncodingScratch) {
        normalizer.normalize(input, into: &scratch.text)
        scratch.segments.removeAll(keepingCapacity: true)
        let count = scratch.text.count
        if count == 0 { return }
        if unigramTrie != nil {
            unigramSegment(scratch: scratch)
            return
        }
        if !segmentsAreIndependent {
            mergePairs(from: 0, to: count, scratch: scratch)
            return
        }
        // Segments start at a `▁` that follows another character; no piece spans two of
        // them, so each is segmented (or found in the cache) on its own.
        let text = scratch.text
        let cache = scratch.cache
        // Work on a local array (no class-property access in the loop), handed back at the end.
        var segments: [EncodedSegment] = []
        swap(&segments, &scratch.segments)
        defer { swap(&segments, &scratch.segments) }
        text.withUnsafeBufferPointer { text in
            var segmentStart = 0
            var position = 1
            while position <= count {
                let isBoundary = position == count
                    || (position + 2 < count && text[position] == 0xE2 && text[position + 1] == 0x96 && text[position + 2] == 0x81
                        && !(position >= 3 && text[position - 3] == 0xE2 && text[position - 2] == 0x96 && text[position - 1] == 0x81))
                if isBoundary {
                    let hash = SegmentCache.hash(text, segmentStart, position)
                    if let cached = cache.lookup(text, segmentStart, position, hash: hash) {
                        var start = Int32(segmentStart)
                        cache.pieceLengths.withUnsafeBufferPointer { lengths in
                            cache.pieceIds.withUnsafeBufferPointer { ids in
                                for index in cached {
                                    let length = lengths[index]
                                    segments.append(EncodedSegment(start: start, length: length, id: ids[index]))
                                    start += length
                                }
                            }
                        }
                    } else {
                        scratch.segments = segments
                        segments = []
                        let first = scratch.segments.count
                        mergePairs(from: segmentStart, to: position, scratch: scratch)
                        cache.store(text, segmentStart, position, hash: hash, pieces: scratch.segments[first...])
                        swap(&segments, &scratch.segments)
                    }
                    segmentStart = position
                }
                position += 1
            }
        }
    }

    /// Runs the BPE merges on `scratch.text[from..<to]` and appends the pieces to `scratch.segments`.
    private func mergePairs(from: Int, to: Int, scratch: EncodingScratch) {
        // The buffers are moved out of the scratch object into a local value for the loop.
        var work = scratch.work
        scratch.work = MergeWork()
        defer { scratch.work = work }
        work.reset()
        if hasUnusedPieces { scratch.unusedMerges.removeAll(keepingCapacity: true) }

        scratch.text.withUnsafeBufferPointer { text in
            var position = from
            while position < to {
                var length = userDefinedMatcher.longestMatch(in: text, at: position, end: to)
                let isFrozen = length > 0
                if !isFrozen { length = min(UTF8Scanning.characterLength(leadByte: text[position]), to - position) }
                var id: Int32 = -1
                if isFrozen {
                    id = segmentablePieces[Array(text[position..<(position + length)])] ?? -1
                } else {
                    id = characterTable.value(for: IntegerTable.characterKey(text, start: position, length: length))
                }
                work.symbolStart.append(Int32(position))
                work.symbolLength.append(Int32(length))
                work.symbolId.append(id)
                work.frozen.append(isFrozen)
                position += length
            }
            let symbolCount = work.symbolStart.count
            for index in 0..<symbolCount {
                work.previous.append(Int32(index - 1))
                work.next.append(index + 1 < symbolCount ? Int32(index + 1) : -1)
            }
            for index in 1..<max(symbolCount, 1) {
                addCandidate(left: Int32(index - 1), right: Int32(index), work: &work, text: text, scratch: scratch)
            }

            while let top = work.popCandidate() {
                let left = Int(top.left), right = Int(top.right)
                let leftLength = work.symbolLength[left], rightLength = work.symbolLength[right]
                if leftLength == 0 || rightLength == 0 || leftLength + rightLength != top.size { continue }
                work.symbolLength[left] = leftLength + rightLength
                work.symbolId[left] = top.mergedId
                let following = work.next[right]
                work.next[left] = following
                if following >= 0 { work.previous[Int(following)] = top.left }
                work.symbolLength[right] = 0
                addCandidate(left: work.previous[left], right: top.left, work: &work, text: text, scratch: scratch)
                addCandidate(left: top.left, right: following, work: &work, text: text, scratch: scratch)
            }
        }

        var index: Int32 = 0
        while index >= 0 {
            let symbol = Int(index)
            let piece = EncodedSegment(start: work.symbolStart[symbol], length: work.symbolLength[symbol],
                                       id: work.symbolId[symbol])
            appendResegmented(piece, scratch: scratch)
            index = work.next[symbol]
        }
    }

    /// Appends a final symbol: text that is no segmentable piece becomes `<unk>`, and an
    /// unused piece is split back into the pair it was merged from, recursively up to
    /// depth 100 (sentencepiece 0.2.3 `resegment`; without a recorded pair it is `<unk>`).
    private func appendResegmented(_ piece: EncodedSegment, scratch: EncodingScratch, depth: Int = 0) {
        var piece = piece
        if piece.id < 0 { piece.id = unkId }
        if hasUnusedPieces && depth <= 100 && pieceTypes[Int(piece.id)] == .unused {
            if let parts = scratch.unusedMerges[piece.id] {
                appendResegmented(parts.left, scratch: scratch, depth: depth + 1)
                appendResegmented(parts.right, scratch: scratch, depth: depth + 1)
            } else {
                scratch.segments.append(EncodedSegment(start: piece.start, length: piece.length, id: unkId))
            }
            return
        }
        scratch.segments.append(piece)
    }

    /// Pushes the merge of symbols `left` and `right` if their concatenation is a piece
    /// (SentencePiece `MaybeAddNewSymbolPair`).
    @inline(__always)
    private func addCandidate(left: Int32, right: Int32, work: inout MergeWork, text: UnsafeBufferPointer<UInt8>,
                              scratch: EncodingScratch)
    {
        if left < 0 || right < 0 { return }
        let leftIndex = Int(left), rightIndex = Int(right)
        if work.frozen[leftIndex] || work.frozen[rightIndex] { return }
        let leftId = work.symbolId[leftIndex], rightId = work.symbolId[rightIndex]
        var merged: Int32 = -1
        if leftId >= 0 && rightId >= 0 {
            merged = mergeTable.value(for: IntegerTable.pairKey(leftId, rightId))
        } else if mergesUnknownCharacters {
            let start = Int(work.symbolStart[leftIndex])
            let end = start + Int(work.symbolLength[leftIndex] + work.symbolLength[rightIndex])
            merged = segmentablePieces[Array(text[start..<end])] ?? -1
        }
        if merged < 0 { return }
        let candidate = MergeCandidate(score: pieceScores[Int(merged)], left: left, right: right,
                                       size: work.symbolLength[leftIndex] + work.symbolLength[rightIndex],
                                       mergedId: merged)
        work.pushCandidate(candidate)
        if hasUnusedPieces && pieceTypes[Int(merged)] == .unused {
            scratch.unusedMerges[merged] = (
                EncodedSegment(start: work.symbolStart[leftIndex], length: work.symbolLength[leftIndex], id: leftId),
                EncodedSegment(start: work.symbolStart[rightIndex], length: work.symbolLength[rightIndex], id: rightId))
        }
    }
}

/// The symbol list and merge queue of one BPE run (SentencePiece bpe_model.cc `symbols`
/// and `agenda`), reused between runs.
struct MergeWork {
    /// Per symbol: start in the text, byte length (0 once merged away), piece id (-1 when
    /// the character is not a piece), neighbours (-1 at the ends), and whether it is a
    /// user-defined piece that never merges.
    var symbolStart: [Int32] = []
    var symbolLength: [Int32] = []
    var symbolId: [Int32] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var frozen: [Bool] = []
    /// Binary max-heap of merge candidates.
    fileprivate var heap: [MergeCandidate] = []

    mutating func reset() {
        symbolStart.removeAll(keepingCapacity: true)
        symbolLength.removeAll(keepingCapacity: true)
        symbolId.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        frozen.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    fileprivate mutating func pushCandidate(_ candidate: MergeCandidate) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !heap[child].precedes(heap[parent]) { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @inline(__always)
    fileprivate mutating func popCandidate() -> MergeCandidate? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        let count = heap.count
        while true {
            let leftChild = 2 * parent + 1
            if leftChild >= count { break }
            var best = leftChild
            let rightChild = leftChild + 1
            if rightChild < count && heap[rightChild].precedes(heap[leftChild]) { best = rightChild }
            if !heap[best].precedes(heap[parent]) { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
