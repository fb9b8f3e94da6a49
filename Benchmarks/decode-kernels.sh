#!/bin/sh
# The decode step's kernels alone, without the model around them: the read probe (best and
# mean reads), one token's projections of the 110M model in Q4_0 and Q8_0, and decode attention
# with and without the prefetch pointers (Benchmarks/native/decode_passes.c says what each line
# measures). docs/performance.md (session 9) compares these with the model's own decode.
# x86-64 with AVX2 or ARM; never run by `swift test`.
#
# Usage: Benchmarks/decode-kernels.sh
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
kernels="$root/Sources/CLlamaKernels"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
case "$(uname -m)" in
  x86_64) arch="-march=x86-64-v3" ;;
  *) arch="" ;;
esac
cc -O3 $arch -std=gnu11 -I"$kernels/include" -I"$kernels" -o "$work/decode_passes" \
  "$root/Benchmarks/native/decode_passes.c" "$kernels"/*.c -lm -lpthread
"$work/decode_passes"
