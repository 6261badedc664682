#!/usr/bin/python3
"""Whether smolxdp's TCP goodput differs from the kernel's on one path, over many rounds: reads the
per-run results of one or more scripts/bench.sh runs (tcp/<condition>--<role>--r<N>.client.json) and,
for each smolxdp run against its kernel reference (the same pairs as tcp-table.md), prints the number
of runs, the medians and their ratio, the probability that a smolxdp run beats a kernel run, and the
two-sided p-value of a Mann-Whitney U test (normal approximation, ties averaged). On the low-rate
paths a run sees a few dozen losses and its goodput spreads by 30% or more, so a median of 3 rounds
under 0.9x may be chance; more rounds of one row (bench.sh --tcp-roles) tell. Standard library only.

    bench_tcp_rounds.py CONDITION DIR [DIR ...]"""
import glob
import json
import math
import os
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_tcp_summary import PAIRS as TABLE_PAIRS  # noqa: E402

# smolxdp's run and the kernel's run it is compared with: tcp-table.md's pairs.
PAIRS = [(smx, kern) for _, smx, kern in TABLE_PAIRS]

def goodputs(dirs, cond, role):
    out = []
    for d in dirs:
        for f in sorted(glob.glob(f"{d}/tcp/{cond}--{role}--r*.client.json")):
            with open(f) as fh:
                j = json.load(fh)
            if j.get("ok") and j.get("goodput_gbps"):
                out.append(j["goodput_gbps"])
    return out


def mann_whitney(a, b):
    """P(a run of a beats one of b) and the two-sided p-value (normal approximation)."""
    both = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(both)
    i = 0
    while i < len(both):
        j = i
        while j + 1 < len(both) and both[j + 1][0] == both[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    n1, n2 = len(a), len(b)
    u = sum(r for r, (_, who) in zip(ranks, both) if who == 0) - n1 * (n1 + 1) / 2
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - n1 * n2 / 2) / sd if sd else 0.0
    return u / (n1 * n2), math.erfc(abs(z) / math.sqrt(2))


def main():
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) > 1 else 2
    cond, dirs = sys.argv[1], sys.argv[2:]
    print(f"{cond}: smolxdp run vs the kernel's | runs | median Gbit/s | x kernel | P(smolxdp beats) | p")
    shown = 0
    for smx, kern in PAIRS:
        a, b = goodputs(dirs, cond, smx), goodputs(dirs, cond, kern)
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        beats, p = mann_whitney(a, b)
        print(f"{smx} vs {kern} | {len(a)} / {len(b)} | {ma:.4g} / {mb:.4g} | {ma / mb:.2f} | {beats:.2f} | {p:.2f}")
        shown += 1
    if not shown:
        print(f"bench_tcp_rounds.py: no runs of {cond} in {' '.join(dirs)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
