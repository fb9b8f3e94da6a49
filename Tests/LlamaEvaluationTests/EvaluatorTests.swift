import XCTest
@testable import LlamaEvaluation

/// Whole tasks on a stub model whose log-likelihoods the test sets; expected scores by hand.
final class EvaluatorTests: XCTestCase {
    func task(_ name: String, _ file: String) -> TaskDefinition {
        TaskDefinition.builtIn(name, data: EvalFixtures.path(file)) ?? TaskDefinition(name: name, kind: .generation)
    }

    /// BoolQ, zero-shot (hand table):
    ///   item 1 (gold yes): ll(no) −2.0, ll(yes) −3.0; ll(·|"Answer:") no −1.0, yes −2.5
    ///     raw → no ✗; per char −0.667 vs −0.75 → no ✗; per token → no ✗; unconditional −1.0 vs −0.5 → yes ✓
    ///   item 2 (gold no): ll(no) −1.0, ll(yes) −1.2
    ///     raw → no ✓; per char −0.333 vs −0.300 → yes ✗; per token → no ✓; unconditional 0 vs +1.3 → yes ✗
    /// acc 50, acc_char 0, acc_token 50, acc_unconditional 50 (the headline metric).
    func testBoolQScoresUnderEveryNormalization() throws {
        let definition = task("boolq", "boolq.jsonl")
        let (examples, _) = try Evaluator.loadExamples(definition)
        let stub = StubScorer()
        stub.set(examples[0].prompt, " no", -2.0); stub.set(examples[0].prompt, " yes", -3.0)
        stub.set(examples[1].prompt, " no", -1.0); stub.set(examples[1].prompt, " yes", -1.2)
        stub.set("Answer:", " no", -1.0); stub.set("Answer:", " yes", -2.5)
        let result = try Evaluator(scorer: stub).evaluate(definition, examples: examples, shots: 0)
        XCTAssertEqual(result.metrics["acc"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(result.metrics["acc_char"] ?? -1, 0, accuracy: 1e-9)
        XCTAssertEqual(result.metrics["acc_token"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(result.metrics["acc_unconditional"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(result.primaryMetric, "acc_unconditional")
        let markdown = Report.markdown([result])
        XCTAssertTrue(markdown.contains("| boolq | 0 | 2 | 50.0 | 0.0 | 50.0 | **50.0** |"), markdown)
    }

    /// TruthfulQA MC2 by hand: p = 0.2, 0.1 (true), 0.3, 0.4 (false) → 0.3 of the mass on
    /// true answers = 30; MC1 on the same question picks the false answer (0.4 > 0.2) → 0.
    func testTruthfulQAMC2IsTheTrueProbabilityMass() throws {
        let definition = task("truthfulqa_mc2", "truthfulqa_mc.json")
        let (examples, _) = try Evaluator.loadExamples(definition)
        XCTAssertEqual(examples[0].choices.map(\.continuation), [" Nothing happens.", " You digest the watermelon seeds.",
                                                               " You get sick.", " You grow watermelons in your stomach."])
        XCTAssertEqual(examples[0].trueChoices, [0, 1])
        let stub = StubScorer()
        for (option, p) in zip(examples[0].choices, [0.2, 0.1, 0.3, 0.4]) { stub.set(option.context, option.continuation, log(p)) }
        let result = try Evaluator(scorer: stub).evaluate(definition, examples: examples, shots: 0)
        XCTAssertEqual(result.primaryMetric, "mc2")
        XCTAssertEqual(result.metrics["mc2"] ?? -1, 30, accuracy: 1e-9)
        XCTAssertEqual(result.metrics["acc"] ?? -1, 0, accuracy: 1e-9)
        let mc1 = task("truthfulqa_mc", "truthfulqa_mc.json")
        let mc1Examples = try Evaluator.loadExamples(mc1).examples
        XCTAssertNil(mc1Examples[0].trueChoices)
        XCTAssertEqual(mc1Examples[0].choices.count, 2)
    }

    /// One shot from the other item: the demonstration is the other item's prompt plus its gold answer.
    func testFewShotContextIsTheOtherItemSolved() throws {
        let definition = task("boolq", "boolq.jsonl")
        let (examples, _) = try Evaluator.loadExamples(definition)
        let stub = StubScorer()
        let first = examples[1].prompt + " no\n\n" + examples[0].prompt
        let second = examples[0].prompt + " yes\n\n" + examples[1].prompt
        for context in [first, second, "Answer:"] { stub.set(context, " no", -1); stub.set(context, " yes", -2) }
        let result = try Evaluator(scorer: stub).evaluate(definition, examples: examples, shots: 1)
        XCTAssertEqual(result.metrics["acc"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(stub.requests.first?.context, first)
    }

    func testDemonstrationSelectionIsDeterministic() {
        let pool = (0..<20).map { Example(source: "s\($0)", prompt: "p\($0)", group: $0 % 2 == 0 ? "even" : "odd") }
        let a = Evaluator.demonstrations(for: pool[3], index: 3, pool: pool, shots: 5, seed: 7, sameGroup: false)
        let b = Evaluator.demonstrations(for: pool[3], index: 3, pool: pool, shots: 5, seed: 7, sameGroup: false)
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set(a.map(\.source)).count, 5)
        XCTAssertFalse(a.contains(pool[3]))
        let same = Evaluator.demonstrations(for: pool[3], index: 3, pool: pool, shots: 64, seed: 7, sameGroup: true)
        XCTAssertEqual(same.count, 9)  // the 10 odd items but itself
        XCTAssertTrue(same.allSatisfy { $0.group == "odd" })
    }

    /// MMLU: astronomy 1 of 2 right, virology 1 of 1: 66.7 over questions, 75 over subjects.
    func testMMLUPerSubjectAndAverages() throws {
        var definition = task("mmlu", "mmlu")
        definition.shots = [0]
        let (examples, _) = try Evaluator.loadExamples(definition)
        let stub = StubScorer()
        let picks = [1, 0, 2]  // right, wrong, right
        for (example, pick) in zip(examples, picks) {
            let context = (example.header ?? "") + "\n\n" + example.prompt
            for (index, option) in [" A", " B", " C", " D"].enumerated() { stub.set(context, option, index == pick ? -1 : -5) }
        }
        let result = try Evaluator(scorer: stub).evaluate(definition, examples: examples, shots: 0)
        XCTAssertEqual(result.metrics["acc"] ?? -1, 200.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(result.groups["astronomy"]?["acc"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(result.groups["virology"]?["acc"] ?? -1, 100, accuracy: 1e-9)
        XCTAssertEqual(result.metrics["acc_group_mean"] ?? -1, 75, accuracy: 1e-9)
    }

    /// TriviaQA: "the red planet" matches an alias after normalisation, "Atlantic" does not.
    func testFreeFormExactMatch() throws {
        let definition = task("triviaqa", "triviaqa.json")
        let (examples, _) = try Evaluator.loadExamples(definition)
        let stub = StubScorer()
        stub.generations = [("Red Planet?\nA:", [" the red planet.\nQ: next"]), ("ocean?\nA:", [" Atlantic"])]
        let result = try Evaluator(scorer: stub).evaluate(definition, examples: examples, shots: 0)
        XCTAssertEqual(result.metrics["exact_match"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(stub.prompts.first, "Answer these questions:\n\nQ: Which planet is known as the Red Planet?\nA:")
    }

    /// GSM8K maj1@3: item 1 samples 7, 8, 8 (first right, majority wrong); item 2 samples
    /// 500, 600, 600 (first wrong, majority right): maj1@1 = 50, maj1@3 = 50.
    func testMajorityVoting() throws {
        var definition = task("gsm8k", "gsm8k.jsonl")
        definition.samples = 3
        let (examples, _) = try Evaluator.loadExamples(definition)
        let stub = StubScorer()
        stub.generations = [("apples does he have?\nAnswer:", [" 3 + 4 = 7\n#### 7", " #### 8", " so 8"]),
                            ("How many remain?\nAnswer:", [" It is 500", " 1,200 / 2 = 600", " #### 600.00"])]
        let result = try Evaluator(scorer: stub).evaluate(definition, examples: examples, shots: 0)
        XCTAssertEqual(result.metrics["maj1@1"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(result.metrics["maj1@3"] ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(result.primaryMetric, "maj1@3")
    }

    func testReportsRoundTripAndPlot() throws {
        let result = TaskResult(task: "piqa", shots: 0, itemCount: 2, primaryMetric: "acc_char", metrics: ["acc_char": 50],
                                groups: [:], seconds: 1)
        let decoded = try JSONDecoder().decode([TaskResult].self, from: Data(try Report.json([result]).utf8))
        XCTAssertEqual(decoded, [result])
        let svg = Report.svg([Report.Series(name: "piqa", points: [.init(tokens: 2e9, value: 60), .init(tokens: 1e9, value: 55)])])
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("<polyline"))
        XCTAssertTrue(svg.contains(">2B<"), svg)
    }
}
