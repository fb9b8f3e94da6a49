import Foundation
import LlamaCore
import XCTest

/// `mpirun -np 2 llama train`: the same learning curve as one process, ZeRO-1 equal to
/// plain data parallelism, resuming with another number of ranks. The single-process
/// run of the same global batch is the reference.
final class DistributedTrainingTests: MPITestCase {
    /// Two ranks, each computing 2 of the 4 micro-batches, log the losses and gradient
    /// norms of one process with the same global batch and end with its parameters, up to
    /// float summation order.
    func testTwoRanksFollowTheSingleProcessCurve() throws {
        _ = try mpirun()
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        checkSucceeded(try CLI.run(trainArguments(data: data, output: directory + "/one"), environment: ["LLAMA_THREADS": "1"]), "1 process")
        let two = try runRanks(2, trainArguments(data: data, output: directory + "/two"))
        checkSucceeded(two, "2 ranks")
        XCTAssertTrue(two.output.contains("data parallel: 2 ranks"), two.output)
        let reference = try curve(directory + "/one"), parallel = try curve(directory + "/two")
        XCTAssertEqual(reference.map(\.step), Array(1...6))
        XCTAssertEqual(parallel.map(\.step), reference.map(\.step))
        for (a, b) in zip(reference, parallel) {
            XCTAssertEqual(b.loss, a.loss, accuracy: 1e-5 * a.loss, "loss at step \(a.step)")
            XCTAssertEqual(b.norm, a.norm, accuracy: 1e-4 * a.norm, "gradient norm at step \(a.step)")
        }
        let last = "/checkpoints/step-00000006/model.safetensors"
        let difference = largestDifference(try tensors(directory + "/one" + last), try tensors(directory + "/two" + last))
        print("2 ranks vs 1 process: largest parameter difference \(difference)")
        XCTAssertLessThan(difference, 1e-4)
        XCTAssertGreaterThan(reference[0].loss - reference[5].loss, 0.1, "the run should learn")
    }

    /// ZeRO-1 (each rank updates its half of the moments, then the parameters are
    /// all-gathered) ends with the same bytes as plain data parallelism: the update of each
    /// element is the same arithmetic on the same reduced gradient.
    func testZeroStage1MatchesPlainDataParallelism() throws {
        _ = try mpirun()
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        let plain = try runRanks(2, trainArguments(data: data, output: directory + "/plain"))
        checkSucceeded(plain, "plain")
        let zero = try runRanks(2, trainArguments(data: data, output: directory + "/zero") + ["--zero1"])
        checkSucceeded(zero, "zero1")
        func stateMiB(_ output: String) -> Double? {
            guard let range = output.range(of: #"optimizer state [0-9.]+ MiB"#, options: .regularExpression) else { return nil }
            return Double(output[range].split(separator: " ")[2])
        }
        let full = try XCTUnwrap(stateMiB(plain.output)), sharded = try XCTUnwrap(stateMiB(zero.output))
        XCTAssertEqual(sharded, full / 2, accuracy: 0.11, "ZeRO-1 halves the moments per rank")
        for file in ["model.safetensors", "optimizer.safetensors"] {
            let path = "/checkpoints/step-00000006/" + file
            XCTAssertEqual(largestDifference(try tensors(directory + "/plain" + path), try tensors(directory + "/zero" + path)), 0, file)
        }
        XCTAssertEqual(try curve(directory + "/plain").map(\.loss), try curve(directory + "/zero").map(\.loss))
    }

    /// A run stopped after step 3 on two ranks and resumed on one, and one stopped on one
    /// process and resumed on two ranks with ZeRO-1, end like the uninterrupted single
    /// process: the checkpoint holds the whole global stream's position and full moments.
    func testResumeWithAnotherNumberOfRanks() throws {
        _ = try mpirun()
        let directory = try temporaryDirectory()
        let data = try writeData(directory)
        checkSucceeded(try CLI.run(trainArguments(data: data, output: directory + "/straight")), "straight")
        checkSucceeded(try runRanks(2, trainArguments(data: data, output: directory + "/a") + ["--stop-after", "3"]), "2 ranks to 3")
        checkSucceeded(try CLI.run(trainArguments(data: data, output: directory + "/a") + ["--resume"]), "resume on 1")
        checkSucceeded(try CLI.run(trainArguments(data: data, output: directory + "/b") + ["--stop-after", "3"]), "1 process to 3")
        let resumed = try runRanks(2, trainArguments(data: data, output: directory + "/b") + ["--resume", "--zero1"])
        checkSucceeded(resumed, "resume on 2 with ZeRO-1")
        XCTAssertTrue(resumed.output.contains("resumed from step 3"), resumed.output)
        let last = "/checkpoints/step-00000006/"
        let reference = try tensors(directory + "/straight" + last + "model.safetensors")
        for run in ["a", "b"] {
            let folder = directory + "/" + run + last
            XCTAssertLessThan(largestDifference(reference, try tensors(folder + "model.safetensors")), 1e-4, run)
            let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "state.json"))) as? [String: Any]
            let expected = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: directory + "/straight" + last + "state.json"))) as? [String: Any]
            XCTAssertEqual(state?["step"] as? Int, 6)
            XCTAssertEqual((state?["dataPosition"] as? NSDictionary), (expected?["dataPosition"] as? NSDictionary), "sampler position of \(run)")
            XCTAssertEqual(try curve(directory + "/" + run).map(\.step), Array(1...6))
        }
    }
}
