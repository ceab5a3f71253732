#!/usr/bin/env bash
# bench/stages.sh - the other stages' benchmarks (simulator, text and JSON readers, UEBA, evidence
# store), each run RUNS times on one simulated estate, median recorded in bench/RESULTS.md.
#   simulate   `kizuki simulate` of SIM_USERS x SIM_DAYS (EVTX), events generated per wall second
#   json       bench/json_bench.c on its generated Winlogbeat-like events: MB/s parsed
#   text       bench/text_bench.c on the estate written as JSON lines, and on its access logs: MB/s
#   ueba       bench/ueba_bench.c on the estate's logs: activities/s, bytes per entity
#   ingest     `kizuki ingest` of the estate into a fresh store: events/s, store size per million events
# Usage: bench/stages.sh   (knobs: RUNS=3, SIM_USERS=100, SIM_DAYS=30, NO_RESULTS=1)
# (100 x 30 is about 1.3M events, 1.2 GB of EVTX: the simulator writes ~630 events per user-day)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
root=$PWD
runs=${RUNS:-3}
users=${SIM_USERS:-100}
days=${SIM_DAYS:-30}
work=$root/bench/out/stages
results=$root/bench/RESULTS.md
scripts/install-deps.sh bench
build=$root/build
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
kz=$build/kizuki
rm -rf "$work"
mkdir -p "$work"

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }

# simulate
eps=()
for ((i = 0; i < runs; i++)); do
    rm -rf "$work/sim"
    out=$("$kz" simulate -o "$work/sim" --users "$users" --days "$days" 2>&1 >/dev/null | tail -1)
    eps+=("$(printf '%s\n' "$out" | sed -n 's/.*s (\([0-9]*\) events\/s).*/\1/p')")
done
events=$(printf '%s\n' "$out" | sed -n 's/.*days: \([0-9]*\) events.*/\1/p')
m=$(median "${eps[@]}")
row "kizuki simulate, $users users x $days days ($events events), events per second (ext4)" "$m" \
    "$(range "${eps[@]}")" ">= 1,000,000" "$(awk -v m="$m" 'BEGIN { print (m >= 1000000 ? "met" : "not met") }')"

# json parser
v=()
for ((i = 0; i < runs; i++)); do
    v+=("$("$build/json_bench" --seconds 2 2>&1 | sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p' | head -1)")
done
row "JSON parser (bench/json_bench.c, generated Winlogbeat-like events): MB/s" "$(median "${v[@]}")" \
    "$(range "${v[@]}")" "" ""

# text readers: the same estate as JSON lines, and its access logs
"$kz" simulate -o "$work/simj" --users "$users" --days "$days" --format jsonl >/dev/null 2>&1
# The largest file of each kind (small files stay in cache and flatter the figure).
jfiles=$(find "$work/simj/logs" -name '*.jsonl' -printf '%s %p\n' | sort -rn | awk 'NR == 1' | cut -d' ' -f2-)
afiles=$(find "$work/sim/logs" \( -name 'access.log' -o -name 'localhost_access_log*' \) -printf '%s %p\n' |
    sort -rn | awk 'NR == 1' | cut -d' ' -f2-)
for kind in jsonl access; do
    files=$jfiles
    [ "$kind" = access ] && files=$afiles
    v=()
    for ((i = 0; i < runs; i++)); do
        v+=("$("$build/text_bench" --seconds 2 "$files" 2>&1 | sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p' | tail -1)")
    done
    target=">= 300"
    [ "$kind" = access ] && target=">= 500"
    m=$(median "${v[@]}")
    row "Text reader (bench/text_bench.c), the estate's largest $kind file ($(du -h "$files" | cut -f1)) to normalised events: MB/s per core" \
        "$m" "$(range "${v[@]}")" "$target" \
        "$(awk -v m="$m" -v t="${target#>= }" 'BEGIN { print (m >= t ? "met" : "not met") }')"
done

# UEBA stage alone
v=()
b=()
for ((i = 0; i < runs; i++)); do
    # With the estate's peer groups and GeoIP database, as scan runs it in bench/ueba_quality.sh.
    extra=()
    [ -f "$work/sim/peers.csv" ] && extra+=(--peers "$work/sim/peers.csv")
    [ -f "$work/sim/geoip.mmdb" ] && extra+=(--geoip "$work/sim/geoip.mmdb")
    out=$("$build/ueba_bench" --seconds 3 "${extra[@]}" "$work/sim/logs" 2>&1)
    v+=("$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) activities per CPU-second.*/\1/p' | head -1)")
    b+=("$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) bytes per entity.*/\1/p' | head -1)")
done
m=$(median "${v[@]}")
row "UEBA stage alone (bench/ueba_bench.c, one thread, with the estate's peers and GeoIP): activities per CPU-second" "$m" \
    "$(range "${v[@]}")" ">= 1,000,000" "$(awk -v m="$m" 'BEGIN { print (m >= 1000000 ? "met" : "not met") }')"
m=$(median "${b[@]}")
row "UEBA model: bytes per entity" "$m" "" "<= 2048" "$(awk -v m="$m" 'BEGIN { print (m <= 2048 ? "met" : "not met") }')"

# ingest (wall, and CPU: user + system seconds of the whole process, steadier on a shared machine)
v=()
c=()
for ((i = 0; i < runs; i++)); do
    rm -rf "$work/store"
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$work/ingest.time" \
        "$kz" ingest --quiet "$work/sim/logs" --store "$work/store" >/dev/null 2>&1
    t1=$(date +%s%N)
    v+=("$(awk -v e="$events" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", e / ((b - a) / 1e9) }')")
    c+=("$(awk -v e="$events" '{ printf "%.0f", e / ($1 + $2) }' "$work/ingest.time")")
done
m=$(median "${v[@]}")
db=$(du -k "$work/store/kizuki.db"* | awk '{ s += $1 } END { print s }')
row "kizuki ingest of the estate into a fresh store: events per second (wall, default threads)" "$m" \
    "$(range "${v[@]}")" ">= 300,000" "$(awk -v m="$m" 'BEGIN { print (m >= 300000 ? "met" : "not met") }')"
row "kizuki ingest: events per CPU-second (user + system)" "$(median "${c[@]}")" "$(range "${c[@]}")" "" ""
row "Store index size per million events (SQLite, without the evidence copies)" \
    "$(awk -v k="$db" -v e="$events" 'BEGIN { printf "%.0f MiB", k / 1024 / (e / 1e6) }')" "" "" ""

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
table=$(
    echo "## $(date -u +%Y-%m-%d), commit $commit: other stages (bench/stages.sh)"
    echo
    echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1). Runs per measure: $runs (median). Estate: $users users x $days days, both incidents."
    echo
    echo "| measure | median | range | target | |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
)
echo "$table"
[ -n "${NO_RESULTS:-}" ] || printf '\n%s\n' "$table" >>"$results"
