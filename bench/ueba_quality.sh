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
# Environment: USERS/DAYS (attack estates, default 200/30), BUSERS/BDAYS (benign, 500/60).
set -uo pipefail
kz=$(realpath "$1/kizuki")
seeds=${2:-"11 12 13 14 15"}
USERS=${USERS:-200} DAYS=${DAYS:-30} BUSERS=${BUSERS:-500} BDAYS=${BDAYS:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows=$tmp/rows
run() { # scenario users days seed
    local d=$tmp/$1-$4
    "$kz" simulate -o "$d" --scenario "$1" --users "$2" --days "$3" --seed "$4" --quiet || return 1
    "$kz" scan "$d/logs" --format jsonl -o "$d.all" --quiet 2>/dev/null
    grep '"kind":"ueba"' "$d.all" > "$d.ueba"
    "$kz" eval --truth "$d" "$d.ueba" > "$d.eval" 2>/dev/null
    python3 - "$1" "$4" "$d" >> "$rows" <<'PY'
import json, sys
from datetime import datetime
name, seed, d = sys.argv[1], sys.argv[2], sys.argv[3]
ts = lambda s: datetime.fromisoformat(s[:19])
o = json.load(open(d + ".eval"))
sc = json.load(open(d + "/scenario.json"))
finds = [json.loads(l) for l in open(d + ".ueba")]
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
print(json.dumps({"estate": name, "seed": seed, "steps": o["steps_detected"], "of": o["steps_total"],
                  "accounts": flagged, "accounts_of": total, "fp": o["fp_per_1000_user_days"],
                  "conf_high": high, **extra}))
PY
}
for s in $seeds; do
    run ntt2020 "$USERS" "$DAYS" "$s"
    run nightsky2021 "$USERS" "$DAYS" "$s"
    run none "$BUSERS" "$BDAYS" "$s"
done
python3 - "$rows" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("estate        seed  steps    accounts  fp/1000ud  confounders high+  extra")
for r in rows:
    ex = {k: r[k] for k in ("portal_days", "backdoor_days", "reads_before") if k in r}
    print(f"{r['estate']:<13} {r['seed']:>4}  {r['steps']:>2}/{r['of']:<3}  {r['accounts']:>3}/{r['accounts_of']:<3}   {r['fp']:>8.3f}  {r['conf_high']:>17}  {ex if ex else ''}")
for e in ("ntt2020", "nightsky2021", "none"):
    rs = [r for r in rows if r["estate"] == e]
    if not rs: continue
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
PY
