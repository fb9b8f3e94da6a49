import ArgumentParser
import LlamaCore
import LlamaModel

/// `llama logits`: the float32 logits [T, vocab] of a token sequence as a NumPy .npy file.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Write the logits of a token sequence as a .npy file.")

    @Option(help: "Hugging Face checkpoint folder or .gguf file.") var model: String
    @Option(help: "Comma-separated token ids, e.g. 1,5,9.") var ids: String
    @Option(help: "Output .npy file.") var output: String

    func run() throws {
        let tokens = try parseIds(ids, option: "--ids")
        let loaded = try OpenedModel.open(model)
        let vocabulary = loaded.configuration.vocabularySize
        let session = InferenceSession(weights: loaded.weights, context: tokens.count)
        var values = [Float](repeating: 0, count: tokens.count * vocabulary)
        try values.withUnsafeMutableBufferPointer { destination in
            guard let base = destination.baseAddress else { return }
            try session.forward(tokens) { t, row in
                if let source = row.baseAddress { (base + t * vocabulary).update(from: source, count: vocabulary) }
            }
        }
        try values.withUnsafeBufferPointer { try Npy.write(path: output, values: $0, shape: [tokens.count, vocabulary]) }
    }
}

/// Parses "1,5,9" into ids; an empty list or a non-number is a usage error naming `option`.
func parseIds(_ text: String, option: String) throws -> [Int32] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    var ids: [Int32] = []
    for part in parts {
        guard let id = Int32(part) else { throw ValidationError("\(option): '\(part)' is not a token id") }
        ids.append(id)
    }
    guard !ids.isEmpty else { throw ValidationError("\(option): no token ids given") }
    return ids
}

import Foundation
