#!/bin/sh
# Data-parallel training benchmark (issue 9): training tokens/s of `llama train` with 1 process
# and with 2 MPI ranks, one thread per rank, on the same global batch; scaling efficiency;
# the ranks with and without overlapping allreduce, with ZeRO-1; and MPI allreduce bandwidth.
# Never run by `swift test`.
#
# Usage: Benchmarks/mpi.sh [--no-build]      (STEPS=6 PRESET=builtin BATCH=8 CONTEXT=128 ACCUMULATION=2
#        MPIRUN_FLAGS="--bind-to none --mca mpi_yield_when_idle 1" to try other placements)
# Needs: OpenMPI (mpirun). Rates are the median per-step tokens/s of metrics.jsonl after
# two warm-up steps; on a shared machine run it twice.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" != "--no-build" ]; then
  (cd "$root" && swift build -c release --product llama >/dev/null)
fi
llama="$root/.build/release/llama"
mpirun="mpirun --oversubscribe --allow-run-as-root ${MPIRUN_FLAGS:-}"
steps="${STEPS:-6}" preset="${PRESET:-builtin}" batch="${BATCH:-8}" context="${CONTEXT:-128}" accumulation="${ACCUMULATION:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The built-in corpus's tokenizer and shards, made once.
"$llama" train --steps 1 --batch-size 1 --context 16 --eval-interval 0 --sample-tokens 0 --output "$work/prep" >/dev/null
data=""
for source in "$work"/prep/data/*; do data="$data --data $source"; done

median_rate() {
  python3 - "$1" <<'PY'
import json, statistics, sys
rates = [json.loads(line)["tokens_per_second"] for line in open(sys.argv[1] + "/metrics.jsonl") if '"loss"' in line]
print("%.0f" % statistics.median(rates[2:] or rates))
PY
}
args="$data --preset $preset --batch-size $batch --context $context --batch-tokens $((batch * context * accumulation))
      --steps $steps --eval-interval 0 --checkpoint-interval 100000 --log-interval 1 --sample-tokens 0"

echo "model $preset, $batch x $context tokens x $accumulation micro-batches per step, $steps steps, 1 thread per rank"
LLAMA_THREADS=1 "$llama" train $args --output "$work/one" >/dev/null
one=$(median_rate "$work/one")
echo "1 process:                 $one tokens/s"
for variant in "overlap:" "no-overlap:--no-overlap" "zero1:--zero1"; do
  name="${variant%%:*}" flag="${variant#*:}"
  LLAMA_THREADS=1 $mpirun -x LLAMA_THREADS -np 2 "$llama" train $args $flag --output "$work/$name" > "$work/$name.log"
  two=$(median_rate "$work/$name")
  python3 -c "import sys; one, two = float(sys.argv[1]), float(sys.argv[2]); print('2 ranks, %-12s %6.0f tokens/s, speed-up %.2fx, scaling efficiency %.0f%%' % (sys.argv[3] + ':', two, two / one, 50 * two / one))" "$one" "$two" "$name"
  grep -o "optimizer state [0-9.]* MiB per rank[^;]*" "$work/$name.log" | head -1 | sed 's/^/    /'
done
for megabytes in 1 100; do
  $mpirun -np 2 "$llama" train-bench --allreduce-megabytes "$megabytes"
done
