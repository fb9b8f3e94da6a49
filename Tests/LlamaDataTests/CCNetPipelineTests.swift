import Foundation
import LlamaCore
import LlamaTokenizer
import XCTest
@testable import LlamaData

/// Test-only language id: French when the text has " la " or "le ", 0.3 for "zzz", else
/// English at 0.934 (written 0.93, as cc_net rounds).
private struct KeywordLanguage: DocumentClassifier {
    func predict(_ text: String, k: Int, threshold: Float) -> [(label: String, probability: Float)] {
        if text.contains("zzz") { return [("__label__en", 0.3)] }
        if text.lowercased().contains(" la ") || text.lowercased().hasPrefix("le ") { return [("__label__fr", 0.87)] }
        return [("__label__en", 0.934)]
    }
}

/// Test-only quality classifier: 0.8 for text with "school", else 0.2.
private struct SchoolQuality: DocumentClassifier {
    func predict(_ text: String, k: Int, threshold: Float) -> [(label: String, probability: Float)] {
        let wiki: Float = text.contains("school") ? 0.8 : 0.2
        return [("__label__wiki", wiki), ("__label__random", 1 - wiki)].sorted { $0.1 > $1.1 }
    }
}

final class CCNetPipelineTests: XCTestCase {
    static let modelPath: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sentencepiece/botchan_en_bpe_1000.model").path
    }()

    /// Page contents (title line first) with planted duplicate lines across pages.
    static let pages = [
        "Garden notes\nThe old man said that school was a good place.\nCopyright 2024 All rights reserved.\nWe teach in town.",
        "Other garden\nTHE OLD MAN SAID THAT SCHOOL WAS A GOOD PLACE.\nCopyright 1999 ALL rights reserved.\nA new sentence here.",
        "Le jardin\nle chat est sur la table.\nCopyright 2000 All Rights Reserved.",
        "Noise\nzzz zzz zzz",
        "Dup page\nWe teach in town.\nCOPYRIGHT 1234 ALL RIGHTS RESERVED.",
    ]

    /// Writes the pages as a gzip multi-member WET file `NAME.warc.wet.gz`, urls `http://HOST/i`.
    func writeWET(_ pages: [String], host: String, name: String, scratch: String) throws -> String {
        let records = pages.enumerated().map { WETFixture.record(url: "http://\(host)/\($0.offset)", text: $0.element) }
        let path = scratch + "/\(name).warc.wet.gz"
        try Data(try WETFixture.gzipMembers(records, scratch: scratch).flatMap { $0 }).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A 3-gram ARPA model estimated on the normalised, piece-tokenised text of seeded sentences.
    func writeLanguageModel(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tokenizer = try SentencePieceTokenizer(contentsOf: URL(fileURLWithPath: Self.modelPath))
        var generator = SeededGenerator(seed: 11)
        // The pages' words plus 200 seeded letter strings, so that n-grams of every count exist.
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let words = ["the", "old", "man", "said", "that", "school", "was", "a", "good", "place", "we", "teach", "in", "town"]
            + (0..<200).map { _ in String((0..<(3 + generator.nextInt(below: 5))).map { _ in letters[generator.nextInt(below: 26)] }) }
        var estimator = KneserNeyEstimator(order: 3)
        for _ in 0..<300 {
            let sentence = (0..<(4 + generator.nextInt(below: 8))).map { _ in words[generator.nextInt(below: words.count)] }
            try estimator.add(sentence: Substring(PerplexityModels.tokenized(sentence.joined(separator: " ") + ".", tokenizer: tokenizer)))
        }
        try ARPAFormat.write(try estimator.estimate(), to: directory + "/en.arpa")
        try FileManager.default.copyItem(atPath: Self.modelPath, toPath: directory + "/en.sp.model")
    }

    func configuration(lmDirectory: String) throws -> CCNetConfiguration {
        var configuration = CCNetConfiguration()
        configuration.languageIdentification = LanguageIdentification(classifier: KeywordLanguage())
        configuration.perplexityModels = try PerplexityModels.load(directory: lmDirectory)
        configuration.quality = QualityScoring(classifier: SchoolQuality())
        configuration.sampleEvery = 1
        return configuration
    }

    func testPipelineOnAWETShardMatchesHandCountsAndPython() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = try writeWET(Self.pages, host: "garden.example:8080", name: "CC-00000", scratch: scratch)
        try writeLanguageModel(directory: scratch + "/lm")
        var configuration = try configuration(lmDirectory: scratch + "/lm")
        configuration.cutoffs = PerplexityCutoffs(languages: ["en": .init(head: 1, tail: 1e9, sample: 0)])
        let pipeline = CCNetPipeline(configuration: configuration, directory: scratch + "/out")
        _ = try pipeline.hashes(inputs: [input])
        let counts = try pipeline.mine(inputs: [input])
        // Hand count: page 1 loses 2 lines (case, digits), page 2 one (digits, case), page 4 both
        // (then the page); page 3 is below the language threshold.
        XCTAssertEqual(counts["ccnet.documents.read"], 5)
        XCTAssertEqual(counts["ccnet.lines.read"], 11)
        XCTAssertEqual(counts["ccnet.lines.removed.duplicate"], 5)
        XCTAssertEqual(counts["ccnet.documents.removed.duplicate"], 1)
        XCTAssertEqual(counts["ccnet.documents.removed.language"], 1)
        XCTAssertEqual(counts["ccnet.documents.kept"], 3)
        XCTAssertEqual(counts["ccnet.lines.kept"], 5)
        XCTAssertEqual(counts["ccnet.language.fr"], 1)
        let documents = try DataFixtures.documents(scratch + "/out/CC-00000.jsonl")
        XCTAssertEqual(documents.map { $0["raw_content"] as? String }, [
            "The old man said that school was a good place.\nCopyright 2024 All rights reserved.\nWe teach in town.",
            "A new sentence here.", "le chat est sur la table."])
        let first = try XCTUnwrap(documents.first)
        XCTAssertEqual(first["url"] as? String, "http://garden.example:8080/0")
        XCTAssertEqual(first["source_domain"] as? String, "garden.example:8080")
        XCTAssertEqual(first["title"] as? String, "Garden notes")
        XCTAssertEqual(first["date_download"] as? String, "2019-02-15T19:15:59Z")
        XCTAssertEqual(first["nlines"] as? Int, 3)
        XCTAssertEqual(first["language"] as? String, "en")
        XCTAssertEqual(first["language_score"] as? Double, 0.93)
        XCTAssertEqual(first["quality_score"] as? Double ?? 0, 0.8, accuracy: 1e-6)
        XCTAssertEqual(documents[1]["original_nlines"] as? Int, 3)
        XCTAssertEqual(documents[1]["length"] as? Int, 20, "code points of \"A new sentence here.\"")
        XCTAssertNil(documents[2]["perplexity"], "no French model")
        XCTAssertEqual(documents[2]["bucket"] as? String, "all")
        XCTAssertEqual(documents[0]["bucket"] as? String, "middle")

        // Python: cc_net's normalize + sentencepiece pieces + kenlm per line, and the WARC digest.
        let contents = Self.pages.prefix(2).map { $0.split(separator: "\n").dropFirst().joined(separator: "\n") }
        let kept = [contents[0], "A new sentence here."]
        try JSONSerialization.data(withJSONObject: [kept, Array(Self.pages[0].utf8).map(Int.init)])
            .write(to: URL(fileURLWithPath: scratch + "/docs.json"))
        let script = CCNetDedupTests.functionsPython + #"""
        import base64, kenlm, sentencepiece
        sp = sentencepiece.SentencePieceProcessor(); sp.load(sys.argv[2]); lm = kenlm.Model(sys.argv[3])
        docs, raw = json.load(open(sys.argv[1], encoding="utf-8"))
        out = []
        for content in docs:
            tokenized = " ".join(sp.encode_as_pieces(normalize(content)))
            log_score, length = 0, 0
            for line in tokenized.split("\n"):
                log_score += lm.score(line); length += len(line.split()) + 1
            out.append(round(10.0 ** (-log_score / length), 1))
        print(json.dumps({"pp": out, "digest": "sha1:" + base64.b32encode(hashlib.sha1(bytes(raw)).digest()).decode()}))
        """#
        let output = try DataFixtures.runProgram("python3", ["-c", script, scratch + "/docs.json", Self.modelPath, scratch + "/lm/en.arpa"])
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        XCTAssertEqual(documents.prefix(2).map { $0["perplexity"] as? Double }, (reference["pp"] as? [Double])?.map { $0 })
        XCTAssertEqual(first["digest"] as? String, reference["digest"] as? String)

        // A rerun skips the finished shard and restores its counts.
        XCTAssertEqual(try pipeline.mine(inputs: [input]), counts)
    }

    func testTwoWorkersGiveTheOutputOfOneProcess() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try writeLanguageModel(directory: scratch + "/lm")
        var inputs: [String] = []
        for shard in 0..<4 {  // shards repeat each other's lines, so dedup crosses workers
            let pages = Self.pages.map { $0 + "\nShard line \(shard % 2)." }
            inputs.append(try writeWET(Array(pages[(shard % 3)...]), host: "s\(shard).example", name: "CC-\(shard)", scratch: scratch))
        }
        let configuration = try configuration(lmDirectory: scratch + "/lm")
        let single = CCNetPipeline(configuration: configuration, directory: scratch + "/one")
        _ = try single.hashes(inputs: inputs)
        let singleCounts = try single.mine(inputs: inputs)
        let workers = (0..<2).map { _ in CCNetPipeline(configuration: configuration, directory: scratch + "/two") }
        for (index, worker) in workers.enumerated() {
            _ = try worker.hashes(inputs: inputs, share: WorkShare(index: index, count: 2, origin: "test"))
        }
        var splitCounts = StageCounts()
        for (index, worker) in workers.enumerated() {
            splitCounts.merge(try worker.mine(inputs: inputs, share: WorkShare(index: index, count: 2, origin: "test")))
        }
        for input in inputs {
            let name = ShardFiles.stem(of: (input as NSString).lastPathComponent)
            XCTAssertEqual(try String(contentsOfFile: scratch + "/two/\(name).jsonl", encoding: .utf8),
                           try String(contentsOfFile: scratch + "/one/\(name).jsonl", encoding: .utf8), name)
        }
        XCTAssertEqual(Set(splitCounts.names), Set(singleCounts.names))
        for name in singleCounts.names { XCTAssertEqual(splitCounts[name], singleCounts[name], name) }
        XCTAssertEqual(try PerplexityCutoffs.load(path: scratch + "/two/cutoffs.json"), try PerplexityCutoffs.load(path: scratch + "/one/cutoffs.json"))
        XCTAssertGreaterThan(singleCounts["ccnet.lines.removed.duplicate"], 0)
    }

    func testGzipOutputDecompressesToThePlainOutput() throws {
        let scratch = try DataFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // Digits normalise to 0, so the unique line is told apart by letters.
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let pages = (0..<300).map { "Title \($0)\nLine \($0 % 7) of a page.\nA line unique to page \(letters[$0 % 26])\(letters[$0 / 26])." }
        let input = scratch + "/big.warc.wet"
        try Data(pages.enumerated().flatMap { WETFixture.record(url: "http://many.example/\($0.offset)", text: $0.element) })
            .write(to: URL(fileURLWithPath: input))
        var configuration = CCNetConfiguration()
        configuration.languageIdentification = LanguageIdentification(classifier: FixedLanguage("en"), threshold: 0)
        _ = try CCNetPipeline(configuration: configuration, directory: scratch + "/plain").mine(inputs: [input])
        let compressed = CCNetPipeline(configuration: configuration, directory: scratch + "/gz")
        compressed.gzipOutput = true
        _ = try compressed.mine(inputs: [input])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/gz/big.jsonl"))
        let plain = try Data(contentsOf: URL(fileURLWithPath: scratch + "/plain/big.jsonl"))
        let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch + "/gz/big.jsonl.gz")))
        XCTAssertLessThan(gz.count, plain.count)
        // The system gzip reads it back to the plain bytes.
        XCTAssertEqual(try DataFixtures.runProgram("gzip", ["-dc", scratch + "/gz/big.jsonl.gz"]), plain)
        XCTAssertEqual(try DataFixtures.documents(scratch + "/plain/big.jsonl").count, 300)
    }

    func testWorkShareFromOptionsAndEnvironment() throws {
        XCTAssertEqual(try WorkShare.resolve(index: 1, count: 3, environment: [:]).index, 1)
        XCTAssertThrowsError(try WorkShare.resolve(index: 3, count: 3, environment: [:]))
        XCTAssertThrowsError(try WorkShare.resolve(index: 1, count: nil, environment: [:]))
        let slurm = try WorkShare.resolve(index: nil, count: nil, environment: [
            "SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8", "PMI_RANK": "0", "PMI_SIZE": "2"])
        XCTAssertEqual([slurm.index, slurm.count], [4, 8])
        let mpi = try WorkShare.resolve(index: nil, count: nil, environment: ["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"])
        XCTAssertEqual(mpi.select(Array(0..<5)), [1, 3])
        XCTAssertEqual(try WorkShare.resolve(index: nil, count: nil, environment: ["PMI_RANK": "2", "PMI_SIZE": "3"]).index, 2)
        XCTAssertEqual(try WorkShare.resolve(index: nil, count: nil, environment: [:]), .everything)
    }
}
