#!/usr/bin/python3
"""Summarises a scripts/bench.sh run: reads runs/<test>--<server>--<client>--r<N>.json (smolxdp-bench
output), takes the median of each figure over the repeats, prints the table of medians and ratios
(markdown, also written to table.md), writes summary.json, and a gnuplot script (cdf.gp) for the RTT
CDF of the median repeat of each server. Standard library only."""
import argparse
import glob
import json
import os
import statistics
import sys

# The targets: (test, numerator server, reference server, figure, limit, sense).
TARGETS = [
    ("udp-spin", "smolxdp-busy", "reflector", "p50", 1.10, "<="),
    ("udp-spin", "smolxdp-busy", "kernel-busy", "p50", 0.80, "<="),
    ("icmp-spin", "smolxdp-busy", "kernel", "p50", 0.80, "<="),
    ("rate", "smolxdp-busy", "kernel-block", "rate", 1.50, ">="),
]
# Per test: the reference server each row's ratio is taken against.
REFERENCE = {
    "udp-spin": ["kernel-busy", "reflector"],
    "udp-block": ["kernel-block", "reflector"],
    "icmp-spin": ["kernel"],
    "icmp-block": ["kernel"],
    "rate": ["kernel-block"],
}
SERVER_ORDER = ["kernel-block", "kernel-busy", "kernel", "smolxdp-busy", "smolxdp-spin", "smolxdp-irq",
                "smolxdp-2q", "reflector"]
TEST_ORDER = ["udp-spin", "udp-block", "icmp-spin", "icmp-block", "rate"]
TEST_TITLE = {
    "udp-spin": "UDP echo RTT, 64-byte payload, client spinning",
    "udp-block": "UDP echo RTT, 64-byte payload, client blocking in recv",
    "icmp-spin": "ping RTT, 64 data bytes, client spinning",
    "icmp-block": "ping RTT, 64 data bytes, client blocking in recv",
    "rate": "UDP echo rate, 64-byte payload, window in flight over several flows",
}


def load(runs_dir):
    groups = {}
    for path in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
        name = os.path.basename(path)[:-5]
        try:
            test, server, client, rep = name.split("--")
            with open(path) as f:
                doc = json.load(f)
        except (ValueError, OSError) as e:
            print(f"bench_summary: skipping {path}: {e}", file=sys.stderr)
            continue
        doc["_rep"] = int(rep.lstrip("r"))
        doc["_cdf"] = path[:-5] + ".cdf"
        groups.setdefault((test, client, server), []).append(doc)
    return groups


