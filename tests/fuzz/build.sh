#!/bin/sh
# build.sh - builds the libFuzzer targets in tests/fuzz/ into build-fuzz/ (see tests/fuzz/README.md).
#
# Kept out of CMake on purpose: the fuzz build needs clang and its own sanitizer flags for every object,
# and the normal build must not depend on either. The library's sources are read from the top-level
# CMakeLists.txt (the add_library(kizuki_core ...) block), so a source added there is fuzzed too.
#
# Usage: tests/fuzz/build.sh [TARGET...]     (default: every tests/fuzz/fuzz_*.c)
# Environment: CC (default clang), OUT (default build-fuzz), EXTRA_CFLAGS.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CC=${CC:-clang}
OUT=${OUT:-build-fuzz}
EXTRA_CFLAGS=${EXTRA_CFLAGS:-}
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
-Wall -Wextra -Wshadow -Wno-unused-parameter -Iinclude -Isrc $EXTRA_CFLAGS"

# Every word ending in .c between "add_library(kizuki_core" and the closing parenthesis.
SOURCES=$(awk '
    /add_library\(kizuki_core/ { inlib = 1 }
    inlib {
        line = $0
        sub(/#.*/, "", line)
        n = split(line, w, /[ \t()]+/)
        for (i = 1; i <= n; i++) if (w[i] ~ /\.c$/) print w[i]
        if (line ~ /\)/) inlib = 0
    }' CMakeLists.txt)
if [ -z "$SOURCES" ]; then
    echo "build.sh: no add_library(kizuki_core ...) sources found in CMakeLists.txt" >&2
    exit 1
fi

# Libraries kizuki_core links, from its target_link_libraries(...): CMake's imported targets become
# linker flags (Threads::Threads -> -pthread, ZLIB::ZLIB -> -lz, other Name::Name -> -lname).
LIBS=$(awk '
    /target_link_libraries\(kizuki_core/ { inlib = 1 }
    inlib {
        line = $0
        sub(/#.*/, "", line)
        n = split(line, w, /[ \t()]+/)
        for (i = 1; i <= n; i++) {
            if (w[i] == "" || w[i] == "target_link_libraries" || w[i] == "kizuki_core" ||
                w[i] ~ /^(PUBLIC|PRIVATE|INTERFACE)$/) continue
            if (w[i] == "Threads::Threads") print "-pthread"
            else if (w[i] == "ZLIB::ZLIB") print "-lz"
            else if (w[i] ~ /::/) { sub(/::.*/, "", w[i]); print "-l" tolower(w[i]) }
            else if (w[i] ~ /^-/) print w[i]
            else print "-l" w[i]
        }
        if (line ~ /\)/) inlib = 0
    }' CMakeLists.txt | sort -u | tr '\n' ' ')

mkdir -p "$OUT/obj"
# Library objects: instrumented for coverage (fuzzer-no-link) and the sanitizers, built once.
OBJS=""
for src in $SOURCES; do
    obj="$OUT/obj/$(echo "$src" | tr '/' '_' | sed 's/\.c$/.o/')"
    # Rebuilt when the source, any header under src/ or include/, or this script is newer.
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$0" -nt "$obj" ] ||
        [ -n "$(find src include -name '*.h' -newer "$obj" 2>/dev/null | head -n 1)" ]; then
        echo "  CC $src"
        # shellcheck disable=SC2086
        $CC $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"
    fi
    OBJS="$OBJS $obj"
done

if [ $# -gt 0 ]; then
    TARGETS=$*
else
    TARGETS=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||')
fi
for t in $TARGETS; do
    echo "  LD $OUT/$t"
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer,address,undefined "tests/fuzz/$t.c" $OBJS -pthread $LIBS -o "$OUT/$t"
done
echo "build.sh: built $(echo $TARGETS | wc -w) target(s) in $OUT/"
