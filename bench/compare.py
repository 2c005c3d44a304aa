#!/usr/bin/env python3
"""Prints two benchmark reports (--json of achilles-load or
achilles-caseload-bench) side by side: every figure of the first (A) and
the second (B) as min-max over their runs, and B/A of the medians.

  python3 bench/compare.py old.json new.json [--only=p99] [--section=process]

Check the machine lines first: figures from different machines, core
counts or background load do not compare. Python 3 standard library only.
"""
import argparse
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def figures(report):
    """{(section, name, metric): metric object} in report order."""
    out = {}
    for group in report.get("groups", []):
        for metric, value in group.get("metrics", {}).items():
            out[(group["section"], group["name"], metric)] = value
    return out


def number(v):
    if v is None:
        return "-"
    if v == int(v):
        return str(int(v))
    a = abs(v)
    return "%.0f" % v if a >= 100 else "%.1f" % v if a >= 10 else (
        "%.2f" % v if a >= 1 else "%.3f" % v)


def spread(m):
    if m is None:
        return "-"
    low, high = number(m.get("min")), number(m.get("max"))
    return low if low == high else low + "-" + high


def ratio(a, b):
    if a is None or b is None:
        return "-"
    x, y = a.get("median"), b.get("median")
    if x in (None, 0) or y is None:
        return "-"
    return "%.3f" % (y / x)


def machine_lines(a, b):
    ma, mb = a.get("machine", {}), b.get("machine", {})
    for key in sorted(set(ma) | set(mb)):
        print("%-20s A %s" % (key, ma.get(key, "-")))
        print("%-20s B %s" % ("", mb.get(key, "-")))
    ca, cb = a.get("config", {}), b.get("config", {})
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            print("config %-13s A %s  B %s (differs)" % (
                key, ca.get(key, "-"), cb.get(key, "-")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--only", default="",
                        help="metrics whose name contains this")
    parser.add_argument("--section", default="",
                        help="only this section (e.g. process, rocksdb)")
    args = parser.parse_args()
    a, b = load(args.a), load(args.b)
    if a.get("benchmark") != b.get("benchmark"):
        sys.exit("different benchmarks: %s and %s" % (
            a.get("benchmark"), b.get("benchmark")))
    machine_lines(a, b)
    fa, fb = figures(a), figures(b)
    keys = list(fa) + [k for k in fb if k not in fa]
    print("\n%-62s %17s %17s %7s" % ("figure", "A", "B", "B/A"))
    for key in keys:
        section, name, metric = key
        if args.only not in metric or args.section not in (section, ""):
            continue
        label = "%s / %s / %s" % key
        print("%-62s %17s %17s %7s" % (label[:62], spread(fa.get(key)),
                                        spread(fb.get(key)),
                                        ratio(fa.get(key), fb.get(key))))


if __name__ == "__main__":
    main()
