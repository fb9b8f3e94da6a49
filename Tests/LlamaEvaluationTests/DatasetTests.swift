import XCTest
@testable import LlamaEvaluation

/// Every loader on a hand-made file in the dataset's published format.
final class DatasetTests: XCTestCase {
    func load(_ loader: String, _ file: String) throws -> [Example] { try Datasets.load(loader, path: EvalFixtures.path(file)) }

    func testMultipleChoiceFormats() throws {
        let boolq = try load("boolq", "boolq.jsonl")
        XCTAssertEqual(boolq.map(\.gold), [1, 0])
        XCTAssertEqual(boolq[0].prompt, "The sky appears blue because of Rayleigh scattering.\nQuestion: is the sky blue?\nAnswer:")
        XCTAssertEqual(boolq[0].choices.map(\.continuation), [" no", " yes"])

        let piqa = try load("piqa", "piqa.jsonl")  // labels from piqa-labels.lst
        XCTAssertEqual(piqa.map(\.gold), [0, 0])
        XCTAssertEqual(piqa[1].choices.map(\.continuation), [" use a towel.", " use a spoon."])
        XCTAssertEqual(try load("siqa", "siqa.jsonl")[0].gold, 0)  // 1-based label "1"

        let hellaswag = try load("hellaswag", "hellaswag.jsonl")[0]
        XCTAssertEqual(hellaswag.prompt, "Baking cookies: A woman mixes dough. She")
        XCTAssertEqual(hellaswag.choices.count, 4)

        let arc = try load("arc", "arc.jsonl")[0]
        XCTAssertEqual(arc.gold, 0)
        XCTAssertEqual(arc.prompt, "Question: Which is a planet?\nAnswer:")
        XCTAssertEqual(try load("openbookqa", "openbookqa.jsonl")[0].gold, 1)

        let race = try load("race", "race")
        XCTAssertEqual(race.map(\.gold), [1, 0])
        XCTAssertEqual(race[1].prompt, "Article: Grass is green. Water is wet.\n\nQuestion: Is water wet?\nAnswer:")

        let mmlu = try load("mmlu", "mmlu")
        XCTAssertEqual(mmlu.map(\.gold), [1, 1, 2])
        XCTAssertEqual(mmlu.map(\.group), ["astronomy", "astronomy", "virology"])
        XCTAssertEqual(mmlu[1].prompt, "How many moons does Earth have?\nA. 0\nB. 1\nC. 2\nD. 3, or more\nAnswer:")
        XCTAssertEqual(mmlu[0].header, "The following are multiple choice questions (with answers) about astronomy.")

        let truthful = try load("truthfulqa_mc", "truthfulqa_mc.json")[0]
        XCTAssertEqual(truthful.choices[truthful.gold].continuation, " Nothing happens.")
    }

    /// WinoGrande partial scoring: the option goes into the context, the rest is scored.
    func testWinoGrandePartialScoring() throws {
        let example = try load("winogrande", "winogrande.jsonl")[0]
        XCTAssertEqual(example.choices, [
            Choice(context: "The trophy does not fit in the suitcase because the trophy", continuation: " is too big."),
            Choice(context: "The trophy does not fit in the suitcase because the suitcase", continuation: " is too big."),
        ])
        XCTAssertEqual(example.gold, 0)
    }

    func testBiasFormats() throws {
        let crows = try load("crowspairs", "crows_pairs.csv")
        XCTAssertEqual(crows.map(\.group), ["socioeconomic", "gender"])
        XCTAssertEqual(crows[0].choices.map(\.continuation), ["Poor people are lazy.", "Rich people are lazy."])
        let winogender = try load("winogender", "winogender.tsv")
        XCTAssertEqual(winogender.count, 3)
        XCTAssertEqual(winogender[0].prompt, "The nurse notified the patient that his shift would be ending in an hour. 'his' refers to")
        XCTAssertEqual(winogender[2].choices.map(\.continuation), [" the nurse", " the patient"])
        XCTAssertEqual(winogender.map(\.group), ["male", "female", "neutral"])
    }

    func testGenerationFormats() throws {
        let nq = try load("naturalquestions", "nq.jsonl")
        XCTAssertEqual(nq[0].answers, ["William Shakespeare", "Shakespeare"])
        XCTAssertEqual(nq[0].prompt, "Q: who wrote hamlet\nA:")
        let trivia = try load("triviaqa", "triviaqa.json")
        XCTAssertEqual(trivia[1].answers, ["Pacific Ocean", "Pacific", "Pacific Ocean"])
        XCTAssertEqual(try load("gsm8k", "gsm8k.jsonl").map(\.answers), [["7"], ["600"]])
        let math = try load("math", "math.json")[0]
        XCTAssertEqual(math.answers, ["5"])
        XCTAssertEqual(math.group, "Prealgebra")
        let humaneval = try load("humaneval", "humaneval.jsonl")[0]
        XCTAssertTrue(humaneval.programIncludesPrompt)
        XCTAssertTrue(humaneval.test?.hasSuffix("check(add)\n") ?? false)
        let mbpp = try load("mbpp", "mbpp.jsonl")[0]
        XCTAssertTrue(mbpp.prompt.hasSuffix("assert square(3) == 9\nassert square(0) == 0\n[BEGIN]\n"))
    }

    func testCustomTaskFile() throws {
        let task = try TaskDefinition.load(path: EvalFixtures.path("custom_task.json"))
        XCTAssertEqual(task.normalization, .none)
        let (examples, _) = try Evaluator.loadExamples(task)
        XCTAssertEqual(examples.map(\.gold), [0, 1])
        XCTAssertEqual(examples[1].choices[1], Choice(context: "The capital of Japan is", continuation: " Tokyo"))
    }

    func testBadInputNamesFileLineAndField() throws {
        let malformed = EvalFixtures.path("malformed.jsonl")
        XCTAssertThrowsError(try Datasets.load("boolq", path: malformed)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedLine(path: malformed, line: 2, reason: "not valid JSON"))
        }
        let missing = EvalFixtures.path("missing_field.jsonl")
        XCTAssertThrowsError(try Datasets.load("boolq", path: missing)) { error in
            XCTAssertEqual(error as? EvaluationError, .missingField(path: missing, line: 2, field: "passage"))
            XCTAssertEqual("\(error)", "\(missing):2: missing field 'passage'")
        }
        let badTask = EvalFixtures.path("bad_task.json")
        XCTAssertThrowsError(try TaskDefinition.load(path: badTask)) { error in
            guard case let .invalidTask(path, field, _)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, badTask)
            XCTAssertEqual(field, "shots")
        }
        XCTAssertThrowsError(try Datasets.load("arc", path: EvalFixtures.path("boolq.jsonl"))) { error in
            XCTAssertEqual(error as? EvaluationError, .missingField(path: EvalFixtures.path("boolq.jsonl"), line: 1, field: "question.choices"))
        }
    }
}
