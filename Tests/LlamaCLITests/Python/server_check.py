"""Exercises `llama serve` over real HTTP with the OpenAI Python client and raw sockets.

Usage: server_check.py PORT LOAD_SECONDS CLIENTS [SERVER_PID]. Prints one JSON object with a
result per check; the Swift test asserts on it. With SERVER_PID the server's resident memory
(VmRSS) is sampled every 0.25 s during the load.
"""
import concurrent.futures
import http.client
import json
import socket
import sys
import time

import openai

import threading

port, load_seconds, clients = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
server_pid = int(sys.argv[4]) if len(sys.argv) > 4 else None
base = f"http://127.0.0.1:{port}/v1"
client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=60)
results = {}


def raw(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


# Completions with logprobs, greedy: deterministic and with one logprob per token.
completion = client.completions.create(model="tiny", prompt="It was a", max_tokens=8, temperature=0, logprobs=1)
choice = completion.choices[0]
results["completion"] = {
    "text": choice.text,
    "finish_reason": choice.finish_reason,
    "logprobs": len(choice.logprobs.token_logprobs),
    "all_negative": all(p <= 0 for p in choice.logprobs.token_logprobs),
    "usage": [completion.usage.prompt_tokens, completion.usage.completion_tokens],
}
again = client.completions.create(model="tiny", prompt="It was a", max_tokens=8, temperature=0)
results["deterministic"] = again.choices[0].text == choice.text

# Streaming completion: the deltas add up to the non-streamed text.
parts = [c.choices[0].text for c in client.completions.create(model="tiny", prompt="It was a", max_tokens=8, temperature=0, stream=True)]
results["stream_equals"] = "".join(parts) == choice.text

# Chat, streamed and not, with a seed.
chat = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hello"}], max_tokens=6, seed=3, temperature=0.8, logprobs=True)
results["chat"] = {"role": chat.choices[0].message.role, "finish_reason": chat.choices[0].finish_reason,
                   "logprobs": len(chat.choices[0].logprobs.content)}
chunks = list(client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hello"}], max_tokens=6, seed=3,
                                             temperature=0.8, stream=True))
streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
results["chat_stream_equals"] = streamed == chat.choices[0].message.content
results["chat_stream_finish"] = chunks[-1].choices[0].finish_reason

# Top log-probabilities, greedy: each position lists the N most likely tokens, most likely first,
# and the chosen token is the first (completions: {text: logprob}; chat: top_logprobs entries).
top = client.completions.create(model="tiny", prompt="It was a", max_tokens=6, temperature=0, logprobs=3).choices[0].logprobs
top_chat = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hello"}], max_tokens=5,
                                          temperature=0, logprobs=True, top_logprobs=4).choices[0].logprobs.content
results["top_logprobs"] = {
    "completion_sizes": sorted({len(d) for d in top.top_logprobs}),
    "completion_first_is_chosen": all(abs(max(d.values()) - p) < 1e-6 for d, p in zip(top.top_logprobs, top.token_logprobs)),
    "chat_sizes": sorted({len(item.top_logprobs) for item in content} if (content := top_chat) else []),
    "chat_first_is_chosen": all(item.top_logprobs[0].token == item.token and abs(item.top_logprobs[0].logprob - item.logprob) < 1e-6
                                for item in top_chat),
    "chat_descending": all([a.logprob for a in item.top_logprobs] == sorted((a.logprob for a in item.top_logprobs), reverse=True)
                           for item in top_chat),
}

# Frequency and presence penalties change a greedy completion that repeats itself.
plain = client.completions.create(model="tiny", prompt="It was a", max_tokens=12, temperature=0, logprobs=0).choices[0].logprobs.tokens
penalized = client.completions.create(model="tiny", prompt="It was a", max_tokens=12, temperature=0, logprobs=0,
                                      frequency_penalty=2, presence_penalty=2).choices[0].logprobs.tokens
results["penalties"] = {"plain_repeats": len(plain) - len(set(plain)), "penalized_repeats": len(penalized) - len(set(penalized))}

# Stop strings: the text ends before the first occurrence of the stop string.
full = choice.text
if len(full) > 4:
    stop = full[3:5]
    stopped = client.completions.create(model="tiny", prompt="It was a", max_tokens=8, temperature=0, stop=[stop])
    results["stop"] = stopped.choices[0].text == full[: full.index(stop)] and stopped.choices[0].finish_reason == "stop"

