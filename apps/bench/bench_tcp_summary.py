#!/usr/bin/python3
"""Summarises the TCP part of a scripts/bench.sh run (apps/bench/bench_tcp.sh): reads
tcp/<condition>--<role>--r<N>.{meta,client,nstat-*}.json and .server.log, takes medians over the rounds,
and writes tcp-table.md (printed too), tcp-summary.json and a gnuplot script for goodput vs loss
(tcp-goodput.gp -> tcp-goodput.png). Standard library only.

Who sent the data decides where its retransmissions are counted: a kernel sender's from nstat deltas
of its namespace (TcpRetransSegs, TcpExtTCPTimeouts, TcpExtTCPSackRecovery + TcpExtTCPRenoRecovery),
smolxdp's from the stack's per-connection statistics (the server's tcp-conn line, the client's JSON)."""
import argparse
import glob
import json
import os
import re
import statistics
import sys

CONDITIONS = [
    ("clean", "direct link, no loss"),
    ("loss1", "direct, 1% loss each way"),
    ("loss2", "direct, 2% loss each way"),
    ("loss5", "direct, 5% loss each way"),
    ("reorder", "emulated, 2% reordered"),
    ("reorder-loss1", "emulated, 2% reordered, 1% loss"),
    ("reorder-loss2", "emulated, 2% reordered, 2% loss"),
    ("reorder-loss5", "emulated, 2% reordered, 5% loss"),
    ("rtt10", "emulated, 10 ms RTT, 100 Mbit/s"),
    ("rtt10-loss1", "emulated, 10 ms RTT, 100 Mbit/s, 1% loss"),
    ("rtt50", "emulated, 50 ms RTT, 100 Mbit/s"),
    ("rtt50-loss1", "emulated, 50 ms RTT, 100 Mbit/s, 1% loss"),
]
LOSS_OF = {"clean": 0, "loss1": 1, "loss2": 2, "loss5": 5}
# (title, smolxdp role, kernel reference role, sender side)
PAIRS = [
    ("Into the server: a Linux client uploads to smolxdp-server (discard) vs to the kernel's server; "
     "Linux sends in both", "srv-up-smolxdp", "srv-up-kernel"),
    ("Out of the server: a Linux client downloads from smolxdp-server (source) vs from the kernel's "
     "server; the server sends", "srv-down-smolxdp", "srv-down-kernel"),
    ("The stack as the client, uploading: smolxdp-tcpclient vs a Linux client, both to the kernel's "
     "discard server", "cli-up-smolxdp", "srv-up-kernel"),
    ("The stack as the client, downloading: smolxdp-tcpclient vs a Linux client, both from the "
     "kernel's source server", "cli-down-smolxdp", "srv-down-kernel"),
]
# The same four with smolxdp busy-polling (--busy-poll) instead of sleeping in poll().
PAIRS += [(title.replace("smolxdp-server", "smolxdp-server --busy-poll", 1)
           .replace("smolxdp-tcpclient", "smolxdp-tcpclient --busy-poll", 1), smx + "-busy", k)
          for title, smx, k in PAIRS]


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def nstat_delta(base, side):
    a = read_json(f"{base}.nstat-{side}0.json") or {}
    b = read_json(f"{base}.nstat-{side}1.json") or {}
    a, b = a.get("kernel", {}), b.get("kernel", {})

    def d(k):
        return b.get(k, 0) - a.get(k, 0)
    return {
        "retransmits": d("TcpRetransSegs"),
        "timeouts": d("TcpExtTCPTimeouts"),
        "recoveries": d("TcpExtTCPSackRecovery") + d("TcpExtTCPRenoRecovery"),
        "loss_probes": d("TcpExtTCPLossProbes"),
    }


def server_line(base):
    try:
        with open(f"{base}.server.log") as f:
            lines = [ln for ln in f if ln.startswith("tcp-conn:")]
    except OSError:
        return None
    if not lines:
        return None
    # The connection that moved the most bytes is the run's (a stray one could only be tiny).
    best = None
    for ln in lines:
        vals = dict(re.findall(r"(\w+) (\S+)", ln[len("tcp-conn:"):]))
        if best is None or int(vals.get("bytes_out", 0)) + int(vals.get("bytes_in", 0)) > \
                int(best.get("bytes_out", 0)) + int(best.get("bytes_in", 0)):
            best = vals
    return {"retransmits": int(best["retransmits"]), "timeouts": int(best["timeouts"]),
            "recoveries": int(best["recoveries"]), "srtt_us": int(best["srtt_us"])}


