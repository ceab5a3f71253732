#!/usr/bin/env bash
# bench/sigma.sh - the Sigma benchmarks of bench/RESULTS.md (issue 3's targets), reproducible by anyone:
# `bench/sigma.sh` from the repository root. Needs the shared data in ../shared/data (or KZ_DATA).
#
# For each corpus it times `kizuki scan --threads 1 --no-ueba` (Sigma alone) three ways, each several times (median reported):
#   decode only      --no-default-rules and no --rules (the baseline: read, decode, normalise)
#   rules            every SigmaHQ Windows rule (rules/windows), with the Vectorscan prefilter
#   no prefilter     the same rules with --no-prefilter (every rule of the channel evaluated; one run)
# and reports events per CPU-second (records / (user + system time)), wall time, peak RSS, and the ratio
# of the rules run's CPU time to the decode-only run's (target: <= 2x; events/s target >= 300,000).
# Corpora: (1) the shared EVTX corpus read COPIES times (attack samples: findings on ~5% of events);
# (2) a simulated estate (`kizuki simulate`, benign work with both incidents) when the command exists.
# The rule set's one-time cost (loading YAML, compiling the databases) is measured separately
# (`kizuki rules check`, and a scan of an empty folder) and included in the scan figures.
#
# The rules runs reuse the compiled Vectorscan databases that kizuki keeps in its cache directory
# (dbcache.c): the first run fills it and is reported separately ("first run, empty cache"), in a
# cache directory of the benchmark's own (bench/out/cache), so the figures do not depend on
# what earlier scans left in ~/.cache.
#
# Knobs (environment): RUNS (default 5), COPIES (default 20), SIM_USERS (default 200: about 2M events), SIM_DAYS
# (default 30), KZ_DATA, KZ_BUILD (a build directory to measure instead of build/, e.g. another
# checkout's), BENCH_OUT (scratch folder, default bench/out), NO_SIM=1 (the shared corpus only),
# NO_RESULTS=1 (print the table, leave RESULTS.md alone).
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib.sh
root=$PWD
data=${KZ_DATA:-$root/../shared/data}
rules=$data/sigma/SigmaHQ/rules/windows
runs=${RUNS:-5}
copies=${COPIES:-20}
results=$root/bench/RESULTS.md
work=${BENCH_OUT:-$root/bench/out}
die() {
    echo "bench/sigma.sh: $*" >&2
    exit 1
}
[ -d "$data/evtx" ] || die "no EVTX corpus at $data/evtx (set KZ_DATA)"
[ -d "$rules" ] || die "no SigmaHQ rules at $rules"
scripts/install-deps.sh bench
mkdir -p "$work"
build=${KZ_BUILD:-$root/build}
if [ -z "${KZ_BUILD:-}" ] && [ -f "$build/CMakeCache.txt" ] &&
    ! grep -Eq '^CMAKE_BUILD_TYPE:[A-Z]+=(Release|)$' "$build/CMakeCache.txt"; then
    build=$root/build-release
fi
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$work/build.log"
cmake --build "$build" -j"$(nproc)" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "build failed"; }
kizuki=$build/kizuki

thousands() {
    printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}
rows=()
row() {
    rows+=("| $1 | $2 | $3 | $4 | $5 |")
}

# scan_runs LABEL ARGS...: times `kizuki scan --threads 1 --format jsonl ARGS...` RUNS times; sets
# s_cpu (median CPU seconds), s_wall, s_rss (MiB), s_records, s_eps (events per CPU-second).
scan_runs() {
    local cpus=() walls=() rsss=() log=$work/time.log n=${SCAN_RUNS:-$runs}
    for ((i = 0; i < n; i++)); do
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f '%U %S %M' -o "$log" "$kizuki" scan --threads 1 --format jsonl --no-ueba "$@" \
            >/dev/null 2>"$work/scan.err" || die "failed: kizuki scan $* (see $work/scan.err)"
        t1=$(date +%s%N)
        walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')")
        cpus+=("$(tail -n 1 "$log" | awk '{ printf "%.2f", $1 + $2 }')")
        rsss+=("$(tail -n 1 "$log" | awk '{ printf "%.1f", $3 / 1024 }')")
    done
    s_cpu=$(median "${cpus[@]}")
    s_cpu_range=$(range "${cpus[@]}")
    s_wall=$(median "${walls[@]}")
    s_rss=$(median "${rsss[@]}")
    s_records=$(sed -n 's/.*B, \([0-9,]*\) records.*/\1/p' "$work/scan.err" | tr -d , | head -1)
    [ -n "$s_records" ] || die "no record count in the scan summary (see $work/scan.err)"
    s_eps=$(awk -v r="$s_records" -v c="$s_cpu" 'BEGIN { printf "%.0f", (c > 0 ? r / c : 0) }')
}

