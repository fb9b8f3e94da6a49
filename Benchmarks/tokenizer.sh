#!/bin/sh
# Tokenizer benchmark: this implementation against python `sentencepiece`, in the same run.
# Prints encode MB/s and tokens/s with 1 and 2 threads, and training time and peak memory
# for an 8000-piece BPE model on kjv_verses.txt. Never run by `swift test`.
#
# Usage: Benchmarks/tokenizer.sh [--no-build]
# Needs: python3 with sentencepiece (pip install sentencepiece), the shared corpora at
# ../shared/fixtures/corpora (or CORPORA=/path/to/corpora).
# The figures are wall-clock seconds (best of 3); on a shared machine run it twice.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
corpora="${CORPORA:-$root/../shared/fixtures/corpora}"
kjv="$corpora/kjv_verses.txt"
botchan_model="$root/Tests/Fixtures/sentencepiece/botchan_en_bpe_1000.model"
[ -f "$kjv" ] || { echo "missing $kjv" >&2; exit 1; }
if [ "${1:-}" != "--no-build" ]; then
  (cd "$root" && swift build -c release --product llama >/dev/null)
fi
llama="$root/.build/release/llama"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A LLaMA-like 32000-piece model (identity normalizer, byte fallback, split digits), made by sentencepiece.
python3 "$root/scripts/spm_reference.py" train "$kjv" "$work/llama32k" \
  '{"model_type":"bpe","vocab_size":32000,"byte_fallback":true,"split_digits":true,"normalization_rule_name":"identity","remove_extra_whitespaces":false,"allow_whitespace_only_pieces":true}' >/dev/null

echo "== encode kjv_verses.txt ($(wc -c < "$kjv") bytes, $(wc -l < "$kjv") lines), best of 3"
for model in "$botchan_model" "$work/llama32k.model"; do
  ours="$("$llama" tokenizer bench --model="$model" --corpus="$kjv" --repeat=3)"
  theirs="$(python3 "$root/Benchmarks/spm_bench.py" encode "$model" "$kjv" 3)"
  python3 - "$model" "$ours" "$theirs" <<'PY'
import json, os, sys
name, ours, theirs = os.path.basename(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
for t in ('threads_1', 'threads_2'):
    o, s = ours[t], theirs[t]
    print(f"{name:28s} {t}: swift {o['mb_per_s']:6.2f} MB/s {o['tokens_per_s']/1e6:5.2f} Mtok/s | "
          f"sentencepiece {s['mb_per_s']:6.2f} MB/s {s['tokens_per_s']/1e6:5.2f} Mtok/s | ratio {o['mb_per_s']/s['mb_per_s']:4.2f}x"
          + ("" if o['tokens'] == s['tokens'] else "  TOKEN COUNTS DIFFER"))
PY
done

echo "== train BPE 8000 on kjv_verses.txt (wall seconds best of 3; peak RSS of the whole process)"
ours="$(/usr/bin/time -f '%M' -o "$work/ours.rss" "$llama" tokenizer bench --train="$kjv" --vocab_size=8000 --repeat=3)"
theirs="$(/usr/bin/time -f '%M' -o "$work/theirs.rss" python3 "$root/Benchmarks/spm_bench.py" train "$kjv" 8000 3)"
python3 - "$ours" "$theirs" "$(cat "$work/ours.rss")" "$(cat "$work/theirs.rss")" <<'PY'
import json, sys
o, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"swift {o['train_seconds']:.3f} s, peak {int(sys.argv[3])/1024:.0f} MB | sentencepiece {s['train_seconds']:.3f} s, "
      f"peak {int(sys.argv[4])/1024:.0f} MB (python interpreter included) | ratio {s['train_seconds']/o['train_seconds']:.2f}x")
PY
echo "== the same, each run in a fresh process (wall seconds, peak RSS; start-up and writing the model included)"
for run in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$work/ours.cold" "$llama" tokenizer train --input="$kjv" --model_prefix="$work/cold" --vocab_size=8000 >/dev/null
  /usr/bin/time -f '%e %M' -o "$work/theirs.cold" python3 -c 'import sys, sentencepiece as spm
spm.SentencePieceTrainer.train(input=sys.argv[1], model_prefix=sys.argv[2], model_type="bpe", vocab_size=8000, minloglevel=2)' \
    "$kjv" "$work/cold_spm"
  read -r ours_s ours_kb < "$work/ours.cold"; read -r theirs_s theirs_kb < "$work/theirs.cold"
  python3 -c "import sys; o, s = float(sys.argv[1]), float(sys.argv[3]); print(f'run {sys.argv[5]}: swift {o:.2f} s, {int(sys.argv[2])//1024} MB | python sentencepiece {s:.2f} s, {int(sys.argv[4])//1024} MB | ratio {s/o:.2f}x')" \
    "$ours_s" "$ours_kb" "$theirs_s" "$theirs_kb" "$run"
done
echo "== memory with sampling: input_sentence_size=2000 (reservoir) on the same file"
/usr/bin/time -f '%M' -o "$work/sampled.rss" "$llama" tokenizer bench --train="$kjv" --vocab_size=8000 --input_sentence_size=2000 --hard_vocab_limit=false --repeat=1 >/dev/null
echo "swift peak $(( $(cat "$work/sampled.rss") / 1024 )) MB (whole file: $(( $(cat "$work/ours.rss") / 1024 )) MB)"
uptime
