#!/usr/bin/env bash
# End-to-end tests of the kizuki command as a user runs it: exit codes, help, errors, and `dump` on real
# logs, with expected values from outside kizuki (record counts libevtx found, in the shared manifests).
# Usage: tests/e2e/cli.sh path/to/kizuki        Prints "cli: N passed, N failed, N skipped".
set -uo pipefail
kz=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
shared=${KZ_SHARED_DATA:-$here/../../../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $*"; }
# expect_exit CODE NAME -- CMD...: runs CMD, checks its exit code
expect_exit() {
    local want=$1 name=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else fail "$name: exit $got, want $want ($(head -c 300 "$tmp/err"))"; fi
}

# ---- the command line contract ----
expect_exit 0 "kizuki --help" -- "$kz" --help
grep -q "dump" "$tmp/out" && ok || fail "--help does not list dump"
expect_exit 0 "kizuki --version" -- "$kz" --version
grep -qE '^kizuki [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" && ok || fail "--version prints '$(cat "$tmp/out")'"
expect_exit 1 "no command" -- "$kz"
expect_exit 1 "unknown command" -- "$kz" frobnicate
expect_exit 0 "dump --help" -- "$kz" dump --help
grep -q -- "--format" "$tmp/out" && ok || fail "dump --help does not explain --format"
expect_exit 0 "dump --version" -- "$kz" dump --version
expect_exit 1 "dump without a path" -- "$kz" dump
expect_exit 1 "dump with an unknown option" -- "$kz" dump --frobnicate x
expect_exit 1 "dump --format bogus" -- "$kz" dump --format bogus x
expect_exit 1 "dump --threads 0" -- "$kz" dump --threads 0 x
expect_exit 1 "dump of a missing file" -- "$kz" dump "$tmp/missing.evtx"
grep -q "missing.evtx" "$tmp/err" && ok || fail "the error does not name the missing file"
printf 'not an event log\n' >"$tmp/notes.txt"
expect_exit 1 "dump of a file in no supported format" -- "$kz" dump "$tmp/notes.txt"
mkdir "$tmp/empty"
expect_exit 1 "dump of a folder without logs" -- "$kz" dump "$tmp/empty"
# A file with the EVTX signature but nothing else: an input problem, not a crash.
printf 'ElfFile\0' >"$tmp/stub.evtx"
expect_exit 1 "dump of a truncated EVTX file" -- "$kz" dump "$tmp/stub.evtx"
grep -q "truncated" "$tmp/err" && ok || fail "a truncated file is not reported as truncated"
[ ! -s "$tmp/out" ] && ok || fail "a truncated file printed events"

# ---- dump on real logs ----
attack=$shared/evtx/EVTX-ATTACK-SAMPLES
manifest=$shared/manifests/EVTX-ATTACK-SAMPLES.evtx_manifest.json
if [ -d "$attack" ] && [ -f "$manifest" ] && command -v python3 >/dev/null; then
    # Record counts per file equal what libevtx counted (the manifest), for every file it read cleanly.
    "$kz" dump --quiet "$attack" >"$tmp/all.jsonl"
    [ $? -eq 0 ] && ok || fail "dump of EVTX-ATTACK-SAMPLES exited non-zero"
    python3 - "$tmp/all.jsonl" "$manifest" "$attack" <<'PY' && ok || fail "record counts differ from libevtx's (see above)"
import json, os, sys, collections
events, manifest, root = sys.argv[1], sys.argv[2], sys.argv[3]
counts = collections.Counter()
ids = collections.defaultdict(collections.Counter)
with open(events, encoding="utf-8") as f:
    for line in f:
        ev = json.loads(line)           # every line must be valid JSON
        rel = os.path.relpath(ev["file"], root)
        counts[rel] += 1
        ids[rel][str(ev["event_id"])] += 1
bad = 0
for entry in json.load(open(manifest)):
    if entry.get("libevtx_record_errors"):
        continue
    rel = entry["path"]
    if counts[rel] != entry["libevtx_records"]:
        print(f"{rel}: kizuki {counts[rel]} records, libevtx {entry['libevtx_records']}")
        bad += 1
    elif dict(ids[rel]) != {k: v for k, v in entry["event_ids"].items()}:
        print(f"{rel}: event id histogram differs: kizuki {dict(ids[rel])} manifest {entry['event_ids']}")
        bad += 1
sys.exit(1 if bad else 0)
PY
    # Field plans (compiled per template) and the full walk must give the same events.
    KZ_EVTX_NO_PLAN=1 "$kz" dump --quiet "$attack" "$shared/evtx/dirty-samples" >"$tmp/walk.jsonl"
    "$kz" dump --quiet "$attack" "$shared/evtx/dirty-samples" >"$tmp/plan.jsonl"
    cmp -s "$tmp/walk.jsonl" "$tmp/plan.jsonl" && ok || fail "field plans and the walk give different events"
    # The same with --slack, where stale data exercises the decoder's defences; every XML line (slack
    # included) must be a well-formed document, whatever the log held.
    KZ_EVTX_NO_PLAN=1 "$kz" dump --quiet --slack "$shared/evtx" >"$tmp/walk_s.jsonl"
    "$kz" dump --quiet --slack "$shared/evtx" >"$tmp/plan_s.jsonl"
    cmp -s "$tmp/walk_s.jsonl" "$tmp/plan_s.jsonl" && ok || fail "with --slack, plans and the walk differ"
    "$kz" dump --quiet --slack --format xml "$shared/evtx" >"$tmp/slack.xml"
    python3 - "$tmp/slack.xml" <<'PY' && ok || fail "dump --format xml printed lines that are not XML documents"
import sys, xml.etree.ElementTree as ET
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        ET.fromstring(line)
    except ET.ParseError as e:
        bad += 1
        if bad <= 3:
            print(f"line {n}: {e}: {line[:200]!r}")
sys.exit(1 if bad else 0)
PY
    # The same output whatever the thread count, and with -o.
    "$kz" dump --quiet --threads 1 "$attack" >"$tmp/t1.jsonl"
    cmp -s "$tmp/t1.jsonl" "$tmp/all.jsonl" && ok || fail "--threads 1 and the default give different output"
    "$kz" dump --quiet --threads 2 --format xml "$attack" >"$tmp/x2.xml"
    "$kz" dump --quiet --threads 1 --format xml "$attack" >"$tmp/x1.xml"
    cmp -s "$tmp/x1.xml" "$tmp/x2.xml" && ok || fail "--format xml differs between thread counts"
    [ "$(wc -l <"$tmp/x1.xml")" -eq "$(wc -l <"$tmp/all.jsonl")" ] && ok || fail "xml and jsonl give different event counts"
    "$kz" dump --quiet -o "$tmp/o.jsonl" "$attack"
    cmp -s "$tmp/o.jsonl" "$tmp/all.jsonl" && ok || fail "-o FILE differs from standard output"
    # The summary names the files and counts.
    "$kz" dump "$attack" 2>"$tmp/summary" >/dev/null
    grep -qE 'kizuki dump: [0-9]+ files, [0-9]+ records' "$tmp/summary" && ok || fail "no summary line on stderr"
    "$kz" dump --quiet "$attack" 2>"$tmp/summary" >/dev/null
    [ ! -s "$tmp/summary" ] && ok || fail "--quiet still printed on stderr"
else
    skip "dump on EVTX-ATTACK-SAMPLES: $shared not present"
fi

dirty=$shared/evtx/dirty-samples/samples
if [ -d "$dirty" ]; then
    # A chunk with a bad signature: the other chunks are still read and the problem is reported.
    "$kz" dump "$dirty/sample_with_a_bad_chunk_magic.evtx" >"$tmp/bad.jsonl" 2>"$tmp/bad.err"
    [ $? -eq 0 ] && ok || fail "damaged file: exit code not 0"
    [ "$(wc -l <"$tmp/bad.jsonl")" -ge 270 ] && ok || fail "damaged file: fewer records than evtx-rs recovers (270)"
    grep -q "bad record" "$tmp/bad.err" && ok || fail "damaged file: the bad record is not reported"
    # --slack recovers at least as much as without it.
    n1=$("$kz" dump --quiet "$dirty/security.evtx" | wc -l)
    n2=$("$kz" dump --quiet --slack "$dirty/security.evtx" | wc -l)
    [ "$n2" -ge "$n1" ] && ok || fail "--slack lost records ($n2 < $n1)"
else
    skip "dirty samples: $shared not present"
fi

echo "cli: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
