import ArgumentParser
import Foundation
import LlamaTokenizer

/// `llama tokenizer`: SentencePiece-compatible BPE tokenizer tools. The subcommands accept
/// the flag names of `spm_train`, `spm_encode` and `spm_decode`, so scripts can switch.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train, apply and inspect SentencePiece BPE tokenizers (.model files).",
        subcommands: [TokenizerTrainCommand.self, TokenizerEncodeCommand.self, TokenizerDecodeCommand.self,
                      TokenizerInfoCommand.self, TokenizerBenchCommand.self])

    /// Runs `body`, printing library and usage errors to standard error and exiting non-zero.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TokenizerError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode.failure
        } catch let error as TokenizerCLIError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// `llama tokenizer encode`: one line in, one line of ids or pieces out (`spm_encode`).
struct TokenizerEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode text lines into ids or pieces (spm_encode flags).",
        discussion: """
            Flags: --model=M (required: a SentencePiece .model, or a .gguf file's vocabulary), --output_format=id|piece (default piece), --input=FILE[,FILE] \
            (default stdin), --output=FILE (default stdout), --extra_options=bos:eos, --json (one JSON \
            object per line), --num_threads=N (default: all cores).
            """)

    @Argument(parsing: .captureForPassthrough, help: "spm_encode-style flags")
    var flags: [String] = []

    func run() throws {
        try TokenizerCommand.reportingErrors {
            var parsed = try SentencePieceFlags(flags, booleanNames: ["json"])
            guard let modelPath = parsed.string("model") else { throw TokenizerCLIError.usage("--model is required") }
            let format = parsed.string("output_format") ?? "piece"
            guard format == "id" || format == "piece" else {
                throw TokenizerCLIError.usage("--output_format must be id or piece, got \(format)")
            }
            let inputs = parsed.list("input") ?? []
            let output = parsed.string("output")
            let extra = Set((parsed.string("extra_options") ?? "").split(separator: ":").map(String.init))
            let json = try parsed.boolean("json") ?? false
            let threads = try parsed.integer("num_threads") ?? ProcessInfo.processInfo.activeProcessorCount
            try parsed.checkAllUsed()
            for option in extra where option != "bos" && option != "eos" {
                throw TokenizerCLIError.usage("--extra_options: \(option) is not supported (bos, eos)")
            }

            let tokenizer = try openTokenizerFile(modelPath)
            // Lines are read and written in blocks, so memory does not grow with the input.
            let writer = try TokenizerIO.LineWriter(path: output)
            func encodeBlock(_ lines: [[UInt8]]) {
                if format == "id" {
                    let encoded = tokenizer.encode(batchOfBytes: lines, addBOS: extra.contains("bos"),
                                                   addEOS: extra.contains("eos"), threadCount: max(1, threads))
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(encoded.count * 64)
                    for ids in encoded {
                        if json { bytes.append(contentsOf: Array("{\"ids\":[".utf8)) }
                        for (position, id) in ids.enumerated() {
                            if position > 0 { bytes.append(json ? 0x2C : 0x20) }
                            TokenizerIO.appendDecimal(id, to: &bytes)
                        }
                        if json { bytes.append(contentsOf: Array("]}".utf8)) }
                        bytes.append(0x0A)
                    }
                    writer.write(bytes)
                    return
                }
                var text = ""
                do {
                    for line in lines {
                        var pieces = tokenizer.encodeAsPieces(bytes: line)
                        if extra.contains("bos"), let bos = tokenizer.bosId { pieces.insert(tokenizer.piece(for: bos), at: 0) }
                        if extra.contains("eos"), let eos = tokenizer.eosId { pieces.append(tokenizer.piece(for: eos)) }
                        text += json ? "{\"pieces\":[" + pieces.map(TokenizerIO.jsonString).joined(separator: ",") + "]}\n"
                            : pieces.joined(separator: " ") + "\n"
                    }
                }
                writer.write(Array(text.utf8))
            }
            try TokenizerIO.forEachBlock(of: inputs, blockSize: 8192, encodeBlock)
            try writer.finish()
        }
    }
}

