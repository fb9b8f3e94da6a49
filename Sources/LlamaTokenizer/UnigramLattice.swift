/// A byte trie over the segmentable pieces of a Unigram model, walked one byte at a time
/// like the Darts trie SentencePiece's `unigram::Model` builds (`traverse`).
struct PieceTrie: Sendable {
    /// Per node: first child, next sibling (-1 for none), the byte on the edge into it,
    /// and the piece id ending here (-1 for none). Node 0 is the root.
    private var firstChild: [Int32] = [-1]
    private var nextSibling: [Int32] = [-1]
    private var label: [UInt8] = [0]
    private var value: [Int32] = [-1]
    /// Children of the root by first byte (the root fans out widely).
    private var rootChildren = [Int32](repeating: -1, count: 256)

    /// Builds the trie over `pieces` (bytes and id).
    init(_ pieces: [(bytes: [UInt8], id: Int32)]) {
        for piece in pieces where !piece.bytes.isEmpty {
            var node: Int32 = 0
            for byte in piece.bytes {
                if let existing = child(of: node, byte) {
                    node = existing
                } else {
                    let new = Int32(label.count)
                    firstChild.append(-1)
                    nextSibling.append(-1)
                    label.append(byte)
                    value.append(-1)
                    if node == 0 {
                        rootChildren[Int(byte)] = new
                    } else {
                        nextSibling[Int(new)] = firstChild[Int(node)]
                        firstChild[Int(node)] = new
                    }
                    node = new
                }
            }
            value[Int(node)] = piece.id
        }
    }

    /// The child of `node` along `byte`, or nil.
    @inline(__always)
    func child(of node: Int32, _ byte: UInt8) -> Int32? {
        if node == 0 {
            let found = rootChildren[Int(byte)]
            return found >= 0 ? found : nil
        }
        var candidate = firstChild[Int(node)]
        while candidate >= 0 {
            if label[Int(candidate)] == byte { return candidate }
            candidate = nextSibling[Int(candidate)]
        }
        return nil
    }

    /// The piece id ending at `node`, or -1.
    @inline(__always)
    func pieceId(at node: Int32) -> Int32 { value[Int(node)] }
}

extension SentencePieceTokenizer {
    /// Best segmentation of `scratch.text` under a Unigram model, as sentencepiece 0.2.3's
    /// `unigram::Model::EncodeOptimized` computes it (Viterbi over the piece lattice).
    ///
    /// Each piece scores its log probability (user-defined pieces `0.1 * (bytes - 1)`,
    /// unused pieces are skipped); a character no piece covers alone becomes `<unk>` with
    /// score `min(normal scores) - 10`. On equal path scores the first candidate found
    /// wins (starting positions left to right, shorter pieces first). Path scores are
    /// re-based when they leave ±100000, as in the original, so float rounding matches.
    func unigramSegment(scratch: EncodingScratch) {
        let size = scratch.text.count
        guard let trie = unigramTrie, size > 0 else { return }
        var bestScore = [Float](repeating: 0, count: size + 1)
        var startsAt = [Int](repeating: -1, count: size + 1)
        var pieceIds = [Int32](repeating: -1, count: size + 1)
        let unknownScore = unigramMinimumScore - 10
        var maxFrontier = 0
        scratch.text.withUnsafeBufferPointer { text in
            var position = 0
            while position < size {
                var pathScore = bestScore[position]
                if pathScore < -100_000 || pathScore > 100_000 {
                    let offset = pathScore
                    if position <= maxFrontier {
                        for index in position...maxFrontier where index == position || startsAt[index] != -1 {
                            bestScore[index] -= offset
                        }
                    }
                    pathScore = 0
                }
                var hasSingleCharacterPiece = false
                let characterLength = min(UTF8Scanning.characterLength(leadByte: text[position]), size - position)
                var node: Int32 = 0
                var keyPosition = position
                while keyPosition < size {
                    guard let next = trie.child(of: node, text[keyPosition]) else { break }
                    node = next
                    keyPosition += 1
                    let id = trie.pieceId(at: node)
                    if id < 0 { continue }
                    let type = pieceTypes[Int(id)]
                    if type == .unused { continue }
                    maxFrontier = max(maxFrontier, keyPosition)
                    let length = keyPosition - position
                    let score = type == .userDefined ? Float(0.1 * Double(length - 1)) : pieceScores[Int(id)]
                    let candidate = score + pathScore
                    if startsAt[keyPosition] == -1 || candidate > bestScore[keyPosition] {
                        bestScore[keyPosition] = candidate
                        startsAt[keyPosition] = position
                        pieceIds[keyPosition] = id
                    }
                    if !hasSingleCharacterPiece && length == characterLength { hasSingleCharacterPiece = true }
                }
                if !hasSingleCharacterPiece {
                    let target = position + characterLength
                    maxFrontier = max(maxFrontier, target)
                    let candidate = unknownScore + pathScore
                    if startsAt[target] == -1 || candidate > bestScore[target] {
                        bestScore[target] = candidate
                        startsAt[target] = position
                        pieceIds[target] = unkId
                    }
                }
                position += characterLength
            }
        }
        var reversed: [EncodedSegment] = []
        var end = size
        while end > 0 {
            let start = startsAt[end]
            if start < 0 { break }  // unreachable in a consistent lattice
            reversed.append(EncodedSegment(start: Int32(start), length: Int32(end - start), id: pieceIds[end]))
            end = start
        }
        scratch.segments.append(contentsOf: reversed.reversed())
    }
}
