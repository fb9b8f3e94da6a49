import LlamaCore
import Foundation

/// The public-domain texts `llama train` learns from when given no data: the King James
/// Bible (verses), Ambrose Bierce's The Devil's Dictionary and Natsume Sōseki's Botchan
/// (English translation), kept in Resources/corpora.
public enum EmbeddedCorpus {
    /// The sources and their sampling weights (a small Table 1-style mixture).
    public static let sources: [(name: String, file: String, weight: Double)] = [
        ("kjv", "kjv_verses.txt", 0.5), ("devils_dictionary", "devils_dictionary.txt", 0.25), ("botchan", "botchan.txt", 0.25),
    ]

    /// Documents are runs of whole lines of at least this many characters.
    public static let documentCharacters = 4000

    /// The text of `file`, read from the module's resources (or `directory` when given).
    public static func text(of file: String, directory: String? = nil) throws -> String {
        let path: String
        if let directory {
            path = directory + "/" + file
        } else if let url = Bundle.module.url(forResource: "corpora/" + (file as NSString).deletingPathExtension, withExtension: "txt") {
            path = url.path
        } else {
            path = Bundle.module.bundlePath + "/corpora/" + file
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.missingData(path: path, reason: "embedded corpus file is missing")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `text` cut into documents of whole lines, each at least `documentCharacters` long
    /// (the last may be shorter).
    public static func documents(of text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for line in text.lines() {
            current += line
            current += "\n"
            if current.count >= documentCharacters {
                result.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { result.append(current) }
        return result
    }

    /// Pieces of the tokenizer the built-in job trains.
    public static let vocabularySize = 2048

    /// The tokenizer the built-in job trains with: the one place that chooses it. A
    /// SentencePiece BPE model with LLaMA's options (digits split, byte fallback) is trained
    /// on the `corpus` files and written to `directory/tokenizer.model` (reused when there).
    public static func makeTokenizer(corpus: [String], directory: String) throws -> any TextTokenizer {
        let texts = try corpus.map { try text(of: $0) }
        return try SentencePieceTextTokenizer.trainOrLoad(texts: texts, vocabularySize: vocabularySize,
                                                          modelPath: directory + "/tokenizer.model")
    }

    /// Tokenizes every source into token shards under `directory/<source>` (skipping
    /// sources whose manifest already exists with this vocabulary) and returns them.
    public static func writeShards(directory: String, tokenizer: any TextTokenizer,
                                   corpusDirectory: String? = nil) throws -> [TrainingSource] {
        var result: [TrainingSource] = []
        for source in sources {
            let folder = directory + "/" + source.name
            if let existing = try? TokenShardReader(path: folder), existing.manifest.vocabularySize == tokenizer.vocabularySize {
                result.append(TrainingSource(name: source.name, reader: existing, weight: source.weight))
                continue
            }
            let writer = try TokenShardWriter(directory: folder, source: source.name, vocabularySize: tokenizer.vocabularySize,
                                              bosId: tokenizer.bosId, eosId: tokenizer.eosId)
            for document in documents(of: try text(of: source.file, directory: corpusDirectory)) {
                try writer.append(document: tokenizer.encode(document))
            }
            try writer.finish()
            result.append(TrainingSource(name: source.name, reader: try TokenShardReader(path: folder), weight: source.weight))
        }
        return result
    }

    /// The entropy in nats per token of the sources' mixed unigram distribution (each
    /// source's token frequencies weighted by its sampling weight): the loss of the best
    /// model that ignores context.
    public static func unigramEntropy(of sources: [TrainingSource], vocabularySize: Int) -> Double {
        var probabilities = [Double](repeating: 0, count: vocabularySize)
        let totalWeight = sources.reduce(0) { $0 + $1.weight }
        for source in sources {
            var counts = [Int](repeating: 0, count: vocabularySize)
            let ids = source.reader.tokens(from: 0, count: source.reader.count)
            for id in ids where id >= 0 && Int(id) < vocabularySize { counts[Int(id)] += 1 }
            let total = Double(ids.count)
            for i in 0..<vocabularySize { probabilities[i] += source.weight / totalWeight * Double(counts[i]) / total }
        }
        return -probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
    }
}
