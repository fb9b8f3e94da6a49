#!/usr/bin/env bash
# Builds Tests/Native/quantized_kernels_check.c with the C kernels at every SIMD level they have
# and runs it: x86 AVX2, x86 AVX-512 VNNI (its instructions emulated by SIMDe, as this machine
# and qemu have no AVX-512) and plain C (all three under AddressSanitizer and UBSan), and ARM
# (aarch64 cross compiler, run by qemu-user) on a CPU with the dot-product instruction and on
# one without it. It also checks that the native VNNI kernels compile to VPDPBUSD (Q8_0 / Q4_0 on
# zmm, Q4_K / Q6_K on ymm registers). Each run compares the Q8_0 / Q4_0 / Q4_K / Q6_K products
# against float64 sums; exits non-zero if any build fails a check. Part of scripts/test.sh; scripts/setup.sh installs the tools.
set -euo pipefail
cd "$(dirname "$0")/.."
kernels=Sources/CLlamaKernels
check=Tests/Native/quantized_kernels_check.c
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-O2 -std=gnu11 -I"$kernels/include" -I"$kernels")
sources=("$check" "$kernels"/*.c)

run() {
    local name=$1; shift
    echo "== $name"
    "$@"
}

cc -o "$work/avx2" "${flags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=undefined -mavx2 -mfma -mf16c \
    "${sources[@]}" -lm -lpthread
run "x86 AVX2" env EXPECT_DOTPROD=$(grep -q avx512_vnni /proc/cpuinfo && echo 1 || echo 0) "$work/avx2"
objdump -d --no-show-raw-insn "$work/avx2" >"$work/avx2.s"
grep -q 'vpdpbusd.*zmm' "$work/avx2.s" ||
    { echo "check-kernels: the AVX-512 VNNI kernels did not compile to vpdpbusd on zmm registers" >&2; exit 1; }
# The K-quant quarters (llama_vnni_kquant.c) keep 256-bit registers.
grep -q 'vpdpbusd.*ymm' "$work/avx2.s" ||
    { echo "check-kernels: the AVX-512 VNNI K-quant kernels did not compile to vpdpbusd on ymm registers" >&2; exit 1; }
if [ ! -f /usr/include/simde/x86/avx512.h ]; then
    echo "check-kernels: SIMDe (libsimde-dev) is needed for the emulated AVX-512 VNNI build (scripts/setup.sh installs it)" >&2
    exit 1
fi
cc -o "$work/vnni" "${flags[@]}" -DLLAMA_AVX512_EMULATION -Wno-psabi -fsanitize=address,undefined \
    -fno-sanitize-recover=undefined -mavx2 -mfma -mf16c "${sources[@]}" -lm -lpthread
run "x86 AVX-512 VNNI (emulated by SIMDe)" env EXPECT_DOTPROD=1 "$work/vnni"
cc -o "$work/plain" "${flags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=undefined \
    "${sources[@]}" -lm -lpthread
run "plain C" "$work/plain"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    echo "check-kernels: aarch64-linux-gnu-gcc and qemu-aarch64 are needed for the ARM builds (scripts/setup.sh installs them)" >&2
    exit 1
fi
aarch64-linux-gnu-gcc -o "$work/arm" "${flags[@]}" "${sources[@]}" -lm -lpthread
run "ARM, dot product (qemu -cpu max)" env EXPECT_DOTPROD=1 qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$work/arm"
run "ARM without it (qemu -cpu cortex-a53)" env EXPECT_DOTPROD=0 qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu "$work/arm"
echo "check-kernels: every build passed"
