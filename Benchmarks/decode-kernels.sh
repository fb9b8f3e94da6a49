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
# The compiler SwiftPM builds CLlamaKernels with, the Swift toolchain's clang, unless CC says
# otherwise: Debian's gcc 12 makes the Q4_0 product about a third slower in cache (23-25
# against 33-35 GB/s on one core), which understated the kernels before session 10.
compiler="${CC:-$(command -v clang || echo cc)}"
"$compiler" -O3 $arch -std=gnu11 -I"$kernels/include" -I"$kernels" -o "$work/decode_passes" \
  "$root/Benchmarks/native/decode_passes.c" "$kernels"/*.c -lm -lpthread
"$work/decode_passes"
