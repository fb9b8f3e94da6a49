import XCTest
@testable import LlamaTokenizer

/// The merge loop's position lists: positions come back in the order they were appended,
/// across chunks of growing size, and released chunks are reused.
final class PositionListsTests: XCTestCase {
    private func positions(of list: PositionLists.List, in lists: PositionLists) -> [Int32] {
        var result: [Int32] = []
        var chunk = list.firstChunk
        while chunk >= 0 {
            let start = Int(lists.chunkStart[Int(chunk)])
            let count = Int(chunk == list.lastChunk ? list.lastCount : lists.capacity(of: chunk))
            result += lists.pool[start..<(start + count)].map(\.left)
            chunk = lists.chunkNext[Int(chunk)]
        }
        return result
    }

    func testOrderIsKeptAcrossChunksAndChunksAreReused() {
        var lists = PositionLists()
        var first = PositionLists.List(), second = PositionLists.List()
        // Interleaved appends: 3000 positions need chunks of 1, 2, …, 1024 and then 1024 again.
        for index in 0..<3000 {
            lists.append(PositionLists.Position(word: 0, left: Int32(index)), to: &first)
            if index % 3 == 0 { lists.append(PositionLists.Position(word: 1, left: Int32(-index)), to: &second) }
        }
        XCTAssertEqual(positions(of: first, in: lists), (0..<3000).map { Int32($0) })
        XCTAssertEqual(positions(of: second, in: lists), stride(from: 0, to: 3000, by: 3).map { -Int32($0) })

        let poolSize = lists.pool.count
        lists.release(&first)
        XCTAssertEqual(positions(of: first, in: lists), [])
        var third = PositionLists.List()
        for index in 0..<3000 { lists.append(PositionLists.Position(word: 2, left: Int32(index)), to: &third) }
        XCTAssertEqual(lists.pool.count, poolSize, "the chunks of the released list are reused")
        XCTAssertEqual(positions(of: third, in: lists), (0..<3000).map { Int32($0) })
        XCTAssertEqual(positions(of: second, in: lists), stride(from: 0, to: 3000, by: 3).map { -Int32($0) })
    }
}
