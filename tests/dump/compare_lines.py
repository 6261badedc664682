#!/usr/bin/python3
"""Compares smolxdp-dump's default lines with tcpdump's (`tcpdump -nn [OPTIONS] -r FILE`) for the same
pcap, line by line and field by field (fields split at ", " and ": "), naming the first field that
differs. tcpdump's application-layer decoding, which smolxdp-dump does not do, is cut from its lines
first: the text after a TCP segment's or UDP datagram's "length N" (": HTTP: GET / HTTP/1.1").
usage: compare_lines.py FILE.pcap DUMP_OUTPUT.txt [tcpdump options, e.g. -e or -S]
(exit 1 and a report when they disagree)"""
import re
import subprocess
import sys

TIME = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} ")
APP_LAYER = re.compile(r"((?:Flags \[[^\]]*\].*|UDP), length \d+): .*$")


def fields(line):
    return re.split(r", |: ", line)


def main():
    pcap, dump_out, opts = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = subprocess.run(["tcpdump", "-nn", *opts, "-r", pcap], capture_output=True, text=True,
                         check=True).stdout
    td = [APP_LAYER.sub(r"\1", line) for line in out.splitlines() if TIME.match(line)]
    with open(dump_out) as fh:
        dl = [line.rstrip("\n") for line in fh if TIME.match(line)]
    errors = []
    if len(td) != len(dl):
        errors.append(f"frame count: tcpdump {len(td)}, smolxdp-dump {len(dl)}")
    for i, (t, d) in enumerate(zip(td, dl)):
        if t == d:
            continue
        ft, fd = fields(t), fields(d)
        k = next((j for j, (a, b) in enumerate(zip(ft, fd)) if a != b), min(len(ft), len(fd)))
        want = ft[k] if k < len(ft) else "(end of line)"
        got = fd[k] if k < len(fd) else "(end of line)"
        errors.append(f"frame {i + 1}, field {k + 1}: tcpdump '{want}', smolxdp-dump '{got}'\n"
                      f"  tcpdump:      {t}\n  smolxdp-dump: {d}")
    for e in errors[:10]:
        print("MISMATCH " + e)
    if len(errors) > 10:
        print(f"... and {len(errors) - 10} more")
    if errors or not td:
        print(f"compare_lines: {len(errors)} mismatches in {len(td)} frames (tcpdump -nn {' '.join(opts)})")
        return 1
    print(f"compare_lines: {len(td)} frames agree with tcpdump -nn {' '.join(opts)}".rstrip())
    return 0


sys.exit(main())
