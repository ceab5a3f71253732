#!/usr/bin/env python3
"""Scores `kizuki scope` against a simulated estate's scenario.json (issue 7, "How right").

For every compromised account: scope with the attacker's sources and [first, last] window must list
exactly the scenario's hosts and customers_touched. Prints one line per account and exits 1 when an
account in --require does not match (others are reported only). Expected values come from the
simulator's ground truth, never from kizuki's output."""
import json, subprocess, sys

kizuki, store, sim = sys.argv[1], sys.argv[2], sys.argv[3]
require = set(sys.argv[4].split(',')) if len(sys.argv) > 4 and sys.argv[4] else set()
scenario = json.load(open(sim + '/scenario.json'))
failed = 0
for sc in scenario['scenarios']:
    for acc in sc['accounts']:
        cmd = [kizuki, 'scope', '--store', store, '--user', acc['account'], '--since', acc['first'],
               '--until', acc['last'], '--customers', sim + '/customers.csv', '--format', 'json']
        for s in acc['sources']:
            cmd += ['--source', s]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print('FAIL', acc['account'], 'exit', out.returncode, out.stderr.strip())
            failed += 1
            continue
        r = json.loads(out.stdout)
        hosts = {h['host'] for h in r['hosts']}
        custs = {c['customer'] for c in r['customers']}
        want_h, want_c = set(acc['hosts']), set(acc['customers_touched'])
        ok = hosts == want_h and custs == want_c
        name = sc['name'] + ':' + acc['account']
        print('%s %s hosts %d/%d (missing %s, extra %s) customers %d/%d (missing %d, extra %d)' % (
            'ok  ' if ok else ('FAIL' if name in require else 'miss'), name, len(hosts & want_h),
            len(want_h), sorted(want_h - hosts)[:4], sorted(hosts - want_h)[:4], len(custs & want_c),
            len(want_c), len(want_c - custs), len(custs - want_c)))
        if not ok and name in require:
            failed += 1
sys.exit(1 if failed else 0)
