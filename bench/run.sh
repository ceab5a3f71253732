#!/usr/bin/env bash
# bench/run.sh - the EVTX benchmarks of bench/RESULTS.md, reproducible by anyone: `bench/run.sh` from the
# repository root (or anywhere). Needs the shared corpus in ../shared/data (or KZ_DATA=/path/to/data).
#
# It builds kizuki in Release mode if needed, installs what it needs (scripts/install-deps.sh bench), then
# measures, each several times and reporting the median:
#   (a) decode only (bench/evtx_decode_bench.c): records/s on one thread for a set of dense Security logs
#       and a set of dense Sysmon logs, the same on all threads, and on the whole corpus;
#   (b) `kizuki dump --quiet` over the whole corpus to /dev/null, on one thread and on all: wall time,
#       CPU% and peak RSS from /usr/bin/time -v;
#   (c) the peer, libevtx's `evtxexport -f xml`, over every .evtx file of the corpus, one after another;
#       and the ratio of (c) to (b);
#   (d) peak RSS of `kizuki dump` on the largest file of the corpus, on the whole corpus, and on a
#       synthetic 65 MiB file (the largest Security log's chunks repeated) to show memory stays flat.
# It prints a Markdown table and adds it, dated and with the machine and commit, to bench/RESULTS.md
# (replacing a section of the same day and commit). Takes about two minutes.
#
# Knobs (environment): RUNS (timed runs per measure, default 5), DECODE_SECONDS (seconds per decode
# run, default 2), KZ_DATA (the shared data folder), NO_RESULTS=1 (print the table, leave RESULTS.md).
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib.sh
root=$PWD
data=${KZ_DATA:-$root/../shared/data}
tree=$data/evtx
runs=${RUNS:-5}
decode_seconds=${DECODE_SECONDS:-2}
results=$root/bench/RESULTS.md
work=$root/bench/out # scratch (git-ignored)

die() {
    echo "bench/run.sh: $*" >&2
    exit 1
}

[ -d "$tree" ] || die "no EVTX corpus at $tree (set KZ_DATA to the shared data folder)"

scripts/install-deps.sh bench

# ---- build (Release; a build/ configured otherwise is left alone and build-release/ is used) ----
build=$root/build
if [ -f "$build/CMakeCache.txt" ] &&
    ! grep -Eq '^CMAKE_BUILD_TYPE:[A-Z]+=(Release|)$' "$build/CMakeCache.txt"; then
    build=$root/build-release
fi
mkdir -p "$work"
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$work/build.log" 2>&1 ||
        { cat "$work/build.log" >&2; die "cmake configure failed"; }
fi
cmake --build "$build" -j"$(nproc)" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; die "build failed"; }
kizuki=$build/kizuki
evtx_bench=$build/evtx_bench
{ [ -x "$kizuki" ] && [ -x "$evtx_bench" ]; } || die "build did not produce $kizuki and $evtx_bench"

# ---- helpers ----

# median and range: bench/lib.sh
# thousands separators: 1234567 -> 1,234,567
thousands() {
    printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}
