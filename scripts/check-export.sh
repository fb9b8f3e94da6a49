#!/usr/bin/env bash
# Checks that a folder written by `llama export` is what the field's tools expect, with the
# tools themselves (too heavy for the test suite: PyTorch from PyPI is ~2.5 GB):
#   1. transformers loads it (AutoModelForCausalLM) and its logits equal `llama logits`;
#   2. transformers' AutoTokenizer makes a LlamaTokenizer whose ids equal `llama tokenizer encode`;
#   3. llama.cpp's convert_hf_to_gguf.py (from the llama-cpp-python sdist on PyPI, which
#      vendors llama.cpp) converts it, the tensors equal `llama convert`'s byte for byte, and
#      the converted file gives the same logits here.
# Usage: bash scripts/check-export.sh [WORK_DIR]   (default /tmp/llama-check-export)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/llama-check-export}"
mkdir -p "$work"
llama="${LLAMA_BIN:-.build/release/llama}"
[ -x "$llama" ] || swift build -c release --product llama
venv="$work/venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q torch transformers protobuf sentencepiece safetensors numpy
fi
converter="$work/llama.cpp/convert_hf_to_gguf.py"
if [ ! -f "$converter" ]; then
    url=$(curl -s https://pypi.org/pypi/llama-cpp-python/json | python3 -c \
        "import json,sys; print([u['url'] for u in json.load(sys.stdin)['urls'] if u['packagetype'] == 'sdist'][0])")
    curl -sL "$url" | tar xz -C "$work"
    ln -sfn "$(ls -d "$work"/llama_cpp_python-*/vendor/llama.cpp | head -n 1)" "$work/llama.cpp"
fi

run="$work/run"
rm -rf "$run"
"$llama" train --output "$run" --steps 20 --batch-size 4 --eval-interval 10 --eval-batches 1 \
    --checkpoint-interval 20 --sample-tokens 0 > "$work/train.log"
"$llama" export --checkpoint "$run" --output "$run/model"
ids=1,50,300,7,1000,42,9
"$llama" logits --model "$run/model" --ids "$ids" --output "$run/ours.npy"
text="And God said unto Moses, 1234 times."
ours_ids=$(echo "$text" | "$llama" tokenizer encode --model "$run/model/tokenizer.model" --output_format id)

"$venv/bin/python" "$converter" "$run/model" --outfile "$run/converted.gguf" --outtype f32 > "$work/convert.log" 2>&1
"$llama" convert --input "$run/model" --output "$run/ours.gguf" --type f32 > /dev/null
"$llama" logits --model "$run/converted.gguf" --ids "$ids" --output "$run/converted.npy"

PYTHONPATH="$work/llama.cpp/gguf-py" "$venv/bin/python" - "$run" "$ids" "$text" "$ours_ids" <<'EOF'
import sys, numpy as np, torch, gguf
from transformers import AutoModelForCausalLM, AutoTokenizer
run, ids, text, ours_ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], sys.argv[3], sys.argv[4]
failures = 0
def check(ok, message):
    global failures
    print(("ok    " if ok else "FAIL  ") + message)
    failures += not ok

model = AutoModelForCausalLM.from_pretrained(run + "/model", dtype=torch.float32).eval()
with torch.no_grad():
    theirs = model(torch.tensor([ids])).logits[0].numpy()
ours = np.load(run + "/ours.npy").reshape(theirs.shape)
difference = float(np.abs(theirs - ours).max())
check(difference < 1e-4, f"transformers {type(model).__name__} logits = llama logits (max |difference| {difference:.2e})")

tokenizer = AutoTokenizer.from_pretrained(run + "/model")
expected = [1] + [int(x) for x in ours_ids.split()]
got = tokenizer(text).input_ids
check(got == expected, f"transformers {type(tokenizer).__name__} ids = llama tokenizer encode (+BOS): {got[:12]}")

a, b = gguf.GGUFReader(run + "/converted.gguf"), gguf.GGUFReader(run + "/ours.gguf")
ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
same = set(ta) == set(tb) and all(ta[n].tensor_type == tb[n].tensor_type and
                                  np.array_equal(np.asarray(ta[n].data), np.asarray(tb[n].data)) for n in ta)
check(same, f"convert_hf_to_gguf.py tensors = llama convert tensors, byte for byte ({len(ta)} tensors)")
missing = sorted(k for k in a.fields if k not in b.fields and not k.startswith("GGUF."))
check(not missing, f"every metadata key of the converter's file is in ours (missing: {missing})")
converted = np.load(run + "/converted.npy").reshape(theirs.shape)
difference = float(np.abs(converted - ours).max())
check(difference < 1e-5, f"the converter's GGUF gives llama logits equal to the folder's (max |difference| {difference:.2e})")
sys.exit(1 if failures else 0)
EOF
