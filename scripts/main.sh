#!/usr/bin/env bash
# Sets everything up and runs the main job on the embedded default data: trains a
# SentencePiece BPE tokenizer and a small LLaMA on public-domain text (KJV, The Devil's
# Dictionary, Botchan), shows the validation loss against the unigram entropy, prints a
# sample, and exports a Hugging Face folder that `llama generate` loads.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product llama
run="${1:-runs/main}"
.build/release/llama train --output "$run"
.build/release/llama export --checkpoint "$run" --output "$run/model"
.build/release/llama generate --model "$run/model" --prompt "And God said" --max-tokens 40 --seed 1