def summarise(docs):
    rtts = [d["rtt_us"] for d in docs if d["rtt_us"]["samples"] > 0]
    s = {"repeats": len(docs)}
    for k in ("p50", "p90", "p99", "p99_9", "max", "mean"):
        vals = [r[k] for r in rtts]
        s[k] = statistics.median(vals) if vals else None
    p50s = [r["p50"] for r in rtts]
    s["p50_min"] = min(p50s) if p50s else None
    s["p50_max"] = max(p50s) if p50s else None
    rates = [d["rate_per_s"] for d in docs]
    s["rate"] = statistics.median(rates) if rates else None
    s["rate_min"] = min(rates) if rates else None
    s["rate_max"] = max(rates) if rates else None
    s["sent"] = sum(d["sent"] for d in docs)
    s["lost"] = sum(d["lost"] for d in docs)
    # The repeat whose p50 is the median one: its CDF is drawn.
    if rtts:
        mid = sorted(docs, key=lambda d: d["rtt_us"]["p50"])[len(docs) // 2]
        s["cdf"] = mid["_cdf"] if os.path.exists(mid["_cdf"]) else None
        s["flows"] = mid["flows"]
        s["window"] = mid["window"]
    return s


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--note", default="")
    ap.add_argument("--repeats", default="")
    ap.add_argument("--duration", default="")
    a = ap.parse_args()

    groups = load(a.runs)
    summary = {}
    for (test, client, server), docs in groups.items():
        summary.setdefault(test, {}).setdefault(client, {})[server] = summarise(docs)

    lines = []
    lines.append(f"Medians of {a.repeats} interleaved rounds of {a.duration} s each; {a.note}.")
    lines.append("Spread: the lowest and highest p50 (or rate) over the rounds.")
    lines.append("")
    for test in TEST_ORDER:
        if test not in summary:
            continue
        for client in ("linux", "stack"):
            rows = summary[test].get(client)
            if not rows:
                continue
            refs = [r for r in REFERENCE[test] if r in rows]
            lines.append(f"**{TEST_TITLE[test]}; client: {'Linux sockets' if client == 'linux' else 'smolxdp-bench on the stack'}**")
            lines.append("")
            if test == "rate":
                head = "| server | messages/s | spread | p50 RTT us | p99 RTT us | lost |"
                head += "".join(f" x {r} |" for r in refs)
                lines.append(head)
                lines.append("|" + "---|" * (head.count("|") - 1))
                for srv in sorted(rows, key=lambda s: SERVER_ORDER.index(s) if s in SERVER_ORDER else 99):
                    s = rows[srv]
                    row = (f"| {srv} | {fmt(s['rate'], 0)} | {fmt(s['rate_min'], 0)}-{fmt(s['rate_max'], 0)} | "
                           f"{fmt(s['p50'])} | {fmt(s['p99'])} | {s['lost']} |")
                    row += "".join(f" {fmt(ratio(s['rate'], rows[r]['rate']), 2)} |" for r in refs)
                    lines.append(row)
            else:
                head = "| server | p50 us | spread | p90 | p99 | p99.9 | max |"
                head += "".join(f" p50 x {r} |" for r in refs)
                lines.append(head)
                lines.append("|" + "---|" * (head.count("|") - 1))
                for srv in sorted(rows, key=lambda s: SERVER_ORDER.index(s) if s in SERVER_ORDER else 99):
                    s = rows[srv]
                    row = (f"| {srv} | {fmt(s['p50'])} | {fmt(s['p50_min'])}-{fmt(s['p50_max'])} | {fmt(s['p90'])} | "
                           f"{fmt(s['p99'])} | {fmt(s['p99_9'])} | {fmt(s['max'])} |")
                    row += "".join(f" {fmt(ratio(s['p50'], rows[r]['p50']), 2)} |" for r in refs)
                    lines.append(row)
            lines.append("")

    checks = []
    lines.append("**Targets (client spinning, 64-byte payloads, ratios within this run)**")
    lines.append("")
    lines.append("| client | target | measured | met |")
    lines.append("|---|---|---|---|")
    for client in ("linux", "stack"):
        for test, num, ref, fig, limit, sense in TARGETS:
            rows = summary.get(test, {}).get(client, {})
            if num not in rows or ref not in rows:
                continue
            r = ratio(rows[num][fig], rows[ref][fig])
            met = r is not None and (r <= limit if sense == "<=" else r >= limit)
            what = f"{test} {fig}: {num} {sense} {limit:.2f} x {ref}"
            checks.append({"client": client, "target": what, "ratio": r, "met": met})
            lines.append(f"| {client} | {what} | {fmt(r, 2)} | {'yes' if met else 'NO'} |")
    instructions = []
    ipath = os.path.join(a.out, "instructions.json")
    if os.path.exists(ipath):
        with open(ipath) as f:
            instructions = json.load(f)
        lines.append("")
        lines.append("**Instructions per echoed packet through the stack (callgrind, smolxdp-stack-cost: "
                     "iface_poll + the server's echo loop over a replay device, no kernel)**")
        lines.append("")
        lines.append("| packet | frames per poll | instructions per packet |")
        lines.append("|---|---|---|")
        for e in instructions:
            lines.append(f"| {e['proto']} echo, 64 bytes | {e['batch']} | {e['instructions'] / e['packets']:.0f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(table)
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"note": a.note, "repeats": a.repeats, "duration_s": a.duration, "results": summary,
                   "targets": checks, "instructions": instructions}, f, indent=1, sort_keys=True)

    # The CDF plot: UDP echo RTT with the client spinning, one line per server and client.
    plots = []
    for client in ("linux", "stack"):
        for srv, s in sorted(summary.get("udp-spin", {}).get(client, {}).items()):
            if s.get("cdf"):
                plots.append(f"'{s['cdf']}' using 1:2 with steps lw 2 title '{srv} ({client} client)'")
        for srv, s in sorted(summary.get("icmp-spin", {}).get(client, {}).items()):
            if s.get("cdf"):
                plots.append(f"'{s['cdf']}' using 1:2 with steps lw 2 dt 2 title 'ping {srv} ({client} client)'")
    gp = [
        "set terminal pngcairo size 1100,700 noenhanced",
        f"set output '{os.path.join(a.out, 'rtt-cdf.png')}'",
        "set title 'RTT CDF, client spinning, 64-byte payloads (median round of each)'",
        "set xlabel 'round-trip time (us, log scale)'",
        "set ylabel 'fraction of messages answered within'",
        "set logscale x",
        "set xrange [2:5000]",
        "set grid",
        "set key bottom right",
        "set yrange [0:1]",
    ]
    if plots:
        gp.append("plot " + ", \\\n  ".join(plots))
    else:
        gp.append("set label 'no RTT runs' at graph 0.5,0.5 center\nplot 0 notitle")
    with open(os.path.join(a.out, "cdf.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")


if __name__ == "__main__":
    main()
