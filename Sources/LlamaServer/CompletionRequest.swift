import Foundation

/// A request refused before generation: the HTTP status, a message and the field at fault.
public struct ServerRequestError: Error, Sendable {
    public let status: Int
    public let message: String
    public let parameter: String?

    static func invalid(_ message: String, parameter: String? = nil) -> ServerRequestError {
        ServerRequestError(status: 400, message: message, parameter: parameter)
    }
}

/// One chat message (`{"role": …, "content": …}`).
public struct ChatMessage: Sendable, Equatable {
    public let role: String
    public let content: String
}

/// The validated parameters of `/v1/completions` and `/v1/chat/completions` requests,
/// with OpenAI's names and defaults (temperature 1, top_p 1, max_tokens 16 for
/// completions and the rest of the context for chat).
public struct CompletionRequest: Sendable {
    public enum Kind: Sendable { case completion, chat }

    public var kind: Kind
    public var model: String?
    public var prompt: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Float = 1
    public var topP: Float = 1
    public var topK: Int = 0
    public var repetitionPenalty: Float = 1
    /// OpenAI's `presence_penalty` and `frequency_penalty` (−2 to 2).
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    public var stream = false
    /// Whether the chosen tokens' log-probabilities are returned (completions: `logprobs` given;
    /// chat: `logprobs: true`).
    public var logprobs = false
    /// How many of the most likely tokens each position lists beside the chosen one
    /// (completions: `logprobs`, 0 to 5; chat: `top_logprobs`, 0 to 20).
    public var topLogprobs = 0
    /// Completions: the prompt given as token ids instead of text.
    public var promptIds: [Int32]?
    /// Completions: the prompt goes in front of the text, and with `logprobs` its tokens are scored
    /// (each given the ones before it; `max_tokens` 0 scores the prompt alone).
    public var echo = false
    public var stop: [String] = []
    public var seed: UInt64?

    /// Fields each endpoint accepts: OpenAI's (some only at their default) plus top_k and
    /// repetition_penalty. Anything else is refused, so a typo never passes silently.
    static let completionFields: Set<String> = [
        "model", "prompt", "max_tokens", "temperature", "top_p", "stream", "logprobs", "stop", "seed", "n", "echo",
        "best_of", "presence_penalty", "frequency_penalty", "user", "stream_options", "top_k", "repetition_penalty",
    ]
    static let chatFields: Set<String> = [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stream", "logprobs",
        "top_logprobs", "stop", "seed", "n", "presence_penalty", "frequency_penalty", "user", "stream_options",
        "top_k", "repetition_penalty",
    ]

