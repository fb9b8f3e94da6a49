import Foundation
import LlamaCore
import LlamaModel

/// What a generation produced and how fast.
public struct GenerationResult: Sendable {
    /// The generated ids (the prompt excluded).
    public var tokens: [Int32]
    public var promptTokenCount: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Whether generation ended at the end-of-sequence token.
    public var stoppedAtEOS: Bool

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokenCount) / prefillSeconds : 0 }
    /// Decode speed, counting the tokens made after the first (which prefill produces).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0
    }
}

/// The decoding loop: prefill the prompt, then one token at a time from the KV cache.
public enum Generator {
    /// Generates up to `maxTokens` tokens after `prompt`. `onToken` sees each new id as it
    /// is chosen and may return false to stop. With `stopAtEOS`, the EOS token ends
    /// generation (and is included in the result).
    public static func generate(session: InferenceSession, prompt: [Int32], maxTokens: Int,
                                sampling: SamplingParameters, stopAtEOS: Bool = true,
                                onToken: (Int32) -> Bool = { _ in true }) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw ModelError.invalidInput(reason: "the prompt has no tokens") }
        let config = session.configuration
        let budget = min(maxTokens, session.context - session.position - prompt.count)
        try session.validate(prompt)
        let sampler = Sampler(parameters: sampling, vocabularySize: config.vocabularySize)
        var history = [Int32]()
        history.reserveCapacity(prompt.count + max(budget, 0) + 1)
        history += prompt
        var result = GenerationResult(tokens: [], promptTokenCount: prompt.count, prefillSeconds: 0, decodeSeconds: 0, stoppedAtEOS: false)
        result.tokens.reserveCapacity(max(budget, 0))
        guard budget > 0 else { return result }
        let prefillStart = DispatchTime.now().uptimeNanoseconds
        var logits = try session.forward(prompt)
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        result.prefillSeconds = Double(decodeStart - prefillStart) / 1e9
        while true {
            let token = history.withUnsafeBufferPointer { sampler.sample(logits: logits, history: $0, generated: result.tokens.count) }
            history.append(token)
            result.tokens.append(token)
            let proceed = onToken(token)
            if stopAtEOS && token == config.eosTokenId {
                result.stoppedAtEOS = true
                break
            }
            if !proceed || result.tokens.count >= budget { break }
            logits = try session.forward(token: token)
        }
        result.decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - decodeStart) / 1e9
        return result
    }
}
