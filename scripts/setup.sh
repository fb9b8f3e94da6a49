#!/usr/bin/env bash
# Installs what the toolkit and its tests need on a Debian machine with the Swift toolchain:
# OpenBLAS (the matrix kernels), pkg-config (to find it), OpenMPI (multi-process training;
# loaded at run time, optional for building), the aarch64 cross compiler and qemu-user (the ARM
# builds of the C kernels in scripts/check-kernels.sh), SIMDe (its emulated AVX-512 VNNI build),
# and the reference tools the tests compare against (Python sentencepiece, safetensors, numpy,
# gguf, openai, jinja2 for chat templates).
set -euo pipefail

need_apt=()
for package in libopenblas-dev pkg-config zlib1g-dev bzip2 libopenmpi-dev openmpi-bin \
               gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libsimde-dev; do
    dpkg -s "$package" >/dev/null 2>&1 || need_apt+=("$package")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c "import sentencepiece, safetensors, numpy, gguf, openai, jinja2" >/dev/null 2>&1; then
    echo "setup: installing Python reference libraries" >&2
    python3 -m pip install -q --disable-pip-version-check sentencepiece safetensors numpy gguf openai jinja2
fi
if ! python3 -c "import kenlm" >/dev/null 2>&1; then
    # The n-gram LM tests compare with kenlm; pip 23 fails to build its sdist, a newer pip works.
    python3 -m pip install -q --disable-pip-version-check -U pip && python3 -m pip install -q kenlm
fi
if ! python3 -c "import fasttext" >/dev/null 2>&1; then
    # The fastText tests train reference models with fastText 0.9.2's python bindings.
    python3 -m pip install -q --disable-pip-version-check fasttext-numpy2-wheel
fi
