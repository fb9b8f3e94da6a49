import Foundation
import LlamaCore
import LlamaModel
import XCTest

/// GGUF files and GGML quantization against the `gguf` Python package (which follows
/// llama.cpp's converter and reference quantizers) and against transformers' logits.
final class GGUFTests: XCTestCase {
    private func python(_ script: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, errorText)
        return String(decoding: data, as: UTF8.self)
    }

    private func referenceLogits(prefix rows: Int) throws -> (tokens: [Int32], logits: [Float]) {
        let reference = try SafetensorsFile(path: ModelFixtures.tinyLlama + "/reference.safetensors")
        let tokens = Array(try reference.tensor("input_ids").toInt32Array().prefix(rows))
        let logits = Array(try reference.tensor("logits").toFloatArray().prefix(rows * 1000))
        return (tokens, logits)
    }

    func testQuantizationIsBitExactWithTheReferenceQuantizer() throws {
        var generator = SeededGenerator(seed: 21)
        var values = (0..<(64 * 32)).map { _ in (generator.nextFloat() - 0.5) * 4 }
        for i in 0..<32 { values[i] = 0 }                          // an all-zero block
        for i in 32..<64 { values[i] = Float(i % 5) * 0.25 - 0.5 }  // many ties at .5 boundaries
        values[64] = -3; values[65] = 3                             // first maximum magnitude is negative
        let tensor = Tensor(shape: [64, 32], values: values)
        let directory = try ModelFixtures.temporaryDirectory()
        try values.withUnsafeBufferPointer { try Npy.write(path: directory + "/x.npy", values: $0, shape: [64, 32]) }
        for (dtype, name) in [(DType.q8_0, "Q8_0"), (.q4_0, "Q4_0")] {
            let ours = Quantization.quantize(tensor, to: dtype)
            let output = try python("""
            import sys, numpy as np, gguf
            x = np.load(sys.argv[1])
            q = gguf.quants.quantize(x, gguf.GGMLQuantizationType.\(name))
            d = gguf.quants.dequantize(q, gguf.GGMLQuantizationType.\(name)).astype('<f4')
            sys.stdout.write(q.tobytes().hex() + " " + d.tobytes().hex())
            """, [directory + "/x.npy"])
            let parts = output.split(separator: " ").map(String.init)
            XCTAssertEqual(parts.count, 2, name)
            let bytes = Data(UnsafeRawBufferPointer(start: ours.rawPointer, count: ours.byteCount))
            XCTAssertEqual(bytes.map { String(format: "%02x", $0) }.joined(), parts.first, name)
            // The dequantizer (used for prefill through sgemm) gives gguf's floats bit for bit.
            let floats = ours.toFloatArray().withUnsafeBytes { Data($0) }
            XCTAssertEqual(floats.map { String(format: "%02x", $0) }.joined(), parts.last, name + " dequantized")
        }
    }

    func testGGUFRoundTripMatchesTransformers() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let (tokens, expected) = try referenceLogits(prefix: 24)
        let directory = try ModelFixtures.temporaryDirectory()
        // F32: exact up to summation order; the interleaved rotary layout is exercised.
        try GGUFModel.save(weights, path: directory + "/f32.gguf", dtype: .f32, vocabulary: nil)
        let f32 = try GGUFModel.load(path: directory + "/f32.gguf")
        XCTAssertEqual(f32.configuration, weights.configuration)
        XCTAssertLessThan(maxAbsoluteDifference(try ModelFixtures.logits(f32.weights, tokens), expected), 1e-4)
        // Back to Hugging Face layout: the same tensors, byte for byte.
        let restored = GGUFModel.huggingFaceWeights(f32.weights)
        for ((name, a), (_, b)) in zip(restored.namedParameters, weights.namedParameters) {
            XCTAssertEqual(a.toFloatArray(), b.toFloatArray(), name)
        }
        // Quantized: the integer kernels (activations quantized to Q8_0 on the fly, as llama.cpp)
        // against float math on the same dequantized weights (measured 0.09: the activation
        // rounding; the kernels themselves are exact, see VectorMathTests), and the loss on the fixture's
        // targets against the F32 model's (transformers: 7.125555).
        let targets = Array(try SafetensorsFile(path: ModelFixtures.tinyLlama + "/reference.safetensors")
            .tensor("targets").toInt32Array().prefix(24))
        for (dtype, kernelTolerance, lossTolerance) in [(DType.q8_0, Float(0.15), Float(0.01)), (.q4_0, 0.15, 0.1)] {
            let path = directory + "/\(dtype.rawValue).gguf"
            try GGUFModel.save(weights, path: path, dtype: dtype, vocabulary: nil)
            let loaded = try GGUFModel.load(path: path)
            XCTAssertEqual(loaded.weights.layers[1].upProjection.dtype, dtype)
            let quantized = try ModelFixtures.logits(loaded.weights, tokens)
            let dequantized = try ModelFixtures.logits(GGUFModel.huggingFaceWeights(loaded.weights), tokens)
            let kernelError = maxAbsoluteDifference(quantized, dequantized)
            let lossChange = abs(crossEntropy(quantized, targets) - crossEntropy(expected, targets))
            print("GGUF \(dtype.rawValue): kernel vs dequantized float math \(kernelError), loss change \(lossChange)")
            XCTAssertLessThan(kernelError, kernelTolerance, dtype.rawValue)
            XCTAssertLessThan(lossChange, lossTolerance, dtype.rawValue)
            // Repacked (eight rows interleaved, as `llama` holds a loaded file): the same integer
            // products in another order, and the same file when written back.
            let repacked = loaded.weights.residentCopy(repacking: true)
            XCTAssertEqual(repacked.layers[1].upProjection.layout, .interleaved8)
            XCTAssertEqual(repacked.tokenEmbedding.layout, .rows)
            XCTAssertLessThan(maxAbsoluteDifference(try ModelFixtures.logits(repacked, tokens), quantized), 1e-4, dtype.rawValue)
            try GGUFModel.save(repacked, path: path + ".again", dtype: dtype, vocabulary: nil)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path + ".again")), try Data(contentsOf: URL(fileURLWithPath: path)))
            // Row lookups in an interleaved table (a tied output projection could be one).
            let table = repacked.layers[0].gateProjection
            var looked = [Float](repeating: 0, count: 2 * table.shape[1])
            [Int32(5), 2].withUnsafeBufferPointer { Embedding.forward(output: &looked, tokens: $0, table: table) }
            let rows = table.toFloatArray(), width = table.shape[1]
            XCTAssertEqual(looked, Array(rows[(5 * width)..<(6 * width)] + rows[(2 * width)..<(3 * width)]))
        }
    }

    /// Mean cross-entropy of rows of 1000 logits against `targets`.
    private func crossEntropy(_ logits: [Float], _ targets: [Int32]) -> Float {
        var total = 0.0
        for (t, target) in targets.enumerated() {
            let row = logits[(t * 1000)..<((t + 1) * 1000)].map(Double.init)
            let top = row.max() ?? 0
            total += log(row.reduce(0) { $0 + exp($1 - top) }) + top - row[Int(target)]
        }
        return Float(total / Double(targets.count))
    }

    func testFileWrittenLikeLlamaCppsConverterLoadsAndMatchesTransformers() throws {
        // The gguf package writes the tiny model the way convert_hf_to_gguf.py does:
        // llama.cpp tensor names, q/k rows permuted to Meta's order, SentencePiece vocabulary.
        let path = try ModelFixtures.temporaryDirectory() + "/converted.gguf"
        _ = try python("""
        import sys, json, numpy as np, gguf, sentencepiece as spm
        from safetensors.numpy import load_file
        src, out = sys.argv[1], sys.argv[2]
        c = json.load(open(src + '/config.json')); t = load_file(src + '/model.safetensors')
        def permute(w, n_head):
            return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
        w = gguf.GGUFWriter(out, 'llama')
        w.add_name('tiny'); w.add_vocab_size(c['vocab_size']); w.add_context_length(c['max_position_embeddings'])
        w.add_embedding_length(c['hidden_size']); w.add_block_count(c['num_hidden_layers'])
        w.add_feed_forward_length(c['intermediate_size']); w.add_rope_dimension_count(c['head_dim'])
        w.add_head_count(c['num_attention_heads']); w.add_head_count_kv(c['num_key_value_heads'])
        w.add_layer_norm_rms_eps(c['rms_norm_eps']); w.add_rope_freq_base(c['rope_theta']); w.add_file_type(0)
        sp = spm.SentencePieceProcessor(model_file=src + '/tokenizer.model')
        toks, scores, types = [], [], []
        for i in range(sp.get_piece_size()):
            toks.append(sp.id_to_piece(i).encode()); scores.append(sp.get_score(i))
            types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 5 if sp.is_unused(i) else 1)
        w.add_tokenizer_model('llama'); w.add_token_list(toks); w.add_token_scores(scores); w.add_token_types(types)
        w.add_bos_token_id(sp.bos_id()); w.add_eos_token_id(sp.eos_id()); w.add_unk_token_id(sp.unk_id())
        names = {'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight'}
        parts = {'input_layernorm': 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v',
                 'self_attn.o_proj': 'attn_output', 'post_attention_layernorm': 'ffn_norm', 'mlp.gate_proj': 'ffn_gate',
                 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down'}
        for k in sorted(t):
            v = t[k]
            if k in names: name = names[k]
            else:
                i, rest = k[len('model.layers.'):].split('.', 1)
                name = 'blk.%s.%s.weight' % (i, parts[rest[:-len('.weight')]])
            if k.endswith('q_proj.weight'): v = permute(v, c['num_attention_heads'])
            if k.endswith('k_proj.weight'): v = permute(v, c['num_key_value_heads'])
            w.add_tensor(name, np.ascontiguousarray(v))
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        """, [ModelFixtures.tinyLlama, path])
        let loaded = try GGUFModel.load(path: path)
        let (tokens, expected) = try referenceLogits(prefix: 24)
        XCTAssertLessThan(maxAbsoluteDifference(try ModelFixtures.logits(loaded.weights, tokens), expected), 1e-4)
        let vocabulary = try XCTUnwrap(loaded.vocabulary)
        XCTAssertEqual(vocabulary.tokens.count, 1000)
        XCTAssertEqual(Array(vocabulary.tokens.prefix(4)), ["<unk>", "<s>", "</s>", "▁t"])
        XCTAssertEqual(Array(vocabulary.types.prefix(4)), [2, 3, 3, 1])
        XCTAssertEqual(vocabulary.bosId, 1)
        XCTAssertEqual(vocabulary.eosId, 2)
    }

    func testOurFileIsReadByTheGGUFPackage() throws {
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        let path = try ModelFixtures.temporaryDirectory() + "/ours.gguf"
        let vocabulary = GGUFVocabulary(tokens: (0..<1000).map { "t\($0)" }, scores: (0..<1000).map { -Float($0) },
                                        types: [Int32](repeating: 1, count: 1000), bosId: 1, eosId: 2, unknownId: 0)
        try GGUFModel.save(weights, path: path, dtype: .q8_0, vocabulary: vocabulary)
        let output = try python("""
        import sys, json, numpy as np, gguf
        from safetensors.numpy import load_file
        r = gguf.GGUFReader(sys.argv[1])
        f = r.fields
        print(bytes(f['general.architecture'].parts[-1]).decode(), int(f['llama.block_count'].parts[-1][0]),
              int(f['general.file_type'].parts[-1][0]), len(r.tensors))
        t = {x.name: x for x in r.tensors}
        q = t['blk.0.attn_q.weight']
        print(q.tensor_type.name, [int(d) for d in q.shape])
        hf = load_file(sys.argv[2] + '/model.safetensors')['model.layers.0.self_attn.q_proj.weight']
        perm = hf.reshape(6, 2, 8, 96).swapaxes(1, 2).reshape(96, 96)
        deq = gguf.quants.dequantize(q.data, q.tensor_type).reshape(96, 96)
        ref = gguf.quants.dequantize(gguf.quants.quantize(perm, gguf.GGMLQuantizationType.Q8_0), gguf.GGMLQuantizationType.Q8_0)
        print(float(np.abs(deq - ref).max()))
        print(t['output_norm.weight'].tensor_type.name, bytes(f['tokenizer.ggml.tokens'].parts[f['tokenizer.ggml.tokens'].data[5]]).decode())
        # The keys llama.cpp's converter also writes, with the values it computes.
        n = sum(int(np.prod([int(d) for d in x.shape])) for x in r.tensors)
        print(bytes(f['general.size_label'].parts[-1]).decode() == gguf.utility.model_weight_count_rounded_notation(n),
              bytes(f['general.type'].parts[-1]).decode(), int(f['general.quantization_version'].parts[-1][0]),
              int(f['llama.attention.key_length'].parts[-1][0]), bytes(f['tokenizer.ggml.pre'].parts[-1]).decode())
        print(*[gguf.utility.model_weight_count_rounded_notation(c) for c in (1328256, 110_000_000, 6_738_415_616, 999_999, 65_286_000_000)])
        """, [path, ModelFixtures.tinyLlama])
        XCTAssertEqual(output.split(separator: "\n").map(String.init),
                       ["llama 3 7 30", "Q8_0 [96, 96]", "0.0", "F32 t5", "True model 2 16 default",
                        [1328256, 110_000_000, 6_738_415_616, 999_999, 65_286_000_000].map { GGUFModel.sizeLabel(parameters: $0) }
                            .joined(separator: " ")])
    }

    /// llama.cpp's Q4_K and Q6_K tensors (random super-blocks written by the `gguf` package) are
    /// held as stored: their values are the floats `gguf.quants.dequantize` gives, bit for bit;
    /// written back, the bytes are unchanged; and products through the K-quant kernels equal
    /// float64 sums of those floats times the activations rounded to 256-value int8 blocks
    /// (d = max|x| / 127, as ggml's Q8_K), on every path through `Linear.forward`.
    func testKQuantTensorsAreUsedAsStored() throws {
        let directory = try ModelFixtures.temporaryDirectory()
        let output = try python("""
        import sys, numpy as np, gguf
        rng = np.random.default_rng(5)
        w = gguf.GGUFWriter(sys.argv[1], 'llama')
        refs = []
        for name, kind, size, offsets, shape in [('a', gguf.GGMLQuantizationType.Q4_K, 144, [0, 2], (12, 512)),
                                                 ('b', gguf.GGMLQuantizationType.Q6_K, 210, [208], (12, 512)),
                                                 ('c', gguf.GGMLQuantizationType.Q4_K, 144, [0, 2], (256,))]:
            blocks = int(np.prod(shape)) // 256
            raw = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
            for o in offsets:
                raw[:, o:o + 2] = (rng.standard_normal(blocks) * 0.01).astype(np.float16).view(np.uint8).reshape(blocks, 2)
            w.add_tensor(name, raw.reshape(shape[:-1] + (shape[-1] // 256 * size,)), raw_dtype=kind)
            refs.append(gguf.quants.dequantize(raw.reshape(-1), kind).astype('<f4').tobytes().hex())
        # A K-quant the kernels do not take (Q5_K, ggml type 13, 176 bytes per super-block).
        w.add_tensor('d', rng.integers(0, 256, size=(2, 176), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q5_K)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        print(' '.join(refs))
        """, [directory + "/k.gguf"])
        let expected = output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(expected.count, 3)
        let file = try GGUFFile(path: directory + "/k.gguf")
        let tensors = try ["a", "b", "c"].map { try file.tensor($0) }
        XCTAssertEqual(tensors.map(\.shape), [[12, 512], [12, 512], [256]])
        XCTAssertEqual(tensors.map(\.dtype), [.q4_K, .q6_K, .q4_K])
        XCTAssertEqual(tensors.map(\.byteCount), [12 * 2 * 144, 12 * 2 * 210, 144])
        XCTAssertThrowsError(try file.tensor("d")) {
            XCTAssertTrue("\($0)".contains("k.gguf") && "\($0)".contains("'d'") && "\($0)".contains("ggml type 13"), "\($0)")
        }
        // A K-quant tensor whose rows are not whole super-blocks (4 rows of 128) is refused at open.
        try GGUFWriter.write(path: directory + "/ragged.gguf", metadata: [], tensors: [("r", Tensor(zeros: [4, 128], dtype: .q4_K))])
        XCTAssertThrowsError(try GGUFFile(path: directory + "/ragged.gguf")) {
            XCTAssertTrue("\($0)".contains("ragged.gguf") && "\($0)".contains("'r'") && "\($0)".contains("not whole blocks of 256"), "\($0)")
        }
        for (tensor, hex) in zip(tensors, expected) {
            let floats = tensor.toFloatArray()
            XCTAssertEqual(floats.withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined(), hex)
        }
        try GGUFWriter.write(path: directory + "/again.gguf", metadata: [], tensors: zip(["a", "b", "c"], tensors).map { ($0, $1) })
        let again = try GGUFFile(path: directory + "/again.gguf")
        for (name, tensor) in zip(["a", "b", "c"], tensors) {
            let copy = try again.tensor(name)
            XCTAssertEqual(copy.dtype, tensor.dtype)
            XCTAssertEqual(Data(bytes: copy.rawPointer, count: copy.byteCount), Data(bytes: tensor.rawPointer, count: tensor.byteCount))
        }
        var generator = SeededGenerator(seed: 11)
        let inFeatures = 512, maximumRows = 13
        let input = (0..<(maximumRows * inFeatures)).map { _ in (generator.nextFloat() - 0.5) * 4 }
        // The activations as the integer kernels see them: per 256 values, d = max|x| / 127, q = round(x / d).
        var rounded = input
        for start in stride(from: 0, to: input.count, by: 256) {
            let d = Double(input[start..<(start + 256)].map { abs($0) }.max() ?? 0) / 127
            for i in start..<(start + 256) { rounded[i] = Float(d == 0 ? 0 : (Double(input[i]) / d).rounded() * d) }
        }
        // The default (integer products for any number of rows: 1, 3, 4 + 1, 4 + 4 + 1), groups of
        // eight weight rows (here one group and four rows left) from 9 and from 1 row on, and,
        // above a limit of 3 rows, the weights unpacked for sgemm.
        for (limit, groupRows) in [(Linear.kQuantIntegerRows, Linear.kQuantGroupRows), (Linear.kQuantIntegerRows, 9),
                                   (Linear.kQuantIntegerRows, 1), (3, 12)] {
            let saved = (Linear.kQuantIntegerRows, Linear.kQuantGroupRows)
            Linear.kQuantIntegerRows = limit
            Linear.kQuantGroupRows = groupRows
            defer { (Linear.kQuantIntegerRows, Linear.kQuantGroupRows) = saved }
            for weight in tensors.prefix(2) {
                let values = weight.toFloatArray(), outFeatures = weight.shape[0]
                for rows in [1, 3, 5, 9, maximumRows] {
                    var result = [Float](repeating: 0.5, count: rows * outFeatures)
                    Linear.forward(output: &result, input: input, weight: weight, rows: rows, accumulate: true)
                    let seen = rows > limit ? input : rounded
                    for t in 0..<rows {
                        for o in 0..<outFeatures {
                            var sum = 0.5
                            for i in 0..<inFeatures { sum += Double(values[o * inFeatures + i]) * Double(seen[t * inFeatures + i]) }
                            XCTAssertEqual(Double(result[t * outFeatures + o]), sum, accuracy: 1e-3 * max(1, abs(sum)),
                                           "\(weight.dtype) limit \(limit) groups from \(groupRows) rows \(rows) row \(t) out \(o)")
                        }
                    }
                }
            }
        }
    }

    func testCorruptGGUFIsRefused() throws {
        let directory = try ModelFixtures.temporaryDirectory()
        let weights = try Checkpoint.load(directory: ModelFixtures.tinyLlama).weights
        try GGUFModel.save(weights, path: directory + "/m.gguf", dtype: .f32, vocabulary: nil)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/m.gguf"))
        try data.prefix(200).write(to: URL(fileURLWithPath: directory + "/short.gguf"))
        XCTAssertThrowsError(try GGUFModel.load(path: directory + "/short.gguf")) {
            XCTAssertTrue("\($0)".contains("short.gguf") && "\($0)".contains("runs past the end"), "\($0)")
        }
        try data.prefix(data.count - 64).write(to: URL(fileURLWithPath: directory + "/cut.gguf"))
        XCTAssertThrowsError(try GGUFModel.load(path: directory + "/cut.gguf")) {
            XCTAssertTrue("\($0)".contains("outside the data section"), "\($0)")
        }
        var bad = data
        bad[0] = 0x58
        try bad.write(to: URL(fileURLWithPath: directory + "/magic.gguf"))
        XCTAssertThrowsError(try GGUFModel.load(path: directory + "/magic.gguf")) { XCTAssertTrue("\($0)".contains("no GGUF magic")) }
    }
}
