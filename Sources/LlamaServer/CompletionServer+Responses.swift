import Foundation
import Hummingbird
import LlamaGeneration
import NIOCore

extension CompletionServer {
    /// Everything a finished request produced.
    struct Outcome {
        var text = ""
        var tokens: [GeneratedToken] = []
        /// With `echo` and `logprobs`: the prompt's tokens, scored.
        var prompt: [GenerationEngine.PromptToken] = []
        var finishReason = "length"
    }

    /// Waits for the whole generation and answers with one JSON object.
    func completeResponse(_ request: CompletionRequest, _ job: Job) async throws -> Response {
        var assembler = TextAssembler(tokenizer: tokenizer, stops: stops(request))
        var outcome = Outcome()
        for await event in job.events {
            switch event {
            case let .token(id, logProbability, top):
                outcome.text += assembler.append(id)
                outcome.tokens.append(GeneratedToken(id: id, logProbability: logProbability, top: top))
                if assembler.stopped { engine.cancel(job.id) }
            case let .prompt(tokens):
                outcome.prompt = tokens
            case let .finished(reason, _):
                outcome.text += assembler.finish()
                outcome.finishReason = assembler.stopped || reason == .stop ? "stop" : "length"
                if reason == .error { throw ServerRequestError(status: 500, message: "generation failed", parameter: nil) }
            }
        }
        let usage = ["prompt_tokens": job.promptTokens, "completion_tokens": outcome.tokens.count,
                     "total_tokens": job.promptTokens + outcome.tokens.count]
        let choice: [String: Any]
        switch request.kind {
        case .completion:
            let echoed = request.echo ? (request.promptIds.map { tokenizer.decode($0) } ?? request.prompt) : ""
            choice = ["index": 0, "text": echoed + outcome.text, "finish_reason": outcome.finishReason,
                      "logprobs": request.logprobs ? completionLogprobs(outcome.tokens, request, prompt: outcome.prompt) : NSNull()]
        case .chat:
            choice = ["index": 0, "message": ["role": "assistant", "content": outcome.text], "finish_reason": outcome.finishReason,
                      "logprobs": request.logprobs ? chatLogprobs(outcome.tokens) : NSNull()]
        }
        return try json(["id": job.identifier, "object": request.kind == .chat ? "chat.completion" : "text_completion",
                         "created": Int(Date().timeIntervalSince1970), "model": request.model ?? configuration.modelName,
                         "choices": [choice], "usage": usage])
    }

    /// Streams the generation as server-sent events (`data: {chunk}` … `data: [DONE]`).
    /// A client that goes away cancels its generation; the stream then closes cleanly.
    func streamingResponse(_ request: CompletionRequest, _ job: Job) -> Response {
        let created = Int(Date().timeIntervalSince1970)
        let model = request.model ?? configuration.modelName
        let object = request.kind == .chat ? "chat.completion.chunk" : "text_completion"
        @Sendable func chunk(_ text: String?, role: Bool = false, token: GeneratedToken? = nil, finish: String? = nil) -> ByteBuffer {
            var choice: [String: Any] = ["index": 0, "finish_reason": finish ?? NSNull()]
            switch request.kind {
            case .completion:
                choice["text"] = text ?? ""
                choice["logprobs"] = request.logprobs && token != nil ? completionLogprobs(token.map { [$0] } ?? [], request) : NSNull()
            case .chat:
                var delta: [String: Any] = [:]
                if role { delta["role"] = "assistant" }
                if let text { delta["content"] = text }
                choice["delta"] = delta
                choice["logprobs"] = request.logprobs && token != nil ? chatLogprobs(token.map { [$0] } ?? []) : NSNull()
            }
            let body: [String: Any] = ["id": job.identifier, "object": object, "created": created, "model": model, "choices": [choice]]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n")
        }
        let tokenizer = self.tokenizer, engine = self.engine, counters = self.counters
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: ResponseBody { writer in
            defer { counters.leave() }
            var assembler = TextAssembler(tokenizer: tokenizer, stops: self.stops(request))
            do {
                if request.kind == .chat { try await writer.write(chunk(nil, role: true)) }
                for await event in job.events {
                    switch event {
                    case .prompt:
                        break  // echo is refused with stream
                    case let .token(id, logProbability, top):
                        let text = assembler.append(id)
                        if !text.isEmpty || request.logprobs {
                            try await writer.write(chunk(text, token: GeneratedToken(id: id, logProbability: logProbability, top: top)))
                        }
                        if assembler.stopped { engine.cancel(job.id) }
                    case let .finished(reason, _):
                        let rest = assembler.finish()
                        let finish = assembler.stopped || reason == .stop ? "stop" : "length"
                        try await writer.write(chunk(rest.isEmpty ? nil : rest, finish: finish))
                    }
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            } catch {
                engine.cancel(job.id)
                throw error
            }
        })
    }

    /// The completions API's logprobs object: the chosen tokens (after the prompt's with `echo`;
    /// the first prompt token has no log-probability), and with `logprobs` N > 0 the N most
    /// likely tokens of each position as {text: logprob} (the likelier kept where two tokens
    /// read the same). Offsets count the tokens' texts.
    func completionLogprobs(_ generated: [GeneratedToken], _ request: CompletionRequest,
                            prompt: [GenerationEngine.PromptToken] = []) -> [String: Any] {
        let tokens = prompt.map { (id: $0.id, logProbability: $0.logProbability, top: $0.top, first: $0.logProbability == nil) }
            + generated.map { (id: $0.id, logProbability: Optional($0.logProbability), top: $0.top, first: false) }
        var offsets: [Int] = []
        var offset = 0
        for token in tokens {
            offsets.append(offset)
            offset += tokenText(token.id).count
        }
        let top: Any = request.topLogprobs == 0 ? NSNull() : tokens.map { token -> Any in
            guard !token.first else { return NSNull() }
            var alternatives: [String: Double] = [:]
            for alternative in token.top where alternatives[tokenText(alternative.id)] == nil {
                alternatives[tokenText(alternative.id)] = Double(alternative.logProbability)
            }
            return alternatives
        }
        return ["tokens": tokens.map { tokenText($0.id) },
                "token_logprobs": tokens.map { $0.logProbability.map { Double($0) as Any } ?? NSNull() },
                "top_logprobs": top, "text_offset": offsets]
    }

    /// The chat API's logprobs object: each token, and its `top_logprobs` most likely alternatives.
    func chatLogprobs(_ tokens: [GeneratedToken]) -> [String: Any] {
        func entry(_ id: Int32, _ logProbability: Float) -> [String: Any] {
            let text = tokenText(id)
            return ["token": text, "logprob": Double(logProbability), "bytes": Array(text.utf8).map(Int.init)]
        }
        return ["content": tokens.map { token -> [String: Any] in
            var item = entry(token.id, token.logProbability)
            item["top_logprobs"] = token.top.map { entry($0.id, $0.logProbability) }
            return item
        }]
    }
}

/// A generated token as the responses report it.
struct GeneratedToken: Sendable {
    let id: Int32
    let logProbability: Float
    let top: [GenerationEngine.TokenAlternative]
}
