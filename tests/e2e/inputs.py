#!/usr/bin/env python3
"""inputs.py - end-to-end tests of the text inputs (issue 5): JSON lines, access logs, FortiGate.

  web_rule_fires   simulate a small nightsky2021 estate, scan it: kizuki's CVE-2021-40539 rule fires
                   on the proxy's and the portal's access-log lines that truth.jsonl lists for the
                   exploitation step (step 2), and on no line truth does not list for some step
  differential     the same estate written as EVTX and as Winlogbeat JSON lines (--format jsonl)
                   gives the same findings, field by field (source.file/format aside; System fields
                   Winlogbeat does not carry -- Level, EventID_Qualifiers, Provider_EventSourceName --
                   are not compared)
  gzip_in_place    the proxy log gzipped reads to the same events as the plain file
  bad_lines        a log with bad lines, NUL bytes and a 2 MiB line: skipped, counted, reported
                   with file and line, exit 0 for the good events
  wrapped_*        the same events as .evtx.gz/.zst, .tar/.tar.gz/.tar.zst, JSON arrays and UTF-16
                   text give the same findings / dump output (see wrapped())
  azure_security_event  a hand-written Azure SecurityEvent export (JSON array and lines) maps to
                   the EVTX raw field names
  otrf_histograms  every OTRF dataset (../shared/data/jsonl/otrf, zip and tar.gz members of JSON
                   lines) read by kizuki dump: zero bad lines, and per file the event-id histogram
                   equals the one Python's json module counts from the same bytes. Files over
                   8 MB uncompressed are skipped unless KZ_FULL=1 (the whole set is ~1.6 GB).
Prints "N passed, N failed, N skipped" last.
"""
import argparse, collections, gzip, io, json, os, re, shutil, subprocess, sys, tarfile, tempfile, zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tally import failed, result, skip, summary  # noqa: E402




def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def findings(path):
    out = []
    with open(path) as f:
        for line in f:
            out.append(json.loads(line))
    return out


DROP = ("Level", "EventID_Qualifiers", "Provider_EventSourceName")


def canon(o):
    if isinstance(o, dict):
        return {k: canon(v) for k, v in o.items() if k not in DROP}
    if isinstance(o, list):
        return [canon(v) for v in o]
    return str(o)


