import LlamaCore

extension InferenceSession {
    /// Makes slot `target` hold the first `length` positions of slot `source` (keys and
    /// values copied layer by layer), e.g. to let several continuations of one prompt
    /// run side by side after the prompt was computed once.
    public func copyCache(from source: Int, to target: Int, length: Int) throws {
        for slot in [source, target] where slot < 0 || slot >= slotCount {
            throw ModelError.invalidInput(reason: "slot \(slot) does not exist (the session has \(slotCount))")
        }
        guard length >= 0 && length <= positions[source] else {
            throw ModelError.invalidInput(reason: "slot \(source) holds \(positions[source]) positions, not \(length)")
        }
        positions[target] = length
        guard source != target, length > 0 else { return }
        cache.copy(from: source, to: target, length: length)
    }

    /// Feeds several sequences in shared passes over the weights: `items[i].tokens` go to
    /// slot `items[i].slot` (all different) at its next positions. Rows are packed into
    /// chunks of at most `maxChunk` across items, so a few short continuations cost one
    /// weight read instead of one each. `logits(item, index, row)` receives the logits
    /// after `items[item].tokens[index]`.
    public func forwardSequences(_ items: [(slot: Int, tokens: [Int32])],
                                 logits: (Int, Int, UnsafeBufferPointer<Float>) -> Void) throws {
        guard Set(items.map(\.slot)).count == items.count else {
            throw ModelError.invalidInput(reason: "a slot appears twice in one batch")
        }
        for item in items { try validate(item.tokens, slot: item.slot) }
        let vocabulary = configuration.vocabularySize
        // (item, index) of every row, in order; each item's rows stay in position order.
        var rows: [(item: Int, index: Int)] = []
        for (item, entry) in items.enumerated() {
            for index in entry.tokens.indices { rows.append((item, index)) }
        }
        var offset = 0
        while offset < rows.count {
            let count = min(maxChunk, rows.count - offset)
            // Rows of earlier chunks already advanced positions[slot].
            var fedInChunk = [Int](repeating: 0, count: items.count)
            for row in 0..<count {
                let (item, index) = rows[offset + row]
                let slot = items[item].slot
                tokenBuffer[row] = items[item].tokens[index]
                rowSlots[row] = slot
                rowPositions[row] = positions[slot] + fedInChunk[item]
                fedInChunk[item] += 1
            }
            forwardRows(count: count, logitRows: count, sequenceSlot: nil)
            for row in 0..<count {
                let (item, index) = rows[offset + row]
                logits(item, index, UnsafeBufferPointer(start: logitsBuffer + row * vocabulary, count: vocabulary))
            }
            offset += count
        }
    }
}
