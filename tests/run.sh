#!/usr/bin/env bash
# Runs the whole test suite against the build in $1 (default: build) and prints "N passed, N failed".
#   unit tests      build/unit_tests (core, BinXML tokens and value types, corpus replay)
#   e2e             tests/e2e/cli.sh (the kizuki command as a user runs it)
#   scan            tests/e2e/scan.sh (`kizuki scan`: schema, formats, SigmaHQ samples, determinism)
#   differential    tests/e2e/evtx_differential.py (every shared EVTX file against Debian's evtxexport)
# Suites that need ../shared/data or evtxexport skip with a message when those are absent.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
passed=0 failed=0 skipped=0
# scan keeps compiled rule databases in $XDG_CACHE_HOME/kizuki: the suite uses its own, so it neither
# writes into the user's ~/.cache nor reuses a cache an earlier build left there.
XDG_CACHE_HOME=$(mktemp -d)
export XDG_CACHE_HOME
trap 'rm -rf "$XDG_CACHE_HOME"' EXIT

# Reads the "N passed, N failed[, N skipped]" line a suite printed last and adds it up.
tally() {
    local name=$1 rc=$2 line
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$3" | tail -n 1)
    if [ -z "$line" ]; then
        echo "suite $name printed no result line (exit $rc): counted as 1 failure"
        failed=$((failed + 1))
        return
    fi
    local p f s
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "suite $name exited $rc with no failed test: counted as 1 failure"
        failed=$((failed + 1))
    fi
}

run_suite() {
    local name=$1; shift
    local log; log=$(mktemp)
    echo "== $name"
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    tally "$name" "$rc" "$log"
    rm -f "$log"
}

run_suite unit "$build/unit_tests"
run_suite e2e tests/e2e/cli.sh "$build/kizuki"
run_suite scan tests/e2e/scan.sh "$build/kizuki"
run_suite ueba tests/e2e/ueba.sh "$build/kizuki"
run_suite geoip tests/e2e/geoip.sh "$build/kizuki"
run_suite inputs python3 tests/e2e/inputs.py --kizuki "$build/kizuki"
run_suite web-inputs python3 tests/e2e/web_inputs.py --kizuki "$build/kizuki"
run_suite linux_inputs python3 tests/e2e/linux_inputs.py --kizuki "$build/kizuki"
run_suite replay tests/e2e/replay.sh "$build/kizuki"
run_suite store tests/e2e/store.sh "$build/kizuki"
if [ -f tests/e2e/evtx_differential.py ]; then
    run_suite differential python3 tests/e2e/evtx_differential.py --kizuki "$build/kizuki"
fi
echo
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
