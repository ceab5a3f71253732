#!/usr/bin/env bash
# End-to-end tests of the evidence store and scope (issue 7) on a small simulated estate:
# ingest -> verify -> re-ingest is a no-op; scope of every compromised account against
# scenario.json (the ntt2020 accounts must match exactly; the others are reported); outputs in
# every format (HTML escaped); timeline; tamper tests (a byte of a stored file, a chain row);
# and a crash test (kill -9 at random moments, then verify and resume, compared with a clean
# ingest). Usage: tests/e2e/store.sh path/to/kizuki   Prints "store: N passed, N failed, N skipped".
set -uo pipefail
kz=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
expect_exit() {
    local want=$1 name=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else fail "$name: exit $got, want $want ($(head -c 300 "$tmp/err"))"; fi
}
count() { sqlite3 "$1/kizuki.db" "$2" 2>/dev/null; }

# ---- options ----
for c in ingest verify scope timeline; do expect_exit 0 "$c --help" -- "$kz" $c --help; done
expect_exit 1 "ingest without --store" -- "$kz" ingest "$tmp"
expect_exit 1 "verify of a non-store" -- "$kz" verify --store "$tmp/nothing"
expect_exit 1 "scope without subject" -- "$kz" scope --store "$tmp/nothing"
expect_exit 1 "scope with both subjects" -- "$kz" scope --store "$tmp/x" --user a --host b

# ---- ingest, verify, re-ingest ----
sim=$tmp/sim
"$kz" simulate -o "$sim" --users 40 --days 7 --quiet >/dev/null 2>&1 || fail "simulate"
st=$tmp/store
expect_exit 0 "ingest" -- "$kz" ingest "$sim/logs" --store "$st"
evtx_files=$(find "$sim/logs" -name '*.evtx' | wc -l)
all_files=$(find "$sim/logs" -type f | wc -l)
[ "$(count "$st" 'select count(*) from files')" = "$all_files" ] && ok || fail "files stored: $(count "$st" 'select count(*) from files') want $all_files"
[ "$(ls "$st/objects" | wc -l)" = "$all_files" ] && ok || fail "objects kept"
# every stored copy is byte-identical to its source
bad=0
for f in $(find "$sim/logs" -type f | head -20); do
    h=$(sha256sum "$f" | cut -d' ' -f1)
    cmp -s "$f" "$st/objects/$h" || bad=1
done
[ $bad = 0 ] && ok || fail "stored copies differ from the sources"
# events indexed = the EVTX records the simulator wrote (it prints them)
want_events=$("$kz" simulate -o "$tmp/sim2" --users 40 --days 7 2>&1 | sed -n 's/.*(\([0-9]*\) Windows events.*/\1/p')
got_events=$(count "$st" 'select count(*) from events')
[ "$got_events" = "$want_events" ] && ok || fail "events indexed $got_events, simulator wrote $want_events"
expect_exit 0 "verify intact" -- "$kz" verify --store "$st"
expect_exit 0 "re-ingest" -- "$kz" ingest "$sim/logs" --store "$st"
grep -q "0 files added" "$tmp/err" && ok || fail "re-ingest added files: $(cat "$tmp/err")"
[ "$(count "$st" 'select count(*) from events')" = "$got_events" ] && ok || fail "re-ingest changed the index"

# ---- scope against the truth ----
if python3 "$here/scope_truth.py" "$kz" "$st" "$sim" \
    "$(python3 -c "import json,sys; s=json.load(open('$sim/scenario.json')); print(','.join(x['name']+':'+a['account'] for x in s['scenarios'] if x['name']=='ntt2020' for a in x['accounts']))")" >"$tmp/truth" 2>&1; then ok; else fail "scope vs scenario.json"; fi
cat "$tmp/truth"
acct=$(python3 -c "import json; s=json.load(open('$sim/scenario.json')); a=s['scenarios'][0]['accounts'][0]; print(a['account'])")
srcs=$(python3 -c "import json; s=json.load(open('$sim/scenario.json')); a=s['scenarios'][0]['accounts'][0]; print(' '.join('--source '+x for x in a['sources']))")
for fmt in table json csv dot html; do
    expect_exit 0 "scope --format $fmt" -- "$kz" scope --store "$st" --user "$acct" $srcs --customers "$sim/customers.csv" --format $fmt -o "$tmp/scope.$fmt"
