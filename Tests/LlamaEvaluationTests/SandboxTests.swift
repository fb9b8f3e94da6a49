import XCTest
@testable import LlamaEvaluation

/// Hostile programs are contained and count as failures; the run goes on.
final class SandboxTests: XCTestCase {
    var sandbox: Sandbox {
        var sandbox = Sandbox()
        sandbox.timeLimit = 3
        sandbox.memoryLimit = 256 << 20
        sandbox.processLimit = 16
        return sandbox
    }

    func testCorrectProgramPassesAndWrongOneFails() {
        XCTAssertEqual(sandbox.run("assert 1 + 1 == 2\n"), .passed)
        XCTAssertEqual(sandbox.run("assert 1 + 1 == 3\n"), .failed(exitStatus: 1))
        XCTAssertFalse(sandbox.run("def broken(:\n").passed)
    }

    func testInfiniteLoopIsKilled() {
        let start = Date()
        XCTAssertEqual(sandbox.run("while True:\n    pass\n"), .timedOut)
        XCTAssertLessThan(Date().timeIntervalSince(start), 6)
    }

    /// Bounded twice: the audit hook refuses fork, and RLIMIT_NPROC (16) caps the user.
    func testForkBombIsContained() {
        let program = "import os\nfor _ in range(100):\n    os.fork()\n"
        XCTAssertFalse(sandbox.run(program).passed)
        let viaSubprocess = "import subprocess\nsubprocess.run(['sh', '-c', ':(){ :|:& };:'])\n"
        XCTAssertFalse(sandbox.run(viaSubprocess).passed)
    }

    func testWritingOutsideTheDirectoryFails() {
        let target = NSTemporaryDirectory() + "llama-sandbox-escape-" + UUID().uuidString
        XCTAssertFalse(sandbox.run("open('\(target)', 'w').write('x')\n").passed)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        XCTAssertFalse(sandbox.run("import os\nos.chdir('/')\nopen('tmp/escape', 'w')\n").passed)
        // Writing inside its own directory is allowed.
        XCTAssertEqual(sandbox.run("open('scratch.txt', 'w').write('x')\nassert open('scratch.txt').read() == 'x'\n"), .passed)
    }

    func testNetworkIsRefused() {
        let program = "import socket\ns = socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
        XCTAssertFalse(sandbox.run(program).passed)
    }

    func testMemoryExhaustionFails() {
        XCTAssertFalse(sandbox.run("x = bytearray(2 << 30)\n").passed)
        XCTAssertFalse(sandbox.run("x = []\nwhile True:\n    x.append(' ' * (1 << 20))\n").passed)
    }

    /// HumanEval through the evaluator: the right completion passes, the crashing one fails.
    func testCodeTaskPassAtOne() throws {
        let definition = TaskDefinition.builtIn("humaneval", data: EvalFixtures.path("humaneval.jsonl"))
        let mbppDefinition = TaskDefinition.builtIn("mbpp", data: EvalFixtures.path("mbpp.jsonl"))
        guard let definition, let mbppDefinition else { return XCTFail("no built-in task") }
        let stub = StubScorer()
        stub.generations = [("\"\"\"Return a + b.\"\"\"\n", ["    return a + b\n\ndef unrelated():\n    pass"]),
                            ("[BEGIN]\n", ["def square(x):\n    import os\n    os.system('true')\n    return x * x\n[DONE]"])]
        var evaluator = Evaluator(scorer: stub)
        evaluator.sandbox = sandbox
        let humaneval = try evaluator.evaluate(definition, examples: try Evaluator.loadExamples(definition).examples, shots: 0)
        XCTAssertEqual(humaneval.metrics["pass@1"] ?? -1, 100, accuracy: 1e-9)
        let mbpp = try evaluator.evaluate(mbppDefinition, examples: try Evaluator.loadExamples(mbppDefinition).examples, shots: 0)
        XCTAssertEqual(mbpp.metrics["pass@1"] ?? -1, 0, accuracy: 1e-9)  // os.system is refused
    }
}