# Models and health.
results["models"] = [m.id for m in client.models.list().data]
results["health"] = raw("GET", "/health")[0]

# Bad requests: a 4xx each, never a crash.
bad = {
    "malformed_json": raw("POST", "/v1/completions", b"{not json"),
    "unknown_field": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "bogus": 1}).encode()),
    "negative_max_tokens": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "max_tokens": -5}).encode()),
    "huge_max_tokens": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "max_tokens": 10**9}).encode()),
    "oversized_body": raw("POST", "/v1/completions", json.dumps({"prompt": "a" * (2 << 20)}).encode()),
    "missing_prompt": raw("POST", "/v1/completions", b"{}"),
    "bad_messages": raw("POST", "/v1/chat/completions", json.dumps({"messages": [{"role": "robot", "content": 1}]}).encode()),
    "temperature_type": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "temperature": "hot"}).encode()),
    "echo_with_stream": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "echo": True, "stream": True}).encode()),
    "zero_max_tokens_without_echo": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "max_tokens": 0}).encode()),
    "token_id_out_of_range": raw("POST", "/v1/completions", json.dumps({"prompt": [1, 5000]}).encode()),
    "penalty_out_of_range": raw("POST", "/v1/completions", json.dumps({"prompt": "a", "presence_penalty": 2.5}).encode()),
    "too_many_top_logprobs": raw("POST", "/v1/chat/completions", json.dumps(
        {"messages": [{"role": "user", "content": "a"}], "logprobs": True, "top_logprobs": 21}).encode()),
    "top_logprobs_without_logprobs": raw("POST", "/v1/chat/completions", json.dumps(
        {"messages": [{"role": "user", "content": "a"}], "top_logprobs": 2}).encode()),
}
results["bad_status"] = {name: status for name, (status, _) in bad.items()}
results["bad_have_error_object"] = all("error" in json.loads(body) for _, body in bad.values() if body[:1] == b"{")

# A client that disconnects mid-stream: the server keeps serving.
sock = socket.create_connection(("127.0.0.1", port))
body = json.dumps({"prompt": "It was", "max_tokens": 200, "stream": True}).encode()
sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
             + str(len(body)).encode() + b"\r\n\r\n" + body)
sock.recv(200)
sock.close()
time.sleep(0.5)
results["after_disconnect"] = raw("GET", "/health")[0]

# Bounded load: CLIENTS concurrent clients for LOAD_SECONDS, every request must succeed.
deadline = time.time() + load_seconds


def worker(index):
    done, failed = 0, 0
    local = openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=120)
    while time.time() < deadline:
        try:
            r = local.completions.create(model="tiny", prompt=f"Request {index}", max_tokens=8, temperature=0.7, seed=index)
            done += 1 if r.choices[0].finish_reason in ("length", "stop") else 0
        except Exception as error:  # noqa: BLE001 - any failure counts
            failed += 1
            print("load failure:", error, file=sys.stderr)
    return done, failed


def resident_megabytes():
    with open(f"/proc/{server_pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


samples = []
sampling = threading.Event()


def sample():
    while not sampling.is_set():
        samples.append((time.time(), resident_megabytes()))
        sampling.wait(0.25)


sampler = threading.Thread(target=sample) if server_pid else None
load_start = time.time()
if sampler:
    sampler.start()
with concurrent.futures.ThreadPoolExecutor(clients) as pool:
    outcomes = list(pool.map(worker, range(clients)))
load_seconds_taken = time.time() - load_start
if sampler:
    sampling.set()
    sampler.join()
results["load"] = {"requests": sum(d for d, _ in outcomes), "failed": sum(f for _, f in outcomes)}
results["load_requests_per_second"] = results["load"]["requests"] / load_seconds_taken
if samples:
    third = load_seconds_taken / 3
    first = [mb for t, mb in samples if t - load_start <= third]
    last = [mb for t, mb in samples if t - load_start >= 2 * third]
    results["rss_mb"] = {"before": samples[0][1], "first_third_max": max(first or [0]),
                         "last_third_max": max(last or [0]), "peak": max(mb for _, mb in samples), "samples": float(len(samples))}
status, metrics = raw("GET", "/metrics")
results["metrics"] = status == 200 and b"llama_tokens_per_second" in metrics and b"llama_queue_length" in metrics
print(json.dumps(results, sort_keys=True))
