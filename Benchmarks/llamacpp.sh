#!/bin/sh
# This implementation against llama.cpp on the same GGUF files, one after the other:
# `llama bench --model FILE` (prefill 128 tokens, decode 64) and llama.cpp's
# `llama-bench -p 128 -n 64 -t 2`. Never run by `swift test`.
#
# Usage: Benchmarks/llamacpp.sh LLAMA_CPP_BIN_DIR FILE.gguf...
#   LLAMA_CPP_BIN_DIR holds llama-bench and its libggml*.so (a llama.cpp CMake build's
#   build/bin; the llama-cpp-python sdist vendors a llama.cpp tree that builds with
#   `cmake -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build --target llama-bench`).
#   Make the files with `llama convert` / `llama quantize` (see docs/inference.md).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 LLAMA_CPP_BIN_DIR FILE.gguf..." >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "$1" && pwd)"
shift
[ -x "$bin/llama-bench" ] || { echo "$bin/llama-bench not found" >&2; exit 1; }
for file in "$@"; do
  path="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
  echo "== $path"
  "$root/.build/release/llama" bench --model "$path" --prompt-tokens 128 --decode-tokens 64 2>&1 | grep -E "prefill|decode:"
  (cd "$bin" && LD_LIBRARY_PATH="$bin" ./llama-bench -m "$path" -p 128 -n 64 -t 2 2>/dev/null | grep -E "pp128|tg64")
done
