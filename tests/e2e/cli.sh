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
    # (xml is EVTX only: the folder's Tomcat access log is in the jsonl output, not in the xml)
    [ "$(wc -l <"$tmp/x1.xml")" -eq "$(grep -c '"format":"evtx"' "$tmp/all.jsonl")" ] && ok || fail "xml and jsonl give different event counts"
    "$kz" dump --quiet -o "$tmp/o.jsonl" "$attack"
    cmp -s "$tmp/o.jsonl" "$tmp/all.jsonl" && ok || fail "-o FILE differs from standard output"
    # The summary names the files and counts.
    "$kz" dump "$attack" 2>"$tmp/summary" >/dev/null
    grep -qE 'kizuki dump: [0-9]+ files, [0-9]+ records' "$tmp/summary" && ok || fail "no summary line on stderr"
    "$kz" dump --quiet "$attack" 2>"$tmp/summary" >/dev/null
    [ ! -s "$tmp/summary" ] && ok || fail "--quiet still printed on stderr"
    # Text logs alone: their counts, without EVTX counters that would all be zero.
    "$kz" dump "$here/../fixtures/linux/auth.log" 2>"$tmp/summary" >/dev/null
    grep -qE '^kizuki dump: 1 text files: [0-9]+ lines, [1-9][0-9]* events, 0 bad lines' "$tmp/summary" &&
        ! grep -q chunks "$tmp/summary" && ok || fail "text-only summary: $(tail -1 "$tmp/summary")"
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

# ---- eval: scoring findings against a simulation's truth ----
# A hand-made truth (two steps), scenario and findings; the expected figures are worked out by hand:
# finding 1 names step 2's record (FS01/Security.evtx #345) 300.5 s after the step's start; finding 2
# matches no step (a false positive in sato.y's confounder window: flagged, medium); finding 3 is FS01
# an hour after step 2's window (a false positive). 2 false positives / 8 benign user-days = 250 per 1000.
expect_exit 0 "eval --help" -- "$kz" eval --help
grep -q -- "--truth" "$tmp/out" && ok || fail "eval --help does not explain --truth"
expect_exit 1 "eval without --truth" -- "$kz" eval "$tmp/none.jsonl"
expect_exit 1 "eval without findings" -- "$kz" eval --truth "$tmp"
mkdir -p "$tmp/sim/logs/FS01" "$tmp/nosim"
printf '%s\n' \
    '{"scenario":"ntt2020","step":1,"stage":"initial-access","technique":"T1133","host":"VPNGW01","user":"CORP\\tanaka.h","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z","records":[{"file":"VPNGW01/fortigate.log","line":12}]}' \
    '{"scenario":"ntt2020","step":2,"stage":"collection","technique":"T1039","host":"FS01","user":"CORP\\tanaka.h","start":"2026-03-02T11:00:00Z","end":"2026-03-02T12:00:00Z","records":[{"file":"FS01/Security.evtx","record_id":345}]}' \
    >"$tmp/sim/truth.jsonl"
printf '%s\n' '{"seed": 7, "users": 5, "days": 2, "benign_user_days": 8,' \
    ' "scenarios": [{"name": "ntt2020", "accounts": [], "files_exfiltrated": 0}],' \
    ' "confounders": [{"kind": "late_work", "account": "CORP\\sato.y", "start": "2026-03-02T20:00:00Z", "end": "2026-03-02T23:00:00Z"}]}' \
    >"$tmp/sim/scenario.json"
printf '%s\n' \
    '{"ts":"2026-03-02T11:05:00.5Z","kind":"sigma","rule_id":"r1","title":"t","level":"high","score":75,"tags":[],"host":"WS01","user":"bob","src_ip":null,"reasons":[],"source":{"file":"'"$tmp"'/sim/logs/FS01/Security.evtx","record_id":345,"format":"evtx"},"event":{}}' \
    '{"ts":"2026-03-02T21:00:00Z","kind":"ueba","rule_id":null,"title":"t","level":"medium","score":50,"tags":[],"host":"WS02","user":"CORP\\sato.y","src_ip":null,"reasons":["new host"],"source":null,"event":null}' \
    '{"ts":"2026-03-02T13:00:00Z","kind":"sigma","rule_id":"r2","title":"t","level":"low","score":30,"tags":[],"host":"fs01.corp.example.jp","user":null,"src_ip":null,"reasons":[],"source":null,"event":null}' \
    >"$tmp/findings.jsonl"
expect_exit 0 "eval on a hand-made truth" -- "$kz" eval --truth "$tmp/sim" "$tmp/findings.jsonl"
cp "$tmp/out" "$tmp/eval.json"
python3 - "$tmp/eval.json" <<'PY' && ok || fail "eval result differs from the hand-computed one (see above)"
import json, sys
got = json.load(open(sys.argv[1]))
want = {"steps_total": 2, "steps_detected": 1,
        "scenarios": [{"name": "ntt2020", "steps_total": 2, "steps_detected": 1, "first_detection_delay_s": 300.5,
                       "steps": [{"step": 1, "detected": False, "delay_s": None},
                                 {"step": 2, "detected": True, "delay_s": 300.5}]}],
        "false_positives": 2, "benign_user_days": 8, "fp_per_1000_user_days": 250,
        "confounders_flagged": [{"kind": "late_work", "account": "CORP\\sato.y", "level": "medium"}]}
