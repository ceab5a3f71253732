#!/usr/bin/env bash
# ueba_quality.sh - how good behaviour analytics is on simulated estates (issue 6's figures):
# for each seed, simulates ntt2020, nightsky2021 and a benign estate, scans them, keeps the
# `ueba` findings alone and scores them with `kizuki eval` against the simulator's truth.
# Prints one row per estate and seed, then the mean and worst over the seeds.
#   ntt2020:      steps detected; compromised accounts with a ueba finding inside the attacker's
#                 activity window; false positives per 1,000 benign user-days
#   nightsky2021: steps detected by ueba; days between the first ueba finding on the portal's
#                 account (svc-adss) and on the backdoor (step 10's account) and the encryption
#                 (step 16's start)
#   ntt2020:      also, per compromised account, the attacker's file-server reads (records of its
#                 T1039 steps that started before the account's first ueba finding; a step under
#                 way when the flag came counts whole: an upper bound); the worst account shown
#   none:         medium+ ueba findings per 1,000 user-days; confounders flagged high/critical
# Usage: bench/ueba_quality.sh BUILD_DIR [SEEDS] (default seeds "11 12 13 14 15")
# Environment: USERS/DAYS (attack estates, default 200/30), BUSERS/BDAYS (benign, 500/60);
#   PEERS=0 scans without the simulator's peers.csv (`--peers`), GEOIP=0 without its geoip.mmdb
#   (`--geoip`); both are used by default. AB=OTHER_BUILD_DIR: an A/B comparison, each estate
#   simulated once (by BUILD_DIR's kizuki) and scanned and scored by both builds (A: BUILD_DIR,
#   B: OTHER_BUILD_DIR; the simulation is the costly part, and both builds then judge the same
#   bytes); rows and means per build, then whether B's rows equal A's.
# A step that fails (simulate, scan, eval, the scoring script) is reported on stderr with its exit
# status and the tail of its messages; the other estates go on, and the script exits 1 at the end
# when any step failed. Each estate is deleted once scored (a 500 x 60 estate is ~12 GB: five
# seeds kept side by side filled the disk once, the likely cause of an earlier run that died
# after ~14 minutes with exit 1 and no message).
set -uo pipefail
kz=$(realpath "$1/kizuki")
builds=(A) kzs=("$kz")
[ -n "${AB:-}" ] && builds+=(B) kzs+=("$(realpath "$AB/kizuki")")
seeds=${2:-"11 12 13 14 15"}
USERS=${USERS:-200} DAYS=${DAYS:-30} BUSERS=${BUSERS:-500} BDAYS=${BDAYS:-60}
PEERS=${PEERS:-1} GEOIP=${GEOIP:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=$tmp/rows
touch "$rows"
failures=0
# Reports a failed step (and its log's tail) and counts it.
failed() { # estate seed step status log
    echo "ueba_quality: $1 seed $2: $3 failed (exit $4)" >&2
    [ -s "$5" ] && tail -n 5 "$5" | sed 's/^/  | /' >&2
    df -h "$tmp" 2>/dev/null | tail -n 1 | sed 's/^/  disk: /' >&2
    failures=$((failures + 1))
}
run() { # scenario users days seed
    local d=$tmp/$1-$4 log=$tmp/$1-$4.log st opts=()
    "$kz" simulate -o "$d" --scenario "$1" --users "$2" --days "$3" --seed "$4" --quiet \
        > "$log" 2>&1
    st=$?
    if [ $st -ne 0 ]; then failed "$1" "$4" simulate $st "$log"; rm -rf "$d"; return; fi
    [ "$PEERS" = 1 ] && [ -f "$d/peers.csv" ] && opts+=(--peers "$d/peers.csv")
    [ "$GEOIP" = 1 ] && [ -f "$d/geoip.mmdb" ] && opts+=(--geoip "$d/geoip.mmdb")
    for i in "${!kzs[@]}"; do score "$1" "$4" "$d" "${kzs[$i]}" "${builds[$i]}" "${opts[@]}"; done
    rm -rf "$d"
}
score() { # scenario seed estate kizuki build [scan options]
    local e=$1 seed=$2 d=$3 k=$4 b=$5 log=$3.log st
    local out=$d.$b
    shift 5 # "$@": the scan options
    "$k" scan "$d/logs" --format jsonl -o "$out.all" --quiet "$@" > "$log" 2>&1
    st=$?
    # exit 1 is "input errors" (a file skipped and reported): the findings are still written
    if [ $st -ne 0 ] && { [ $st -ne 1 ] || [ ! -s "$out.all" ]; }; then
        failed "$e" "$seed" "scan ($b)" $st "$log"; rm -f "$out".*; return
    fi
    # grep exits 1 when no line matched (a silent estate): that is a result, not a failure
    grep '"kind":"ueba"' "$out.all" > "$out.ueba"
    st=$?
    if [ $st -gt 1 ]; then failed "$e" "$seed" "grep of the findings ($b)" $st "$log"; rm -f "$out".*; return; fi
    "$k" eval --truth "$d" "$out.ueba" > "$out.eval" 2> "$log"
    st=$?
    if [ $st -ne 0 ]; then failed "$e" "$seed" "eval ($b)" $st "$log"; rm -f "$out".*; return; fi
    python3 - "$e" "$seed" "$d" "$out" "$b" >> "$rows" 2> "$log" <<'PY'
import json, sys
from datetime import datetime
name, seed, d, out, build = sys.argv[1:6]
ts = lambda s: datetime.fromisoformat(s[:19])
o = json.load(open(out + ".eval"))
sc = json.load(open(d + "/scenario.json"))
finds = [json.loads(l) for l in open(out + ".ueba")]
flagged = total = 0
for s in sc["scenarios"]:
    for a in s["accounts"]:
        total += 1
        n = a["account"].lower()
        flagged += any((f["user"] or "").lower() == n and a["first"][:19] <= f["ts"][:19] <= a["last"][:19] for f in finds)
high = sum(c["level"] in ("high", "critical") for c in o["confounders_flagged"])
steps = [json.loads(l) for l in open(d + "/truth.jsonl")]
def first_flag(account):
    n = account.split("\\")[-1].lower()
    t = [ts(f["ts"]) for f in finds if (f["user"] or "").split("\\")[-1].lower() == n]
    return min(t) if t else None
extra = {}
if name == "nightsky2021":
    by = {s["step"]: s for s in steps}
    enc = ts(by[16]["start"])
    for key, acc in (("portal_days", "CORP\\svc-adss"), ("backdoor_days", by[10]["user"])):
        f = first_flag(acc)
        extra[key] = round((enc - f).total_seconds() / 86400, 1) if f and f <= enc else None
if name == "ntt2020":
    worst = 0
    for s in sc["scenarios"]:
        for a in s["accounts"]:
            f = first_flag(a["account"])
            reads = [x for x in steps if x["technique"] == "T1039" and x["user"].lower() == a["account"].lower()]
            n = sum(len(x["records"]) for x in reads if f is None or ts(x["start"]) < f)
            worst = max(worst, n)
    extra["reads_before"] = worst
print(json.dumps({"build": build, "estate": name, "seed": seed, "steps": o["steps_detected"], "of": o["steps_total"],
                  "accounts": flagged, "accounts_of": total, "fp": o["fp_per_1000_user_days"],
                  "conf_high": high, **extra}))
PY
    st=$?
    if [ $st -ne 0 ]; then failed "$e" "$seed" "scoring (python, $b)" $st "$log"
    else tail -n 1 "$rows" | sed 's/^/ueba_quality: /' >&2; fi # progress: a long run's rows so far
    rm -f "$out".*
}
for s in $seeds; do
    run ntt2020 "$USERS" "$DAYS" "$s"
    run nightsky2021 "$USERS" "$DAYS" "$s"
    run none "$BUSERS" "$BDAYS" "$s"
done
python3 - "$rows" "$USERS" "$DAYS" "$BUSERS" "$BDAYS" "$PEERS" "$GEOIP" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
u, d, bu, bd, peers, geoip = sys.argv[2:8]
print(f"attack estates {u} users x {d} days, benign {bu} x {bd}; --peers {'on' if peers == '1' else 'off'}, "
      f"--geoip {'on' if geoip == '1' else 'off'}")
builds = sorted({r["build"] for r in rows})
ab = len(builds) > 1  # AB=...: a build column, means per build, and the comparison
tag = lambda r: f"{r['build']} " if ab else ""
print(("   " if ab else "") + "estate        seed  steps    accounts  fp/1000ud  confounders high+  extra")
for r in rows:
    ex = {k: r[k] for k in ("portal_days", "backdoor_days", "reads_before") if k in r}
    print(f"{tag(r)}{r['estate']:<13} {r['seed']:>4}  {r['steps']:>2}/{r['of']:<3}  {r['accounts']:>3}/{r['accounts_of']:<3}   {r['fp']:>8.3f}  {r['conf_high']:>17}  {ex if ex else ''}")
for b, e in ((b, e) for b in builds for e in ("ntt2020", "nightsky2021", "none")):
    rs = [r for r in rows if r["estate"] == e and r["build"] == b]
    if not rs: continue
    if ab: print(f"build {b}:", end=" ")
    m = lambda k: sum(r[k] for r in rs) / len(rs)
    print(f"{e:<13} mean  steps {m('steps'):.1f} (worst {min(r['steps'] for r in rs)}), "
          f"fp/1000ud {m('fp'):.3f} (worst {max(r['fp'] for r in rs):.3f}), "
          f"accounts flagged {sum(r['accounts'] for r in rs)}/{sum(r['accounts_of'] for r in rs)}, "
          f"confounders high+ {sum(r['conf_high'] for r in rs)}")
    for k in ("portal_days", "backdoor_days"):
        v = [r.get(k) for r in rs if k in r]
        if v:
            got = [x for x in v if x is not None]
            print(f"{'':<13} {k}: mean {sum(got) / len(got) if got else 0:.1f} (worst "
                  f"{min(got) if len(got) == len(v) else 'not flagged'}) before the encryption")
    v = [r["reads_before"] for r in rs if "reads_before" in r]
    if v:
        print(f"{'':<13} attacker file-server reads before the flag, worst account per seed: "
              f"mean {sum(v) / len(v):.1f} (worst {max(v)})")
if ab:
    key = lambda r: (r["estate"], r["seed"])
    a = {key(r): {k: v for k, v in r.items() if k != "build"} for r in rows if r["build"] == "A"}
    bb = {key(r): {k: v for k, v in r.items() if k != "build"} for r in rows if r["build"] == "B"}
    diff = sorted(k for k in a.keys() | bb.keys() if a.get(k) != bb.get(k))
    print("B's rows equal A's" if not diff else "B differs from A in: " +
          ", ".join(f"{e} seed {s}" for e, s in diff))
PY
st=$?
[ $st -ne 0 ] && { echo "ueba_quality: the summary failed (exit $st)" >&2; failures=$((failures + 1)); }
if [ $failures -gt 0 ]; then
    echo "ueba_quality: $failures step(s) failed (above); their estates are missing from the table" >&2
    exit 1
fi
