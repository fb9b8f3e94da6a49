/// Adjacent-pair counts of a range of words, with the positions grouped by pair in
/// one flat array (two passes: count, then fill), to avoid an allocation per pair.
struct PairCounts {
    /// Distinct pair keys, in first-seen order.
    var keys: [UInt64] = []
    var frequencies: [UInt64] = []
    /// Positions of pair `i` are `positions[positionStarts[i]..<positionStarts[i + 1]]`, in word order.
    var positionStarts: [Int32] = []
    var positions: [PairMerger.Position] = []

    init() {}

    init(symbols: [Int32], starts: [Int32], frequencies wordFrequencies: [UInt64], unknown: [Bool], words: Range<Int>) {
        var table = MutableIntegerTable()
        var occurrences: [Int32] = []
        var pairOfPosition: [Int32] = []
        for word in words {
            let first = Int(starts[word]), last = Int(starts[word + 1])
            if last - first < 2 { continue }
            for index in (first + 1)..<last {
                let left = symbols[index - 1], right = symbols[index]
                if left < 0 || right < 0 || unknown[Int(left)] || unknown[Int(right)] { continue }
                let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
                let local: Int
                if let found = table.value(for: key) {
                    local = Int(found)
                } else {
                    local = keys.count
                    table.set(Int32(local), for: key)
                    keys.append(key)
                    frequencies.append(0)
                    occurrences.append(0)
                }
                frequencies[local] &+= wordFrequencies[word]
                occurrences[local] += 1
                pairOfPosition.append(Int32(local))
                positions.append(PairMerger.Position(word: Int32(word), left: Int32(index - 1), right: Int32(index)))
            }
        }
        // Group the positions by pair, keeping their order (a counting sort).
        positionStarts = [Int32](repeating: 0, count: keys.count + 1)
        for local in 0..<keys.count { positionStarts[local + 1] = positionStarts[local] + occurrences[local] }
        var cursor = Array(positionStarts.dropLast())
        var grouped = positions
        for (offset, local) in pairOfPosition.enumerated() {
            grouped[Int(cursor[Int(local)])] = positions[offset]
            cursor[Int(local)] += 1
        }
        positions = grouped
    }
}