def load_run(meta_path):
    base = meta_path[: -len(".meta.json")]
    meta = read_json(meta_path)
    cli = read_json(f"{base}.client.json")
    if not meta or not cli or meta.get("rc", 1) != 0:
        return None
    role, mode = meta["role"], meta["mode"]
    r = {"goodput_gbps": cli["goodput_gbps"], "bytes": cli["bytes"], "seconds": cli["seconds"],
         "server_cpu_s": meta["server_cpu_s"], "client_cpu_s": cli.get("cpu_s")}
    if mode == "upload":
        # The client sent.
        if meta["client"] == "stack":
            r["sender"] = "smolxdp"
            r.update({k: cli.get(k) for k in ("retransmits", "timeouts", "recoveries")})
        else:
            r["sender"] = "kernel"
            r.update(nstat_delta(base, "c"))
    else:
        if meta["server"] == "smx":
            r["sender"] = "smolxdp"
            s = server_line(base)
            if s:
                r.update(s)
        else:
            r["sender"] = "kernel"
            r.update(nstat_delta(base, "s"))
    return meta["condition"], role, r


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarise(runs):
    out = {}
    for key, rs in runs.items():
        g = [r["goodput_gbps"] for r in rs]
        out[key] = {
            "rounds": len(rs),
            "goodput_gbps": med(g), "goodput_min": min(g), "goodput_max": max(g),
            "retransmits": med([r.get("retransmits") for r in rs]),
            "timeouts": med([r.get("timeouts") for r in rs]),
            "recoveries": med([r.get("recoveries") for r in rs]),
            "server_cpu_s": med([r.get("server_cpu_s") for r in rs]),
            "client_cpu_s": med([r.get("client_cpu_s") for r in rs]),
            "sender": rs[0].get("sender"),
        }
    return out


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1:
        return f"{v:.2f}"
    if v >= 0.01:
        return f"{v:.3f}"
    return f"{v:.4f}"


def fmt_n(v):
    return "-" if v is None else f"{v:g}"