/// `llama tokenizer decode`: one line of ids or pieces in, one line of text out (`spm_decode`).
struct TokenizerDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode lines of ids or pieces into text (spm_decode flags).",
        discussion: """
            Flags: --model=M (required), --input_format=id|piece (default piece), --input=FILE \
            (default stdin), --output=FILE (default stdout), --json (one JSON string per line).
            """)

    @Argument(parsing: .captureForPassthrough, help: "spm_decode-style flags")
    var flags: [String] = []

    func run() throws {
        try TokenizerCommand.reportingErrors {
            var parsed = try SentencePieceFlags(flags, booleanNames: ["json"])
            guard let modelPath = parsed.string("model") else { throw TokenizerCLIError.usage("--model is required") }
            let format = parsed.string("input_format") ?? "piece"
            guard format == "id" || format == "piece" else {
                throw TokenizerCLIError.usage("--input_format must be id or piece, got \(format)")
            }
            let inputs = parsed.list("input") ?? []
            let output = parsed.string("output")
            let json = try parsed.boolean("json") ?? false
            try parsed.checkAllUsed()

            let tokenizer = try openTokenizerFile(modelPath)
            var text = ""
            for (number, line) in try TokenizerIO.readLines(inputs).enumerated() {
                let fields = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                let decoded: String
                if format == "id" {
                    var ids: [Int32] = []
                    for field in fields {
                        guard let id = Int32(field) else {
                            throw TokenizerCLIError.usage("line \(number + 1): \(field) is not an id")
                        }
                        ids.append(id)
                    }
                    decoded = try tokenizer.decodeChecked(ids)
                } else {
                    decoded = tokenizer.decode(pieces: fields)
                }
                text += (json ? TokenizerIO.jsonString(decoded) : decoded) + "\n"
            }
            try TokenizerIO.write(text, to: output)
        }
    }
}

/// `llama tokenizer info`: what a `.model` file holds.
struct TokenizerInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a .model file (--model=M, --json).")

    @Argument(parsing: .captureForPassthrough, help: "--model=M [--json]")
    var flags: [String] = []

    func run() throws {
        try TokenizerCommand.reportingErrors {
            var parsed = try SentencePieceFlags(flags, booleanNames: ["json"])
            guard let modelPath = parsed.string("model") else { throw TokenizerCLIError.usage("--model is required") }
            let json = try parsed.boolean("json") ?? false
            try parsed.checkAllUsed()
            let tokenizer = try openTokenizerFile(modelPath)
            let model = tokenizer.model
            var counts: [String: Int] = [:]
            for id in 0..<tokenizer.vocabularySize {
                counts["\(tokenizer.pieceType(for: Int32(id)).map { "\($0)" } ?? "?")", default: 0] += 1
            }
            let fields: [(String, String)] = [
                ("model", TokenizerIO.jsonString(modelPath)),
                ("model_type", TokenizerIO.jsonString(model.trainerSpec.modelType == .unigram ? "UNIGRAM" : "BPE")),
                ("vocab_size", "\(tokenizer.vocabularySize)"),
                ("unk_id", "\(tokenizer.unkId)"),
                ("bos_id", "\(tokenizer.bosId.map(Int.init) ?? -1)"),
                ("eos_id", "\(tokenizer.eosId.map(Int.init) ?? -1)"),
                ("pad_id", "\(tokenizer.padId.map(Int.init) ?? -1)"),
                ("byte_fallback", "\(model.trainerSpec.byteFallback)"),
                ("split_digits", "\(model.trainerSpec.splitDigits)"),
                ("normalization_rule_name", TokenizerIO.jsonString(model.normalizerSpec.name)),
                ("add_dummy_prefix", "\(model.normalizerSpec.addDummyPrefix)"),
                ("remove_extra_whitespaces", "\(model.normalizerSpec.removeExtraWhitespaces)"),
                ("precompiled_charsmap_bytes", "\(model.normalizerSpec.precompiledCharsmap.count)"),
                ("piece_types", "{" + counts.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"),
            ]
            if json {
                print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
            } else {
                for (name, value) in fields { print("\(name): \(value)") }
            }
        }
    }
}
