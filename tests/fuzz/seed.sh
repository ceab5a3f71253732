#!/bin/sh
# seed.sh - makes the seed corpora for the EVTX fuzz targets, outside the repository.
#
#   build-fuzz/seeds_chunk/  every 64 KiB chunk of every real .evtx file under the shared data (the 4 KiB
#                            file header skipped), named by content hash so duplicates collapse;
#   build-fuzz/seeds_file/   small whole files (up to MAX_FILE bytes, i.e. one or two chunks), plus a
#                            copy of a few of them cut inside their last chunk (a truncated file).
#
# The shared data is third-party: it is only ever copied into build-fuzz/, never into the repository.
# Usage: tests/fuzz/seed.sh [DATA_DIR]   (default: ../shared/data/evtx, or $KZ_SHARED_DATA/evtx)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-build-fuzz}
DATA=${1:-${KZ_SHARED_DATA:+$KZ_SHARED_DATA/evtx}}
DATA=${DATA:-../shared/data/evtx}
MAX_FILE=${MAX_FILE:-135168} # file header + 2 chunks
TRUNCATED=${TRUNCATED:-8}    # how many truncated copies to make

if [ ! -d "$DATA" ]; then
    echo "seed.sh: no EVTX data at $DATA; the fuzzers will start from an empty corpus" >&2
    mkdir -p "$OUT/seeds_chunk" "$OUT/seeds_file"
    exit 0
fi
mkdir -p "$OUT/seeds_chunk" "$OUT/seeds_file"
TMP=$(mktemp "${TMPDIR:-/tmp}/kz_seed.XXXXXX")
trap 'rm -f "$TMP"' EXIT

nchunks=0
nfiles=0
ntrunc=0
find "$DATA" -type f -iname '*.evtx' | sort > "$TMP.list"
while IFS= read -r f; do
    size=$(wc -c < "$f")
    [ "$size" -gt 4096 ] || continue
    # Chunks: 64 KiB each after the 4 KiB header; the last one may be short.
    count=$(( (size - 4096 + 65535) / 65536 ))
    i=0
    while [ "$i" -lt "$count" ]; do
        dd if="$f" of="$TMP" bs=4096 skip=$((1 + i * 16)) count=16 2>/dev/null
        # Only chunks that carry a chunk signature: blank (zeroed) chunks add nothing.
        if [ "$(head -c 7 "$TMP")" = "ElfChnk" ]; then
            sum=$(sha1sum "$TMP" | cut -c1-16)
            if [ ! -f "$OUT/seeds_chunk/$sum" ]; then
                cp "$TMP" "$OUT/seeds_chunk/$sum"
                nchunks=$((nchunks + 1))
            fi
        fi
        i=$((i + 1))
    done
    if [ "$size" -le "$MAX_FILE" ]; then
        sum=$(sha1sum "$f" | cut -c1-16)
        if [ ! -f "$OUT/seeds_file/$sum" ]; then
            cp "$f" "$OUT/seeds_file/$sum"
            nfiles=$((nfiles + 1))
            if [ "$ntrunc" -lt "$TRUNCATED" ]; then
                # Cut inside the last chunk, at a point that varies from file to file.
                cut_at=$(( size - 4096 - (ntrunc + 1) * 6000 ))
                head -c "$cut_at" "$f" > "$OUT/seeds_file/$sum.trunc"
                ntrunc=$((ntrunc + 1))
            fi
        fi
    fi
done < "$TMP.list"
rm -f "$TMP.list"
echo "seed.sh: $nchunks chunks in $OUT/seeds_chunk/, $nfiles files (+$ntrunc truncated) in $OUT/seeds_file/"

# ---- seeds for the rule, mapping and JSON targets ----
#   build-fuzz/seeds_rules/      SigmaHQ rule files (a sample of every folder), each followed by a few
#                                events after `#EVENT` (the fuzz_sigma_match input format), and
#                                kizuki's own rules; fuzz_sigma_load reads the same files
#   build-fuzz/seeds_logsource/  data/logsource.yml
#   build-fuzz/seeds_json/       the start of each OTRF JSON-lines dataset (64 KiB of each archive member)
SIGMA=${SIGMA:-$(dirname "$DATA")/sigma/SigmaHQ}
mkdir -p "$OUT/seeds_rules" "$OUT/seeds_logsource" "$OUT/seeds_json"
cp data/logsource.yml "$OUT/seeds_logsource/logsource.yml"
events='#EVENT
Image: C:\Windows\System32\cmd.exe
CommandLine: cmd.exe /c whoami /all & vssadmin delete shadows /all /quiet
ParentImage: C:\Program Files\ManageEngine\ADSelfService Plus\jre\bin\java.exe
User: CORP\svc_portal

