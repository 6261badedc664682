#!/usr/bin/python3
"""Compares smolxdp-dump's decoding of a pcap file with tcpdump's (-nn -e -S -vv), frame by frame and
field by field: MACs, ethertype, frame length, ARP op and addresses, IPv4 addresses/tos/ttl/id/offset/
flags/protocol/length, ports, TCP flags/seq/ack/win/urg/options/payload length, UDP length, ICMP
type/id/seq/length and the ports quoted by ICMP errors, and the checksum verdicts with the values the
checksums should have had.
usage: compare_decodings.py FILE.pcap DUMP_OUTPUT.txt   (exit 1 and a report when they disagree)"""
import re
import subprocess
import sys

TIME = r"\d\d:\d\d:\d\d\.\d{6} "


def tcpdump_frames(pcap):
    out = subprocess.run(["tcpdump", "-nn", "-e", "-S", "-vv", "-r", pcap], capture_output=True, text=True,
                         check=True).stdout
    frames = []
    for line in out.splitlines():
        if re.match(TIME, line):
            frames.append(line)
        elif frames:
            frames[-1] += "\n" + line
    return frames


def norm_options(text):
    """The TCP options as a list without nop/eol padding, sack blocks written without spaces."""
    opts = []
    for o in text.split(","):
        o = re.sub(r"\}\s+\{", "}{", o.strip())
        if o in ("nop", "eol", ""):
            continue
        opts.append(o)
    return opts


def fields_common(t, f):
    m = re.match(TIME + r"([0-9a-f:]{17}) > ([0-9a-f:]{17}), (?:vlan (\d+), p (\d+), )?ethertype (\S+) "
                 r"\((0x[0-9a-f]{4})\), length (\d+)", t)
    if m:
        f["eth"] = (m.group(1), m.group(2), m.group(6), m.group(7))
        if m.group(3):
            f["vlan"] = m.group(3)


def expected_checksums(pattern, text):
    found = []
    for m in re.finditer(pattern, text):
        found.append(int(next(g for g in m.groups() if g), 16))
    return found


def tcpdump_fields(t):
    f = {}
    fields_common(t, f)
    f["csum_expected"] = expected_checksums(r"bad cksum \w+ \(->(\w+)\)|incorrect -> 0x(\w+)|"
                                            r"bad udp cksum 0x\w+ -> 0x(\w+)|wrong icmp cksum \w+ \(->(\w+)\)", t)
    m = re.search(r"(Request|Reply) (?:who-has )?([\d.]+)(?: \(([0-9a-f:]{17})\))?(?: tell ([\d.]+)| is-at ([0-9a-f:]{17}))", t)
    if "ethertype ARP" in t and m:
        if m.group(1) == "Request":
            f["arp"] = ("request", m.group(2), m.group(4))
        else:
            f["arp"] = ("reply", m.group(2), m.group(5))
    m = re.search(r"\(tos (0x[0-9a-f]+)(?:,[^,]*ECT[^,]*|, CE)?, ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], "
                  r"proto (\S+) \((\d+)\), length (\d+)", t)
    if m:
        f["ip"] = m.groups()
        f["ip_bad_csum"] = "bad cksum" in t.split("\n")[0]
    body = t.split("\n", 1)[1] if "\n" in t else ""
    m = re.match(r"\s*(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?: (.*)", body)
    if m and "ip" in f:
        f["addrs"] = (m.group(1), m.group(3))
        rest = m.group(5)
        proto = f["ip"][5]
        if proto == "TCP":
            tcp_fields(rest, f, tcpdump=True)
        elif proto == "UDP":
            f["ports"] = (m.group(2), m.group(4))
            u = re.search(r"UDP, length (\d+)", rest)
            f["udp_len"] = u.group(1) if u else None
            f["l4_bad_csum"] = "bad udp cksum" in rest
        elif proto == "ICMP":
            icmp_fields_tcpdump(body, rest, f)
        if proto == "TCP":
            f["ports"] = (m.group(2), m.group(4))
    return f


def tcp_fields(rest, f, tcpdump):
    m = re.search(r"Flags \[([^\]]*)\]", rest)
    f["tcp_flags"] = m.group(1) if m else None
    s = re.search(r"seq (\d+)(?::\d+)?", rest)
    f["tcp_seq"] = s.group(1) if s else None
    a = re.search(r"ack (\d+)", rest)
    f["tcp_ack"] = a.group(1) if a else None
    w = re.search(r"win (\d+)", rest)
    f["tcp_win"] = w.group(1) if w else None
    u = re.search(r"urg (\d+)", rest)
    f["tcp_urg"] = u.group(1) if u else None
    o = re.search(r"options \[([^\]]*)\]", rest)
    f["tcp_opts"] = norm_options(o.group(1)) if o else []
    lens = re.findall(r"length (\d+)", rest)
    f["tcp_len"] = lens[0] if tcpdump and lens else (lens[-1] if lens else None)
    if tcpdump:
        f["l4_bad_csum"] = "incorrect" in rest


