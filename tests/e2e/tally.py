"""tally.py - the pass/fail/skip count the Python end-to-end suites share.

Each check reports through result() or skip(); summary() prints the "N passed, N failed, N skipped"
line that tests/run.sh reads as the suite's total, so it must be the last line a suite prints.
"""

counts = {"passed": 0, "failed": 0, "skipped": 0}


def result(name, ok, why=""):
    if ok:
        counts["passed"] += 1
        print(f"ok   {name}")
    else:
        counts["failed"] += 1
        print(f"FAIL {name}: {why}")


def skip(name, why):
    counts["skipped"] += 1
    print(f"skip {name}: {why}")


def failed():
    return counts["failed"]


def summary(prefix=""):
    print(f"{prefix}{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
