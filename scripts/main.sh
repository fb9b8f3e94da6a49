#!/usr/bin/env bash
# Sets everything up and runs the main job on the embedded default data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product llama
.build/release/llama generate --model Tests/Fixtures/tiny-llama --prompt-ids 1,626,685,897 --max-tokens 24 --seed 1