# corpus NAME PATHS...: the three runs and their rows
corpus() {
    local name=$1
    shift
    echo "bench/sigma.sh: $name" >&2
    scan_runs --no-default-rules "$@"
    local base_cpu=$s_cpu base_eps=$s_eps
    row "$name ($(thousands "$s_records") events): decode only, events per CPU-second" \
        "$(thousands "$s_eps")" "CPU ${s_cpu_range} s" "" ""
    row "$name: decode only, CPU s / wall s / peak RSS" "$s_cpu / $s_wall / $s_rss MiB" "" "" ""
    # The first run after the rules change compiles every database it meets (and caches it).
    rm -rf "$XDG_CACHE_HOME/kizuki"
    SCAN_RUNS=1 scan_runs --no-default-rules --rules "$rules" "$@"
    row "$name: rules, first run (empty database cache), events per CPU-second" \
        "$(thousands "$s_eps")" "CPU ${s_cpu_range} s" "" ""
    scan_runs --no-default-rules --rules "$rules" "$@"
    local rules_cpu=$s_cpu
    row "$name: all $nrules SigmaHQ Windows rules, events per CPU-second" "$(thousands "$s_eps")" \
        "CPU ${s_cpu_range} s" ">= 300,000" "$(awk -v e="$s_eps" 'BEGIN { print (e >= 300000 ? "met" : "not met") }')"
    row "$name: rules, CPU s / wall s / peak RSS" "$s_cpu / $s_wall / $s_rss MiB" "" "" ""
    local steady
    steady=$(awk -v r="$s_records" -v c="$s_cpu" -v k="$compile_cpu" 'BEGIN { printf "%.0f", (c > k ? r / (c - k) : 0) }')
    row "$name: rules, events per CPU-second after the one-time load and compile" \
        "$(thousands "$steady")" "" "" ""
    local ratio
    ratio=$(awk -v a="$rules_cpu" -v b="$base_cpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    row "$name: CPU time with rules / decode only" "${ratio}x" "" "<= 2x" \
        "$(awk -v r="$ratio" 'BEGIN { print (r <= 2 ? "met" : "not met") }')"
    # Without the prefilter a scan is many times slower: one run is enough to show the gain.
    SCAN_RUNS=1 scan_runs --no-default-rules --rules "$rules" --no-prefilter "$@"
    local np_ratio
    np_ratio=$(awk -v a="$s_cpu" -v b="$base_cpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    row "$name: rules without the prefilter, events per CPU-second" "$(thousands "$s_eps")" \
        "CPU ${s_cpu_range} s" "" ""
    row "$name: CPU time without the prefilter / decode only" "${np_ratio}x" "" "" ""
}

export XDG_CACHE_HOME=$work/cache
mkdir -p "$XDG_CACHE_HOME"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
nrules=$(find "$rules" -name '*.yml' | wc -l)

# The one-time cost of the rule set: load + compile, on no input.
mkdir -p "$work/empty"
costs=()
for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f '%U %S %M' -o "$work/time.log" "$kizuki" scan --threads 1 --format jsonl --quiet --no-ueba \
        --no-default-rules --rules "$rules" "$work/empty" >/dev/null 2>&1 || true
    costs+=("$(tail -n 1 "$work/time.log" | awk '{ printf "%.2f", $1 + $2 }')")
done
compile_cpu=$(median "${costs[@]}")
row "Load and compile all $nrules SigmaHQ Windows rules (scan of an empty folder): CPU s" \
    "$compile_cpu" "$(range "${costs[@]}")" "" ""

paths=()
for ((i = 0; i < copies; i++)); do paths+=("$data/evtx"); done
corpus "Shared EVTX corpus x$copies" "${paths[@]}"

if [ -z "${NO_SIM:-}" ] && "$kizuki" simulate --help >/dev/null 2>&1; then
    sim=$work/sim-${SIM_USERS:-200}x${SIM_DAYS:-30}
    if [ ! -f "$sim/scenario.json" ]; then
        rm -rf "$sim"
        "$kizuki" simulate -o "$sim" --users "${SIM_USERS:-200}" --days "${SIM_DAYS:-30}" --quiet ||
            die "kizuki simulate failed"
    fi
    corpus "Simulated estate (${SIM_USERS:-200} users, ${SIM_DAYS:-30} days, both incidents)" "$sim/logs"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
table=$(
    echo "## $(date -u +%Y-%m-%d), commit $commit: Sigma scan (bench/sigma.sh)"
    echo
    echo "Machine: $(nproc) CPUs, $cpu, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM."
    echo "Load average before / after: $load_before / $load_after. Runs per measure: $runs; --threads 1."
    echo
    echo "| measure | median | range | target | |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
)
echo "$table"
if [ -z "${NO_RESULTS:-}" ]; then
    heading=$(echo "$table" | head -1)
    if grep -qxF "$heading" "$results"; then
        # Replace the section with the same heading (same day, same commit).
        awk -v h="$heading" '
            $0 == h { skip = 1; next }
            skip && /^## / { skip = 0 }
            !skip' "$results" >"$work/results.tmp" && mv "$work/results.tmp" "$results"
    fi
    printf '\n%s\n' "$table" >>"$results"
fi
