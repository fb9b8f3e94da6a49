import ArgumentParser
import Dispatch
import Foundation
import LlamaCore
import LlamaData

/// `llama data bench`: cleaning speed of each cleaner in MB/s of input, on generated
/// inputs in each real format, with every core (LLAMA_THREADS overrides the count).
struct DataBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure each cleaner's speed (MB/s of input) on generated data.")

    @Option(help: "Approximate input size per cleaner, in MB.") var megabytes = 20
    @Option(help: "Scratch directory (removed afterwards).") var scratch: String?
    @Option(help: "SentencePiece .model for the mix (tokenising into shards) case; without it the case is skipped.")
    var tokenizer: String?
    @Option(name: .customLong("lm-dir"), help: "{lang}.arpa + {lang}.sp.model folder: the ccnet case then scores perplexity (as en).")
    var lmDirectory: String?
    @Option(help: "Only the cases named (comma-separated: c4,github,wikipedia,books,arxiv,stackexchange,ccnet,mix).")
    var only: String?

    func run() throws {
        let directory = scratch ?? NSTemporaryDirectory() + "llama-data-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = megabytes * 1_000_000
        print("threads: \(Parallel.threadCount)")
        let generator = BenchInputs(directory: directory, targetBytes: target)
        let cases: [(String, String, (String, ShardFiles) throws -> ShardReport)] = [
            ("c4", try generator.wet(), { input, files in
                try C4Pipeline.run(inputPath: input, files: files, cleaner: C4Cleaner(), deduplicator: C4SpanDeduplicator())
            }),
            ("github", try generator.github(), { input, files in
                try GitHubPipeline.run(inputPath: input, files: files, cleaner: GitHubCleaner(), deduplicator: ExactDeduplicator())
            }),
            ("wikipedia", try generator.wikipedia(), { input, files in try WikipediaPipeline.run(inputPath: input, files: files) }),
            ("books", try generator.books(), { input, files in
                try BooksPipeline.run(inputPath: input, files: files, hasher: MinHasher(), index: NearDuplicateIndex())
            }),
            ("arxiv", try generator.arxiv(), { input, files in try ArxivPipeline.run(inputPath: input, files: files) }),
            ("stackexchange", try generator.stackExchange(), { input, files in
                try StackExchangePipeline.run(inputPath: input, files: files)
            }),
        ]
        // Wall-clock MB/s depends on what else runs on the machine; MB per CPU-second (user +
        // system time of this process) does not, and times the core count bounds the wall speed.
        let selected = only.map { Set($0.split(separator: ",").map(String.init)) }
        for (name, input, body) in cases where selected?.contains(name) ?? true {
            let files = ShardFiles(directory: directory, name: "out-" + name)
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = Self.processorSeconds()
            let report = try body(input, files)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpuSeconds = Self.processorSeconds() - cpuStart
            let megabytes = Double(report.inputBytes) / 1e6
            print(name.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%7.1f MB in %6.2f s: %7.1f MB/s wall, %7.1f MB per CPU-second", megabytes, seconds,
                         megabytes / seconds, megabytes / max(cpuSeconds, 1e-9)))
        }
        if selected?.contains("ccnet") ?? true { try benchCCNet(input: try generator.wet(), directory: directory) }
        if selected?.contains("mix") ?? true { try benchMix(input: try generator.documentsJSONL(), directory: directory) }
    }
}

extension DataBenchCommand {
    /// User plus system CPU time of this process so far, in seconds.
    static func processorSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// Generated inputs in each cleaner's real format, made of varied English-like sentences.
struct BenchInputs {
    let directory: String
    let targetBytes: Int
    private let words = ["the", "model", "data", "of", "and", "training", "language", "a", "is", "to", "results", "we",
                         "in", "large", "corpus", "tokens", "with", "for", "that", "on", "paper", "method", "show", "are"]

    private func sentence(_ generator: inout SeededGenerator) -> String {
        let count = 6 + generator.nextInt(below: 12)
        var text = (0..<count).map { _ in words[generator.nextInt(below: words.count)] }.joined(separator: " ")
        text = text.prefix(1).uppercased() + text.dropFirst() + "."
        return text
    }

