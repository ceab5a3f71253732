#!/usr/bin/env bash
# bench/store.sh - the evidence store alone: `kizuki ingest` of a simulated estate into a fresh
# store (events per wall second and per CPU second, medians of RUNS), the index size per million
# events, and `kizuki scope` of the estate's most active compromised account (nightsky2021's
# adsync_svc: with its sources, window and customers.csv as the scenario gives them, and without
# sources: the whole account), median wall time of RUNS. Prints a table; writes nothing else.
# Usage: bench/store.sh [path/to/kizuki]
#   knobs: RUNS=3, SIM_USERS=100, SIM_DAYS=10, SIM_SEED=3, THREADS (ingest --threads; default: one
#   per CPU), WORK (scratch folder, default bench/out/store; the estate is kept there and reused
#   when it was made with the same knobs)
# For the 10-million-event figures of docs/scope.md and docs/ingest.md: SIM_USERS=300 SIM_DAYS=81
# SIM_SEED=7 (about 10 million events, 8.6 GB of logs and as much again in the store; about half
# a minute per ingest). The simulator writes about 400 events per user-day: 3000 users x 111
# days, the size this figure used before, is now about 200 million events.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
root=$PWD
runs=${RUNS:-3}
users=${SIM_USERS:-100}
days=${SIM_DAYS:-10}
seed=${SIM_SEED:-3}
work=${WORK:-$root/bench/out/store}
kz=$(bench_kizuki "${1:-}")
mkdir -p "$work"
sim=$work/sim-$users-$days-$seed
bench_estate "$kz" "$sim" "$users" "$days" "$seed"

now() { date +%s.%N; }
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

# ingest
walls=() cpus=() rates=() crates=()
store=$work/store
for ((i = 0; i < runs; i++)); do
    rm -rf "$store"
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$work/ingest.time" \
        "$kz" ingest --quiet "${threads[@]}" "$sim/logs" --store "$store" >/dev/null 2>&1
    t1=$(now)
    events=$(sqlite3 "$store/kizuki.db" 'select count(*) from events')
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    c=$(awk '{ printf "%.2f", $1 + $2 }' "$work/ingest.time")
    walls+=("$w") cpus+=("$c")
    rates+=("$(awk -v e="$events" -v w="$w" 'BEGIN { printf "%.0f", e / w }')")
    crates+=("$(awk -v e="$events" -v c="$c" 'BEGIN { printf "%.0f", e / c }')")
done
db=$(du -k "$store/kizuki.db"* | awk '{ s += $1 } END { print s }')
objs=$(du -sk "$store/objects" | cut -f1)

# scope: nightsky2021's adsync_svc (3,096 hosts in the 10M estate's scenario.json)
mapfile -t q < <(python3 -c "
import json,sys
s=json.load(open('$sim/scenario.json'))
a=[a for x in s['scenarios'] for a in x['accounts'] if a['account'].lower().endswith('adsync_svc')][0]
print(a['account']); print(a['first']); print(a['last'])
for src in a['sources']: print(src)")
acct=${q[0]} since=${q[1]} until=${q[2]}
srcs=()
for s in "${q[@]:3}"; do srcs+=(--source "$s"); done
scope_time() { # prints the median wall seconds of RUNS runs of scope with "$@"
    local v=() t0 t1
    for ((i = 0; i < runs; i++)); do
        t0=$(now)
        "$kz" scope --store "$store" --user "$acct" --customers "$sim/customers.csv" --format json \
            "$@" >"$work/scope.json" 2>/dev/null
        t1=$(now)
        v+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
    done
    echo "$(median "${v[@]}") ($(range "${v[@]}"))"
}
s1=$(scope_time --since "$since" --until "$until" "${srcs[@]}")
s2=$(scope_time)

echo "## bench/store.sh, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Estate: simulate --users $users --days $days --seed $seed ($events events, $(du -sh "$sim/logs" | cut -f1) of logs). $(nproc) CPUs. Runs: $runs (median, range)."
echo
echo "| measure | median | range |"
echo "|---|---|---|"
echo "| ingest into a fresh store: wall seconds | $(median "${walls[@]}") | $(range "${walls[@]}") |"
echo "| ingest: events per wall second | $(median "${rates[@]}") | $(range "${rates[@]}") |"
echo "| ingest: CPU seconds (user + system) | $(median "${cpus[@]}") | $(range "${cpus[@]}") |"
echo "| ingest: events per CPU second | $(median "${crates[@]}") | $(range "${crates[@]}") |"
echo "| index (kizuki.db) per million events | $(awk -v k="$db" -v e="$events" 'BEGIN { printf "%.1f MiB", k / 1024 / (e / 1e6) }') | |"
echo "| evidence copies (objects/) per million events | $(awk -v k="$objs" -v e="$events" 'BEGIN { printf "%.0f MiB", k / 1024 / (e / 1e6) }') | |"
echo "| scope --user $acct with its sources, window, customers (JSON): wall seconds | ${s1% (*} | $(echo "$s1" | sed 's/.*(\(.*\))/\1/') |"
echo "| scope --user $acct, whole account, customers (JSON): wall seconds | ${s2% (*} | $(echo "$s2" | sed 's/.*(\(.*\))/\1/') |"
