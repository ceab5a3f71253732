#!/bin/sh
# build.sh - builds the libFuzzer targets in tests/fuzz/ into build-fuzz/ (see tests/fuzz/README.md).
#
# A separate CMake build with clang and KZ_FUZZ=ON: every library object is instrumented for
# coverage and the sanitizers, and each tests/fuzz/fuzz_*.c becomes a target, so a source added to
# the library is fuzzed too and the normal build depends on neither clang nor libFuzzer.
#
# Usage: tests/fuzz/build.sh [TARGET...]     (default: every tests/fuzz/fuzz_*.c)
# Environment: CC (default clang), OUT (default build-fuzz), EXTRA_CFLAGS.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CC=${CC:-clang}
OUT=${OUT:-build-fuzz}
cmake -S . -B "$OUT" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKZ_FUZZ=ON \
    -DCMAKE_C_FLAGS="${EXTRA_CFLAGS:-}" >/dev/null
if [ $# -gt 0 ]; then
    TARGETS=$*
else
    TARGETS=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||')
fi
# shellcheck disable=SC2086
cmake --build "$OUT" -j "$(nproc)" --target $TARGETS
echo "build.sh: built $(echo $TARGETS | wc -w) target(s) in $OUT/"
