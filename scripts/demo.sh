#!/usr/bin/env bash
# `make demo`: runs kizuki's main job on real input and shows the result. Today that is decoding: every
# Windows event log in ../shared/data (or the paths in $KZ_DEMO_PATHS) is decoded, one example event is
# shown, and the per-channel and per-event-id counts printed. It grows as detection lands.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shared=${KZ_SHARED_DATA:-../shared/data}
paths=${KZ_DEMO_PATHS:-$shared/evtx}
if [ ! -e "${paths%% *}" ]; then
    echo "demo: no input found at $paths; set KZ_DEMO_PATHS to a folder of .evtx files" >&2
    exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "\$ kizuki dump $paths > events.jsonl"
# shellcheck disable=SC2086
"$build/kizuki" dump $paths >"$out"
echo
echo "one decoded event (a process creation, if there is one):"
python3 - "$out" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
pick = next((l for l in lines if '"event_id":4688,' in l), None) or next(
    (l for l in lines if '"event_id":1,' in l), lines[0])
print("\n".join(json.dumps(json.loads(pick), indent=2, ensure_ascii=False).splitlines()[:45]))
PY
echo
echo "events by channel and event id (top 15):"
python3 - "$out" <<'PY'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    ev = json.loads(line)
    c[(ev.get("channel", "?"), ev["event_id"])] += 1
for (channel, eid), n in c.most_common(15):
    print(f"{n:8d}  {channel:55.55s} {eid}")
PY
