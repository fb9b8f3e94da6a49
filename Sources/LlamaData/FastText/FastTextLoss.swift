import Foundation

/// fastText's sigmoid lookup table (src/loss.cc): 513 values over [-8, 8]; the index is the
/// float computation `(x + 8) * 512 / 8 / 2` truncated, so results match fastText exactly.
enum FastTextSigmoid {
    static let tableSize = 512
    static let limit: Float = 8
    static let table: [Float] = (0...tableSize).map { index in
        let x = Float(index * 2 * 8) / Float(tableSize) - limit
        return Float(1.0 / (1.0 + Double(exp(-x))))
    }

    @inline(__always)
    static func value(_ x: Float) -> Float {
        if x < -limit { return 0 }
        if x > limit { return 1 }
        return table[Int((x + limit) * Float(tableSize) / limit / 2)]
    }
}

/// The k best (log-probability, label) pairs, kept in a binary heap that reproduces
/// libstdc++'s push_heap / pop_heap / sort_heap with fastText's comparator (greater score
/// first), so that labels with equal probabilities come out in fastText's order.
struct FastTextTopK {
    let k: Int
    private var heap: [(score: Float, label: Int)] = []

    init(k: Int) {
        self.k = k
        heap.reserveCapacity(k + 1)
    }

    /// fastText's std_log: log(x + 1e-5) in double, stored as float.
    @inline(__always)
    static func stdLog(_ x: Float) -> Float { Float(log(Double(x) + 1e-5)) }

    /// The smallest score kept (the heap's front), when k are kept.
    var worst: Float? { heap.count == k ? heap.first?.score : nil }

    /// fastText's findKBest / dfs step: push, and pop the smallest when more than k.
    @inline(__always)
    mutating func offer(score: Float, label: Int) {
        if let worst, score < worst { return }
        heap.append((score, label))
        siftUp(hole: heap.count - 1, top: 0, value: (score, label))
        if heap.count > k {
            popHeap(count: heap.count)
            heap.removeLast()
        }
    }

    /// Best first (libstdc++ sort_heap).
    var sorted: [(score: Float, label: Int)] {
        var copy = self
        var count = copy.heap.count
        while count > 1 {
            copy.popHeap(count: count)
            count -= 1
        }
        return copy.heap
    }

    // libstdc++'s comparator here is comparePairs: a before b when a.score > b.score.

    /// std::__push_heap
    private mutating func siftUp(hole start: Int, top: Int, value: (score: Float, label: Int)) {
        var hole = start
        var parent = (hole - 1) / 2
        while hole > top && heap[parent].score > value.score {
            heap[hole] = heap[parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        heap[hole] = value
    }

    /// std::pop_heap over heap[0..<count]: the front moves to count - 1.
    private mutating func popHeap(count: Int) {
        guard count > 1 else { return }
        let last = count - 1
        let value = heap[last]
        heap[last] = heap[0]
        // std::__adjust_heap(first, 0, last, value)
        let length = last
        var hole = 0
        var child = 0
        while child < (length - 1) / 2 {
            child = 2 * (child + 1)
            if heap[child].score > heap[child - 1].score { child -= 1 }
            heap[hole] = heap[child]
            hole = child
        }
        if length & 1 == 0 && child == (length - 2) / 2 {
            child = 2 * (child + 1)
            heap[hole] = heap[child - 1]
            hole = child - 1
        }
        siftUp(hole: hole, top: 0, value: value)
    }
}

/// The Huffman tree of hierarchical softmax, built from label counts as fastText's
/// HierarchicalSoftmaxLoss::buildTree (leaves are labels in id order, sorted by descending
/// count; inner node i uses output row i - labels).
struct FastTextHuffmanTree: Sendable {
    let leafCount: Int
    let left: [Int32]
    let right: [Int32]
    /// Per leaf: inner nodes from the leaf up (output rows) and the branch bit taken.
    let paths: [[Int32]]
    let codes: [[Bool]]

    init(counts: [Int64]) {
        let leaves = counts.count
        leafCount = leaves
        let nodeCount = max(2 * leaves - 1, 0)
        var parent = [Int32](repeating: -1, count: nodeCount)
        var left = [Int32](repeating: -1, count: nodeCount)
        var right = [Int32](repeating: -1, count: nodeCount)
        var count = [Int64](repeating: 1_000_000_000_000_000, count: nodeCount)
        var binary = [Bool](repeating: false, count: nodeCount)
        for i in 0..<leaves { count[i] = counts[i] }
        var leaf = leaves - 1
        var node = leaves
        for i in stride(from: leaves, to: nodeCount, by: 1) {
            var chosen = [0, 0]
            for j in 0..<2 {
                if leaf >= 0 && count[leaf] < count[node] {
                    chosen[j] = leaf
                    leaf -= 1
                } else {
                    chosen[j] = node
                    node += 1
                }
            }
            left[i] = Int32(chosen[0])
            right[i] = Int32(chosen[1])
            count[i] = count[chosen[0]] + count[chosen[1]]
            parent[chosen[0]] = Int32(i)
            parent[chosen[1]] = Int32(i)
            binary[chosen[1]] = true
        }
        var paths: [[Int32]] = [], codes: [[Bool]] = []
        for i in 0..<leaves {
            var path: [Int32] = [], code: [Bool] = []
            var j = i
            while parent[j] != -1 {
                path.append(parent[j] - Int32(leaves))
                code.append(binary[j])
                j = Int(parent[j])
            }
            paths.append(path)
            codes.append(code)
        }
        self.left = left
        self.right = right
        self.paths = paths
        self.codes = codes
    }

    /// fastText's HierarchicalSoftmaxLoss::dfs from the root: a branch is left when its
    /// log-probability falls below log(threshold + 1e-5) or below the k-th best found.
    func search(k: Int, threshold: Float, hidden: UnsafePointer<Float>, output: FastTextMatrix,
                into best: inout FastTextTopK) {
        guard leafCount > 0 else { return }
        let logThreshold = FastTextTopK.stdLog(threshold)
        func visit(_ node: Int, _ score: Float) {
            if score < logThreshold { return }
            if let worst = best.worst, score < worst { return }
            if left[node] == -1 && right[node] == -1 {
                best.offer(score: score, label: node)
                return
            }
            var f = output.dot(row: node - leafCount, hidden)
            f = Float(1.0 / Double(1 + exp(-f)))
            visit(Int(left[node]), score + FastTextTopK.stdLog(Float(1.0 - Double(f))))
            visit(Int(right[node]), score + FastTextTopK.stdLog(f))
        }
        visit(2 * leafCount - 2, 0)
    }
}
