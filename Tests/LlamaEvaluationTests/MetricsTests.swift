import XCTest
@testable import LlamaEvaluation

final class MetricsTests: XCTestCase {
    /// Four options where raw, per-character, per-token and unconditional normalisation
    /// each pick a different one (worked by hand):
    ///   option      chars  ll    tokens  ll/char  ll/token  ll − ll("Answer:")
    ///   " cat"        4   -4.0     1     -1.000    -4.0     -4.0 − (-1.0) = -3.0
    ///   " elephant"   9   -6.3     3     -0.700    -2.1     -6.3 − (-2.0) = -4.3
    ///   " dog and"    8   -6.0     4     -0.750    -1.5     -6.0 − (-2.0) = -4.0
    ///   " bird"       5   -5.0     2     -1.000    -2.5     -5.0 − (-4.5) = -0.5
    /// raw → cat (0), per char → elephant (1), per token → dog and (2), unconditional → bird (3).
    func testEachNormalizationPicksItsOwnAnswer() {
        let options = [" cat", " elephant", " dog and", " bird"]
        let scores = [(-4.0, 1), (-6.3, 3), (-6.0, 4), (-5.0, 2)].map { ContinuationScore(logLikelihood: $0.0, tokenCount: $0.1) }
        let unconditional = [-1.0, -2.0, -2.0, -4.5].map { ContinuationScore(logLikelihood: $0, tokenCount: 1) }
        XCTAssertEqual(Metrics.choose(scores, options: options, normalization: .none), 0)
        XCTAssertEqual(Metrics.choose(scores, options: options, normalization: .perCharacter), 1)
        XCTAssertEqual(Metrics.choose(scores, options: options, normalization: .perToken), 2)
        XCTAssertEqual(Metrics.choose(scores, options: options, normalization: .unconditional, unconditional: unconditional), 3)
    }

    func testTiesGoToTheFirstOption() {
        let scores = [ContinuationScore(logLikelihood: -1, tokenCount: 1), ContinuationScore(logLikelihood: -1, tokenCount: 1)]
        XCTAssertEqual(Metrics.choose(scores, options: ["a", "b"], normalization: .none), 0)
    }

    /// Closed forms of 1 − C(n−c, k)/C(n, k).
    func testPassAtKMatchesClosedForm() {
        XCTAssertEqual(Metrics.passAtK(samples: 5, correct: 2, k: 1), 0.4, accuracy: 1e-12)           // c/n
        XCTAssertEqual(Metrics.passAtK(samples: 5, correct: 2, k: 2), 1 - 3.0 / 10, accuracy: 1e-12)  // C(3,2)/C(5,2)
        XCTAssertEqual(Metrics.passAtK(samples: 10, correct: 3, k: 5), 1 - 21.0 / 252, accuracy: 1e-12)
        XCTAssertEqual(Metrics.passAtK(samples: 200, correct: 13, k: 100),
                       1 - exp(lgamma(188.0) + lgamma(101.0) - lgamma(88.0) - lgamma(201.0)), accuracy: 1e-9)
        XCTAssertEqual(Metrics.passAtK(samples: 4, correct: 0, k: 2), 0)
        XCTAssertEqual(Metrics.passAtK(samples: 4, correct: 3, k: 2), 1)  // n − c < k
    }

    func testAnswerNormalization() {
        XCTAssertEqual(Metrics.normalizeAnswer("  The Pacific   Ocean!"), "pacific ocean")
        XCTAssertEqual(Metrics.normalizeAnswer("An apple, a day."), "apple day")
        XCTAssertTrue(Metrics.exactMatch("the Red Planet.", answers: ["Mars", "Red planet"]))
        XCTAssertFalse(Metrics.exactMatch("Red", answers: ["Red planet"]))
    }

    func testAnswerExtractionAndMajorityVote() {
        XCTAssertEqual(Metrics.extractGSM8KAnswer("so 1,200 / 2 = 600\n#### 600"), "600")
        XCTAssertEqual(Metrics.extractGSM8KAnswer("He pays $1,250.00 in total."), "1250")
        XCTAssertEqual(Metrics.extractBoxedAnswer("thus $\\boxed{\\frac{1}{2}}$ and not \\boxed{3}"), "3")
        XCTAssertEqual(Metrics.extractBoxedAnswer("$x = \\boxed{\\frac{1}{2}}$"), "\\frac{1}{2}")
        XCTAssertEqual(Metrics.majorityVote(["5", nil, "7", "7", "5", "7"]), "7")
        XCTAssertEqual(Metrics.majorityVote(["5", "7"]), "5")  // tie: first seen
        XCTAssertNil(Metrics.majorityVote([nil, nil]))
    }
}