if got != want:
    print("got ", json.dumps(got))
    print("want", json.dumps(want))
    sys.exit(1)
PY
[ "$(wc -l <"$tmp/eval.json")" -eq 1 ] && ok || fail "eval printed more than one line"
# The same from standard input; --min-level high keeps finding 1 only (no false positive left).
"$kz" eval --truth "$tmp/sim" - <"$tmp/findings.jsonl" 2>/dev/null | cmp -s - "$tmp/eval.json" && ok || fail "eval of '-' differs from the file"
"$kz" eval --quiet --truth "$tmp/sim" --min-level high "$tmp/findings.jsonl" >"$tmp/high.json" 2>"$tmp/err"
grep -q '"steps_detected":1,' "$tmp/high.json" && grep -q '"false_positives":0,"benign_user_days":8,"fp_per_1000_user_days":0,"confounders_flagged":\[\]' "$tmp/high.json" && ok || fail "--min-level high: $(cat "$tmp/high.json")"
[ ! -s "$tmp/err" ] && ok || fail "eval --quiet printed on stderr"
expect_exit 0 "eval --format text" -- "$kz" eval --truth "$tmp/sim" --format text "$tmp/findings.jsonl"
grep -q "steps detected: 1 of 2" "$tmp/out" && grep -q "late_work" "$tmp/out" && ok || fail "eval --format text: $(head -c 300 "$tmp/out")"
expect_exit 1 "eval --min-level bogus" -- "$kz" eval --truth "$tmp/sim" --min-level severe "$tmp/findings.jsonl"
expect_exit 1 "eval --format bogus" -- "$kz" eval --truth "$tmp/sim" --format yaml "$tmp/findings.jsonl"
expect_exit 1 "eval of a missing findings file" -- "$kz" eval --truth "$tmp/sim" "$tmp/missing.jsonl"
grep -q "missing.jsonl" "$tmp/err" && ok || fail "the error does not name the missing findings file"
expect_exit 1 "eval of a folder without truth" -- "$kz" eval --truth "$tmp/nosim" "$tmp/findings.jsonl"
grep -q "truth.jsonl" "$tmp/err" && ok || fail "the error does not name truth.jsonl"
# Malformed findings: every bad line named with its file and line, and no result printed.
{ head -1 "$tmp/findings.jsonl"; echo '{"ts":"2026-03-02T11:05:00Z","level":"severe"}'; echo '[1,]'; } >"$tmp/bad.jsonl"
expect_exit 1 "eval of malformed findings" -- "$kz" eval --truth "$tmp/sim" "$tmp/bad.jsonl"
grep -q "bad.jsonl:2: .*level" "$tmp/err" && grep -q "bad.jsonl:3: column 4" "$tmp/err" && ok || fail "malformed findings not reported by line: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] && ok || fail "eval printed a result from malformed findings"
cp -r "$tmp/sim" "$tmp/badsim"
printf '{"scenario":"x","step":1}\n' >>"$tmp/badsim/truth.jsonl"
expect_exit 1 "eval of a malformed truth" -- "$kz" eval --truth "$tmp/badsim" "$tmp/findings.jsonl"
grep -q "truth.jsonl:3: .*start" "$tmp/err" && ok || fail "malformed truth not reported by line: $(cat "$tmp/err")"
# On a real simulation (when `simulate` works): no findings detect nothing; findings made from the
# truth's own records (one per step, at the step's start) detect every step that lists records, with
# delay 0 and no false positive.
if timeout 60 "$kz" simulate --quiet -o "$tmp/real" --users 20 --days 2 --seed 5 >/dev/null 2>&1 &&
    [ -s "$tmp/real/truth.jsonl" ]; then
    : >"$tmp/nofindings.jsonl"
    "$kz" eval --quiet --truth "$tmp/real" "$tmp/nofindings.jsonl" >"$tmp/real0.json"
    python3 - "$tmp/real0.json" "$tmp/real/truth.jsonl" <<'PY' && ok || fail "eval with no findings on a real simulation"
import json, sys
r = json.load(open(sys.argv[1]))
steps = sum(1 for l in open(sys.argv[2]) if l.strip())
sys.exit(0 if r["steps_total"] == steps and r["steps_detected"] == 0 and r["false_positives"] == 0 else 1)
PY
    python3 - "$tmp/real" >"$tmp/perfect.jsonl" <<'PY'
import json, os, sys
root = sys.argv[1]
for line in open(os.path.join(root, "truth.jsonl")):
    if not line.strip():
        continue
    st = json.loads(line)
    for rec in st.get("records", [])[:1]:
        rid = rec.get("record_id", rec.get("line"))
        print(json.dumps({"ts": st["start"], "kind": "sigma", "rule_id": "t", "title": "t", "level": "high",
                          "score": 75, "tags": [], "host": None, "user": None, "src_ip": None, "reasons": [],
                          "source": {"file": os.path.join(root, "logs", rec["file"]), "record_id": rid,
                                     "format": "evtx"}, "event": None}))
