#!/usr/bin/python3
"""Differential test of kizuki's EVTX decoder against Debian's evtxexport (libevtx, an independent decoder).

Usage: evtx_differential.py --kizuki PATH/TO/kizuki [--shared DIR] [-j N] [-v]

Every *.evtx under SHARED/evtx and SHARED/sigma/SigmaHQ/regression_data is decoded by both programs
(`kizuki dump --format xml` and `evtxexport -f xml`); the records are aligned by System/EventRecordID and
their element trees compared after the normalisation rules documented in `values_equal` and `compare_elems`.
Files libevtx cannot fully render (SHARED/manifests/libevtx_failures.json) are checked against the record
counts the upstream evtx-rs test suite expects (SHARED/manifests/parser_goldens.json) instead; that goldens
check also runs, in addition, on every other file it lists.

Prints each failing file with its first differences, and last `evtx-differential: N passed, M failed[, K
skipped]` (counting files). Exits 1 if any file failed, 0 otherwise (also when skipping for lack of data).
Standard library only.
"""
import argparse
import concurrent.futures
import difflib
import json
import os
import re
import threading
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDENS_KEY_PREFIX = "omerbenamram-evtx"
RUN_TIMEOUT = 300          # seconds per decoder run; the largest shared file takes about a second
MAX_DIFFS_KEPT = 200       # differences kept per file (only the first few are printed)
SHOWN_DIFFS = 3

# kizuki dump's summary line on stderr (printed without --quiet).
SUMMARY_RE = re.compile(r"kizuki dump: (\d+) files?, (\d+) records? \((\d+) bad, (\d+) from slack\), "
                        r"\d+ chunks? \((\d+) bad, (\d+) checksum errors?\)")


# ---------------------------------------------------------------- running the decoders

class Result:
    """Outcome of one file: its name, what was checked, and the differences found."""

    def __init__(self, rel):
        self.rel = rel
        self.diffs = []       # strings, in the order found
        self.ndiffs = 0       # all differences, also those beyond MAX_DIFFS_KEPT
        self.checks = []      # short descriptions of what was checked
        self.notes = []       # remarks printed with -v or when failing
        self.skipped = None   # reason, when nothing could be checked

    def diff(self, text):
        self.ndiffs += 1
        if len(self.diffs) < MAX_DIFFS_KEPT:
            self.diffs.append(text)

    @property
    def failed(self):
        return self.ndiffs > 0


