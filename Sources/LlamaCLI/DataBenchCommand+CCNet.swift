import Dispatch
import Foundation
import LlamaCore
import LlamaData
import LlamaTokenizer
import LlamaTraining

extension DataBenchCommand {
    /// One timed run: wall seconds and CPU seconds of `body`.
    func timed(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = Self.processorSeconds()
        try body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, Self.processorSeconds() - cpuStart)
    }

    func report(_ name: String, bytes: Int, documents: Int, time: (wall: Double, cpu: Double)) {
        let megabytes = Double(bytes) / 1e6
        print(name.padding(toLength: 14, withPad: " ", startingAt: 0)
            + String(format: "%7.1f MB in %6.2f s: %7.1f MB/s wall, %7.1f MB per CPU-second, %8.0f documents/s wall, %8.0f per CPU-second",
                     megabytes, time.wall, megabytes / time.wall, megabytes / max(time.cpu, 1e-9),
                     Double(documents) / time.wall, Double(documents) / max(time.cpu, 1e-9)))
    }

    /// The whole CCNet pipeline (hashes stage, then dedup, language id, perplexity when
    /// `--lm-dir` is given, buckets) on the generated WET file.
    func benchCCNet(input: String, directory: String) throws {
        var configuration = CCNetConfiguration()
        configuration.languageIdentification = LanguageIdentification(classifier: FixedLanguage("en"), threshold: 0)
        if let lmDirectory { configuration.perplexityModels = try PerplexityModels.load(directory: lmDirectory) }
        let pipeline = CCNetPipeline(configuration: configuration, directory: directory + "/ccnet")
        var counts = StageCounts()
        let time = try timed {
            _ = try pipeline.hashes(inputs: [input])
            counts = try pipeline.mine(inputs: [input])
        }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: input))?[.size] as? NSNumber)?.intValue ?? 0
        report(lmDirectory == nil ? "ccnet (no LM)" : "ccnet", bytes: bytes, documents: counts["ccnet.documents.read"], time: time)
    }

    /// `llama data mix` on generated JSONL documents with the `--tokenizer` model, one epoch.
    func benchMix(input: String, directory: String) throws {
        guard let tokenizer else {
            print("mix           skipped: give --tokenizer MODEL.model")
            return
        }
        let model = SentencePieceTextTokenizer(try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: tokenizer)))
        let configuration = MixtureConfiguration(sources: [MixtureSource(name: "bench", files: [input], weight: 1, epochs: 1)])
        var results: [MixtureSourceResult] = []
        let time = try timed {
            results = try MixturePipeline.run(configuration: configuration, tokenizer: model, directory: directory + "/mix")
        }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: input))?[.size] as? NSNumber)?.intValue ?? 0
        report("mix", bytes: bytes, documents: results.first?.documents ?? 0, time: time)
        if let result = results.first {
            print(String(format: "              %d tokens, %.0f tokens/s wall", result.tokens, Double(result.tokens) / time.wall))
        }
    }
}

extension BenchInputs {
    /// JSONL documents `{"text": …}` of a few paragraphs each.
    func documentsJSONL() throws -> String {
        var generator = SeededGenerator(seed: 7)
        var text = ""
        while text.utf8.count < targetBytes {
            let body = (0..<4).map { _ in paragraph(&generator, sentences: 4) }.joined(separator: "\n\n")
            text += String(decoding: try JSONSerialization.data(withJSONObject: ["text": body]), as: UTF8.self) + "\n"
        }
        let path = directory + "/bench-documents.jsonl"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