def key_of(f):
    src = f.get("source") or {}
    rel = (src.get("file") or "").split("/logs/")[-1]
    rel = re.sub(r"\.(evtx|jsonl)$", "", rel)
    g = dict(f)
    g.pop("source", None)
    g["event"] = canon(g.get("event") or {})
    return json.dumps([rel, src.get("record_id"), g], sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kizuki", required=True)
    a = ap.parse_args()
    k = os.path.abspath(a.kizuki)
    tmp = tempfile.mkdtemp(prefix="kz_inputs_")
    try:
        est, estj = os.path.join(tmp, "evtx"), os.path.join(tmp, "jsonl")
        common = ["--users", "20", "--days", "3", "--scenario", "nightsky2021", "--seed", "5", "--quiet"]
        r1 = run([k, "simulate", "-o", est] + common)
        r2 = run([k, "simulate", "-o", estj, "--format", "jsonl"] + common)
        if r1.returncode or r2.returncode:
            result("simulate", False, r1.stderr + r2.stderr)
            return
        fe, fj = os.path.join(tmp, "fe.jsonl"), os.path.join(tmp, "fj.jsonl")
        s1 = run([k, "scan", est, "--format", "jsonl", "-o", fe, "--quiet", "--no-ueba"])
        if s1.returncode and "--no-ueba" in s1.stderr:  # a build without UEBA
            s1 = run([k, "scan", est, "--format", "jsonl", "-o", fe, "--quiet"])
            s2 = run([k, "scan", estj, "--format", "jsonl", "-o", fj, "--quiet"])
        else:
            s2 = run([k, "scan", estj, "--format", "jsonl", "-o", fj, "--quiet", "--no-ueba"])
        if s1.returncode or s2.returncode:
            result("scan", False, s1.stderr + s2.stderr)
            return

        # web_rule_fires
        truth = [json.loads(l) for l in open(os.path.join(est, "truth.jsonl"))]
        step2 = next(t for t in truth if t["scenario"] == "nightsky2021" and t["step"] == 2)
        want = {(r["file"], r["line"]) for r in step2["records"] if "line" in r}
        anylisted = {(r["file"], r.get("line")) for t in truth for r in t["records"] if "line" in r}
        got = set()
        for f in findings(fe):
            if f["rule_id"] == "6c0f3e0a-6f1e-4f55-9a4b-0b1d2f6a7011":
                src = f["source"]
                got.add((src["file"].split("/logs/")[-1], src["record_id"]))
        # the exploitation requests, read off the logs themselves: /./RestAPI/ in the request
        exploit = set()
        for rel in ("PROXY01/access.log", "PWRESET01/localhost_access_log.txt"):
            for i, line in enumerate(open(os.path.join(est, "logs", rel)), 1):
                if "/./RestAPI/" in line.split('"')[1]:
                    exploit.add((rel, i))
        ok = bool(exploit) and exploit <= want and exploit <= got and got <= anylisted
        result("web_rule_fires", ok, f"exploit lines {sorted(exploit)}, step 2 lists "
               f"{sorted(want)}, rule fired on {sorted(got)}")

        # differential
        A = sorted(key_of(f) for f in findings(fe))
        B = sorted(key_of(f) for f in findings(fj))
        if A == B:
            result(f"differential ({len(A)} findings)", len(A) > 0, "no findings at all")
        else:
            only = sorted(set(A) - set(B))[:1] + sorted(set(B) - set(A))[:1]
            result("differential", False, f"{len(A)} vs {len(B)} findings; e.g. {only}")

        # gzip_in_place
        proxy = os.path.join(est, "logs", "PROXY01", "access.log")
        gzp = os.path.join(tmp, "proxy.log.gz")
        with open(proxy, "rb") as src, gzip.open(gzp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        d1 = run([k, "dump", proxy, "--quiet"]).stdout.splitlines()
        d2 = run([k, "dump", gzp, "--quiet"]).stdout.splitlines()
        strip = lambda ls: [re.sub(r'"file":"[^"]*",', "", l) for l in ls]
        result("gzip_in_place", len(d1) > 10 and strip(d1) == strip(d2), f"{len(d1)} vs {len(d2)} events")

        # bad_lines
        bad = os.path.join(tmp, "bad.log")
        lines = open(proxy, "rb").read().splitlines(keepends=True)[:20]
        lines[3] = b"not a log line\n"
        lines[5] = lines[5][:10] + b"\0" + lines[5][10:]
        lines[7] = b"1.2.3.4 - - [" + b"x" * (2 << 20) + b"\n"
        lines[9] = lines[9][:-5] + b"\xff\xfe" + lines[9][-5:]  # invalid UTF-8 in the user agent
        open(bad, "wb").write(b"".join(lines) + lines[0][:30])  # truncated last line
        r = run([k, "dump", bad])
        outl = r.stdout.splitlines()
        ok = (r.returncode == 0 and len(outl) == 17 and all(json.loads(l) for l in outl)
              and "line 4:" in r.stderr and "line 6:" in r.stderr and "line 8:" in r.stderr
              and "line 21:" in r.stderr and "4 bad lines" in r.stderr)
        result("bad_lines", ok, f"rc {r.returncode}, {len(outl)} events, stderr: {r.stderr[-600:]}")

        wrapped(k, tmp, est, estj, fe, fj)
        azure(k, tmp)
        otrf(k, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        summary()


def scan_keys(k, path, out, strip_suffix=False):
    r = run([k, "scan", path, "--format", "jsonl", "-o", out, "--quiet", "--no-ueba"])
    if r.returncode and "--no-ueba" in r.stderr:
        r = run([k, "scan", path, "--format", "jsonl", "-o", out, "--quiet"])
    if r.returncode:
        return None, r.stderr
    keys = []
    for f in findings(out):
        if strip_suffix:  # Security.evtx.gz is Security.evtx; members of est.tar are under logs/
            src = f.get("source") or {}
            src["file"] = re.sub(r"\.(gz|zst)$", "", src.get("file") or "")
        keys.append(key_of(f))
    return sorted(keys), ""


def wrapped(k, tmp, est, estj, fe, fj):
    """The same events in other wrappings give the same dump output and scan findings:
    wrapped_evtx   every EVTX file of the estate gzipped or zstd-compressed on disk, and the whole
                   estate as .tar, .tar.gz and .tar.zst: findings equal the plain estate's
    wrapped_text   the JSON lines estate with every Windows JSON lines file rewritten as a JSON
                   array (pretty-printed, or on one line) and/or in UTF-16 (LE with BOM, BE with BOM,
                   LE without BOM), the text logs in UTF-16LE: findings equal the JSON lines
                   estate's (record ids included: an array element's id is its position, which is
                   its line in the JSON lines file)
    wrapped_dump   kizuki dump of one Security log in each wrapping prints the same events"""
    import shutil as sh
    # wrapped_evtx: per-file compression
    ev2 = os.path.join(tmp, "evtx_compressed")
    sh.copytree(est, ev2)
    n = 0
    for dirpath, _, names in os.walk(os.path.join(ev2, "logs")):
        for name in sorted(names):
            if name.endswith(".evtx"):
                p = os.path.join(dirpath, name)
                tool = ["gzip", "-1"] if n % 2 == 0 else ["zstd", "-q", "--rm", "-1"]
                n += 1
                r = run(tool + [p])
                if r.returncode:
                    result("wrapped_evtx", False, r.stderr)
                    return
    A, _ = scan_keys(k, est + "/logs", os.path.join(tmp, "w0.jsonl"))
    B, err = scan_keys(k, ev2 + "/logs", os.path.join(tmp, "w1.jsonl"), strip_suffix=True)
    result(f"wrapped_evtx .evtx.gz/.evtx.zst ({n} files, {len(A or [])} findings)",
           A is not None and B == A and len(A) > 0, err or f"{len(A or [])} vs {len(B or [])} findings")
    for ext, mode in (("tar", "w"), ("tar.gz", "w:gz"), ("tar.zst", None)):
        arc = os.path.join(tmp, "est." + ext)
        if mode:
            with tarfile.open(arc, mode) as t:
                t.add(os.path.join(est, "logs"), arcname="logs")
        else:
            r = run(["tar", "--zstd", "-cf", arc, "-C", est, "logs"])
            if r.returncode:
                skip("wrapped_evtx .tar.zst", "tar --zstd unavailable: " + r.stderr[:200])
                continue
        B, err = scan_keys(k, arc, os.path.join(tmp, "w2.jsonl"))
        result(f"wrapped_evtx .{ext}", A is not None and B == A, err or f"{len(A or [])} vs {len(B or [])} findings")

    # wrapped_text
    tx2 = os.path.join(tmp, "jsonl_wrapped")
    sh.copytree(estj, tx2)
    counts = collections.Counter()
    i = 0
    for dirpath, _, names in os.walk(os.path.join(tx2, "logs")):
        for name in sorted(names):
            p = os.path.join(dirpath, name)
            data = open(p, "rb").read()
            if name.endswith(".jsonl") and data.startswith(b"{"):
                objs = [json.loads(l) for l in data.splitlines()]
                kind = i % 4
                i += 1
                if kind == 0:
                    text, enc = json.dumps(objs, indent=2), None
                elif kind == 1:
                    text, enc = json.dumps(objs), "utf-16-le-bom"
                elif kind == 2:
                    text, enc = data.decode(), "utf-16-be-bom"
                else:
                    text, enc = json.dumps(objs, indent=1, ensure_ascii=False), "utf-16-le"
                counts[(kind, enc)] += 1
            else:
                text, enc = data.decode("utf-8", "surrogateescape"), "utf-16-le-bom"
                try:
                    text.encode("utf-16-le")
                except UnicodeEncodeError:
                    continue  # not valid UTF-8: left as it is
                counts["text"] += 1
            if enc is None:
                raw = text.encode()
            elif enc == "utf-16-le-bom":
                raw = b"\xff\xfe" + text.encode("utf-16-le")
            elif enc == "utf-16-be-bom":
                raw = b"\xfe\xff" + text.encode("utf-16-be")
            else:
                raw = text.encode("utf-16-le")
            open(p, "wb").write(raw)
    A = sorted(key_of(f) for f in findings(fj))
    B, err = scan_keys(k, tx2 + "/logs", os.path.join(tmp, "w3.jsonl"))
    result(f"wrapped_text JSON arrays / UTF-16 ({dict((str(a), b) for a, b in counts.items())}, "
           f"{len(A)} findings)", B == A and len(A) > 0 and counts["text"] > 0,
           err or f"{len(A)} vs {len(B or [])} findings; e.g. {(sorted(set(A) - set(B or []))[:1])}")

    # wrapped_dump: one Security log, EVTX and JSON, in every wrapping
    sec = next((os.path.join(d, n) for d, _, ns in sorted(os.walk(os.path.join(est, "logs")))
                for n in sorted(ns) if n == "Security.evtx"), None)
    if not sec:
        skip("wrapped_dump", "no Security.evtx in the estate")
        return
    strip = lambda out: [re.sub(r'"file":"[^"]*",', "", l) for l in out.splitlines()]
    base = strip(run([k, "dump", sec, "--quiet"]).stdout)
    forms = {}
    with open(sec, "rb") as f:
        raw = f.read()
    forms["gz"] = os.path.join(tmp, "S.evtx.gz")
    with gzip.open(forms["gz"], "wb") as g:
        g.write(raw)
    forms["tar"] = os.path.join(tmp, "S.tar")
    with tarfile.open(forms["tar"], "w") as t:
        t.add(sec, arcname="C/Windows/System32/winevt/Logs/Security.evtx")
    forms["zip"] = os.path.join(tmp, "S.zip")
    with zipfile.ZipFile(forms["zip"], "w", zipfile.ZIP_DEFLATED) as z:
        z.write(sec, "Security.evtx")
    bad = [f for f, p in forms.items() if strip(run([k, "dump", p, "--quiet"]).stdout) != base]
    result(f"wrapped_dump Security.evtx as {sorted(forms)} ({len(base)} events)",
           len(base) > 0 and not bad, f"differs: {bad}")


def azure(k, tmp):
    """azure_security_event: an Azure Log Analytics SecurityEvent record, written by hand from the
    table's documented columns (learn.microsoft.com, azure-monitor/reference/tables/securityevent:
    TimeGenerated, Computer, EventSourceName, Channel, Task, Level, EventID, EventData as XML,
    Account, Activity, TenantId, Type ...), as a JSON array and as JSON lines, gives the raw fields
    an EVTX 4624 record has for the same values: System Provider_Name, EventID, Task,
    TimeCreated_SystemTime, Channel, Computer; event data from the EventData XML, by name."""
    rec = {
        "TenantId": "00000000-0000-4000-8000-000000000001", "TimeGenerated": "2026-03-02T07:52:29.123Z",
        "SourceSystem": "OpsManager", "Account": "CORP\\kfujiwara", "AccountType": "User",
        "Computer": "DC01.corp.example", "EventSourceName": "Microsoft-Windows-Security-Auditing",
        "Channel": "Security", "Task": 12544, "Level": "8",
        "EventData": '<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">\r\n'
                     '  <Data Name="SubjectUserSid">S-1-0-0</Data>\r\n  <Data Name="TargetUserName">kfujiwara</Data>'
                     '<Data Name="TargetDomainName">CORP</Data><Data Name="LogonType">3</Data>'
                     '<Data Name="IpAddress">203.0.113.7</Data><Data Name="ProcessName">-</Data>'
                     '<Data Name="Note">a &amp; b</Data></EventData>',
        "EventID": 4624, "Activity": "4624 - An account was successfully logged on.",
        "TargetUserName": "kfujiwara", "LogonType": 3, "ManagementGroupName": "AOI-1",
        "Type": "SecurityEvent", "_ResourceId": "/subscriptions/x"}
    want_sys = {"Provider_Name": "Microsoft-Windows-Security-Auditing", "EventID": 4624, "Task": 12544,
                "TimeCreated_SystemTime": "2026-03-02T07:52:29.1230000Z", "Channel": "Security",
                "Computer": "DC01.corp.example"}
    want_data = {"SubjectUserSid": "S-1-0-0", "TargetUserName": "kfujiwara", "TargetDomainName": "CORP",
                 "LogonType": "3", "IpAddress": "203.0.113.7", "ProcessName": "-", "Note": "a & b"}
    arr, lines = os.path.join(tmp, "az.json"), os.path.join(tmp, "az.jsonl")
    open(arr, "w").write(json.dumps([rec, rec], indent=2))
    open(lines, "w").write(json.dumps(rec) + "\n")
    for name, p in (("array", arr), ("lines", lines)):
        out = run([k, "dump", p, "--quiet"]).stdout.splitlines()
        ev = json.loads(out[0]) if out else {}
        ok = (ev.get("System") == want_sys and ev.get("EventData") == want_data
              and ev.get("event_id") == 4624 and ev.get("channel") == "Security"
              and (ev.get("norm") or {}).get("logon_type") == 3
              and len(out) == (2 if name == "array" else 1))
        result(f"azure_security_event ({name})", ok, f"{len(out)} events; got {ev}")


def members(path):
    if path.endswith(".zip"):
        z = zipfile.ZipFile(path)
        for n in z.namelist():
            if not n.startswith("__MACOSX") and not n.endswith("/"):
                yield n, z.open(n)
    else:
        t = tarfile.open(path)
        for m in t.getmembers():
            if m.isfile():
                yield m.name, t.extractfile(m)


def event_id(o):
    w = o.get("winlog")
    if isinstance(w, dict):
        return int(w.get("event_id") or 0)
    for key in ("EventID", "event_id"):
        if key in o:
            return int(o[key])
    return 0


def otrf(k, tmp):
    root = os.environ.get("KZ_SHARED_DATA") or os.path.join(os.path.dirname(__file__), "../../../shared/data")
    base = os.path.join(root, "jsonl", "otrf", "datasets")
    if not os.path.isdir(base):
        skip("otrf_histograms", "../shared/data/jsonl/otrf absent")
        return
    full = os.environ.get("KZ_FULL") == "1"
    work = os.path.join(tmp, "otrf")
    os.makedirs(work)
    files = checked = 0
    problems = []
    for dirpath, _, names in sorted(os.walk(base)):
        for name in sorted(names):
            if not (name.endswith(".zip") or name.endswith(".tar.gz")):
                continue
            for mname, fh in members(os.path.join(dirpath, name)):
                data = fh.read()
                if not data.lstrip().startswith(b"{"):
                    continue  # pcaps and Linux text logs in the set are not JSON lines
                files += 1
                if len(data) > 8 << 20 and not full:
                    continue
                want = collections.Counter()
                for line in data.splitlines():
                    if line.strip():
                        want[event_id(json.loads(line))] += 1
                p = os.path.join(work, "f.json.gz")
                with gzip.open(p, "wb", compresslevel=1) as g:
                    g.write(data)
                r = subprocess.run([k, "dump", p], capture_output=True)
                got = collections.Counter(int(m) for m in re.findall(rb'^\{[^\n]*?"event_id":(\d+)', r.stdout, re.M))
                badm = re.search(rb"(\d+) bad lines", r.stderr)
                nbad = int(badm.group(1)) if badm else -1
                checked += 1
                if r.returncode or nbad != 0 or got != want:
                    problems.append(f"{name}/{mname}: rc {r.returncode}, bad {nbad}, "
                                    f"{sum(got.values())} vs {sum(want.values())} events")
    result(f"otrf_histograms ({checked} of {files} files{'' if full else ', <= 8 MB'})",
           checked > 0 and not problems, "; ".join(problems[:5]))


if __name__ == "__main__":
    main()
    sys.exit(1 if failed() else 0)
