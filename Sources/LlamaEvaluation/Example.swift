/// One option of a multiple-choice question: the text the model is given and the text
/// whose likelihood is scored. Most tasks share one context across options; WinoGrande's
/// partial scoring puts the option in the context and scores the shared rest.
public struct Choice: Sendable, Equatable, Codable {
    public var context: String
    public var continuation: String
    public init(context: String, continuation: String) {
        self.context = context
        self.continuation = continuation
    }
}

/// One evaluation item, already formatted as text (the loaders do the formatting).
public struct Example: Sendable, Equatable, Codable {
    /// Where the item came from, "file:line", for error messages and reports.
    public var source: String
    /// The prompt of a generation item, or the shared context of a multiple-choice item.
    public var prompt: String
    /// Options of a multiple-choice item (empty for generation).
    public var choices: [Choice]
    /// Index of the correct option (multiple choice).
    public var gold: Int
    /// Accepted answers of a generation item (exact match against any of them).
    public var answers: [String]
    /// The text that completes the prompt in a few-shot demonstration.
    public var target: String
    /// Subgroup for per-group scores: MMLU subject, CrowS-Pairs bias type, WinoGender gender.
    public var group: String?
    /// Unit tests of a code item (HumanEval, MBPP): Python run after the completion.
    public var test: String?
    /// Whether a code item's program starts with its prompt (HumanEval: the prompt is
    /// the function's signature and docstring) or with the completion alone (MBPP).
    public var programIncludesPrompt = false
    /// Every correct option, for TruthfulQA MC2 (the normalised probability mass of the
    /// true answers); nil for single-answer items.
    public var trueChoices: [Int]?
    /// Text put once before the few-shot demonstrations (MMLU's subject line).
    public var header: String?

    public init(source: String, prompt: String, choices: [Choice] = [], gold: Int = 0, answers: [String] = [],
                target: String = "", group: String? = nil, test: String? = nil, header: String? = nil) {
        self.source = source
        self.prompt = prompt
        self.choices = choices
        self.gold = gold
        self.answers = answers
        self.target = target
        self.group = group
        self.test = test
        self.header = header
    }

    /// A multiple-choice item whose options all follow `prompt`.
    public static func multipleChoice(source: String, prompt: String, options: [String], gold: Int,
                                      group: String? = nil) -> Example {
        Example(source: source, prompt: prompt, choices: options.map { Choice(context: prompt, continuation: $0) },
                gold: gold, target: options.indices.contains(gold) ? options[gold] : "", group: group)
    }
}
