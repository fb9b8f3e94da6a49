import ArgumentParser
import Foundation
import LlamaGeneration
import LlamaServer

/// `llama serve`: an OpenAI-compatible HTTP server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve /v1/completions and /v1/chat/completions over HTTP (OpenAI shapes).")

    @Option(help: "Hugging Face checkpoint folder or .gguf file.") var model: String
    @Option(help: "SentencePiece tokenizer.model (default: the model folder's).") var tokenizer: String?
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port (0 picks a free one).") var port: Int = 8080
    @Option(help: "Sequences generated together (KV-cache slots).") var slots: Int = 8
    @Option(help: "Positions per sequence (prompt + completion); default the model's context.") var context: Int?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body.") var maxBodyBytes: Int = 1 << 20
    @Option(name: .customLong("max-concurrent"), help: "Requests handled at once (503 beyond).") var maxConcurrent: Int = 64
    @Option(name: .customLong("chat-template"),
            help: "Chat format: transcript, llama2, mistral, chatml or zephyr (default: recognized from the model's template).")
    var chatTemplateName: String?
    @OptionGroup var cache: CacheOptions

    func validate() throws {
        guard slots > 0 && slots <= 256 else { throw ValidationError("--slots must be 1 to 256") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() async throws {
        let opened = try OpenedModel.open(model)
        let textTokenizer = try openTokenizer(model: model, explicit: tokenizer)
        let template = try chatTemplate(model: model, option: chatTemplateName)
        // The KV cache may take 70% of physical memory less the weights.
        let config = opened.configuration
        let bytesPerPosition = 2 * config.layerCount * config.keyValueHeadCount * config.headDimension * cache.cacheType.bytesPerValue
        let budget = Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.7) - opened.weights.namedParameters.reduce(0) { $0 + $1.tensor.byteCount }
        let length: Int
        do {
            let chosen = try ServingMemory.context(requested: context, modelContext: config.maxPositionEmbeddings, slots: slots,
                                                   bytesPerPosition: bytesPerPosition, budget: budget)
            if let note = chosen.note { FileHandle.standardError.write(Data("\(model): \(note)\n".utf8)) }
            length = chosen.context
        } catch let error as ServingMemory.TooLarge {
            throw ValidationError("\(model): \(error.description)")
        }
        let engine = GenerationEngine(weights: opened.weights, slots: slots, context: length, cacheType: cache.cacheType)
        let name = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let server = CompletionServer(engine: engine, tokenizer: textTokenizer,
                                      configuration: ServerConfiguration(host: host, port: port, maxBodyBytes: maxBodyBytes,
                                                                         maxConcurrentRequests: maxConcurrent, modelName: name),
                                      chatTemplate: template)
        let host = self.host
        try await server.run { port in
            FileHandle.standardError.write(Data("chat format: \(template.format.rawValue)\n".utf8))
            print("listening on http://\(host):\(port)")
            fflush(stdout)
        }
    }
}