def icmp_fields_tcpdump(body, rest, f):
    f["l4_bad_csum"] = "wrong icmp cksum" in body
    m = re.match(r"ICMP echo (request|reply), id (\d+), seq (\d+), length (\d+)", rest)
    if m:
        f["icmp"] = ("echo " + m.group(1), m.group(2), m.group(3), m.group(4))
        return
    m = re.match(r"ICMP \S+ (udp|tcp) port (\d+) unreachable, length (\d+)", rest)
    if m:
        f["icmp"] = ("port unreachable", m.group(2), m.group(3))
        return
    m = re.match(r"ICMP time exceeded in-transit, length (\d+)", rest)
    if m:
        f["icmp"] = ("time exceeded", m.group(1))
        return
    f["icmp"] = ("other", rest)


def dump_fields(line):
    f = {}
    fields_common(line, f)
    f["csum_expected"] = expected_checksums(r"expected 0x(\w+)", line)
    m = re.search(r"ARP (request|reply) (?:who-has )?([\d.]+) (?:tell ([\d.]+)|is-at ([0-9a-f:]{17}))", line)
    if m:
        f["arp"] = (m.group(1), m.group(2), m.group(3) or m.group(4))
    m = re.search(r"IPv4 (\S+) > (\S+), tos (0x[0-9a-f]+), ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], "
                  r"proto (\S+) \((\d+)\), hlen \d+, length (\d+)", line)
    if m:
        g = m.groups()
        f["addrs"] = (g[0], g[1])
        f["ip"] = g[2:]
        f["ip_bad_csum"] = bool(re.search(r"hlen \d+, length \d+, bad checksum", line))
        proto = g[7]
        rest = line[m.end():]
        if proto == "TCP":
            t = re.search(r": TCP (\d+) > (\d+) (.*)", rest)
            if t:
                f["ports"] = (t.group(1), t.group(2))
                tcp_fields(t.group(3), f, tcpdump=False)
                f["l4_bad_csum"] = "bad checksum" in t.group(3)
        elif proto == "UDP":
            u = re.search(r": UDP (\d+) > (\d+), (?:no checksum, )?length (\d+)", rest)
            if u:
                f["ports"] = (u.group(1), u.group(2))
                f["udp_len"] = u.group(3)
            f["l4_bad_csum"] = "bad checksum" in rest
        elif proto == "ICMP":
            icmp_fields_dump(rest, f)
    return f


def icmp_fields_dump(rest, f):
    f["l4_bad_csum"] = "bad checksum" in rest
    m = re.search(r": ICMP echo (request|reply), id (\d+), seq (\d+), length (\d+)", rest)
    if m:
        f["icmp"] = ("echo " + m.group(1), m.group(2), m.group(3), m.group(4))
        return
    m = re.search(r": ICMP port unreachable \(3/3\), quote \S+ > \S+ proto (?:UDP|TCP) \d+ > (\d+), length (\d+)", rest)
    if m:
        f["icmp"] = ("port unreachable", m.group(1), m.group(2))
        return
    m = re.search(r": ICMP time exceeded in-transit \(11/0\), .*length (\d+)", rest)
    if m:
        f["icmp"] = ("time exceeded", m.group(1))
        return
    f["icmp"] = ("other", rest)


def main():
    pcap, dump_out = sys.argv[1], sys.argv[2]
    td = tcpdump_frames(pcap)
    with open(dump_out) as fh:
        dl = [line.rstrip("\n") for line in fh if re.match(TIME, line)]
    errors = []
    if len(td) != len(dl):
        errors.append(f"frame count: tcpdump {len(td)}, smolxdp-dump {len(dl)}")
    compared = 0
    for i, (t, d) in enumerate(zip(td, dl)):
        ft, fd = tcpdump_fields(t), dump_fields(d)
        if "eth" not in ft:
            errors.append(f"frame {i + 1}: tcpdump line not understood by this script: {t}")
            continue
        if ft.get("icmp", ("",))[0] == "other":
            errors.append(f"frame {i + 1}: ICMP kind not covered by this script: {t}")
        for key, want in ft.items():
            if key == "tcp_seq" and want is None:
                continue  # tcpdump omits seq on pure ACKs; smolxdp-dump always shows it
            if fd.get(key) != want:
                errors.append(f"frame {i + 1}: {key}: tcpdump {want!r}, smolxdp-dump {fd.get(key)!r}\n"
                              f"  tcpdump:      {t.splitlines()[0]}\n  smolxdp-dump: {d}")
        compared += 1
    for e in errors:
        print("MISMATCH " + e)
    if errors or compared == 0:
        print(f"compare_decodings: {len(errors)} mismatches in {compared} frames")
        return 1
    print(f"compare_decodings: {compared} frames agree field by field")
    return 0


sys.exit(main())
