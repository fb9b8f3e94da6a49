import Foundation
import LlamaCore

/// Runs the StackExchange cleaner over one site's Posts.xml.
public enum StackExchangePipeline {
    /// The site name for a Posts.xml path: its directory's name (`math.stackexchange.com`),
    /// or the file name without `Posts.xml` and extensions.
    public static func siteName(for path: String) -> String {
        let name = (path as NSString).lastPathComponent
        if name.hasPrefix("Posts.xml") {
            let directory = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
            return directory.isEmpty || directory == "." ? "stackexchange" : directory
        }
        return ShardFiles.stem(of: name)
    }

    /// Cleans `inputPath` into `files`: one document per question, answers by score.
    public static func run(inputPath: String, files: ShardFiles, site: String? = nil,
                           progress: ProgressHandler? = nil) throws -> ShardReport {
        let sink = try ShardSink(files: files, progress: progress)
        let reader = StackExchangeReader(path: inputPath, scratchDirectory: (files.output as NSString).deletingLastPathComponent)
        let siteName = site ?? siteName(for: inputPath)
        let batches = OrderedBatches<StackExchangeThread, CleanedDocument>(batchSize: 512, transform: { thread in
            StackExchangeFormatter.document(of: thread, site: siteName)
        }, consume: { document in
            sink.report.counts.add("stackexchange.documents.kept")
            try sink.write(document)
        })
        let warnings = try reader.forEachThread { thread in
            sink.addInput(bytes: thread.body.utf8.count + thread.answers.reduce(0) { $0 + $1.body.utf8.count })
            try batches.add(thread)
        }
        sink.report.counts.merge(reader.counts)
        sink.warn(warnings, source: "stackexchange")
        try batches.finish()
        return try sink.commit(words: nil)
    }
}