    func paragraph(_ generator: inout SeededGenerator, sentences: Int) -> String {
        (0..<sentences).map { _ in sentence(&generator) }.joined(separator: " ")
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func wet() throws -> String {
        var generator = SeededGenerator(seed: 1)
        var text = ""
        var index = 0
        while text.utf8.count < targetBytes {
            let body = (0..<8).map { _ in paragraph(&generator, sentences: 3) }.joined(separator: "\n") + "\nMenu\nHome\n"
            text += "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://example.com/\(index)\r\n"
                + "Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)\r\n\r\n"
            index += 1
        }
        return try write("bench.warc.wet", text)
    }

    func github() throws -> String {
        var generator = SeededGenerator(seed: 2)
        var text = ""
        var index = 0
        while text.utf8.count < targetBytes {
            var code = "/*\n * Copyright 2020 Example\n * Licensed under the MIT License.\n */\n"
            for line in 0..<40 { code += "int value\(line) = compute(\(generator.nextInt(below: 1000)), \(index));\n" }
            let record: [String: Any] = ["repository": "example/repo\(index % 50)", "path": "src/file\(index).c",
                                         "license": "mit", "content": code]
            let line = String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
            text += line + "\n"
            index += 1
        }
        return try write("bench-github.jsonl", text)
    }

    func wikipedia() throws -> String {
        var generator = SeededGenerator(seed: 3)
        var text = "<mediawiki><siteinfo><dbname>enwiki</dbname></siteinfo>\n"
        var index = 0
        while text.utf8.count < targetBytes {
            var wiki = "{{Infobox thing|name=X\(index)}}\n'''Page \(index)''' is a [[topic|subject]] of [[study]].<ref>Source.</ref>\n"
            for section in 0..<4 {
                wiki += "== Section \(section) ==\n" + paragraph(&generator, sentences: 5) + " [[File:X.png|thumb|caption]]\n"
            }
            wiki += "[[Category:Things]]\n"
            let escaped = wiki.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            text += "<page><title>Page \(index)</title><ns>0</ns><id>\(index)</id><revision><id>1</id>"
                + "<text xml:space=\"preserve\">\(escaped)</text></revision></page>\n"
            index += 1
        }
        return try write("bench-wiki.xml", text + "</mediawiki>\n")
    }

    func books() throws -> String {
        var generator = SeededGenerator(seed: 4)
        let folder = directory + "/books"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var total = 0
        var index = 0
        while total < targetBytes {
            var book = "The Project Gutenberg eBook of Book \(index)\n\n*** START OF THE PROJECT GUTENBERG EBOOK BOOK \(index) ***\n\n"
            for _ in 0..<200 { book += paragraph(&generator, sentences: 4) + "\n\n" }
            book += "*** END OF THE PROJECT GUTENBERG EBOOK BOOK \(index) ***\nLicence text.\n"
            try book.write(toFile: folder + "/book\(index).txt", atomically: true, encoding: .utf8)
            total += book.utf8.count
            index += 1
        }
        return folder
    }

    func arxiv() throws -> String {
        var generator = SeededGenerator(seed: 5)
        let folder = directory + "/paper"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var text = "\\documentclass{article}\n\\newcommand{\\model}{LLaMA}\n\\newcommand{\\pair}[2]{(#1, #2)}\n\\begin{document}\n"
        while text.utf8.count < targetBytes {
            text += "\\section{Part}\n% a comment\n" + paragraph(&generator, sentences: 6) + " The \\model{} uses \\pair{a}{b}.\n\n"
        }
        text += "\\begin{thebibliography}{9}\\bibitem{x} X.\\end{thebibliography}\n\\end{document}\n"
        try text.write(toFile: folder + "/main.tex", atomically: true, encoding: .utf8)
        return folder
    }

    func stackExchange() throws -> String {
        var generator = SeededGenerator(seed: 6)
        let folder = directory + "/bench.stackexchange.com"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n"
        var index = 1
        while text.utf8.count < targetBytes {
            let body = "&lt;p&gt;" + paragraph(&generator, sentences: 3) + "&lt;/p&gt;&lt;pre&gt;&lt;code&gt;x &amp;lt; y&lt;/code&gt;&lt;/pre&gt;"
            if index % 4 == 1 {
                text += "  <row Id=\"\(index)\" PostTypeId=\"1\" Score=\"3\" Title=\"Question \(index)\" Tags=\"&lt;a&gt;\" Body=\"\(body)\" />\n"
            } else {
                text += "  <row Id=\"\(index)\" PostTypeId=\"2\" ParentId=\"\(index - (index - 1) % 4)\" Score=\"\(index % 7)\" Body=\"\(body)\" />\n"
            }
            index += 1
        }
        try (text + "</posts>\n").write(toFile: folder + "/Posts.xml", atomically: true, encoding: .utf8)
        return folder + "/Posts.xml"
    }
}