def run(cmd):
    """Runs cmd; returns (exit code, stdout text, stderr text). Output is decoded as UTF-8 with
    replacement, so invalid bytes show up as U+FFFD and as a difference, never as a crash."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % RUN_TIMEOUT
    return (p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def run_kizuki(kizuki, path, res, extra=()):
    """Returns (records as elements or None, summary dict or None).

    kizuki promises one record per line. A record that spans lines (a raw line break inside a value) is a
    difference, but its lines are joined so the record can still be compared: a record starts at a line
    beginning with "<Event" and takes all following lines that do not."""
    rc, out, err = run([kizuki, "dump", "--format", "xml", *extra, path])
    if rc != 0:
        res.diff("kizuki exited %s: %s" % (rc, first_line(err)))
    m = None
    for m in SUMMARY_RE.finditer(err):
        pass
    summary = None
    if m:
        summary = {"files": int(m.group(1)), "records": int(m.group(2)), "bad": int(m.group(3)),
                   "slack": int(m.group(4)), "bad_chunks": int(m.group(5)), "checksum": int(m.group(6))}
    elif rc is not None:
        res.diff("kizuki printed no summary line on stderr: %s" % first_line(err))
    groups = []
    for n, line in enumerate(out.split("\n"), 1):
        if line.startswith("<Event") or not groups:
            if line == "" and not groups:
                continue
            groups.append((n, [line]))
        else:
            groups[-1][1].append(line)
    if groups and groups[-1][1][-1] == "":       # the newline after the last record
        groups[-1][1].pop()
    records = []
    for n, lines in groups:
        text = "\n".join(lines)
        el = None
        try:
            el = ET.fromstring(text)
        except ET.ParseError as e:
            el = parse_repaired(text, False)
            res.diff("kizuki line %d is not well-formed XML (%s)%s: %s"
                     % (n, e, "" if el is not None else ", record not compared", clip(text, 160)))
        if len(lines) > 1:
            res.diff("record %s: kizuki printed it on %d lines (raw line break in a value), from line %d"
                     % (record_id(el), len(lines), n))
        records.append(el)
    if summary and summary["records"] != len(records):
        res.diff("kizuki summary says %d records but printed %d" % (summary["records"], len(records)))
    return records, summary


def run_evtxexport(path, res, mode="items"):
    """Returns (records as elements, error text or None). mode: evtxexport's -m (items, recovered).

    evtxexport prints a banner ("evtxexport 20181227") and a blank line, then each record as indented XML
    ("<Event xmlns=...>" ... "</Event>" at column 0) followed by a blank line. It exits 0 even when it fails:
    on a record it cannot render it stops exporting the whole file and writes "Unable to export file." and
    libfwevt's error chain to stderr (the records before it are on stdout). Any stderr output is therefore
    treated as a failure of evtxexport.

    Its XML is not always well-formed: some string values are printed without escaping (e.g. a Data value
    holding "<S:Envelope>...") and control characters are printed raw. Such records are repaired (see
    parse_repaired) and noted."""
    rc, out, err = run(["evtxexport", "-m", mode, "-f", "xml", path])
    error = None
    if rc != 0 or err.strip():
        error = "evtxexport exit %s: %s" % (rc, " | ".join(err.strip().split("\n")[:3]))
    lines = out.split("\n")
    if lines and lines[0].startswith("evtxexport "):
        lines = lines[1:]
    groups = []
    for n, line in enumerate(lines, 2):
        if line.startswith("<Event"):
            groups.append((n, [line]))
        elif groups:
            groups[-1][1].append(line)
        elif mode == "recovered" and (line.strip() == "No records to export." or
                                      line.startswith("Unable to export recovered record")):
            pass    # libevtx's notes on what it could not recover
        elif line.strip():
            res.diff("evtxexport output line %d is outside a record: %s" % (n, clip(line, 160)))
    records, repaired = [], 0
    for n, group in groups:
        text = "\n".join(group).rstrip("\n")    # the blank separator line(s); a record ends with </Event>
        fixed = repair(text, True)
        try:
            el = parse_fixed(fixed)
        except ET.ParseError as e:
            if mode == "recovered":
                # What libevtx recovers from free space can be a fragment of a record: nothing to
                # compare with.
                res.notes.append("evtxexport recovered record at line %d is not XML (%s): skipped" % (n, e))
                continue
            res.diff("evtxexport record at line %d is not well-formed XML even after repair (%s): %s"
                     % (n, e, clip(text, 200)))
            continue
        repaired += fixed != text
        records.append(el)
    if repaired:
        res.notes.append("%d evtxexport record%s repaired (unescaped markup or control characters)"
                         % (repaired, "" if repaired == 1 else "s"))
    return records, error


# Characters XML 1.0 cannot hold (C0 controls but tab, LF, CR). Before a repaired parse each is replaced by a
# private-use stand-in (U+10FF00 + code), raw or as a character reference, and put back after parsing, so
# that the value still compares exactly (a raw U+0001 is not equal to U+FFFD, for example).
BAD_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
BAD_REF_RE = re.compile(r"&#(?:x0*([0-8bBcCeEfF]|1[0-9a-fA-F])|0*([0-8]|1[124-9]|2[0-9]|3[01]));")
STANDIN = 0x10FF00
# A leaf element on evtxexport's layout: indentation, start tag, text, end tag ending a line. Containers are
# excluded by their text, which starts with a line break (the indentation of their first child).
LEAF_RE = re.compile(r'^( *)<([\w:.-]+)((?: [\w:.-]+="[^"]*")*)>(?!\n)(.*?)</\2>$', re.M | re.S)
LOOSE_AMP_RE = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")


def repair(text, leaf_escape):
    """Makes a record well-formed without changing its values: control characters become stand-ins (both
    decoders); for evtxexport (leaf_escape) also "<" and ">" in the text of leaf elements are escaped, and
    "&" unless it starts an entity or character reference.

    evtxexport escapes most values but prints some raw (e.g. a Data value holding the XML document
    "<DeviceAddRequest>...</DeviceAddRequest>"); when such a value is well-formed it would otherwise parse as
    child elements. Its layout tells values from structure: a child element always starts on a new line, so
    markup on the line of its parent's start tag is part of a value. The "&" rule can only merge a raw
    "&lt;" inside an unescaped value with "<", i.e. hide a difference only where a value literally contains
    an entity reference. Returns the text, unchanged when nothing needed repair."""
    if BAD_CHAR_RE.search(text):
        text = BAD_CHAR_RE.sub(lambda m: chr(STANDIN + ord(m.group(0))), text)
    if "&#" in text:
        text = BAD_REF_RE.sub(lambda m: chr(STANDIN + int(m.group(1), 16) if m.group(1) else
                                            STANDIN + int(m.group(2))), text)
    if leaf_escape:
        def esc(m):
            inner = m.group(4)
            if "<" not in inner and ">" not in inner and "&" not in inner:
                return m.group(0)
            inner = LOOSE_AMP_RE.sub("&amp;", inner).replace("<", "&lt;").replace(">", "&gt;")
            return "%s<%s%s>%s</%s>" % (m.group(1), m.group(2), m.group(3), inner, m.group(2))
        text = LEAF_RE.sub(esc, text)
    return text


def parse_fixed(text):
    """ET.fromstring, then the stand-ins of repair() turned back into the characters they replaced."""
    el = ET.fromstring(text)
    if any(ord(c) >= STANDIN for c in text):
        for node in el.iter():
            node.text = unstandin(node.text)
            node.tail = unstandin(node.tail)
            for k, v in node.attrib.items():
                node.attrib[k] = unstandin(v)
    return el


def parse_repaired(text, leaf_escape):
    """The element of text after repair(), or None if it still is not well-formed."""
    try:
        return parse_fixed(repair(text, leaf_escape))
    except ET.ParseError:
        return None


def unstandin(s):
    if s is None or not any(ord(c) >= STANDIN for c in s):
        return s
    return "".join(chr(ord(c) - STANDIN) if STANDIN <= ord(c) < STANDIN + 0x20 else c for c in s)


def around_difference(a, b):
    """Both strings cut to start shortly before their first differing character (marked "..."), so that
    long values that differ late show the difference."""
    if a is None or b is None:
        return a, b
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if i <= 40:
        return a, b
    return "..." + a[i - 20:], "..." + b[i - 20:]


def first_line(text):
    text = text.strip()
    return text.split("\n")[0] if text else "(nothing)"


def clip(s, n=80):
    s = repr(s) if s is not None else "(none)"
    return s if len(s) <= n else s[:n - 3] + "..."


# ---------------------------------------------------------------- value normalisation

HEX_RE = re.compile(r"0[xX]([0-9a-fA-F]+)\Z")
DEC_RE = re.compile(r"-?[0-9]+\Z")
# ISO 8601 UTC as both print FILETIMEs: kizuki trims trailing zeros of the fraction (7 digits at most, 100 ns
# units), evtxexport always prints 9 digits.
ISO_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z\Z")
GUID_RE = re.compile(r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?\Z")


def time_ns(m):
    """(date and time fields, nanoseconds) of an ISO_RE match: the fraction is read as a decimal fraction of
    a second, so ".6816408" and ".681640800" are the same instant and ".6816408" != ".6816409"."""
    frac = (m.group(7) or "").ljust(9, "0")
    return tuple(int(g) for g in m.groups()[:6]) + (int(frac),)


def libfwevt_negative(k):
    """The magnitudes libfwevt 20181227 may print for the negative integer k, one per integer width that
    can hold k (see values_equal)."""
    return {(k % (1 << bits)) & ((1 << (bits - 1)) - 1) for bits in (8, 16, 32, 64) if k >= -(1 << (bits - 1))}


def values_equal(k, e):
    """Whether kizuki's text k and evtxexport's text e denote the same value. Rules, applied to the whole
    value only (never to parts of a longer string):
      - identical strings are equal;
      - both hexadecimal "0x..." numbers: equal as integers (0x00000000000003e7 == 0x3e7; case of the
        digits ignored);
      - a hexadecimal and a decimal number: equal as integers. This is number formatting too: for the
        pointer-size type (SizeT) MS-EVEN6 2.2.12.3 prescribes "0x" hex, which kizuki prints, while libevtx
        prints decimal; hex against decimal only ever matches the same integer;
      - kizuki's U+FFFD where evtxexport has a raw control character (other than tab, LF, CR): XML 1.0
        cannot carry those characters even as references, so kizuki's XML form shows the replacement
        character (its JSON form keeps them, escaped). Only that exact substitution is allowed;
      - both decimal integers: equal as integers (so only leading zeros are ignored). One known evtxexport
        bug is allowed for: libfwevt 20181227 prints a negative signed integer of N bits (two's complement
        u) as -(u & (2**(N-1) - 1)), e.g. Int32 0x8004805F as -295007 where -2147188641 is right (python-evtx
        agrees with the latter). A negative kizuki value k equals a negative evtxexport value e when
        -e == (k mod 2**N) & (2**(N-1) - 1) for an N of 8, 16, 32, 64 whose signed range holds k (the
        value's type is not known here); only these few pairs can match this way;
      - both ISO 8601 UTC times: equal when they are the same instant to the nanosecond (different counts
        of fraction digits, trailing zeros);
      - both GUIDs: equal ignoring case (braces must match).
    Anything else (other strings, booleans, floats, binary) must match exactly."""
    if k == e:
        return True
    mk, me = HEX_RE.match(k), HEX_RE.match(e)
    if mk and me:
        return int(mk.group(1), 16) == int(me.group(1), 16)
    if mk and DEC_RE.match(e):
        return int(mk.group(1), 16) == int(e)
    if len(k) == len(e) and "\ufffd" in k:
        return all(a == b or (a == "\ufffd" and ord(b) < 0x20 and b not in "\t\n\r") for a, b in zip(k, e))
    if DEC_RE.match(k) and DEC_RE.match(e):
        ki, ei = int(k), int(e)
        return ki == ei or (ki < 0 and ei < 0 and -ei in libfwevt_negative(ki))
    mk, me = ISO_RE.match(k), ISO_RE.match(e)
    if mk and me:
        return time_ns(mk) == time_ns(me)
    if GUID_RE.match(k) and GUID_RE.match(e):
        return k.lower() == e.lower()
    return False


def norm_text(t):
    """Text of an element (or a tail), for comparison:
      - None (no text) and "" are the same (an empty element equals one without text);
      - line breaks: "\\r\\n" and a lone "\\r" become "\\n". An XML parser does this to raw line breaks
        (XML 1.0 section 2.11) but not to escaped ones ("&#13;"), so without it a value printed with raw
        CR LF (as evtxexport prints them) and the same value with escaped ones would differ;
      - surrounding whitespace is stripped: evtxexport indents child elements, so the text before the first
        child and the tails of children carry layout whitespace that is not in the record. Both sides are
        stripped the same way, so only leading/trailing whitespace of a value can hide here.
    Whitespace inside a value (including at the ends of its inner lines) is compared exactly."""
    if not t:
        return ""
    return t.replace("\r\n", "\n").replace("\r", "\n").strip()


# ---------------------------------------------------------------- tree comparison

def local(tag):
    return tag.rsplit("}", 1)[-1]


def step(el, index, siblings):
    """One path step: Data[@Name=X] when the element has a Name, Tag[i] when the tag repeats, else Tag."""
    name = el.get("Name")
    if name is not None:
        return "%s[@Name=%s]" % (local(el.tag), name)
    same = [s for s in siblings if s.tag == el.tag]
    if len(same) > 1:
        return "%s[%d]" % (local(el.tag), same.index(el) + 1)
    return local(el.tag)


def signature(el):
    return (el.tag, el.get("Name"))


def compare_elems(k, e, path, out):
    """Appends (path, what, kizuki value, evtxexport value) for each difference between kizuki's element k
    and evtxexport's element e. Tags are compared namespace-qualified; attributes by name (an attribute
    with an empty value on one side equals an absent one on the other, because evtxexport leaves out empty
    attributes); text per norm_text and values_equal; the tails (text after each child) likewise; children
    in order, aligned on (tag, Name) so that one missing element is reported once and not as a cascade."""
    if k.tag != e.tag:
        out.append((path, "tag", k.tag, e.tag))
        return
    for name in sorted(set(k.attrib) | set(e.attrib)):
        kv, ev = k.get(name), e.get(name)
        if kv is None and ev == "" or ev is None and kv == "":
            continue
        if kv is None or ev is None:
            out.append((path + "/@" + local(name), "attribute", kv, ev))
        elif not values_equal(kv, ev):
            out.append((path + "/@" + local(name), "attribute value", kv, ev))
    kt, et = norm_text(k.text), norm_text(e.text)
    if not values_equal(kt, et):
        out.append((path, "text", kt, et))
    kc, ec = list(k), list(e)
    sm = difflib.SequenceMatcher(None, [signature(c) for c in kc], [signature(c) for c in ec], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for a, b in zip(kc[i1:i2], ec[j1:j2]):
                sub = path + "/" + step(b, 0, ec)
                compare_elems(a, b, sub, out)
                ta, tb = norm_text(a.tail), norm_text(b.tail)
                if not values_equal(ta, tb):
                    out.append((sub + " (text after)", "text", ta, tb))
            continue
        for a in kc[i1:i2]:
            out.append((path + "/" + step(a, 0, kc), "element only in kizuki", summary_of(a), None))
        for b in ec[j1:j2]:
            out.append((path + "/" + step(b, 0, ec), "element missing in kizuki", None, summary_of(b)))


def summary_of(el):
    tail, el.tail = el.tail, None
    s = ET.tostring(el, encoding="unicode")
    el.tail = tail
    s = re.sub(r' xmlns(:\w+)?="[^"]*"', "", s)
    s = re.sub(r"ns\d+:", "", s)
    return s if len(s) <= 200 else s[:197] + "..."


def record_id(el):
    if el is None:
        return None
    for sysel in el:
        if local(sysel.tag) == "System":
            for c in sysel:
                if local(c.tag) == "EventRecordID":
                    return (c.text or "").strip()
    return None


# Differences that are kizuki being right where libevtx 20181227 is not, one by one, with the reason.
# (file name, record id, field Name): reason.
KNOWN_DIFFERENCES = {
    ("issue_43.evtx", "508", "ConfigurationFileHash"):
        "an unpaired UTF-16 high surrogate: kizuki replaces it with U+FFFD and keeps the next character, as "
        "the Unicode standard recommends (ch. 3.9, U+FFFD substitution); libuna drops the next character too",
}


def known_difference(path, rid, diff_path):
    name = os.path.basename(path)
    for (file, record, field), reason in KNOWN_DIFFERENCES.items():
        if name == file and str(rid) == record and ("@Name=%s]" % field) in diff_path:
            return reason
    return None


def compare_file(kizuki, path, res):
    """The evtxexport comparison of one file. Returns kizuki's summary (or None).

    Records only kizuki finds are accepted in a file kizuki reports as damaged (bad records or checksum
    errors on stderr): after a damaged record libevtx gives up on the rest of the chunk, kizuki finds the
    next record by its signature (docs/dump.md). Every record evtxexport reads must be in kizuki's output
    and equal."""
    krecs, summary = run_kizuki(kizuki, path, res)
    erecs, error = run_evtxexport(path, res)
    if error:
        # Not in libevtx_failures.json, so libevtx was expected to read the whole file: the reference is
        # incomplete and the comparison cannot be trusted. Reported as a failure so the manifest is updated.
        res.diff("%s (file not listed in libevtx_failures.json; %d records exported before the error)"
                 % (error, len(erecs)))
    res.checks.append("%d records vs evtxexport" % len(erecs))
    damaged = bool(summary) and (summary["bad"] > 0 or summary.get("checksum", 0) > 0)
    if len(krecs) != len(erecs) and not (damaged and len(krecs) > len(erecs)):
        res.diff("record count: kizuki %d vs evtxexport %d" % (len(krecs), len(erecs)))
    extra = 0

    kids = [record_id(el) for el in krecs]
    eids = [record_id(el) for el in erecs]
    pairs = []
    if None not in kids and None not in eids and len(set(kids)) == len(kids) and len(set(eids)) == len(eids):
        eby = dict(zip(eids, erecs))
        kset = set(kids)
        for kel, rid in zip(krecs, kids):
            if rid in eby:
                pairs.append((rid, kel, eby[rid]))
            elif damaged:
                extra += 1
            else:
                res.diff("record %s: only in kizuki" % rid)
        for rid in eids:
            if rid not in kset:
                res.diff("record %s: missing in kizuki (evtxexport has it)" % rid)
    else:
        # Duplicate or missing EventRecordIDs (or unparsable kizuki lines): align by position.
        res.notes.append("records aligned by order (EventRecordIDs not unique)")
        for i, (kel, eel) in enumerate(zip(krecs, erecs)):
            if kel is not None:
                pairs.append(("#%d (id %s)" % (i + 1, record_id(eel)), kel, eel))
    for rid, kel, eel in pairs:
        out = []
        compare_elems(kel, eel, local(eel.tag), out)
        for p, what, kv, ev in out:
            reason = known_difference(path, rid, p)
            if reason:
                res.notes.append("record %s: %s: known difference: %s" % (rid, p, reason))
                continue
            kv, ev = around_difference(kv, ev)
            res.diff("record %s: %s: %s: kizuki %s vs evtxexport %s" % (rid, p, what, clip(kv), clip(ev)))
    if extra:
        res.notes.append("%d records recovered beyond evtxexport in this damaged file" % extra)
    return summary


SLACK_TOTALS = {"evtxexport": 0, "found": 0, "equal": 0}
SLACK_LOCK = threading.Lock()


def compare_slack(kizuki, path, res):
    """Records libevtx recovers from free space and unused chunks (evtxexport -m recovered) against what
    `kizuki dump --slack` gives: found (same id) and equal (to at least one of kizuki's records with that
    id; free space can hold older copies of a record). Reported, not failed: slack is stale data that
    both decoders read on a best-effort basis, and they legitimately differ there (kizuki refuses a
    template reference whose id does not match, and records without their size copy, where libevtx
    decodes whatever the stale offsets point at). The totals are printed at the end."""
    erecs, error = run_evtxexport(path, res, "recovered")
    if error or not erecs:
        return
    krecs, _ = run_kizuki(kizuki, path, res, ("--slack",))
    res.checks.append("%d records recovered by evtxexport vs --slack" % len(erecs))
    by_id = {}
    for kel in krecs:
        if kel is not None:
            by_id.setdefault(record_id(kel), []).append(kel)
    found = equal = 0
    for eel in erecs:
        rid = record_id(eel)
        cands = by_id.get(rid, [])
        if not cands:
            continue
        found += 1
        best = None
        for kel in cands:
            out = []
            compare_elems(kel, eel, local(eel.tag), out)
            out = [d for d in out if not known_difference(path, rid, d[0])]
            if not out:
                equal += 1
                break
    res.notes.append("slack: evtxexport recovers %d records; kizuki --slack has %d of them, %d identical"
                     % (len(erecs), found, equal))
    with SLACK_LOCK:
        SLACK_TOTALS["evtxexport"] += len(erecs)
        SLACK_TOTALS["found"] += found
        SLACK_TOTALS["equal"] += equal


# ---------------------------------------------------------------- goldens (evtx-rs expected counts)

def load_goldens(shared):
    """{absolute path: (expectation, note)} from parser_goldens.json, plus notes on entries not checkable.
    expectation is ("ok", n) for [ok_records, err_records], ("total", n) for a description that gives the
    total iterations ok+err, or None."""
    notes, goldens = [], {}
    path = os.path.join(shared, "manifests", "parser_goldens.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return goldens, ["goldens not loaded (%s): %s" % (path, e)]
    section = next((v for k, v in data.items() if k.startswith(GOLDENS_KEY_PREFIX) and isinstance(v, dict)),
                   None)
    if section is None:
        return goldens, ["no '%s...' section in %s" % (GOLDENS_KEY_PREFIX, path)]
    base = os.path.join(shared, "evtx", "dirty-samples")
    for key, value in section.items():
        name = key.split(" (", 1)[0]          # "samples/X.evtx (MISSING from snapshot, ...)"
        full = os.path.join(base, name)
        if not os.path.isfile(full):
            notes.append("golden for %s not checked: file not in the snapshot (%s)" % (name, key))
            continue
        exp = None
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            exp = ("ok", value[0], value[1])
        elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            m = re.match(r"\s*(\d+) total iterations", value[0])
            if m:
                # evtx-rs counts each record it iterates, good or bad. Only the total can be checked: the
                # split and the error message are evtx-rs's own.
                exp = ("total", int(m.group(1)), value[0])
        if exp is None:
            notes.append("golden for %s not understood, not checked: %r" % (name, value))
            continue
        goldens[os.path.realpath(full)] = exp
    return goldens, notes


# Where kizuki's count is below evtx-rs's on purpose: file name -> (records kizuki must decode, why).
GOLDEN_ADJUSTMENTS = {
    "Microsoft-Windows-HelloForBusiness%4Operational.evtx": (
        5, "evtx-rs counts record 6 as ok, but it was written only in part (no size copy, every value "
           "zero, EventRecordID 0, time 1601-01-01): kizuki reports it as an incomplete record instead "
           "of emitting an event with wrong values"),
}


def check_golden(exp, summary, res, path):
    """kizuki must decode at least as many records as evtx-rs (it may recover more: it resumes after a
    damaged record where evtx-rs stops), except where GOLDEN_ADJUSTMENTS says why not."""
    if summary is None:
        res.diff("goldens: no kizuki summary to check against")
        return
    if summary["slack"]:
        res.diff("goldens: kizuki reported %d slack records without --slack" % summary["slack"])
    adjust = GOLDEN_ADJUSTMENTS.get(os.path.basename(path))
    if exp[0] == "ok":
        want = exp[1]
        if adjust:
            want = adjust[0]
            res.notes.append("golden adjusted from %d to %d: %s" % (exp[1], want, adjust[1]))
            if summary["records"] != want:
                res.diff("goldens: kizuki decoded %d records, want exactly %d" % (summary["records"], want))
            return
        res.checks.append("evtx-rs golden ok=%d" % want)
        if summary["records"] < want:
            res.diff("goldens: kizuki decoded %d records (%d bad) vs evtx-rs %d ok (%d err)"
                     % (summary["records"], summary["bad"], want, exp[2]))
        elif summary["records"] > want:
            res.notes.append("kizuki recovered %d records more than evtx-rs" % (summary["records"] - want))
    else:
        res.checks.append("evtx-rs golden ok+err=%d" % exp[1])
        total = summary["records"] + summary["bad"]
        if total < exp[1]:
            res.diff("goldens: kizuki decoded %d + %d bad = %d records vs evtx-rs %d total iterations"
                     % (summary["records"], summary["bad"], total, exp[1]))


# ---------------------------------------------------------------- driver

def check_one(kizuki, shared, path, libevtx_fail, goldens):
    rel = os.path.relpath(path, shared)
    res = Result(rel)
    real = os.path.realpath(path)
    exp = goldens.get(real)
    try:
        if real in libevtx_fail:
            if exp is None:
                # Only libevtx's record count is known (libevtx_failures.json: it finds the records but
                # cannot render them): kizuki must decode exactly that many.
                want = libevtx_fail[real]
                res.checks.append("libevtx record count %d" % want)
                _, summary = run_kizuki(kizuki, path, res)
                if summary is None or summary["records"] != want or summary["bad"]:
                    res.diff("kizuki decoded %s records (%s bad) vs the %d records libevtx counts"
                             % (summary and summary["records"], summary and summary["bad"], want))
                return res
            res.notes.append("not compared with evtxexport (listed in libevtx_failures.json)")
            _, summary = run_kizuki(kizuki, path, res)
            check_golden(exp, summary, res, path)
        else:
            summary = compare_file(kizuki, path, res)
            if exp is not None:
                check_golden(exp, summary, res, path)
            compare_slack(kizuki, path, res)
    except Exception as e:          # a bug in this script must show as a failure, not a crash of the pool
        res.diff("internal error: %s: %s" % (type(e).__name__, e))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kizuki", required=True, help="the kizuki binary to test")
    ap.add_argument("--shared", default=None, help="shared data folder (default: $KZ_SHARED_DATA, else ../shared/data next to the repository)")
    ap.add_argument("-j", type=int, default=2, help="files checked in parallel (default 2)")
    ap.add_argument("-v", action="store_true", help="also list passing files")
    args = ap.parse_args()

    shared = args.shared or os.environ.get("KZ_SHARED_DATA") or os.path.join(REPO, "..", "shared", "data")
    shared = os.path.abspath(shared)
    skip = None
    if not os.path.isdir(shared):
        skip = "shared data folder %s not found" % shared
    elif shutil.which("evtxexport") is None:
        skip = "evtxexport not installed (Debian package libevtx-utils)"
    if skip:
        print("SKIP: " + skip)
        print("evtx-differential: 0 passed, 0 failed")
        return 0
    kizuki = os.path.abspath(args.kizuki)
    if not os.access(kizuki, os.X_OK):
        print("evtx-differential: kizuki binary %s not executable" % kizuki)
        print("evtx-differential: 0 passed, 1 failed")
        return 1

    files = []
    for top in (os.path.join(shared, "evtx"), os.path.join(shared, "sigma", "SigmaHQ", "regression_data")):
        for d, dirs, names in os.walk(top):
            dirs.sort()
            files.extend(os.path.join(d, n) for n in sorted(names) if n.lower().endswith(".evtx"))
    libevtx_fail = {}  # path: the record count libevtx gives (it cannot render some of them)
    try:
        with open(os.path.join(shared, "manifests", "libevtx_failures.json"), encoding="utf-8") as f:
            for entry in json.load(f)["files"]:
                libevtx_fail[os.path.realpath(os.path.join(shared, "evtx", entry["path"]))] = entry["records"]
    except (OSError, ValueError, KeyError) as e:
        print("note: libevtx_failures.json not read (%s); every file is compared with evtxexport" % e)
    goldens, notes = load_goldens(shared)
    for n in notes:
        print("note: " + n)

    # The binary under test is copied first, so that a rebuild while the test runs cannot mix two builds
    # (or hit a half-written file).
    tmp = tempfile.mkdtemp(prefix="kz-differential-")
    try:
        copy = os.path.join(tmp, "kizuki")
        shutil.copy2(kizuki, copy)
        return run_all(copy, shared, files, libevtx_fail, goldens, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(kizuki, shared, files, libevtx_fail, goldens, args):
    passed = failed = skipped = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        futures = [pool.submit(check_one, kizuki, shared, p, libevtx_fail, goldens) for p in files]
        for fut in futures:               # in file order, so the output is stable
            res = fut.result()
            if res.skipped:
                skipped += 1
                print("SKIP %s: %s" % (res.rel, res.skipped))
            elif res.failed:
                failed += 1
                print("FAIL %s: %d difference%s (%s)" % (res.rel, res.ndiffs, "" if res.ndiffs == 1 else "s",
                                                       "; ".join(res.checks)))
                for d in res.diffs[:SHOWN_DIFFS]:
                    print("    " + d)
                for n in res.notes:
                    print("    note: " + n)
            else:
                passed += 1
                if args.v:
                    print("ok   %s (%s)" % (res.rel, "; ".join(res.checks)))
                    for n in res.notes:
                        print("    note: " + n)
            sys.stdout.flush()
    t = SLACK_TOTALS
    print("slack (reported, not checked): evtxexport -m recovered gives %d records; kizuki --slack has "
          "%d of them (%d identical)" % (t["evtxexport"], t["found"], t["equal"]))
    line = "evtx-differential: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
