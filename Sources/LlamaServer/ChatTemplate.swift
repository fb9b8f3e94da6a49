/// How `/v1/chat/completions` turns messages into a prompt: the chat format a model was tuned
/// with, recognized from the Jinja template it ships (`tokenizer.chat_template` in a GGUF file,
/// `chat_template` in a Hugging Face `tokenizer_config.json`), as llama.cpp's server matches
/// known templates instead of running Jinja. Each format renders what Python's `jinja2` renders
/// from the model's template (transformers' `apply_chat_template` with a generation prompt).
/// LLaMA (2023) itself has no chat format: without a template, or with one not recognized, the
/// messages become a plain transcript a base model continues.
public struct ChatTemplate: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        /// "User: …" / "Assistant: …" lines ending with "Assistant:"; stops at "\nUser:".
        case transcript
        /// Llama 2 chat: `<s>[INST] <<SYS>>\n…\n<</SYS>>\n\n… [/INST] … </s>`.
        case llama2
        /// Mistral / Mixtral instruct: `<s>[INST] … [/INST]…</s>`, no system role.
        case mistral
        /// ChatML: `<|im_start|>role\n…<|im_end|>\n`, then `<|im_start|>assistant\n`.
        case chatml
        /// Zephyr (TinyLlama chat): `<|role|>\n…</s>\n`, then `<|assistant|>\n`.
        case zephyr
    }

    public let format: Format
    /// Zephyr templates written on one line put no newline after each message's `</s>`.
    public let newlineAfterMessages: Bool

    public init(format: Format, newlineAfterMessages: Bool = true) {
        self.format = format
        self.newlineAfterMessages = newlineAfterMessages
    }

    /// The format of a model's Jinja template, or nil when it is none of the known ones.
    public init?(jinja template: String) {
        if template.contains("<|im_start|>") {
            self.init(format: .chatml)
        } else if template.contains("[INST]") {
            self.init(format: template.contains("<<SYS>>") ? .llama2 : .mistral)
        } else if template.contains("<|user|>") && template.contains("<|assistant|>") {
            self.init(format: .zephyr, newlineAfterMessages: template.contains("eos_token }}\n"))
        } else {
            return nil
        }
    }

    /// Text stops of the format: the transcript's next "User:" line; ChatML's end of turn, for
    /// a vocabulary where `<|im_end|>` is not a control token.
    public var stops: [String] {
        switch format {
        case .transcript: return ["\nUser:"]
        case .chatml: return ["<|im_end|>"]
        default: return []
        }
    }

    /// Pieces that end the assistant's turn besides the end-of-sequence token (ChatML's `<|im_end|>`).
    public var endOfTurnPieces: [String] { format == .chatml ? ["<|im_end|>"] : [] }

    /// The prompt for `messages`, special tokens written out as the template writes them (`bos`,
    /// `eos`: the vocabulary's `<s>` and `</s>`); the assistant's turn opened where the format
    /// has a marker for it. Throws, as the template's `raise_exception` does, when the roles do
    /// not alternate user/assistant (Llama 2, Mistral) or a Mistral chat has a system message.
    public func render(_ messages: [ChatMessage], bos: String, eos: String) throws -> String {
        switch format {
        case .transcript:
            var text = ""
            for message in messages {
                switch message.role {
                case "system": text += message.content + "\n\n"
                case "user": text += "User: " + message.content + "\n"
                default: text += "Assistant: " + message.content + "\n"
                }
            }
            return text + "Assistant:"
        case .chatml:
            return messages.map { "<|im_start|>" + $0.role + "\n" + $0.content + "<|im_end|>\n" }.joined()
                + "<|im_start|>assistant\n"
        case .zephyr:
            let separator = newlineAfterMessages ? "\n" : ""
            return messages.map { "<|" + $0.role + "|>\n" + $0.content + eos + separator }.joined()
                + "<|assistant|>" + separator
        case .llama2:
            var turns = messages
            var system: String?
            if turns.first?.role == "system" { system = turns.removeFirst().content }
            try Self.checkAlternation(turns)
            var text = ""
            for (index, message) in turns.enumerated() {
                var content = message.content
                if index == 0, let system { content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content }
                // Another system message in an assistant's place passes the check and is left out.
                switch message.role {
                case "user": text += bos + "[INST] " + Self.strip(content) + " [/INST]"
                case "assistant": text += " " + Self.strip(content) + " " + eos
                default: break
                }
            }
            return text
        case .mistral:
            try Self.checkAlternation(messages)
            if let index = messages.firstIndex(where: { $0.role != "user" && $0.role != "assistant" }) {
                throw ServerRequestError.invalid("this model's chat template takes only user and assistant messages;"
                                                 + " messages[\(index)] is \(messages[index].role)", parameter: "messages")
            }
            return bos + messages.map { $0.role == "user" ? "[INST] " + $0.content + " [/INST]" : $0.content + eos }.joined()
        }
    }

    /// The templates' check: user at even positions, assistant at odd ones.
    static func checkAlternation(_ messages: [ChatMessage]) throws {
        for (index, message) in messages.enumerated() where (message.role == "user") != (index % 2 == 0) {
            throw ServerRequestError.invalid("this model's chat template needs messages alternating user/assistant/user/…"
                                             + " (with at most one system message first, where the template has a system part);"
                                             + " messages[\(index)] is \(message.role)", parameter: "messages")
        }
    }

    /// Python's `str.strip()`, which the Llama 2 template applies to each message: the characters
    /// `str.isspace` accepts, from both ends.
    static func strip(_ text: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
            default: return false
            }
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[first...last])
    }
}
