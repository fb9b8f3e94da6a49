import Dispatch
import XCTest
@testable import LlamaCore

/// The persistent worker pool behind `Parallel.forRanges`: every index once, also when
/// regions nest or several threads start regions at the same time (those fall back to
/// Dispatch), and many short regions in a row (the decode pattern) neither hang nor lose work.
final class ParallelTests: XCTestCase {
    /// Counts how often each index of 0..<count is visited by one region.
    private func visits(_ count: Int, grain: Int = 1) -> [Int] {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        Parallel.forRanges(count, grain: grain) { first, last in
            for index in first..<last { counts[index] += 1 }
        }
        return Array(counts)
    }

    func testEveryIndexExactlyOnceOverManyShortRegions() {
        for round in 0..<5000 {
            let count = 1 + round % 97
            XCTAssertEqual(visits(count, grain: 1 + round % 5), [Int](repeating: 1, count: count), "round \(round)")
        }
    }

    func testNestedAndConcurrentRegions() {
        let outer = 8, inner = 1000
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: outer * inner)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        // Regions started from inside a region, and from several Dispatch threads at once.
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for repeatIndex in 0..<50 {
                Parallel.forEach(outer) { o in
                    Parallel.forRanges(inner) { first, last in
                        if thread == 0 && repeatIndex == 0 { for i in first..<last { counts[o * inner + i] += 1 } }
                    }
                }
            }
        }
        XCTAssertEqual(Array(counts), [Int](repeating: 1, count: outer * inner))
    }

    func testPoolUsesTheConfiguredWorkers() {
        XCTAssertEqual(Parallel.poolWorkers, max(0, Parallel.threadCount - 1))
    }
}