    /// Parses and validates a JSON body.
    public init(json body: Data, kind: Kind) throws {
        self.kind = kind
        guard let object = try? JSONSerialization.jsonObject(with: body), let fields = object as? [String: Any] else {
            throw ServerRequestError.invalid("the body is not a JSON object")
        }
        let allowed = kind == .completion ? Self.completionFields : Self.chatFields
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ServerRequestError.invalid("unknown field '\(unknown)'", parameter: unknown)
        }
        func number(_ key: String) throws -> Double? {
            guard let raw = fields[key], !(raw is NSNull) else { return nil }
            guard let value = raw as? NSNumber else {
                throw ServerRequestError.invalid("'\(key)' must be a number", parameter: key)
            }
            guard value.doubleValue.isFinite else { throw ServerRequestError.invalid("'\(key)' must be finite", parameter: key) }
            return value.doubleValue
        }
        func integer(_ key: String) throws -> Int? {
            guard let value = try number(key) else { return nil }
            guard value == value.rounded(), abs(value) < 1e15 else {
                throw ServerRequestError.invalid("'\(key)' must be an integer", parameter: key)
            }
            return Int(value)
        }
        func flag(_ key: String) throws -> Bool? {
            guard let raw = fields[key], !(raw is NSNull) else { return nil }
            guard let value = raw as? Bool else { throw ServerRequestError.invalid("'\(key)' must be true or false", parameter: key) }
            return value
        }
        if let raw = fields["model"], !(raw is NSNull) {
            guard let name = raw as? String else { throw ServerRequestError.invalid("'model' must be a string", parameter: "model") }
            model = name
        }
        switch kind {
        case .completion:
            messages = []
            if let text = fields["prompt"] as? String {
                prompt = text
            } else if let list = fields["prompt"] as? [String], list.count == 1 {
                prompt = list[0]
            } else if let ids = (fields["prompt"] as? [NSNumber]) ?? ((fields["prompt"] as? [[NSNumber]]).flatMap { $0.count == 1 ? $0[0] : nil }),
                      !ids.isEmpty, ids.allSatisfy({ $0.doubleValue == $0.doubleValue.rounded() && abs($0.doubleValue) < 1e9 }) {
                // Token ids (or a list of one list of them, as batching clients send), used as given: no BOS added.
                prompt = ""
                promptIds = ids.map { Int32($0.intValue) }
            } else {
                throw ServerRequestError.invalid("'prompt' must be a string or token ids (or a list of one of either)",
                                                 parameter: "prompt")
            }
            if let value = try integer("logprobs") {
                guard (0...5).contains(value) else { throw ServerRequestError.invalid("'logprobs' must be 0 to 5", parameter: "logprobs") }
                logprobs = true
                topLogprobs = value
            }
            echo = try flag("echo") ?? false
            if let best = try integer("best_of"), best != 1 { throw ServerRequestError.invalid("only best_of 1 is supported", parameter: "best_of") }
            maxTokens = try integer("max_tokens") ?? 16
        case .chat:
            guard let list = fields["messages"] as? [[String: Any]], !list.isEmpty else {
                throw ServerRequestError.invalid("'messages' must be a non-empty list of messages", parameter: "messages")
            }
            messages = try list.enumerated().map { index, message in
                guard let role = message["role"] as? String, ["system", "user", "assistant"].contains(role) else {
                    throw ServerRequestError.invalid("messages[\(index)].role must be system, user or assistant", parameter: "messages")
                }
                guard let content = message["content"] as? String else {
                    throw ServerRequestError.invalid("messages[\(index)].content must be a string", parameter: "messages")
                }
                return ChatMessage(role: role, content: content)
            }
            prompt = ""
            logprobs = try flag("logprobs") ?? false
            if let top = try integer("top_logprobs") {
                guard (0...20).contains(top) else { throw ServerRequestError.invalid("'top_logprobs' must be 0 to 20", parameter: "top_logprobs") }
                guard logprobs || top == 0 else {
                    throw ServerRequestError.invalid("'top_logprobs' needs 'logprobs': true", parameter: "top_logprobs")
                }
                topLogprobs = top
            }
            maxTokens = try integer("max_completion_tokens") ?? integer("max_tokens")
        }
        if let n = try integer("n"), n != 1 { throw ServerRequestError.invalid("only n = 1 is supported", parameter: "n") }
        for key in ["presence_penalty", "frequency_penalty"] {
            guard let value = try number(key) else { continue }
            guard (-2...2).contains(value) else { throw ServerRequestError.invalid("'\(key)' must be in [-2, 2]", parameter: key) }
            if key == "presence_penalty" { presencePenalty = Float(value) } else { frequencyPenalty = Float(value) }
        }
        if let value = maxTokens, value < (echo ? 0 : 1) {
            throw ServerRequestError.invalid("'max_tokens' must be at least \(echo ? "0 (with echo)" : "1")", parameter: "max_tokens")
        }
        if let value = try number("temperature") {
            guard (0...2).contains(value) else { throw ServerRequestError.invalid("'temperature' must be in [0, 2]", parameter: "temperature") }
            temperature = Float(value)
        }
        if let value = try number("top_p") {
            guard value > 0 && value <= 1 else { throw ServerRequestError.invalid("'top_p' must be in (0, 1]", parameter: "top_p") }
            topP = Float(value)
        }
        if let value = try integer("top_k") {
            guard value >= 0 else { throw ServerRequestError.invalid("'top_k' must be ≥ 0", parameter: "top_k") }
            topK = value
        }
        if let value = try number("repetition_penalty") {
            guard value > 0 else { throw ServerRequestError.invalid("'repetition_penalty' must be > 0", parameter: "repetition_penalty") }
            repetitionPenalty = Float(value)
        }
        stream = try flag("stream") ?? false
        if echo && stream { throw ServerRequestError.invalid("'echo' is not supported with 'stream'", parameter: "echo") }
        if let value = try integer("seed") { seed = UInt64(bitPattern: Int64(value)) }
        if let raw = fields["stop"], !(raw is NSNull) {
            let list: [String]
            if let text = raw as? String { list = [text] } else if let texts = raw as? [String] { list = texts } else {
                throw ServerRequestError.invalid("'stop' must be a string or a list of strings", parameter: "stop")
            }
            guard list.count <= 4, list.allSatisfy({ !$0.isEmpty }) else {
                throw ServerRequestError.invalid("'stop' takes up to 4 non-empty strings", parameter: "stop")
            }
            stop += list
        }
    }
}
