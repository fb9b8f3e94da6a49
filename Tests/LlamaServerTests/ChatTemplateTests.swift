import Foundation
import XCTest
import LlamaTokenizer
@testable import LlamaServer

/// Chat formats against Python's `jinja2` running the real templates of chat models (as
/// transformers' `apply_chat_template` does), and chat prompts tokenized as llama.cpp tokenizes
/// them (control pieces read as their ids), against `sentencepiece` on the pieces between.
final class ChatTemplateTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `chat_template` of each model's `tokenizer_config.json`.
    static let templates: [(model: String, format: ChatTemplate.Format, template: String)] = [
        ("meta-llama/Llama-2-13b-chat-hf", .llama2,
         #"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"#),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", .mistral,
         "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"),
        ("teknium/OpenHermes-2.5-Mistral-7B", .chatml,
         "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"),
        ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", .zephyr,
         "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"),
        ("a one-line Zephyr template", .zephyr,
         "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + eos_token }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n'  + message['content'] + eos_token }}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}"),
    ]

    static let conversations: [[ChatMessage]] = [
        [.init(role: "user", content: "Hello there!")],
        [.init(role: "system", content: "You are terse."), .init(role: "user", content: " What is 2 + 2?\u{2003}\n")],
        [.init(role: "system", content: "Be kind."), .init(role: "user", content: "Hi"),
         .init(role: "assistant", content: " Hello! How can I help?\t"), .init(role: "user", content: "Tell me a joke.")],
        [.init(role: "user", content: "Hi"), .init(role: "assistant", content: "Hey"), .init(role: "user", content: "Bye </s> <s>")],
        [.init(role: "user", content: "a"), .init(role: "user", content: "b")],
        [.init(role: "user", content: "a"), .init(role: "system", content: "late")],
    ]

    /// Runs Tests/LlamaServerTests/Python/chat_reference.py on a request.
    static func reference(_ request: [String: Any]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repository.appendingPathComponent("Tests/LlamaServerTests/Python/chat_reference.py").path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: request))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "chat_reference.py failed (pip install jinja2 sentencepiece)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testFormatsRenderWhatJinjaRendersFromTheModelsTemplates() throws {
        let conversations = Self.conversations.map { $0.map { ["role": $0.role, "content": $0.content] } }
        for (model, format, text) in Self.templates {
            let template = try XCTUnwrap(ChatTemplate(jinja: text), model)
            XCTAssertEqual(template.format, format, model)
            let expected = try XCTUnwrap(try Self.reference(["render": ["template": text, "conversations": conversations]])["render"] as? [Any])
            for (index, messages) in Self.conversations.enumerated() {
                if let want = expected[index] as? String {
                    XCTAssertEqual(try template.render(messages, bos: "<s>", eos: "</s>"), want, "\(model), conversation \(index)")
                } else {
                    XCTAssertThrowsError(try template.render(messages, bos: "<s>", eos: "</s>"), "\(model), conversation \(index)")
                }
            }
        }
        XCTAssertNil(ChatTemplate(jinja: "{% for message in messages %}{{ message['content'] }}{% endfor %}"))
    }

    /// Rendered Llama 2 prompts (and text with `<unk>`, back-to-back and partial special pieces)
    /// through `encode(parsingSpecial:)` against the reference split.
    func testChatPromptsTokenizeAsLlamaCppDoes() throws {
        let model = Self.repository.appendingPathComponent("Tests/Fixtures/tiny-llama/tokenizer.model")
        let tokenizer = try SentencePieceTokenizer(contentsOf: model)
        let template = ChatTemplate(format: .llama2)
        var texts = try Self.conversations.prefix(4).map { try template.render($0, bos: "<s>", eos: "</s>") }
        texts += ["x<unk>y</s><s>z", "<s>", "</s", "a <s> b", "  <s>\n\nend</s>", ""]
        let expected = try XCTUnwrap(try Self.reference(["tokenize": ["model": model.path, "texts": texts]])["tokenize"] as? [[Int]])
        for (text, want) in zip(texts, expected) {
            XCTAssertEqual(tokenizer.encode(parsingSpecial: text).map(Int.init), want, text)
        }
        XCTAssertEqual(tokenizer.encode(parsingSpecial: "hi", addBOS: true).first, tokenizer.bosId)
    }

    /// A ChatML vocabulary (as a GGUF file lists it): `<|im_start|>` and `<|im_end|>` are control
    /// pieces, taken whole where the text writes them, never from a partial match.
    func testChatMLControlPiecesAreTakenWhole() throws {
        let pieces = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "\u{2581}", "s", "y", "t", "e", "m", "a", "b", "\n", "<", "|"]
        let types: [Int32] = [2, 3, 3, 3, 3] + [Int32](repeating: 1, count: pieces.count - 5)
        let tokenizer = try SentencePieceTokenizer(pieces: pieces, scores: pieces.indices.map { -Float($0) }, types: types,
                                                   unknownId: 0, bosId: 1, eosId: 2, padId: nil, source: "chatml vocabulary")
        let start: Int32 = 3, end: Int32 = 4
        XCTAssertEqual(tokenizer.encode(parsingSpecial: "<|im_start|>system\nab<|im_end|>\n<|im_end"),
                       [start] + tokenizer.encode("system\nab") + [end] + tokenizer.encode("\n<|im_end"))
        XCTAssertFalse(tokenizer.encode("\n<|im_end").contains(end), "a partial piece is text")
        XCTAssertEqual(tokenizer.specialPieces.map(\.id).sorted(), [0, 1, 2, 3, 4])
    }
}
