import Foundation
import XCTest

/// `llama serve` over real HTTP on loopback, driven by the OpenAI Python client
/// (Tests/LlamaCLITests/Python/server_check.py).
final class ServerTests: XCTestCase {
    /// `llama serve arguments… --port 0` running, and the port its first line says it listens on.
    private func startServer(_ arguments: [String]) throws -> (Process, Int) {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CLI.executable)
        server.arguments = ["serve", "--port", "0"] + arguments
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let port = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            server.terminate()
            throw NSError(domain: "ServerTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "no port in '\(text)'"])
        }
        return (server, port)
    }

    func testOpenAICompatibleServer() throws {
        let (server, port) = try startServer(["--model", CLI.tinyLlama, "--slots", "8", "--context", "512"])
        defer { if server.isRunning { server.terminate() } }

        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", CLI.repository + "/Tests/LlamaCLITests/Python/server_check.py", "\(port)", "10", "16",
                           "\(server.processIdentifier)"]
        let checkOutput = Pipe()
        check.standardOutput = checkOutput
        try check.run()
        let data = checkOutput.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, "the Python client failed")
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        let completion = try XCTUnwrap(results["completion"] as? [String: Any])
        XCTAssertEqual(completion["finish_reason"] as? String, "length")
        XCTAssertEqual(completion["logprobs"] as? Int, 8)
        XCTAssertEqual(completion["all_negative"] as? Bool, true)
        XCTAssertEqual(completion["usage"] as? [Int], [4, 8])
        XCTAssertTrue(((completion["text"] as? String) ?? "").hasPrefix(" "), "a continuation keeps its leading space")
        XCTAssertEqual(results["deterministic"] as? Bool, true)
        XCTAssertEqual(results["stream_equals"] as? Bool, true)
        XCTAssertEqual((results["chat"] as? [String: Any])?["role"] as? String, "assistant")
        XCTAssertEqual((results["chat"] as? [String: Any])?["logprobs"] as? Int, 6)
        XCTAssertEqual(results["chat_stream_equals"] as? Bool, true)
        XCTAssertEqual(results["chat_stream_finish"] as? String, "length")
        let top = try XCTUnwrap(results["top_logprobs"] as? [String: Any])
        XCTAssertEqual(top["completion_sizes"] as? [Int], [3])
        XCTAssertEqual(top["chat_sizes"] as? [Int], [4])
        for key in ["completion_first_is_chosen", "chat_first_is_chosen", "chat_descending"] { XCTAssertEqual(top[key] as? Bool, true, key) }
        // The tiny model's greedy text repeats tokens; penalties of 2 leave fewer repeats.
        let penalties = try XCTUnwrap(results["penalties"] as? [String: Int])
        XCTAssertGreaterThan(penalties["plain_repeats"] ?? 0, 0)
        XCTAssertLessThan(penalties["penalized_repeats"] ?? .max, penalties["plain_repeats"] ?? 0)
        if let stop = results["stop"] { XCTAssertEqual(stop as? Bool, true) }
        XCTAssertEqual(results["models"] as? [String], ["tiny-llama"])
        XCTAssertEqual(results["health"] as? Int, 200)
        let bad = try XCTUnwrap(results["bad_status"] as? [String: Int])
        XCTAssertEqual(bad["oversized_body"], 413)
        for (name, status) in bad where name != "oversized_body" { XCTAssertEqual(status, 400, name) }
        XCTAssertEqual(results["bad_have_error_object"] as? Bool, true)
        XCTAssertEqual(results["after_disconnect"] as? Int, 200)
        let load = try XCTUnwrap(results["load"] as? [String: Int])
        XCTAssertEqual(load["failed"], 0)
        XCTAssertGreaterThan(load["requests"] ?? 0, 16)
        // Stable memory: the last third of the load holds no more than the first third plus
        // 32 MB (a leak of one KV slot or one request's buffers per request would show).
        let memory = try XCTUnwrap(results["rss_mb"] as? [String: Any], "\(results)").mapValues { ($0 as? NSNumber)?.doubleValue ?? 0 }
        XCTAssertGreaterThan(memory["samples"] ?? 0, 10)
        XCTAssertLessThanOrEqual(memory["last_third_max"] ?? .infinity, (memory["first_third_max"] ?? 0) + 32, "\(memory)")
        XCTAssertEqual(results["metrics"] as? Bool, true)

        // Graceful shutdown on SIGTERM: the process ends by itself, successfully.
        server.terminate()
        let deadline = Date().addingTimeInterval(20)
        while server.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(server.isRunning, "the server stops within 20 s of SIGTERM")
        XCTAssertEqual(server.terminationStatus, 0)
    }

    /// A model folder with a chat template (Llama 2's, in tokenizer_config.json) converted to GGUF
    /// keeps it as `tokenizer.chat_template` (read back by the `gguf` package), and `llama serve`
    /// on that file renders chat messages with it: the prompt's token count equals jinja2's
    /// rendering tokenized as llama.cpp does (control pieces as their ids).
    func testChatUsesTheModelsTemplateFromGGUF() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = directory + "/chat-model"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.model"] {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: CLI.tinyLlama + "/" + name)
        }
        let template = #"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"#
        try JSONSerialization.data(withJSONObject: ["chat_template": template]).write(to: URL(fileURLWithPath: folder + "/tokenizer_config.json"))
        let gguf = directory + "/chat.gguf"
        let convert = try CLI.run(["convert", "--input", folder, "--output", gguf])
        XCTAssertEqual(convert.status, 0, convert.errors)

        let (server, port) = try startServer(["--model", gguf, "--slots", "2", "--context", "256"])
        defer { if server.isRunning { server.terminate() } }
        let check = try CLI.python("""
            import json, subprocess, sys, urllib.request, gguf
            port, model, path, template = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
            field = gguf.GGUFReader(path).fields["tokenizer.chat_template"]
            stored = bytes(field.parts[field.data[0]]).decode()
            messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": " Name a colour. "}]
            body = json.dumps({"messages": messages, "max_tokens": 3, "temperature": 0}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
                                             headers={"Content-Type": "application/json"})
            usage = json.load(urllib.request.urlopen(request, timeout=60))["usage"]
            script = sys.argv[5] + "/Tests/LlamaServerTests/Python/chat_reference.py"
            rendered = json.loads(subprocess.run(["python3", script], capture_output=True, text=True, check=True,
                input=json.dumps({"render": {"template": template, "conversations": [messages]}})).stdout)["render"][0]
            ids = json.loads(subprocess.run(["python3", script], capture_output=True, text=True, check=True,
                input=json.dumps({"tokenize": {"model": model, "texts": [rendered]}})).stdout)["tokenize"][0]
            print(json.dumps({"stored": stored == template, "prompt_tokens": usage["prompt_tokens"], "expected": len(ids),
                              "starts_with_bos": ids[0] == 1}))
            """, ["\(port)", CLI.tinyLlama + "/tokenizer.model", gguf, template, CLI.repository])
        XCTAssertEqual(check.status, 0, check.errors)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any], check.output)
        XCTAssertEqual(results["stored"] as? Bool, true)
        XCTAssertEqual(results["starts_with_bos"] as? Bool, true)
        XCTAssertEqual(results["prompt_tokens"] as? Int, results["expected"] as? Int)
        XCTAssertGreaterThan(results["expected"] as? Int ?? 0, 20)
    }

    /// Scoring through the API as evaluation harnesses do (lm-evaluation-harness's completions
    /// model): the prompt as token ids, `echo`, `max_tokens` 0, `logprobs`. Each prompt token's
    /// log-probability equals the log-softmax of transformers' logits (the fixture's
    /// reference.safetensors) after the tokens before it; the first has none. A text prompt scores
    /// the same as its ids with BOS, and the echoed text is the prompt.
    func testEchoScoresThePromptAsTransformersDoes() throws {
        let (server, port) = try startServer(["--model", CLI.tinyLlama, "--slots", "2", "--context", "256"])
        defer { if server.isRunning { server.terminate() } }
        let check = try CLI.python("""
            import json, sys, urllib.request
            import numpy as np
            from safetensors.numpy import load_file
            port, fixture = sys.argv[1], sys.argv[2]
            reference = load_file(fixture + "/reference.safetensors")
            ids = [int(i) for i in reference["input_ids"].reshape(-1)[:24]]
            logits = reference["logits"].reshape(-1, 1000)[:24].astype(np.float64)
            expected = [float(row[i] - np.log(np.exp(row - row.max()).sum()) - row.max()) for row, i in zip(logits[:-1], ids[1:])]
            def post(body):
                request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=json.dumps(body).encode(),
                                                 headers={"Content-Type": "application/json"})
                return json.load(urllib.request.urlopen(request, timeout=60))["choices"][0]
            scored = post({"prompt": ids, "echo": True, "max_tokens": 0, "logprobs": 1})
            batched = post({"prompt": [ids], "echo": True, "max_tokens": 0, "logprobs": 1})
            got = scored["logprobs"]["token_logprobs"]
            text = post({"prompt": "It was a bright day", "echo": True, "max_tokens": 2, "logprobs": 0, "temperature": 0})
            print(json.dumps({"first": got[0], "count": len(got), "max_error": max(abs(a - b) for a, b in zip(got[1:], expected)),
                              "batched_same": batched["logprobs"]["token_logprobs"] == got,
                              "top_sizes": sorted({len(t) for t in scored["logprobs"]["top_logprobs"][1:]}),
                              "echo_prefix": text["text"].startswith("It was a bright day"),
                              "echo_tokens": len(text["logprobs"]["tokens"]), "echo_first": text["logprobs"]["token_logprobs"][0]}))
            """, ["\(port)", CLI.tinyLlama])
        XCTAssertEqual(check.status, 0, check.errors)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as? [String: Any], check.output)
        XCTAssertTrue(results["first"] is NSNull, "the first token has no log-probability")
        XCTAssertEqual(results["count"] as? Int, 24)
        XCTAssertLessThan((results["max_error"] as? Double) ?? 1, 1e-3)
        XCTAssertEqual(results["top_sizes"] as? [Int], [1])
        XCTAssertEqual(results["batched_same"] as? Bool, true, "a list of one token list is the same prompt")
        XCTAssertEqual(results["echo_prefix"] as? Bool, true)
        XCTAssertTrue(results["echo_first"] is NSNull)
        XCTAssertGreaterThan(results["echo_tokens"] as? Int ?? 0, 2)
    }
}
