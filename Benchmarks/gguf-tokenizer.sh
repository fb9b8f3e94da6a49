#!/usr/bin/env bash
# The vocabulary inside GGUF files as a tokenizer here against llama.cpp's own tokenizer on the
# same files: `llama tokenizer encode --model=FILE.gguf --extra_options=bos` and llama.cpp's
# `llama-tokenize -m FILE.gguf --ids --no-parse-special --no-escape` (text as sentencepiece
# sees it: no special-token markup, no escape sequences) line by line. Lines that are not
# valid UTF-8 are counted apart: sentencepiece, and this tokenizer with it, turns each malformed
# sequence into U+FFFD, llama.cpp keeps the bytes. Never run by `swift test` (needs a llama.cpp
# build). Prints each valid line that differs; exits 1 if any does.
#
# Usage: Benchmarks/gguf-tokenizer.sh LLAMA_CPP_BIN_DIR TEXT_FILE FILE.gguf...
#   LLAMA_CPP_BIN_DIR holds llama-tokenize and its libraries (a llama.cpp CMake build's
#   build/bin: `cmake --build build --target llama-tokenize`, e.g. in the llama-cpp-python sdist).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 LLAMA_CPP_BIN_DIR TEXT_FILE FILE.gguf..." >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "$1" && pwd)"
text="$2"
shift 2
[ -x "$bin/llama-tokenize" ] || { echo "$bin/llama-tokenize not found" >&2; exit 1; }
[ -f "$text" ] || { echo "$text not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=$(wc -l < "$text")
status=0
for file in "$@"; do
    "$root/.build/release/llama" tokenizer encode --model="$file" --output_format=id --extra_options=bos --input="$text" > "$work/ours"
    differ=0 invalid=0
    for n in $(seq 1 "$count"); do
        # Line n as bytes (NULs included, which a shell variable would drop), without its newline.
        sed -n "${n}p" "$text" | head -c -1 > "$work/line"
        if ! python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$work/line" 2>/dev/null; then
            invalid=$((invalid + 1)); continue
        fi
        mine=$(sed -n "${n}p" "$work/ours")
        theirs=$(LD_LIBRARY_PATH="$bin" "$bin/llama-tokenize" -m "$file" -f "$work/line" --ids --no-parse-special --no-escape --log-disable 2>/dev/null \
            | tail -n 1 | tr -d '[],')
        if [ "$theirs" != "$mine" ]; then
            differ=$((differ + 1))
            echo "$file line $n: $(cat -v "$work/line")"
            echo "  ours:      $mine"
            echo "  llama.cpp: $theirs"
        fi
    done
    echo "$file: $((count - invalid - differ)) of $((count - invalid)) valid UTF-8 lines give llama.cpp's ids ($invalid not valid UTF-8)"
    [ "$differ" -eq 0 ] || status=1
done
exit "$status"
