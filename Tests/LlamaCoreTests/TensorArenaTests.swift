import XCTest
@testable import LlamaCore

/// Weights packed into one huge-page block keep their bytes, shapes and types, start on
/// 64-byte boundaries, and a tensor used twice (tied embeddings) is stored once.
final class TensorArenaTests: XCTestCase {
    func testCopiesKeepBytesAndShareRepeatedTensors() {
        let a = Tensor(shape: [3, 5], values: (0..<15).map { Float($0) * 0.5 })
        let q = Quantization.quantize(Tensor(shape: [2, 64], values: (0..<128).map { Float($0 % 7) - 3 }), to: .q4_0)
        let copies = TensorArena.copies(of: [a, q, a])
        XCTAssertEqual(copies.count, 3)
        XCTAssertTrue(copies[0] === copies[2], "a tensor listed twice is copied once")
        XCTAssertEqual(copies[0].shape, [3, 5])
        XCTAssertEqual(copies[0].toFloatArray(), (0..<15).map { Float($0) * 0.5 })
        XCTAssertEqual(copies[1].dtype, .q4_0)
        XCTAssertEqual(copies[1].byteCount, 2 * 2 * 18)
        XCTAssertEqual(Data(bytes: copies[1].rawPointer, count: q.byteCount), Data(bytes: q.rawPointer, count: q.byteCount))
        // 15 floats (60 bytes) round up to 64: the Q4_0 tensor starts one cache line later.
        XCTAssertEqual(copies[1].rawPointer - copies[0].rawPointer, 64)
        XCTAssertEqual(Int(bitPattern: copies[0].rawPointer) % TensorArena.alignment, 0)
    }
}
