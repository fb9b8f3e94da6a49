import XCTest
@testable import LlamaCore

/// The progress bar's drawing, checked against hand-drawn bars and durations.
final class ProgressBarTests: XCTestCase {
    func testBarFillsInEighthsOfACell() {
        XCTAssertEqual(ProgressBar.bar(fraction: 0, width: 4), "|    |")
        XCTAssertEqual(ProgressBar.bar(fraction: 0.5, width: 4), "|██  |")
        // 0.3 × 32 eighths = 9.6 → 9 eighths: one full cell and one eighth.
        XCTAssertEqual(ProgressBar.bar(fraction: 0.3, width: 4), "|█▏  |")
        XCTAssertEqual(ProgressBar.bar(fraction: 0.99, width: 4), "|███▉|")
        XCTAssertEqual(ProgressBar.bar(fraction: 1, width: 4), "|████|")
    }

    func testDurations() {
        XCTAssertEqual(ProgressBar.duration(0), "0:00")
        XCTAssertEqual(ProgressBar.duration(65), "1:05")
        XCTAssertEqual(ProgressBar.duration(3725), "1:02:05")
    }

    func testSizesOfFilesAndDirectories() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(count: 1000).write(to: URL(fileURLWithPath: folder + "/a"))
        try Data(count: 234).write(to: URL(fileURLWithPath: folder + "/sub/b"))
        XCTAssertEqual(ProgressBar.size(of: [folder + "/a"]), 1000)
        XCTAssertEqual(ProgressBar.size(of: [folder]), 1234)
        XCTAssertEqual(ProgressBar.size(of: [folder + "/missing"]), 0)
    }
}
