import Foundation
import Hummingbird
import LlamaGeneration
import LlamaModel
import LlamaTokenizer
import NIOCore

/// Limits and identity of a server.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes = 1 << 20
    /// Requests handled at once; more get 503.
    public var maxConcurrentRequests = 64
    /// The name `/v1/models` reports.
    public var modelName = "llama"

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 1 << 20,
                maxConcurrentRequests: Int = 64, modelName: String = "llama") {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxConcurrentRequests = maxConcurrentRequests
        self.modelName = modelName
    }
}

/// An OpenAI-compatible HTTP server (`/v1/completions`, `/v1/chat/completions`,
/// `/v1/models`, `/health`, `/metrics`) on Hummingbird, generating with a continuously
/// batched `GenerationEngine`, so concurrent requests share each pass over the weights.
public final class CompletionServer: @unchecked Sendable {
    let engine: GenerationEngine
    let tokenizer: SentencePieceTokenizer
    let configuration: ServerConfiguration
    let counters = Counters()

    /// Request and token counts for `/metrics`.
    final class Counters: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var inFlight = 0
        private(set) var served = 0
        private(set) var rejected = 0
        private var lastScrape = (time: Date(), tokens: 0)

        /// Tokens per second since the previous call.
        func rate(tokens: Int) -> Double {
            lock.lock()
            defer { lock.unlock() }
            let now = Date()
            let seconds = now.timeIntervalSince(lastScrape.time)
            let rate = seconds > 0 ? Double(tokens - lastScrape.tokens) / seconds : 0
            lastScrape = (now, tokens)
            return rate
        }

        func enter(limit: Int) -> Bool {
            lock.lock()
            defer { lock.unlock() }
            guard inFlight < limit else {
                rejected += 1
                return false
            }
            inFlight += 1
            return true
        }

        func leave() {
            lock.lock()
            inFlight -= 1
            served += 1
            lock.unlock()
        }

