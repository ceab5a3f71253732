#!/usr/bin/env bash
# End-to-end tests of `kizuki scan` as a user runs it: options and errors, the findings schema of
# DESIGN.md in each format, SigmaHQ's own regression samples through the whole command, and the
# properties the design promises (same output for any --threads, prefilter changes nothing).
# Usage: tests/e2e/scan.sh path/to/kizuki        Prints "scan: N passed, N failed, N skipped".
set -uo pipefail
kz=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
shared=${KZ_SHARED_DATA:-$here/../../../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Compiled rule databases are cached under $XDG_CACHE_HOME/kizuki: this suite starts with none.
export XDG_CACHE_HOME=$tmp/cache
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $*"; }
expect_exit() {
    local want=$1 name=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else fail "$name: exit $got, want $want ($(head -c 300 "$tmp/err"))"; fi
}

# ---- options and errors ----
expect_exit 0 "scan --help" -- "$kz" scan --help
for opt in --rules --no-default-rules --since --until --format --min-level --threads; do
    grep -q -- "$opt" "$tmp/out" && ok || fail "scan --help does not explain $opt"
done
expect_exit 1 "scan without a path" -- "$kz" scan
expect_exit 1 "scan --format bogus" -- "$kz" scan --format bogus x
expect_exit 1 "scan --min-level bogus" -- "$kz" scan --min-level severe x
expect_exit 1 "scan --since bogus" -- "$kz" scan --since yesterday x
grep -q "yesterday" "$tmp/err" && ok || fail "the --since error does not quote the value"
expect_exit 1 "scan of a missing file" -- "$kz" scan "$tmp/missing.evtx"
expect_exit 1 "scan --rules on a missing folder" -- "$kz" scan --rules "$tmp/nope" "$tmp"

sigma=$shared/sigma/SigmaHQ
attack=$shared/evtx/EVTX-ATTACK-SAMPLES
if ! command -v python3 >/dev/null || [ ! -d "$sigma/regression_data" ] || [ ! -d "$attack" ]; then
    skip "no python3 or no shared SigmaHQ/EVTX data: scan on real logs not tested"
    echo "scan: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
fi

# ---- one SigmaHQ regression sample through the command, checked against SigmaHQ's count ----
rule=$sigma/rules/windows/process_creation/proc_creation_win_bitsadmin_download.yml
sample=$(ls "$sigma"/regression_data/rules/windows/process_creation/proc_creation_win_bitsadmin_download/*.evtx 2>/dev/null | head -1)
if [ -f "$rule" ] && [ -f "$sample" ]; then
    expect_exit 0 "scan of a regression sample" -- "$kz" scan --no-ueba --no-default-rules --rules "$rule" \
        --format jsonl "$sample"
    python3 - "$tmp/out" "$rule" "$sample" <<'PY' && ok || fail "the regression sample's findings (see above)"
import json, re, sys
out, rule, sample = sys.argv[1:4]
lines = open(out).read().splitlines()
rid = re.search(r'^id:\s*(\S+)', open(rule).read(), re.M).group(1)
info = open(sample.rsplit('/', 1)[0] + '/info.yml').read()
m = re.search(r'^\s*match_count:\s*(\d+)', info, re.M)
want = int(m.group(1)) if m else None
if want is not None and len(lines) != want or want is None and not lines:
    sys.exit(f"{len(lines)} findings, SigmaHQ expects {want}")
keys = ["ts", "kind", "rule_id", "title", "level", "score", "tags", "host", "user", "src_ip",
        "reasons", "source", "event"]
for l in lines:
    f = json.loads(l)
    if list(f)[:len(keys)] != keys: sys.exit(f"keys {list(f)} are not the DESIGN.md schema")
    if f["kind"] != "sigma" or f["rule_id"] != rid: sys.exit(f"kind/rule_id {f['kind']} {f['rule_id']}")
    if f["level"] not in ("informational", "low", "medium", "high", "critical"): sys.exit("level")
    if not (0 <= f["score"] <= 100): sys.exit("score")
    if not re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$', f["ts"]): sys.exit("ts " + f["ts"])
    src = f["source"]
    if set(src) != {"file", "record_id", "format"} or src["format"] != "evtx": sys.exit(f"source {src}")
    if not src["file"].endswith(sample.rsplit('/', 1)[1]): sys.exit("source.file " + src["file"])
    if "CommandLine" not in f["event"]: sys.exit("event has no CommandLine")
PY
else
    skip "bitsadmin regression sample not found"
fi

# ---- EVTX-ATTACK-SAMPLES with every SigmaHQ Windows rule ----
rules=$sigma/rules/windows
# These checks are about Sigma: UEBA (on by default) is left out with --no-ueba.
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl --threads 1 "$attack" >"$tmp/t1.jsonl"
[ $? -eq 0 ] && ok || fail "scan --threads 1 exited non-zero"
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl --threads 2 "$attack" >"$tmp/t2.jsonl"
cmp -s "$tmp/t1.jsonl" "$tmp/t2.jsonl" && ok || fail "scan output differs between --threads 1 and --threads 2"
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl "$attack" >"$tmp/t3.jsonl"
cmp -s "$tmp/t1.jsonl" "$tmp/t3.jsonl" && ok || fail "two runs of the same scan differ"
# The first run compiled the databases and kept them; the later runs loaded them. Compiling afresh
# (--no-cache) must give the same findings as the cached databases did.
ls "$XDG_CACHE_HOME"/kizuki/* >/dev/null 2>&1 && ok || fail "scan kept no compiled rule database in \$XDG_CACHE_HOME/kizuki"
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl --no-cache "$attack" >"$tmp/nc.jsonl"
cmp -s "$tmp/t1.jsonl" "$tmp/nc.jsonl" && ok || fail "findings differ between cached databases and --no-cache"
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl --no-prefilter "$attack" >"$tmp/np.jsonl"
cmp -s "$tmp/t1.jsonl" "$tmp/np.jsonl" && ok || fail "the prefilter changed the findings (compare with --no-prefilter)"
# A Vectorscan that fails the self-check with no working alternative (forced here): a warning,
# no prefilter, regexes by PCRE2, and still the same findings.
KZ_HS_ASSUME_BROKEN=1 "$kz" scan --no-ueba --no-default-rules --rules "$rules" --format jsonl "$attack" \
    >"$tmp/hb.jsonl" 2>"$tmp/hb.err"
grep -q "failed kizuki's self-check" "$tmp/hb.err" && ok || fail "no warning when Vectorscan is not trusted"
cmp -s "$tmp/t1.jsonl" "$tmp/hb.jsonl" && ok || fail "findings differ when Vectorscan is not trusted (PCRE2, no prefilter)"
[ "$(wc -l <"$tmp/t1.jsonl")" -gt 500 ] && ok || fail "only $(wc -l <"$tmp/t1.jsonl") findings on EVTX-ATTACK-SAMPLES"

# Every line is a finding whose event is the record named in source (checked against dump).
"$kz" dump --quiet "$attack" >"$tmp/dump.jsonl"
python3 - "$tmp/t1.jsonl" "$tmp/dump.jsonl" <<'PY' && ok || fail "findings do not point at their records (see above)"
import json, sys
records = {}
for l in open(sys.argv[2]):
    e = json.loads(l)
    records[(e["file"], e["record_id"])] = e
for l in open(sys.argv[1]):
    f = json.loads(l)
    e = records.get((f["source"]["file"], f["source"]["record_id"]))
    if e is None: sys.exit(f"no record {f['source']}")
    if e["ts"] != f["ts"] or e["host"] != f["host"]: sys.exit(f"ts/host differ for {f['source']}")
    want = dict(e.get("System", {}), **e.get("EventData", {}))
    for k, v in f["event"].items():
        if k in want and want[k] != v and not isinstance(v, list): sys.exit(f"{k}: {v} vs {want[k]}")
PY

# --min-level keeps only findings at or above the level.
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl --min-level high "$attack" >"$tmp/high.jsonl"
python3 - "$tmp/t1.jsonl" "$tmp/high.jsonl" <<'PY' && ok || fail "--min-level high (see above)"
import json, sys
rank = {"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
allf = [json.loads(l) for l in open(sys.argv[1])]
high = [json.loads(l) for l in open(sys.argv[2])]
want = [f for f in allf if rank[f["level"]] >= 3]
if len(high) != len(want) or any(rank[f["level"]] < 3 for f in high): sys.exit(f"{len(high)} vs {len(want)}")
PY

# --since / --until keep the events inside the window (inclusive).
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format jsonl --since 2019-03-01 \
    --until 2019-06-30T23:59:59Z "$attack" >"$tmp/win.jsonl"
python3 - "$tmp/t1.jsonl" "$tmp/win.jsonl" <<'PY' && ok || fail "--since/--until (see above)"
import json, sys
allf = [json.loads(l) for l in open(sys.argv[1])]
win = [json.loads(l) for l in open(sys.argv[2])]
want = [f for f in allf if "2019-03-01" <= f["ts"] <= "2019-06-30T23:59:59Z" and f["kind"] == "sigma"]
got = [f for f in win if f["kind"] == "sigma"]
if not got or len(got) != len(want): sys.exit(f"{len(got)} findings in the window, expected {len(want)}")
PY

# CSV: Timesketch's columns first, one row per finding, parseable.
"$kz" scan --quiet --no-ueba --no-default-rules --rules "$rules" --format csv --min-level high "$attack" >"$tmp/f.csv"
python3 - "$tmp/f.csv" "$tmp/high.jsonl" <<'PY' && ok || fail "CSV output (see above)"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
n = sum(1 for _ in open(sys.argv[2]))
if rows[0][:3] != ["datetime", "timestamp_desc", "message"]: sys.exit(f"header {rows[0]}")
if len(rows) - 1 != n: sys.exit(f"{len(rows) - 1} rows, {n} findings")
for r in rows[1:]:
    for c in r:
        if c[:1] in ("=", "+", "-", "@", "\t", "\r"): sys.exit(f"unneutralised cell {c!r}")
PY

# The table and the summary.
expect_exit 0 "scan --format table" -- "$kz" scan --no-ueba --no-default-rules --rules "$rules" --format table \
    --min-level critical "$attack"
[ "$(wc -l <"$tmp/out")" -gt 1 ] && ok || fail "the table has no rows"
grep -q "Findings:" "$tmp/err" && ok || fail "no summary on stderr"
grep -q "Rules:" "$tmp/err" && ok || fail "the summary does not count the rules"

# Decode only: no rules at all is a valid scan (the benchmark's baseline).
expect_exit 0 "scan --no-default-rules without --rules" -- "$kz" scan --no-ueba --no-default-rules --format jsonl "$attack"
[ ! -s "$tmp/out" ] && ok || fail "a scan without rules printed findings"

echo "scan: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