@event_id: 11
TargetFilename: C:\Users\Public\NightSkyReadMe.hta
Image: C:\Windows\System32\rundll32.exe
'
nrules=0
for f in rules/*/*.yml; do
    [ -f "$f" ] || continue
    { cat "$f"; printf '\n%s' "$events"; } >"$OUT/seeds_rules/kizuki_$(basename "$f")"
    nrules=$((nrules + 1))
done
if [ -d "$SIGMA" ]; then
    # Every 8th rule file in name order: all categories and modifiers, a corpus that stays small.
    find "$SIGMA"/rules* -name '*.yml' | sort | awk 'NR % 8 == 0' >"$TMP.rules"
    while IFS= read -r f; do
        sum=$(sha1sum "$f" | cut -c1-16)
        { cat "$f"; printf '\n%s' "$events"; } >"$OUT/seeds_rules/$sum.yml"
        nrules=$((nrules + 1))
    done <"$TMP.rules"
    rm -f "$TMP.rules"
fi
njson=0
JSONL=$(dirname "$DATA")/jsonl
if [ -d "$JSONL" ] && command -v python3 >/dev/null; then
    # The OTRF datasets are zip (and gz) archives of JSON lines: the first 64 KiB of each member.
    njson=$(python3 - "$JSONL" "$OUT/seeds_json" <<'PY'
import gzip, hashlib, os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
n = 0
for root, _, files in sorted(os.walk(src)):
    for name in sorted(files):
        path = os.path.join(root, name)
        try:
            if name.endswith(".zip"):
                with zipfile.ZipFile(path) as z:
                    blobs = [z.open(m).read(65536) for m in z.namelist() if not m.endswith("/")]
            elif name.endswith(".gz"):
                blobs = [gzip.open(path).read(65536)]
            else:
                continue
        except Exception:
            continue
        for b in blobs:
            open(os.path.join(dst, hashlib.sha1(b).hexdigest()[:16]), "wb").write(b)
            n += 1
print(n)
PY
)
fi
echo "seed.sh: $nrules rule files in $OUT/seeds_rules/, 1 mapping, $njson JSON files in $OUT/seeds_json/"

# ---- seeds for the text-log targets, from a tiny simulated estate (when kizuki is built) ----
#   build-fuzz/seeds_accesslog/  the start of the proxy's nginx log and the portal's Tomcat log
#   build-fuzz/seeds_fortigate/  the start of the VPN gateway's FortiGate log
KIZUKI=${KIZUKI:-build/kizuki}
mkdir -p "$OUT/seeds_accesslog" "$OUT/seeds_fortigate"
if [ -x "$KIZUKI" ]; then
    SIM=$(mktemp -d "${TMPDIR:-/tmp}/kz_seed_sim.XXXXXX")
    if "$KIZUKI" simulate -o "$SIM" --users 12 --days 2 --quiet >/dev/null 2>&1; then
        for f in "$SIM"/logs/*/access.log "$SIM"/logs/*/localhost_access_log*; do
            [ -f "$f" ] && head -c 16384 "$f" >"$OUT/seeds_accesslog/$(basename "$(dirname "$f")")_$(basename "$f")"
        done
        for f in "$SIM"/logs/*/fortigate.log; do
            [ -f "$f" ] && head -c 16384 "$f" >"$OUT/seeds_fortigate/$(basename "$(dirname "$f")").log"
        done
    fi
    rm -rf "$SIM"
    echo "seed.sh: $(ls "$OUT/seeds_accesslog" | wc -l) access-log and $(ls "$OUT/seeds_fortigate" | wc -l) FortiGate seeds from a simulated estate"
fi

# ---- seeds for the Linux targets ----
#   build-fuzz/seeds_syslog/  the hand-written fixtures of tests/fixtures/linux (auth.log, Sysmon
#                             for Linux, Samba)
#   build-fuzz/seeds_auditd/  tests/fixtures/linux/audit.log and the go-libaudit logs under the
#                             shared data (auditd/auparse/testdata, auditd/testdata)
mkdir -p "$OUT/seeds_syslog" "$OUT/seeds_auditd"
for f in tests/fixtures/linux/auth.log tests/fixtures/linux/sysmon.log tests/fixtures/linux/samba.log; do
    [ -f "$f" ] && cp "$f" "$OUT/seeds_syslog/"
done
cp tests/fixtures/linux/audit.log "$OUT/seeds_auditd/fixture_audit.log" 2>/dev/null || true
AUDITD=$(dirname "$DATA")/auditd
for f in "$AUDITD"/auparse/testdata/*.log "$AUDITD"/testdata/*.log; do
    [ -f "$f" ] && cp "$f" "$OUT/seeds_auditd/$(basename "$(dirname "$f")")_$(basename "$f")"
done
echo "seed.sh: $(ls "$OUT/seeds_syslog" | wc -l) syslog and $(ls "$OUT/seeds_auditd" | wc -l) auditd seeds"

# ---- seeds for the web/proxy/event-XML targets ----
#   build-fuzz/seeds_w3c/, seeds_squid/, seeds_evtxml/  the hand-written fixtures of
#   tests/fixtures/web; for event XML also the first 16 KiB of evtxexport's and kizuki's own XML
#   of a few small EVTX files (when evtxexport / kizuki are there)
mkdir -p "$OUT/seeds_w3c" "$OUT/seeds_squid" "$OUT/seeds_evtxml"
cp tests/fixtures/web/iis_w3c.log "$OUT/seeds_w3c/" 2>/dev/null || true
cp tests/fixtures/web/squid_access.log "$OUT/seeds_squid/" 2>/dev/null || true
cp tests/fixtures/web/wevtutil_events.xml "$OUT/seeds_evtxml/" 2>/dev/null || true
find "$DATA" -type f -iname '*.evtx' -size -200k 2>/dev/null | sort | head -8 >"$TMP.xml" || true
i=0
while IFS= read -r f; do
    i=$((i + 1))
    if command -v evtxexport >/dev/null; then
        evtxexport -f xml "$f" 2>/dev/null | head -c 16384 >"$OUT/seeds_evtxml/evtxexport_$i.xml" || true
    fi
    if [ -x "${KIZUKI:-}" ]; then
        "$KIZUKI" dump --quiet --format xml "$f" 2>/dev/null | head -c 16384 >"$OUT/seeds_evtxml/kizuki_$i.xml" || true
    fi
done <"$TMP.xml"
rm -f "$TMP.xml"
echo "seed.sh: $(ls "$OUT/seeds_w3c" "$OUT/seeds_squid" "$OUT/seeds_evtxml" | grep -c .) web/proxy/event-XML seeds"