# range with thousands separators
range_k() {
    local r
    r=$(range "$@")
    echo "$(thousands "${r%-*}")-$(thousands "${r#*-}")"
}

# timed CMD...: runs CMD (stdout to /dev/null) under /usr/bin/time -v; sets t_wall (seconds, from the
# monotonic clock, finer than time's centiseconds), t_cpu (percent) and t_rss (peak RSS, KiB).
timed() {
    local log=$work/time.log t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$work/stderr.log" ||
        die "failed: $* (see $work/stderr.log and $log)"
    t1=$(date +%s%N)
    t_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    t_cpu=$(sed -n 's/^[[:space:]]*Percent of CPU this job got: \([0-9]*\)%.*/\1/p' "$log")
    t_rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$log")
}

# bench_field OUTPUT LABEL: the number after "LABEL:" in evtx_bench's output
bench_field() {
    printf '%s\n' "$1" | sed -n "s/^$2: \([0-9.]*\).*/\1/p"
}

rows=()
# row WHAT MEDIAN RANGE TARGET VERDICT
row() {
    rows+=("| $1 | $2 | $3 | $4 | $5 |")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
case $(awk '{ print ($1 > 0.5) }' /proc/loadavg) in
1) echo "bench/run.sh: warning: load average is $load_before; other work will slow the figures" >&2 ;;
esac

# ---- (a) decode only ----

security_set=(
    "$tree/dirty-samples/samples/security.evtx"                           # 2261 records, 26 chunks
    "$tree/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_5145_Remote_FileCopy.evtx" # 869 records
    "$tree/dirty-samples/samples/Security_with_size_t.evtx"               # 636 records
)
sysmon_set=(
    "$tree/python-evtx-tests/tests/data/issue_43.evtx"                    # 1730 records
    "$tree/EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx" # 565
    "$tree/EVTX-ATTACK-SAMPLES/Privilege Escalation/Sysmon_UACME_64.evtx" # 530 records
    "$tree/dirty-samples/samples/sysmon.evtx"                             # 358 records
)
for f in "${security_set[@]}" "${sysmon_set[@]}"; do [ -f "$f" ] || die "missing $f"; done

# decode NAME THREADS RUNS FILES...: runs evtx_bench, adds rows for records/s (wall clock and per CPU
# second) and remembers the decoder's peak allocation.
decode_peak_mib=0
decode() {
    local name=$1 threads=$2 n=$3 wall=() cpu=() out records peak
    shift 3
    for ((i = 0; i < n; i++)); do
        out=$("$evtx_bench" --seconds "$decode_seconds" --threads "$threads" "$@" 2>"$work/stderr.log") ||
            die "failed: evtx_bench $* (see $work/stderr.log)"
        wall+=("$(bench_field "$out" 'records\/s total')")
        cpu+=("$(bench_field "$out" 'records per CPU-second')")
        peak=$(printf '%s\n' "$out" | sed -n 's/^decoder peak allocation: .*(\([0-9.]*\) MiB per decoder).*/\1/p')
        decode_peak_mib=$(awk -v a="$decode_peak_mib" -v b="$peak" 'BEGIN { print (b > a) ? b : a }')
    done
    records=$(printf '%s\n' "$out" | sed -n 's/^input: \([0-9]*\) files, \([0-9]*\) chunks.*, \([0-9]*\) records per pass.*/\1 files, \2 chunks, \3 records/p')
    local m target verdict
    m=$(median "${wall[@]}")
    if [ "$threads" = 1 ]; then
        target=">= 1,000,000"
        verdict=$(awk -v m="$m" 'BEGIN { print (m >= 1000000) ? "met" : "not met" }')
        row "Decode only, $name ($records), 1 thread: records/s" "$(thousands "$m")" \
            "$(range_k "${wall[@]}")" "$target" "$verdict"
        m=$(median "${cpu[@]}")
        row "Decode only, $name, 1 thread: records per CPU-second" "$(thousands "$m")" \
            "$(range_k "${cpu[@]}")" "" ""
    else
        row "Decode only, $name ($records), $threads threads: records/s in total" \
            "$(thousands "$m")" "$(range_k "${wall[@]}")" "" ""
    fi
}

echo "bench/run.sh: (a) decode only, $runs runs of ${decode_seconds}s each" >&2
decode "Security set" 1 "$runs" "${security_set[@]}"
decode "Sysmon set" 1 "$runs" "${sysmon_set[@]}"
cores=$(nproc)
if [ "$cores" -gt 1 ]; then
    decode "Security set" "$cores" 3 "${security_set[@]}"
    decode "Sysmon set" "$cores" 3 "${sysmon_set[@]}"
fi
decode "whole corpus" 1 3 "$tree"
row "Decode only: peak allocation per decoder (kz_alloc_peak, highest of all runs)" "${decode_peak_mib} MiB" \
    "" "" ""

# ---- (b) kizuki dump over the whole corpus ----

echo "bench/run.sh: (b) kizuki dump over $tree" >&2
# dump_runs LABEL ARGS...: times `kizuki dump --quiet ARGS... TREE`; sets d_wall (median) and adds rows
dump_runs() {
    local label=$1 walls=() cpus=() rss=()
    shift
    for ((i = 0; i < runs; i++)); do
        timed "$kizuki" dump --quiet "$@" "$tree"
        walls+=("$t_wall")
        cpus+=("$t_cpu")
        rss+=("$t_rss")
    done
    d_wall=$(median "${walls[@]}")
    d_rss=$(median "${rss[@]}")
    d_cpu=$(median "${cpus[@]}")
    row "kizuki dump $label, whole corpus: wall seconds" "$d_wall" "$(range "${walls[@]}")" "" ""
    row "kizuki dump $label, whole corpus: CPU% / peak RSS" \
        "$d_cpu% / $(awk -v k="$d_rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
        "$(range "${cpus[@]}")%" "" ""
}
dump_runs "--threads 1" --threads 1
dump_1=$d_wall
dump_runs "(default: $cores threads)"
dump_n=$d_wall
dump_cpu_n=$d_cpu
dump_runs "--format xml (default threads)" --format xml
dump_xml=$d_wall

# ---- (c) the peer: evtxexport -f xml, file by file ----

echo "bench/run.sh: (c) evtxexport -f xml over the same files" >&2
find "$tree" -type f -name '*.evtx' -print0 | sort -z >"$work/evtx-files"
nfiles=$(tr -cd '\0' <"$work/evtx-files" | wc -c)
peer_runs=$(( runs < 3 ? runs : 3 )) # it is slow; three runs are enough for a median
walls=()
for ((i = 0; i < peer_runs; i++)); do
    t0=$(date +%s%N)
    # evtxexport fails on some damaged files; its output and errors are not the point here.
    xargs -0 -n1 evtxexport -f xml <"$work/evtx-files" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')")
done
peer=$(median "${walls[@]}")
row "evtxexport -f xml, each of the $nfiles .evtx files in turn: wall seconds" "$peer" \
    "$(range "${walls[@]}")" "" ""
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'
}
# "both cores": the default-thread dump kept more than 1.5 cores busy (median CPU% from time -v)
verdict=$(awk -v a="$peer" -v b="$dump_n" -v cpu="$dump_cpu_n" -v n="$cores" 'BEGIN {
    fast = a / b >= 20; busy = n < 2 || cpu >= 150
    if (fast && busy) print "met"
    else if (fast) print "speed met; cores not (" cpu "% CPU)"
    else print "not met" }')
