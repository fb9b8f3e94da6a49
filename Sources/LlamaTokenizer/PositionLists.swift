/// Lists of positions, one per pair symbol, kept in one pool without an allocation per list.
///
/// A list is a chain of chunks whose capacities double (1, 2, …, 1024 positions), so a long
/// list is read mostly sequentially, as an array would be, and appending never copies.
/// Freed chunks go to a free list per capacity and are reused first. Positions come back
/// in the order they were appended.
struct PositionLists {
    /// A place where a pair symbol was formed: the word and the index of its left part in
    /// the flattened words (the right part is the next unmerged symbol: the symbols between
    /// them were merged into the left part, so while the left part is unchanged, so is the
    /// index of the right one).
    struct Position {
        var word: Int32
        var left: Int32
    }

    /// Where a list is: its first and last chunk (-1 when empty) and how full the last one is.
    struct List {
        var firstChunk: Int32 = -1
        var lastChunk: Int32 = -1
        var lastCount: Int32 = 0
    }

    /// Chunk capacities are `1 << sizeClass` for `sizeClass` in `0...largestClass` (most
    /// pairs occur once or twice, so the first chunk holds one position).
    private static let largestClass: UInt8 = 10
    /// The capacity of the largest chunks.
    static let largestCapacity = 1 << Int(largestClass)

    /// `(total chunk capacity)`: the positions of all chunks.
    private(set) var pool: [Position] = []
    /// `(chunks)`: where each chunk starts in `pool`, its size class and the next chunk of
    /// its list (or of its free list), -1 at the end.
    private(set) var chunkStart: [Int32] = []
    private var chunkClass: [UInt8] = []
    private(set) var chunkNext: [Int32] = []
    /// Reserves room for `count` positions (pages are only touched when used).
    mutating func reserveCapacity(_ count: Int) {
        pool.reserveCapacity(count)
    }

    /// First free chunk of each size class, -1 when none.
    private var freeChunks = [Int32](repeating: -1, count: Int(PositionLists.largestClass) + 1)

    /// Capacity of `chunk`.
    @inline(__always)
    func capacity(of chunk: Int32) -> Int32 { 1 << Int32(chunkClass[Int(chunk)]) }

    /// A chunk of `sizeClass`, reused from the free list when possible.
    private mutating func allocateChunk(sizeClass: UInt8) -> Int32 {
        let free = freeChunks[Int(sizeClass)]
        if free >= 0 {
            freeChunks[Int(sizeClass)] = chunkNext[Int(free)]
            chunkNext[Int(free)] = -1
            return free
        }
        let chunk = Int32(chunkStart.count)
        chunkStart.append(Int32(pool.count))
        chunkClass.append(sizeClass)
        chunkNext.append(-1)
        pool.append(contentsOf: repeatElement(Position(word: 0, left: 0), count: 1 << Int(sizeClass)))
        return chunk
    }

    /// Appends `position` to `list`.
    @inline(__always)
    mutating func append(_ position: Position, to list: inout List) {
        if list.lastChunk < 0 {
            let chunk = allocateChunk(sizeClass: 0)
            list = List(firstChunk: chunk, lastChunk: chunk, lastCount: 0)
        } else if list.lastCount == capacity(of: list.lastChunk) {
            let chunk = allocateChunk(sizeClass: min(chunkClass[Int(list.lastChunk)] + 1, Self.largestClass))
            chunkNext[Int(list.lastChunk)] = chunk
            list.lastChunk = chunk
            list.lastCount = 0
        }
        pool[Int(chunkStart[Int(list.lastChunk)] + list.lastCount)] = position
        list.lastCount += 1
    }

    /// Empties `list`, handing its chunks to the free lists.
    mutating func release(_ list: inout List) {
        var chunk = list.firstChunk
        while chunk >= 0 {
            let next = chunkNext[Int(chunk)]
            let sizeClass = Int(chunkClass[Int(chunk)])
            chunkNext[Int(chunk)] = freeChunks[sizeClass]
            freeChunks[sizeClass] = chunk
            chunk = next
        }
        list = List()
    }
}
