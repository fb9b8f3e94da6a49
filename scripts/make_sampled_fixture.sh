#!/bin/sh
# Writes Tests/Fixtures/sentencepiece/botchan_bpe_600_sampled_1000_spm021.vocab: the vocabulary
# that sentencepiece 0.2.1 learns on botchan.txt with vocab_size=600, input_sentence_size=1000
# and shuffle_input_sentence=true (reservoir sampling). The tests compare our trainer with it.
#
# Why a committed file instead of a live run: sentencepiece 0.2.2 and later sample with
# absl::BitGen, which absl salts with entropy read once per process, so their sample differs
# from run to run even with spm.set_random_generator_seed (docs/tokenizer.md explains). 0.2.1
# is the last release whose sample is reproducible (std::mt19937 seeded with 12345678).
#
# Usage: scripts/make_sampled_fixture.sh [path/to/botchan.txt]
# Needs python3 with venv and network access to PyPI (installs sentencepiece==0.2.1 into a
# temporary virtual environment; the system's sentencepiece is left alone).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/../shared/fixtures/corpora/botchan.txt}"
output="$root/Tests/Fixtures/sentencepiece/botchan_bpe_600_sampled_1000_spm021.vocab"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q sentencepiece==0.2.1
"$work/venv/bin/python" - "$corpus" "$work/m" <<'PY'
import sys
import sentencepiece as spm
assert spm.__version__ == '0.2.1', spm.__version__
spm.SentencePieceTrainer.train(input=sys.argv[1], model_prefix=sys.argv[2], model_type='bpe', vocab_size=600,
                               input_sentence_size=1000, shuffle_input_sentence=True, minloglevel=2)
PY
cp "$work/m.vocab" "$output.tmp"
mv "$output.tmp" "$output"
echo "wrote $output"