done
python3 -c "import json; d=json.load(open('$tmp/scope.json')); assert set(d)=={'subject','since','until','hosts','edges','files','customers'}" && ok || fail "scope JSON keys"
grep -q '^digraph' "$tmp/scope.dot" && ok || fail "dot output"
grep -qi '<script' "$tmp/scope.html" && fail "html has a script" || ok
# the owner's whole account is larger than the attacker's share of it
"$kz" scope --store "$st" --user "$acct" --customers "$sim/customers.csv" --format json >"$tmp/whole.json" 2>/dev/null
python3 -c "
import json; a=json.load(open('$tmp/scope.json')); w=json.load(open('$tmp/whole.json'))
assert len(w['files']) > len(a['files']) and len(w['hosts']) >= len(a['hosts'])" && ok || fail "whole account vs attacker"
expect_exit 0 "timeline csv" -- "$kz" timeline --store "$st" --user "$acct" --format csv
tl=$(($(wc -l <"$tmp/out") - 1))
uid=$(count "$st" "select id from names where s='$(echo "$acct" | sed 's/.*\\//' | tr A-Z a-z)'")
[ "$tl" = "$(count "$st" "select count(*) from events where user=$uid")" ] && ok || fail "timeline rows $tl"
head -1 "$tmp/out" | grep -q '^message,datetime,timestamp_desc' && ok || fail "timeline header"
expect_exit 0 "timeline jsonl by host" -- "$kz" timeline --store "$st" --host VDI03 --format jsonl
python3 -c "
import json,sys
ts=[json.loads(l)['datetime'] for l in open('$tmp/out')]
assert ts and ts==sorted(ts)" && ok || fail "timeline order"

# ---- tamper ----
cp -r "$st" "$tmp/t1"
obj=$(ls "$tmp/t1/objects" | head -1)
chmod u+w "$tmp/t1/objects/$obj"
printf 'X' | dd of="$tmp/t1/objects/$obj" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_exit 1 "verify after a changed byte" -- "$kz" verify --store "$tmp/t1"
grep -q "$obj" "$tmp/out" && ok || fail "verify did not name the changed file"
cp -r "$st" "$tmp/t2"
sqlite3 "$tmp/t2/kizuki.db" "update files set events=events+1 where id=3"
expect_exit 1 "verify after a changed chain row" -- "$kz" verify --store "$tmp/t2"
name3=$(sqlite3 "$tmp/t2/kizuki.db" "select name from files where id=3")
grep -q "$name3" "$tmp/out" && grep -q "record was changed" "$tmp/out" && ok || fail "verify did not name file 3 and its changed batch: $(head -2 "$tmp/out")"
cp -r "$st" "$tmp/t4"
sqlite3 "$tmp/t4/kizuki.db" "update batches set prev='$(printf '%064d' 1)' where id=1"
expect_exit 1 "verify after a broken link" -- "$kz" verify --store "$tmp/t4"
grep -q "broken link" "$tmp/out" && ok || fail "verify did not report the broken link"
cp -r "$st" "$tmp/t3"
sqlite3 "$tmp/t3/kizuki.db" "delete from events where rowid=100"
expect_exit 1 "verify after a deleted event row" -- "$kz" verify --store "$tmp/t3"

# ---- crash: kill -9 during ingest, verify, resume, compare with the clean store ----
cr=$tmp/crash
for i in 1 2 3 4 5; do
    "$kz" ingest "$sim/logs" --store "$cr" --quiet >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ -f "$cr/kizuki.db" ]; then
        "$kz" verify --store "$cr" >"$tmp/v" 2>&1 && ok || fail "verify after kill $i: $(head -3 "$tmp/v")"
    fi
done
expect_exit 0 "resume after kills" -- "$kz" ingest "$sim/logs" --store "$cr"
expect_exit 0 "verify after resume" -- "$kz" verify --store "$cr"
for q in 'select count(*) from events' 'select count(*) from files' 'select count(*) from logons' \
         'select sum(events) from files' 'select count(*) from batches'; do
    [ "$(count "$cr" "$q")" = "$(count "$st" "$q")" ] && ok || fail "after crash+resume, '$q': $(count "$cr" "$q") vs $(count "$st" "$q")"
done

echo "store: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