def pair_table(title, smx_role, k_role, summary, lines, cpu_key):
    lines.append(f"**{title}**\n")
    lines.append("| path | smolxdp Gbit/s | spread | kernel Gbit/s | spread | x kernel | retransmits smolxdp / kernel "
                 "| RTOs | recoveries | CPU s smolxdp / kernel |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for cond, desc in CONDITIONS:
        s, k = summary.get((cond, smx_role)), summary.get((cond, k_role))
        if not s and not k:
            continue
        def g(x, f):
            return x[f] if x else None
        ratio = (s["goodput_gbps"] / k["goodput_gbps"]) if s and k and k["goodput_gbps"] else None
        spread = lambda x: f"{fmt_rate(x['goodput_min'])}-{fmt_rate(x['goodput_max'])}" if x else "-"
        lines.append(
            f"| {desc} | {fmt_rate(g(s, 'goodput_gbps'))} | {spread(s)} | {fmt_rate(g(k, 'goodput_gbps'))} | "
            f"{spread(k)} | {'-' if ratio is None else f'{ratio:.3f}'} | "
            f"{fmt_n(g(s, 'retransmits'))} / {fmt_n(g(k, 'retransmits'))} | "
            f"{fmt_n(g(s, 'timeouts'))} / {fmt_n(g(k, 'timeouts'))} | "
            f"{fmt_n(g(s, 'recoveries'))} / {fmt_n(g(k, 'recoveries'))} | "
            f"{fmt_n(g(s, cpu_key))} / {fmt_n(g(k, cpu_key))} |")
    lines.append("")


def overview_table(summary, lines):
    """One line per path: each of the four measurements as smolxdp / kernel and the ratio, with smolxdp
    interrupt-driven and busy-polling (the README's table)."""
    heads = ["into smolxdp-server", "out of smolxdp-server", "smolxdp-tcpclient up", "smolxdp-tcpclient down"]
    lines.append("**Overview: goodput Gbit/s, smolxdp (interrupt-driven; busy-polling) / kernel, and x kernel**\n")
    lines.append("| path | " + " | ".join(f"{h} | x kernel" for h in heads) + " |")
    lines.append("|---|" + "---|---|" * len(heads))
    for cond, desc in CONDITIONS:
        cells, seen = [], False
        for _, smx_role, k_role in PAIRS[:4]:
            s, b, k = (summary.get((cond, r)) for r in (smx_role, smx_role + "-busy", k_role))
            gs, gb, gk = ((x or {}).get("goodput_gbps") for x in (s, b, k))
            seen |= any(v is not None for v in (gs, gb, gk))
            ratio = lambda v: f"{v / gk:.2f}" if v and gk else "-"
            cells.append(f"{fmt_rate(gs)}; {fmt_rate(gb)} / {fmt_rate(gk)} | {ratio(gs)}; {ratio(gb)}")
        if seen:
            lines.append(f"| {desc} | " + " | ".join(cells) + " |")
    lines.append("")


def rates_table(d, lines, out_json):
    rows = {}
    for path in sorted(glob.glob(os.path.join(d, "crr*--*--r*.client.json")) +
                       glob.glob(os.path.join(d, "concurrent--*--r*.client.json"))):
        name = os.path.basename(path).split(".")[0]
        test, server, _ = name.split("--")
        doc = read_json(path)
        if doc:
            rows.setdefault((test, server), []).append(doc)
    if not rows:
        return
    lines.append("**Connection rate: connect, a 100-byte request, a 100-byte reply, close (Linux client, "
                 "clean direct link); and 10,000 connections at once (each echoes one byte)**\n")
    lines.append("| test | server | connections/s | p50 us | p99 us | time to all s | failed | x kernel |")
    lines.append("|---|---|---|---|---|---|---|---|")
    summ = {}
    for (test, server), docs in rows.items():
        summ[(test, server)] = {
            "conns_per_s": med([x.get("conns_per_s") for x in docs]),
            "p50": med([x.get("conn_p50_us") for x in docs]),
            "p99": med([x.get("conn_p99_us") for x in docs]),
            "time_to_all_s": med([x.get("time_to_all_s") for x in docs]),
            "failed": sum((x.get("failed") or 0) for x in docs),
            "rounds": len(docs),
        }
    for test in sorted({t for t, _ in summ}):
        for server in ("smolxdp", "kernel"):
            s = summ.get((test, server))
            if not s:
                continue
            k = summ.get((test, "kernel"))
            if test == "concurrent":
                ratio = s["time_to_all_s"] / k["time_to_all_s"] if k and k["time_to_all_s"] and s["time_to_all_s"] else None
            else:
                ratio = s["conns_per_s"] / k["conns_per_s"] if k and k["conns_per_s"] and s["conns_per_s"] else None
            label = {"crr1": "short connections, 1 at a time", "crr8": "short connections, 8 lanes",
                     "concurrent": "10,000 concurrent"}.get(test, test)
            lines.append(f"| {label} | {server} | {fmt_n(round(s['conns_per_s']) if s['conns_per_s'] else None)} | "
                         f"{fmt_n(s['p50'])} | {fmt_n(s['p99'])} | {fmt_n(s['time_to_all_s'])} | {s['failed']} | "
                         f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    lines.append("")
    out_json["rates"] = {f"{t}:{s}": v for (t, s), v in summ.items()}


SMX_MEM = re.compile(r"(\d+) bytes fixed per connection slot \((\d+) slots\).*?at the peak ([\d.]+) MB of it")


def memory_table(d, lines, out_json, conns=10000):
    """Memory per connection with 10,000 open: smolxdp-server's own account (fixed slots and the pool's
    peak), and the kernel server's, estimated as the growth of the kernel's slab and TCP buffer pages
    during its run minus the growth during smolxdp's (the same Linux client in both)."""
    growth = {"smolxdp": [], "kernel": []}
    for path in glob.glob(os.path.join(d, "concurrent--*--r*.mem.json")):
        server = os.path.basename(path).split("--")[1]
        doc = read_json(path)
        if doc and server in growth and doc.get("slab_peak"):
            growth[server].append((doc["slab_peak"] - doc["slab_before"],
                                   (doc["tcp_pages_peak"] - doc["tcp_pages_before"]) * 4096))
    smx = []
    for path in glob.glob(os.path.join(d, "concurrent--smolxdp--r*.server.txt")):
        with open(path) as f:
            m = SMX_MEM.search(f.read())
        if m:
            fixed, slots, peak_mb = int(m.group(1)), int(m.group(2)), float(m.group(3))
            smx.append((fixed * slots / conns, peak_mb * 1048576 / conns))
    if not smx and not (growth["smolxdp"] and growth["kernel"]):
        return
    lines.append("**Memory per connection, 10,000 open at once (each has echoed one byte), bytes: "
                 "fixed (control block, socket) + buffers**\n")
    lines.append("| server | fixed | buffers | total | x kernel (lower: less memory) |")
    lines.append("|---|---|---|---|---|")
    res = {}
    if smx:
        res["smolxdp"] = (med([a for a, _ in smx]), med([b for _, b in smx]))
    if growth["smolxdp"] and growth["kernel"]:
        ks = med([a for a, _ in growth["kernel"]]) - med([a for a, _ in growth["smolxdp"]])
        kb = med([b for _, b in growth["kernel"]]) - med([b for _, b in growth["smolxdp"]])
        res["kernel"] = (max(ks, 0) / conns, max(kb, 0) / conns)
    k = res.get("kernel")
    for server in ("smolxdp", "kernel"):
        if server not in res:
            continue
        fixed, bufs = res[server]
        ratio = (fixed + bufs) / sum(k) if k and sum(k) > 0 else None
        lines.append(f"| {server} | {fixed:.0f} | {bufs:.0f} | {fixed + bufs:.0f} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    lines.append("")
    lines.append("smolxdp: its exit line: the slots laid out at init, and the buffer pool's peak use, which is "
                 "the chunks that held a request or reply at the same time (an idle connection holds none: its "
                 "window is not backed until data waits in its buffer). Kernel: the growth of all slab caches and of TCP's buffer pages during its run, "
                 "minus the growth during smolxdp's run with the same Linux client; machine-wide counters, so "
                 "anything else running shows up in it.\n")
    out_json["memory_per_conn"] = {s: {"fixed": v[0], "buffers": v[1]} for s, v in res.items()}


def emulator_note(d, lines):
    stats = {}
    for path in glob.glob(os.path.join(d, "*--emu--r*.json")):
        cond = os.path.basename(path).split("--")[0]
        doc = read_json(path)
        if doc:
            stats.setdefault(cond, []).append(doc)
    if not stats:
        return
    lines.append("**The emulated path (tests/netem/path_emu, AF_PACKET forwarder in a middle namespace): what it did, "
                 "summed over the rounds**\n")
    lines.append("| path | frames in | lost (chance) | queue drops | reordered | max queue (frames) |")
    lines.append("|---|---|---|---|---|---|")
    for cond, desc in CONDITIONS:
        docs = stats.get(cond)
        if not docs:
            continue
        tot = {"frames_in": 0, "dropped_loss": 0, "dropped_queue": 0, "reordered": 0, "max_queue_frames": 0}
        for doc in docs:
            for dirn in doc.values() if isinstance(doc, dict) else []:
                if not isinstance(dirn, dict):
                    continue
                for k in tot:
                    v = dirn.get(k, 0)
                    if isinstance(v, (int, float)):
                        tot[k] = max(tot[k], v) if k == "max_queue_frames" else tot[k] + v
        lines.append(f"| {desc} | {tot['frames_in']} | {tot['dropped_loss']} | {tot['dropped_queue']} | "
                     f"{tot['reordered']} | {tot['max_queue_frames']} |")
    lines.append("")


def plot(summary, out, lines):
    dat = os.path.join(out, "tcp-goodput.dat")
    with open(dat, "w") as f:
        f.write("# loss% srv-up-smolxdp srv-up-kernel srv-down-smolxdp srv-down-kernel cli-up-smolxdp cli-down-smolxdp\n")
        for cond, loss in LOSS_OF.items():
            vals = []
            for role in ("srv-up-smolxdp", "srv-up-kernel", "srv-down-smolxdp", "srv-down-kernel",
                         "cli-up-smolxdp", "cli-down-smolxdp"):
                s = summary.get((cond, role))
                vals.append(f"{s['goodput_gbps']:.6f}" if s and s["goodput_gbps"] else "NaN")
            f.write(f"{loss} {' '.join(vals)}\n")
    gp = os.path.join(out, "tcp-goodput.gp")
    with open(gp, "w") as f:
        f.write(f"""set terminal pngcairo size 1200,500 noenhanced
set output '{os.path.join(out, "tcp-goodput.png")}'
set multiplot layout 1,2 title 'TCP goodput vs random loss each way (direct veth link; medians; log scale)'
set logscale y
set xlabel 'loss % each way'
set ylabel 'goodput, Gbit/s'
set xtics (0, 1, 2, 5)
set key bottom left
set grid
set title 'upload (data into the server / from the client)'
plot '{dat}' using 1:2 with linespoints lw 2 title 'smolxdp-server', \\
     '' using 1:3 with linespoints lw 2 title 'kernel server (Linux client)', \\
     '' using 1:6 with linespoints lw 2 dt 2 title 'smolxdp-tcpclient to kernel'
set title 'download (data out of the server / to the client)'
plot '{dat}' using 1:4 with linespoints lw 2 title 'smolxdp-server', \\
     '' using 1:5 with linespoints lw 2 title 'kernel server (Linux client)', \\
     '' using 1:7 with linespoints lw 2 dt 2 title 'kernel to smolxdp-tcpclient'
unset multiplot
""")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True, help="the run's tcp/ directory")
    ap.add_argument("--out", required=True)
    ap.add_argument("--note", default="")
    ap.add_argument("--emu-rate", default="")
    ap.add_argument("--kernel-cc", default="cubic")
    a = ap.parse_args()
    runs = {}
    for meta in sorted(glob.glob(os.path.join(a.dir, "*.meta.json"))):
        got = load_run(meta)
        if got:
            cond, role, r = got
            runs.setdefault((cond, role), []).append(r)
    summary = summarise(runs)
    lines = [f"## TCP\n", f"{a.note}.\n",
             "Goodput counts every byte the receiving application got, from the SYN to the end (an upload "
             "ends when the discard server has read everything and closed). Retransmissions, RTO expiries and "
             "fast/SACK recoveries are the sender's: the kernel's from nstat in its namespace, smolxdp's from "
             "the stack's per-connection statistics. CPU is the server process's (the kernel's own receive "
             "work on veth runs in the sender's softirq and is charged elsewhere); for the client tables, the "
             "client's. Both stacks run with their defaults (RTO floor 200 ms; Linux's " + a.kernel_cc.upper() + " with SACK, RACK, "
             "timestamps and window scaling; smolxdp's CUBIC with HyStart++, SACK recovery (RFC 6675, PRR, TLP), "
             "timestamps and window scaling, 4 MB buffers). Loss on the direct link is "
             "applied where frames arrive, so no sender can tell it from network loss: nftables input hooks "
             "in front of the kernel's TCP, the stack's own fault device (receive side) in front of smolxdp's; "
             "on the emulated path, path_emu's seeded loss.\n"]
    for i, (title, smx_role, k_role) in enumerate(PAIRS):
        pair_table(title, smx_role, k_role, summary, lines, "server_cpu_s" if i % 4 < 2 else "client_cpu_s")
    overview_table(summary, lines)
    out_json = {"bulk": {f"{c}:{r}": v for (c, r), v in summary.items()}}
    rates_table(a.dir, lines, out_json)
    memory_table(a.dir, lines, out_json)
    emulator_note(a.dir, lines)
    netsim = os.path.join(a.dir, "netsim.md")
    if os.path.exists(netsim):
        with open(netsim) as f:
            lines.append("**Simulated network on virtual time (tests/netsim netsim_grid: two smolxdp stacks, "
                         "deterministic from a seed)**\n")
            lines.append(f.read().strip() + "\n")
        ns = read_json(os.path.join(a.dir, "netsim.json"))
        if ns is not None:
            out_json["netsim"] = ns
    plot(summary, a.out, lines)
    text = "\n".join(lines)
    with open(os.path.join(a.out, "tcp-table.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, "tcp-summary.json"), "w") as f:
        json.dump(out_json, f, indent=1)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