        func snapshot() -> (inFlight: Int, served: Int, rejected: Int) {
            lock.lock()
            defer { lock.unlock() }
            return (inFlight, served, rejected)
        }
    }

    /// How chat messages become a prompt (`ChatTemplate(jinja:)` of the model's template, or the
    /// plain transcript).
    let chatTemplate: ChatTemplate
    /// The ids of the chat format's end-of-turn pieces that are control tokens of the vocabulary.
    let endOfTurnTokens: [Int32]

    public init(engine: GenerationEngine, tokenizer: SentencePieceTokenizer, configuration: ServerConfiguration,
                chatTemplate: ChatTemplate = ChatTemplate(format: .transcript)) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.configuration = configuration
        self.chatTemplate = chatTemplate
        let specials = tokenizer.specialPieces
        endOfTurnTokens = chatTemplate.endOfTurnPieces.compactMap { piece in specials.first { $0.text == Array(piece.utf8) }?.id }
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets running requests finish
    /// and stops the engine. `onListening` receives the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router()
        router.get("/health") { _, _ in try self.json(["status": "ok"]) }
        router.get("/v1/models") { _, _ in
            try self.json(["object": "list", "data": [["id": self.configuration.modelName, "object": "model",
                                                        "created": 0, "owned_by": "swift-llama"]]])
        }
        router.get("/metrics") { _, _ in self.metrics() }
        router.post("/v1/completions") { request, _ in await self.handle(request, kind: .completion) }
        router.post("/v1/chat/completions") { request, _ in await self.handle(request, kind: .chat) }
        let app = Application(router: router,
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                   serverName: "swift-llama"),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) })
        try await app.runService()
        engine.shutdown(drain: false)
    }

    /// Validates, generates and answers one request (errors as OpenAI error objects).
    func handle(_ request: Request, kind: CompletionRequest.Kind) async -> Response {
        guard counters.enter(limit: configuration.maxConcurrentRequests) else {
            return errorResponse(ServerRequestError(status: 503, message: "too many concurrent requests", parameter: nil))
        }
        var request = request
        do {
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: configuration.maxBodyBytes)
            } catch {
                counters.leave()
                return errorResponse(ServerRequestError(status: 413, message: "the body exceeds \(configuration.maxBodyBytes) bytes", parameter: nil))
            }
            let parsed = try CompletionRequest(json: Data(body.readableBytesView), kind: kind)
            let job = try start(parsed)
            if parsed.stream { return streamingResponse(parsed, job) }
            defer { counters.leave() }
            return try await completeResponse(parsed, job)
        } catch let error as ServerRequestError {
            counters.leave()
            return errorResponse(error)
        } catch {
            counters.leave()
            return errorResponse(ServerRequestError(status: 500, message: "\(error)", parameter: nil))
        }
    }

    /// A request handed to the engine.
    struct Job {
        let id: Int
        let identifier: String
        let promptTokens: Int
        let events: AsyncStream<GenerationEngine.Event>
    }

    /// The prompt's tokens: a completion's text as it is; chat messages rendered by the chat
    /// template, its special pieces (`<s>`, `</s>`, `<|im_start|>` …) read as their tokens, and
    /// BOS in front unless the template put it there.
    func promptTokens(_ request: CompletionRequest) throws -> [Int32] {
        if let ids = request.promptIds {
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= tokenizer.vocabularySize }) {
                throw ServerRequestError.invalid("prompt token \(bad) is outside the vocabulary (0..<\(tokenizer.vocabularySize))",
                                                 parameter: "prompt")
            }
            return ids
        }
        guard request.kind == .chat else { return tokenizer.encode(request.prompt, addBOS: true) }
        let bos = tokenizer.bosId.map { tokenizer.piece(for: $0) } ?? "", eos = tokenizer.eosId.map { tokenizer.piece(for: $0) } ?? ""
        guard chatTemplate.format != .transcript else {
            return tokenizer.encode(try chatTemplate.render(request.messages, bos: bos, eos: eos), addBOS: true)
        }
        let tokens = tokenizer.encode(parsingSpecial: try chatTemplate.render(request.messages, bos: bos, eos: eos))
        guard let bosId = tokenizer.bosId, tokens.first != bosId else { return tokens }
        return [bosId] + tokens
    }

    /// Stop strings of a request: its own, and for chat the template's.
    func stops(_ request: CompletionRequest) -> [String] {
        request.kind == .chat ? chatTemplate.stops + request.stop : request.stop
    }

    func start(_ request: CompletionRequest) throws -> Job {
        let prompt = try promptTokens(request)
        let context = engine.context
        guard prompt.count < context else {
            throw ServerRequestError.invalid("the prompt has \(prompt.count) tokens; the context holds \(context)", parameter: "prompt")
        }
        let room = context - prompt.count
        let maxTokens = request.maxTokens ?? room
        guard maxTokens <= room else {
            throw ServerRequestError.invalid("max_tokens \(maxTokens) exceeds the \(room) positions left after the prompt",
                                             parameter: "max_tokens")
        }
        let sampling = SamplingParameters(temperature: request.temperature, topK: request.topK, topP: request.topP,
                                          repetitionPenalty: request.repetitionPenalty,
                                          presencePenalty: request.presencePenalty, frequencyPenalty: request.frequencyPenalty,
                                          seed: request.seed ?? UInt64.random(in: 0...UInt64.max))
        let (events, continuation) = AsyncStream.makeStream(of: GenerationEngine.Event.self)
        let endOfTurn = request.kind == .chat ? endOfTurnTokens : []
        let id = engine.submit(.init(prompt: prompt, maxTokens: maxTokens, sampling: sampling, stopTokens: endOfTurn,
                                     topLogprobs: request.topLogprobs, promptLogprobs: request.echo && request.logprobs)) { event in
            continuation.yield(event)
            if case .finished = event { continuation.finish() }
        }
        let engine = self.engine
        continuation.onTermination = { _ in engine.cancel(id) }
        let prefix = request.kind == .chat ? "chatcmpl-" : "cmpl-"
        return Job(id: id, identifier: prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                   promptTokens: prompt.count, events: events)
    }

    /// The text of a token for logprobs (SentencePiece's ▁ shown as a space).
    func tokenText(_ id: Int32) -> String { tokenizer.piece(for: id).replacingOccurrences(of: "▁", with: " ") }

    func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func errorResponse(_ error: ServerRequestError) -> Response {
        let type = error.status == 400 ? "invalid_request_error" : error.status == 503 ? "server_busy" : "server_error"
        let body: [String: Any] = ["error": ["message": error.message, "type": type, "param": error.parameter.map { $0 as Any } ?? NSNull(), "code": NSNull()]]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(status: HTTPResponse.Status(code: error.status), headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func metrics() -> Response {
        let counts = counters.snapshot()
        let tokens = engine.generatedTokens
        let rate = counters.rate(tokens: tokens)
        let text = """
        # TYPE llama_generated_tokens_total counter
        llama_generated_tokens_total \(tokens)
        # TYPE llama_tokens_per_second gauge
        llama_tokens_per_second \(String(format: "%.2f", rate))
        # TYPE llama_requests_in_flight gauge
        llama_requests_in_flight \(counts.inFlight)
        # TYPE llama_requests_served_total counter
        llama_requests_served_total \(counts.served)
        # TYPE llama_requests_rejected_total counter
        llama_requests_rejected_total \(counts.rejected)
        # TYPE llama_queue_length gauge
        llama_queue_length \(engine.queueLength)
        # TYPE llama_active_sequences gauge
        llama_active_sequences \(engine.activeCount)

        """
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
