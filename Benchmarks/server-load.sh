#!/usr/bin/env bash
# Load test of `llama serve` (issue: a bounded load test with no failed request and stable
# memory): CLIENTS concurrent OpenAI-client loops for SECONDS against a model, after the
# functional checks of Tests/LlamaCLITests/Python/server_check.py; prints requests, failures,
# requests/s and the server's resident memory before, in the first and last thirds, and peak.
# Usage: bash Benchmarks/server-load.sh [MODEL] [CLIENTS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-Tests/Fixtures/tiny-llama}"
clients="${2:-50}"
seconds="${3:-30}"
llama="${LLAMA_BIN:-.build/release/llama}"
[ -x "$llama" ] || swift build -c release --product llama
log=$(mktemp)
"$llama" serve --model "$model" --port 0 --slots 16 --context 512 > "$log" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q ":" "$log" && break; sleep 0.1; done
port=$(head -n 1 "$log" | sed -E 's/.*:([0-9]+).*/\1/')
python3 Tests/LlamaCLITests/Python/server_check.py "$port" "$seconds" "$clients" "$server" | python3 -c '
import json, sys
r = json.load(sys.stdin)
m = r.get("rss_mb", {})
print("load: %d requests, %d failed, %.1f requests/s" % (r["load"]["requests"], r["load"]["failed"], r["load_requests_per_second"]))
print("server RSS MB: before %.1f, first-third max %.1f, last-third max %.1f, peak %.1f (%d samples)" % (
    m.get("before", 0), m.get("first_third_max", 0), m.get("last_third_max", 0), m.get("peak", 0), m.get("samples", 0)))
'
kill -TERM $server
wait $server && echo "server: clean exit after SIGTERM"
