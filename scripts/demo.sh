#!/usr/bin/env bash
# `make demo`: kizuki's red-team replay in under a minute. It simulates a small company with both
# incidents kizuki is built from (NTT Com 2020, Night Sky 2021) injected, scans the logs with
# kizuki's own rules (built into the binary), and scores the findings against the simulation's
# ground truth: which attack steps were caught, how fast, and what was flagged by mistake.
# Usage: scripts/demo.sh [BUILD_DIR]   (KZ_DEMO_DIR keeps the output there instead of a temp folder)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kz="$build/kizuki"
if [ -n "${KZ_DEMO_DIR:-}" ]; then
    out=$KZ_DEMO_DIR
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi

echo "\$ kizuki simulate -o sim --users 100 --days 30"
"$kz" simulate -o "$out/sim" --users 100 --days 30 2>&1 | sed 's|'"$out"'/||g'
echo
echo "\$ kizuki scan sim/logs --format jsonl -o findings.jsonl"
"$kz" scan --quiet "$out/sim/logs" --format jsonl -o "$out/findings.jsonl"
echo
echo "top findings (by level, then how many records each rule hit):"
python3 - "$out/findings.jsonl" <<'PY'
import collections, json, sys
order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}
by_rule = collections.OrderedDict()
for line in open(sys.argv[1], encoding="utf-8"):
    f = json.loads(line)
    r = by_rule.setdefault(f["rule_id"], {"title": f["title"], "level": f["level"], "n": 0,
                                          "hosts": set(), "first": f["ts"]})
    r["n"] += 1
    r["hosts"].add((f.get("host") or "-").split(".")[0])
    r["first"] = min(r["first"], f["ts"])
rows = sorted(by_rule.values(), key=lambda r: (order.get(r["level"], 9), -r["n"]))
for r in rows[:12]:
    hosts = sorted(r["hosts"])
    where = ", ".join(hosts[:3]) + (f" +{len(hosts) - 3}" if len(hosts) > 3 else "")
    print(f"  {r['level']:<9} {r['n']:>6}  {r['title'][:58]:<58}  {r['first'][:16]}  {where}")
PY
echo
echo "\$ kizuki eval --truth sim --format text findings.jsonl"
"$kz" eval --quiet --truth "$out/sim" --format text "$out/findings.jsonl"

# The question that took the victims weeks: what did the attacker touch, and whose data was it? The
# logs go into an evidence store, and the account that touched the most customers' data in the
# simulation is scoped from the attacker's own sources and window (as an investigator would, from the
# IPs and devices found above), not from the simulation's answer of what was touched.
echo
echo "\$ kizuki ingest sim/logs --store case"
"$kz" ingest "$out/sim/logs" --store "$out/case" 2>&1 | sed 's|'"$out"'/||g'
mapfile -t pick < <(python3 - "$out/sim/scenario.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
accts = [a for s in doc["scenarios"] for a in s["accounts"]]
a = max(accts, key=lambda a: (len(a.get("customers_touched", [])), a["account"]))
print(a["account"]); print(a["first"]); print(a["last"])
for s in a.get("sources", []): print(s)
PY
)
args=(--user "${pick[0]}" --since "${pick[1]}" --until "${pick[2]}")
for s in "${pick[@]:3}"; do args+=(--source "$s"); done
echo
echo "\$ kizuki scope --store case ${args[*]} --customers sim/customers.csv"
"$kz" scope --store "$out/case" "${args[@]}" --customers "$out/sim/customers.csv" --format table \
    2>&1 | sed 's|'"$out"'/||g' | awk 'NR <= 60 { print } NR == 61 { print "  ..." }'
