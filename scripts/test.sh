#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
log=$(mktemp)
# The tests' temporary folders (and those of the tools they start) go under one folder,
# removed at the end: a run leaves nothing behind in /tmp, even when a test fails midway.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/llama-test-run.XXXXXX")
trap 'rm -f "$log"; rm -rf "$scratch"' EXIT
set +e
TMPDIR="$scratch" swift test --skip-build --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# A plain closing line: the XCTest totals (the suite has no Swift Testing tests).
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1 || true)
executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -n "$summary" ]; then
    echo "swift test: $((executed - failed)) passed, $failed failed"
fi
# The C kernels at their other SIMD levels (plain C, ARM with and without SDOT under qemu).
set +e
bash scripts/check-kernels.sh
kernels_status=$?
set -e
[ "$status" -ne 0 ] && exit "$status"
exit "$kernels_status"
