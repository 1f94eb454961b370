#!/usr/bin/python3
"""bench-table.py - the probe benchmark's table from the JSON lines of bench-probe (salient,
adam-c) and bench/peers.py (neurox, lbfgsb, saga): per case and lambda, every solver's time,
its ratio to salient on 2 ranks (above 1: salient is faster), iterations and passes over the
data, how far above salient's optimum it ends, its optimality violation, test accuracy and
peak memory. The latest line of each (case, lambda, solver, ranks) wins.

Usage: bench/bench-table.py RESULTS.jsonl
"""
import json
import sys


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def main():
    rows = {}
    for line in open(sys.argv[1]):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        key = (r.get("case"), r.get("lambda1", r.get("l1")), r.get("peer"), r.get("ranks", 1))
        rows[key] = r
    cases = sorted({(k[0], k[1]) for k in rows}, key=lambda t: (t[0], -t[1]))
    order = {"salient": 0, "adam-c": 1, "neurox": 2, "lbfgsb": 3, "saga": 4}
    print("| case | lambda | solver | ranks | seconds | ratio to salient 2 ranks | iterations "
          "| passes | above optimum (rel.) | violation | test acc | peak MB |")
    print("|" + " --- |" * 12)
    for case, lam in cases:
        mine = [r for k, r in rows.items() if (k[0], k[1]) == (case, lam)]
        base = [r for r in mine if r["peer"] == "salient" and r.get("ranks") == 2]
        t2 = base[0]["seconds"] if base and base[0].get("seconds") else None
        opt = base[0].get("objective") if base else None
        for r in sorted(mine, key=lambda r: (order.get(r["peer"], 9), r.get("ranks", 1))):
            sec = r.get("seconds")
            ratio = sec / t2 if sec and t2 else None
            gap = (r["objective"] - opt) / abs(opt) if r.get("objective") is not None and opt else None
            passes = r.get("passes", r.get("nfev"))
            if r["peer"] in ("lbfgsb",) and passes is not None:
                passes = 2 * passes  # one evaluation = a forward and a backward pass
            print(f"| {case} | {lam:g} | {r['peer']}{'' if r.get('status', 'ok') == 'ok' else ' (' + str(r.get('status')) + ')'} "
                  f"| {r.get('ranks', r.get('threads', 1))} | {fmt(sec, '.1f')} | {fmt(ratio, '.2f')} "
                  f"| {fmt(r.get('iterations'), 'd') if isinstance(r.get('iterations'), int) else ''} "
                  f"| {fmt(passes, 'd') if isinstance(passes, int) else ''} | {fmt(gap, '.2e')} "
                  f"| {fmt(r.get('violation'), '.1e')} | {fmt(r.get('test_acc'), '.4f')} "
                  f"| {fmt(r.get('peak_rss_mb'), '.0f')} |")


if __name__ == "__main__":
    main()
