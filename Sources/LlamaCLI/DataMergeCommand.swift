import ArgumentParser
import Foundation
import LlamaCore
import LlamaData
import LlamaTraining

/// `llama data merge`: combines what several workers wrote (hash sets, perplexity samples,
/// stage counts, mixture results).
struct DataMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge workers' outputs: hash sets, perplexity samples into cutoffs, counts, mixture results.",
        discussion: """
            hashes -o ALL.hashes A.hashes B.hashes …   union of line-hash sets
            cutoffs -o cutoffs.json samples/*.json     30th/60th percentile cutoffs per language
            counts [-o TOTAL.counts.json] *.counts.json   summed stage counts
            mixture -o OUT                              OUT/mixture.json from every OUT/NAME/mix.json
            """)

    enum Kind: String, ExpressibleByArgument { case hashes, cutoffs, counts, mixture }

    @Argument(help: "hashes, cutoffs, counts or mixture.") var kind: Kind
    @Option(name: .shortAndLong, help: "Output file (mixture: the mix output folder).") var output: String?
    @Argument(help: "Input files.") var inputs: [String] = []

    func run() throws {
        switch kind {
        case .hashes:
            guard let output else { throw ValidationError("hashes needs -o") }
            let union = LineHashSet.union(try inputs.map { try LineHashSet.load(path: $0) })
            try union.save(path: output)
            print("\(union.count) hashes from \(inputs.count) file(s) in \(output)")
        case .cutoffs:
            guard let output else { throw ValidationError("cutoffs needs -o") }
            let cutoffs = PerplexityCutoffs(samples: try PerplexityCutoffs.mergeSamples(paths: inputs))
            try cutoffs.save(path: output)
            for (language, cutoff) in cutoffs.languages.sorted(by: { $0.key < $1.key }) {
                print(String(format: "%@: head < %.1f ≤ middle < %.1f ≤ tail (%d documents)", language, cutoff.head, cutoff.tail, cutoff.sample))
            }
        case .counts:
            var total = StageCounts()
            for path in inputs {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8), let counts = StageCounts.parse(jsonObject: text) else {
                    throw ValidationError("\(path): not a counts file")
                }
                total.merge(counts)
            }
            if let output { try AtomicFile.write(path: output, text: total.jsonObject() + "\n") }
            print(total.description)
        case .mixture:
            guard let output else { throw ValidationError("mixture needs -o OUT (the mix output folder)") }
            let names = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
            let results = names.compactMap { MixturePipeline.loadResult(folder: output + "/" + $0) }
            try MixturePipeline.writeSummary(results, to: output + "/mixture.json")
            print("\(results.count) source(s) in \(output)/mixture.json")
        }
    }
}
