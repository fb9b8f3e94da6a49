import XCTest
@testable import LlamaServer

/// The KV cache `llama serve` allocates, sized by hand: LLaMA-2 7B keeps 2 · 32 layers · 4096
/// values per position in half precision, 524,288 bytes; 8 sequences of 4096 positions need
/// 17.2 GB.
final class ServingMemoryTests: XCTestCase {
    let perPosition = 2 * 32 * 4096 * 2

    func testDefaultContextIsTheModelsUpTo4096WhenItFits() throws {
        let roomy = try ServingMemory.context(requested: nil, modelContext: 4096, slots: 8, bytesPerPosition: perPosition,
                                              budget: 20_000_000_000)
        XCTAssertEqual(roomy.context, 4096)
        XCTAssertNil(roomy.note)
        // A 32768-position model (Mistral v0.2) gets 4096 by default, like llama.cpp's server.
        XCTAssertEqual(try ServingMemory.context(requested: nil, modelContext: 32768, slots: 1, bytesPerPosition: perPosition,
                                                 budget: 20_000_000_000).context, 4096)
        XCTAssertEqual(try ServingMemory.context(requested: nil, modelContext: 2048, slots: 8, bytesPerPosition: perPosition,
                                                 budget: 20_000_000_000).context, 2048)
    }

    func testDefaultContextShrinksToFitAndSaysSo() throws {
        // 12.8 GB (24 GiB · 0.7 less 3.8 GB of Q4_0 weights) hold 12.8e9 / (8 · 524,288) = 3051
        // positions per sequence: 2816 in steps of 256.
        let fitted = try ServingMemory.context(requested: nil, modelContext: 4096, slots: 8, bytesPerPosition: perPosition,
                                               budget: 12_800_000_000)
        XCTAssertEqual(fitted.context, 2816)
        XCTAssertTrue(fitted.note?.contains("2816") ?? false, fitted.note ?? "no note")
        XCTAssertThrowsError(try ServingMemory.context(requested: nil, modelContext: 4096, slots: 256, bytesPerPosition: perPosition,
                                                       budget: 12_800_000_000))
    }

    func testAnExplicitContextThatCannotFitIsRefusedNamingTheSizes() throws {
        XCTAssertEqual(try ServingMemory.context(requested: 1000, modelContext: 4096, slots: 8, bytesPerPosition: perPosition,
                                                 budget: 12_800_000_000).context, 1000)
        XCTAssertThrowsError(try ServingMemory.context(requested: 4096, modelContext: 4096, slots: 8, bytesPerPosition: perPosition,
                                                       budget: 12_800_000_000)) { error in
            XCTAssertTrue("\(error)".contains("17.2 GB"), "\(error)")
            XCTAssertTrue("\(error)".contains("12.8 GB"), "\(error)")
        }
    }
}
