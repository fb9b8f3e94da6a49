import ArgumentParser
import Foundation
import LlamaModel
import LlamaServer

/// The Jinja chat template a model ships: `tokenizer.chat_template` in a GGUF file, or
/// `chat_template` in a Hugging Face folder's `tokenizer_config.json` (a string, or a list of
/// named templates of which "default" is taken). Nil when there is none.
func chatTemplateText(model: String) throws -> String? {
    if model.hasSuffix(".gguf") { return try GGUFModel.vocabulary(path: model)?.chatTemplate }
    let path = (model as NSString).appendingPathComponent("tokenizer_config.json")
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    guard let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))),
          let config = object as? [String: Any] else {
        throw ValidationError("\(path): not a JSON object")
    }
    switch config["chat_template"] {
    case let text as String: return text
    case let named as [[String: Any]]:
        return (named.first { $0["name"] as? String == "default" } ?? named.first)?["template"] as? String
    case nil, is NSNull: return nil
    default: throw ValidationError("\(path): chat_template is neither a string nor a list of named templates")
    }
}

/// The chat format `llama serve` uses: `--chat-template` when given (a format name), else the
/// one recognized in the model's template, else the plain transcript (with a note on stderr
/// when the model has a template that is not recognized).
func chatTemplate(model: String, option: String?) throws -> ChatTemplate {
    if let option {
        guard let format = ChatTemplate.Format(rawValue: option) else {
            throw ValidationError("unknown --chat-template '\(option)'; use "
                                  + ChatTemplate.Format.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return ChatTemplate(format: format)
    }
    guard let text = try chatTemplateText(model: model) else { return ChatTemplate(format: .transcript) }
    if let template = ChatTemplate(jinja: text) { return template }
    FileHandle.standardError.write(Data("\(model): its chat template is not one of the known formats; chat messages become a plain transcript (--chat-template picks a format)\n".utf8))
    return ChatTemplate(format: .transcript)
}