row "Speed-up: evtxexport / kizuki dump (default threads, JSONL)" "$(ratio "$peer" "$dump_n")" "" \
    ">= 20x, both cores" "$verdict"
row "Speed-up: evtxexport / kizuki dump --format xml (default threads)" "$(ratio "$peer" "$dump_xml")" \
    "" "" ""
row "Speed-up: evtxexport / kizuki dump --threads 1" "$(ratio "$peer" "$dump_1")" "" "" ""

# ---- (d) peak memory ----

echo "bench/run.sh: (d) peak RSS" >&2
# (awk reads to the end: `head -1` would leave sort writing into a closed pipe, and with pipefail
# its SIGPIPE stopped the script here once the corpus list outgrew the pipe's buffer)
largest=$(find "$tree" -type f -name '*.evtx' -printf '%s\t%p\n' | sort -t"$(printf '\t')" -k1,1nr -k2,2 |
    awk -F'\t' 'NR == 1 { print $2 }')
rss_row() {
    local what=$1 verdict
    shift
    timed "$kizuki" dump --quiet "$@"
    verdict=$(awk -v k="$t_rss" 'BEGIN { print (k < 256 * 1024) ? "met" : "not met" }')
    row "Peak RSS, kizuki dump $what" "$(awk -v k="$t_rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
        "" "< 256 MiB" "$verdict"
}
rss_row "on the largest file (${largest#"$tree"/}, $(($(stat -c %s "$largest") / 1024)) KiB)" "$largest"
rss_row "on the whole corpus" "$tree"
rss_row "--format xml on the whole corpus" --format xml "$tree"

# A synthetic large file: the chunks of the dense Security log repeated 40 times (1040 chunks, 65 MiB),
# with a file header that counts them all and a correct checksum.
synthetic=$work/synthetic-65MiB.evtx
python3 - "${security_set[0]}" "$synthetic" <<'EOF'
import struct, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
chunks = [data[o:o + 65536] for o in range(4096, len(data), 65536)
          if data[o:o + 8] == b"ElfChnk\0" and len(data[o:o + 65536]) == 65536]
chunks = chunks * 40
head = bytearray(data[:4096])
struct.pack_into("<QQ", head, 8, 0, len(chunks) - 1)       # first and last chunk numbers
struct.pack_into("<H", head, 42, len(chunks))               # chunk count
struct.pack_into("<I", head, 120, 0)                        # flags: clean, not full
struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
with open(dst, "wb") as f:
    f.write(head)
    for c in chunks:
        f.write(c)
EOF
rss_row "on a synthetic 65 MiB file (1040 dense Security chunks)" "$synthetic"
timed "$kizuki" dump --quiet "$synthetic"
row "kizuki dump on the synthetic 65 MiB file: wall seconds / CPU%" "$t_wall / ${t_cpu}%" "" "" ""
rm -f "$synthetic"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no -- src include CMakeLists.txt 2>/dev/null)" ] ||
    commit="$commit + uncommitted changes"
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
today=$(date +%Y-%m-%d)
heading="## $today, commit $commit"
table=$(
    echo "Machine: $cores CPUs ($(nproc --all) online), $cpu_model, $ram RAM; $(uname -sr)."
    echo "Load average before / after: $load_before / $load_after. Runs per measure: $runs" \
        "(evtxexport: $peer_runs); decode runs of ${decode_seconds}s."
    echo
    echo "| measure | median | range | target | |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
)
printf '%s\n\n%s\n' "$heading" "$table"

if [ -z "${NO_RESULTS:-}" ]; then
    [ -f "$results" ] || printf '# EVTX benchmark results\n\nRecorded by bench/run.sh.\n' >"$results"
    # drop an earlier section with the same heading (same day and commit), then append this one
    awk -v h="$heading" '
        $0 == h { skip = 1; next }
        skip && /^## / { skip = 0 }
        !skip' "$results" >"$work/RESULTS.md"
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$work/RESULTS.md" >"$results" # trim trailing blank lines
    printf '\n%s\n\n%s\n' "$heading" "$table" >>"$results"
    echo "bench/run.sh: added to $results" >&2
fi
