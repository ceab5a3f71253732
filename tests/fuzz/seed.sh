#!/bin/sh
# seed.sh - makes the seed corpora for the EVTX fuzz targets, outside the repository.
#
#   build-fuzz/seeds_chunk/  every 64 KiB chunk of every real .evtx file under the shared data (the 4 KiB
#                            file header skipped), named by content hash so duplicates collapse;
#   build-fuzz/seeds_file/   small whole files (up to MAX_FILE bytes, i.e. one or two chunks), plus a
#                            copy of a few of them cut inside their last chunk (a truncated file).
#
# The shared data is third-party: it is only ever copied into build-fuzz/, never into the repository.
# Usage: tests/fuzz/seed.sh [DATA_DIR]   (default: ../shared/data/evtx, or $KZ_SHARED_DATA/evtx)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-build-fuzz}
DATA=${1:-${KZ_SHARED_DATA:+$KZ_SHARED_DATA/evtx}}
DATA=${DATA:-../shared/data/evtx}
MAX_FILE=${MAX_FILE:-135168} # file header + 2 chunks
TRUNCATED=${TRUNCATED:-8}    # how many truncated copies to make

if [ ! -d "$DATA" ]; then
    echo "seed.sh: no EVTX data at $DATA; the fuzzers will start from an empty corpus" >&2
    mkdir -p "$OUT/seeds_chunk" "$OUT/seeds_file"
    exit 0
fi
mkdir -p "$OUT/seeds_chunk" "$OUT/seeds_file"
TMP=$(mktemp "${TMPDIR:-/tmp}/kz_seed.XXXXXX")
trap 'rm -f "$TMP"' EXIT

nchunks=0
nfiles=0
ntrunc=0
find "$DATA" -type f -iname '*.evtx' | sort > "$TMP.list"
while IFS= read -r f; do
    size=$(wc -c < "$f")
    [ "$size" -gt 4096 ] || continue
    # Chunks: 64 KiB each after the 4 KiB header; the last one may be short.
    count=$(( (size - 4096 + 65535) / 65536 ))
    i=0
    while [ "$i" -lt "$count" ]; do
        dd if="$f" of="$TMP" bs=4096 skip=$((1 + i * 16)) count=16 2>/dev/null
        # Only chunks that carry a chunk signature: blank (zeroed) chunks add nothing.
        if [ "$(head -c 7 "$TMP")" = "ElfChnk" ]; then
            sum=$(sha1sum "$TMP" | cut -c1-16)
            if [ ! -f "$OUT/seeds_chunk/$sum" ]; then
                cp "$TMP" "$OUT/seeds_chunk/$sum"
                nchunks=$((nchunks + 1))
            fi
        fi
        i=$((i + 1))
    done
    if [ "$size" -le "$MAX_FILE" ]; then
        sum=$(sha1sum "$f" | cut -c1-16)
        if [ ! -f "$OUT/seeds_file/$sum" ]; then
            cp "$f" "$OUT/seeds_file/$sum"
            nfiles=$((nfiles + 1))
            if [ "$ntrunc" -lt "$TRUNCATED" ]; then
                # Cut inside the last chunk, at a point that varies from file to file.
                cut_at=$(( size - 4096 - (ntrunc + 1) * 6000 ))
                head -c "$cut_at" "$f" > "$OUT/seeds_file/$sum.trunc"
                ntrunc=$((ntrunc + 1))
            fi
        fi
    fi
done < "$TMP.list"
rm -f "$TMP.list"
echo "seed.sh: $nchunks chunks in $OUT/seeds_chunk/, $nfiles files (+$ntrunc truncated) in $OUT/seeds_file/"