PY
    "$kz" eval --quiet --truth "$tmp/real" "$tmp/perfect.jsonl" >"$tmp/real1.json"
    python3 - "$tmp/real1.json" "$tmp/real/truth.jsonl" <<'PY' && ok || fail "eval with findings made from the truth: $(head -c 400 "$tmp/real1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
with_records = sum(1 for l in open(sys.argv[2]) if l.strip() and json.loads(l).get("records"))
delays = [s["delay_s"] for sc in r["scenarios"] for s in sc["steps"] if s["detected"]]
sys.exit(0 if r["steps_detected"] >= with_records and r["false_positives"] == 0 and all(d == 0 for d in delays) else 1)
PY
else
    skip "eval on a real simulation: kizuki simulate did not run"
fi

# ---- simulate: a small estate, read back by kizuki dump and by Debian's evtxexport ----
expect_exit 0 "simulate --help" -- "$kz" simulate --help
grep -q -- "--scenario" "$tmp/out" && ok || fail "simulate --help does not explain --scenario"
expect_exit 1 "simulate without -o" -- "$kz" simulate
expect_exit 1 "simulate --scenario bogus" -- "$kz" simulate -o "$tmp/sim" --scenario bogus
expect_exit 0 "simulate a small estate" -- "$kz" simulate -o "$tmp/sim" --users 12 --days 3 --seed 5
grep -qE 'kizuki simulate: .* events' "$tmp/err" && ok || fail "simulate printed no summary"
for f in truth.jsonl scenario.json customers.csv logs/PROXY01/access.log logs/VPNGW01/fortigate.log \
    logs/DC01/Security.evtx "logs/PWRESET01/Microsoft-Windows-Sysmon%4Operational.evtx"; do
    [ -s "$tmp/sim/$f" ] && ok || fail "simulate did not write $f"
done
"$kz" dump --quiet "$tmp/sim/logs" >"$tmp/sim.jsonl" 2>"$tmp/sim.err" && ok || fail "dump of simulated logs failed"
"$kz" dump "$tmp/sim/logs" 2>&1 >/dev/null | grep -q '(0 bad, 0 from slack), [0-9]* chunks (0 bad, 0 checksum errors)' \
    && ok || fail "simulated logs have bad records or chunks"
"$kz" simulate -o "$tmp/sim2" --users 12 --days 3 --seed 5 --quiet --threads 1
diff -r "$tmp/sim" "$tmp/sim2" >/dev/null && ok || fail "the same seed gave different output"
"$kz" simulate -o "$tmp/sim3" --users 12 --days 3 --scenario none --quiet
[ -f "$tmp/sim3/truth.jsonl" ] && [ ! -s "$tmp/sim3/truth.jsonl" ] && ok || fail "--scenario none: truth.jsonl not empty"
"$kz" simulate -o "$tmp/simj" --users 12 --days 3 --seed 5 --format jsonl --quiet
if command -v python3 >/dev/null; then
    python3 - "$tmp/simj/logs" <<'PY' && ok || fail "simulate --format jsonl: lines that are not Winlogbeat JSON"
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*/*.jsonl"):
    for n, line in enumerate(open(f, encoding="utf-8"), 1):
        e = json.loads(line)
        assert e["winlog"]["record_id"] == n and e["winlog"]["event_data"] is not None, (f, n)
PY
fi
if command -v evtxexport >/dev/null; then
    # Record counts per file: evtxexport (libevtx) and kizuki dump agree for every file. libevtx
    # drops a record that ends on a chunk's last byte, so the writer never fills a chunk to the
    # last byte: no chunk of a simulated file may have free space offset 65536.
    bad=0 full=0
    while IFS= read -r -d '' f; do
        n_lib=$(evtxexport "$f" 2>/dev/null | grep -c '^Event number')
        n_kz=$("$kz" dump --quiet "$f" | wc -l)
        if [ "$n_lib" -ne "$n_kz" ] || [ "$n_kz" -eq 0 ]; then
            bad=$((bad + 1)); echo "  $f: evtxexport $n_lib, kizuki $n_kz"
        fi
        if python3 -c 'import sys,struct; d=open(sys.argv[1],"rb").read(); sys.exit(0 if any(struct.unpack_from("<I",d,4096+i*65536+48)[0]>65528 for i in range((len(d)-4096)//65536)) else 1)' "$f" 2>/dev/null; then
            full=$((full + 1)); echo "  $f: a chunk filled past offset 65528"
        fi
    done < <(find "$tmp/sim/logs" -name '*.evtx' -print0)
    [ "$bad" -eq 0 ] && ok || fail "simulated EVTX: record counts differ from evtxexport in $bad files"
    [ "$full" -eq 0 ] && ok || fail "simulated EVTX: $full files with a chunk filled to its last bytes"
else
    skip "simulate vs evtxexport: evtxexport (libevtx-utils) not installed"
fi

echo "cli: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
