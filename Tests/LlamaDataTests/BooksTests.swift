import Foundation
import LlamaCore
@testable import LlamaData
import XCTest

final class BooksTests: XCTestCase {
    func testGutenbergFixturesMatchHandWrittenExpectation() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let files = ShardFiles(directory: scratch, name: "books")
        let report = try BooksPipeline.run(inputPath: DataFixtures.path("books/input"), files: files, hasher: MinHasher(),
                                           index: NearDuplicateIndex())
        assertTexts(try DataFixtures.texts(files.output), try DataFixtures.expectedTexts("books/expected.txt"))
        XCTAssertEqual(report.counts["books.read"], 4)
        XCTAssertEqual(report.counts["books.gutenberg-header-removed"], 3)
        XCTAssertEqual(report.counts["books.gutenberg-footer-removed"], 3)
        XCTAssertEqual(report.counts["books.removed.near-duplicate"], 1)
        XCTAssertEqual(report.counts["books.kept"], 3)
        let titles = try DataFixtures.documents(files.output).compactMap { ($0["meta"] as? [String: String])?["title"] }
        XCTAssertEqual(titles, ["book1.txt", "book3.txt", "book4.txt"])
    }

    func testResumedRunRestoresSignatures() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let first = ShardFiles(directory: scratch, name: "first")
        _ = try BooksPipeline.run(inputPath: DataFixtures.path("books/input/book1.txt"), files: first, hasher: MinHasher(),
                                  index: NearDuplicateIndex())
        let index = NearDuplicateIndex()
        BooksPipeline.restore(files: first, hasher: MinHasher(), index: index)
        let second = ShardFiles(directory: scratch, name: "second")
        let report = try BooksPipeline.run(inputPath: DataFixtures.path("books/input/book2.txt"), files: second, hasher: MinHasher(),
                                           index: index)
        XCTAssertEqual(report.counts["books.removed.near-duplicate"], 1)
    }

    func testMinHashEstimateAgreesWithExactJaccard() throws {
        let hasher = MinHasher(permutationCount: 256, shingleWords: 5, seed: 7)
        let one = try String(contentsOfFile: DataFixtures.path("books/input/book1.txt"), encoding: .utf8)
        let two = try String(contentsOfFile: DataFixtures.path("books/input/book2.txt"), encoding: .utf8)
        let pairs: [(String, String)] = [
            (GutenbergCleaner.clean(one).text, GutenbergCleaner.clean(two).text),
            (Self.words(count: 600, seed: 1, vocabulary: 50), Self.words(count: 600, seed: 1, vocabulary: 50, changeEvery: 9)),
            (Self.words(count: 600, seed: 2, vocabulary: 50), Self.words(count: 600, seed: 3, vocabulary: 50)),
        ]
        for (first, second) in pairs {
            let exact = MinHasher.exactJaccard(hasher.shingleHashes(first), hasher.shingleHashes(second))
            let estimate = MinHasher.estimatedJaccard(hasher.signature(of: first), hasher.signature(of: second))
            // Standard error sqrt(J(1-J)/256) ≤ 0.031; allow three of them.
            XCTAssertEqual(estimate, exact, accuracy: 0.095, "exact \(exact)")
        }
        let exactNearCopy = MinHasher.exactJaccard(hasher.shingleHashes(pairs[0].0), hasher.shingleHashes(pairs[0].1))
        XCTAssertGreaterThan(exactNearCopy, 0.9)
    }

    func testModularArithmeticMatchesWideMultiplication() {
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<1000 {
            let a = generator.next() % MinHasher.prime, b = generator.next() % MinHasher.prime
            let (high, low) = a.multipliedFullWidth(by: b)
            let reference = MinHasher.prime.dividingFullWidth((high % MinHasher.prime, low)).remainder
            XCTAssertEqual(MinHasher.multiplyModPrime(a, b), reference)
        }
    }

    /// Random words; with `changeEvery`, every so many words replaced by another word.
    static func words(count: Int, seed: UInt64, vocabulary: Int, changeEvery: Int? = nil) -> String {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let word = "w\(generator.nextInt(below: vocabulary))"
            if let changeEvery, index % changeEvery == 0 { return "changed\(index)" }
            return word
        }.joined(separator: " ")
    }
}
