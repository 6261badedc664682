#!/usr/bin/python3
"""Kernel-side peer for the xsk integration tests (run with Debian's /usr/bin/python3 for scapy).

Frames use xsk_tool's format: UDP payload = magic "SMXT", seq (u32), flow (u16), then pattern bytes
(seq * 7 + i) & 0xff, payload length 10 + (seq * 37) % 960.

  peer.py echo DST N [WINDOW]      UDP to DST:7 through the reflector; check every echo in order
  peer.py send DST N [FLOWS [FIRST_FLOW]]  N datagrams to DST:9999, round robin over FLOWS sockets
  peer.py recv BIND N [IDLE_S]     receive N datagrams on BIND:9999 and check order and content
  peer.py arp IFACE IP             who-has IP: prints the MAC that answered, or "none"
  peer.py malformed IFACE DST_MAC DST  frames for DST the steering program must refuse
Results are printed as key=value words.
"""
import socket
import struct
import sys

MAGIC = 0x534D5854


def payload(seq, flow):
    n = 10 + (seq * 37) % 960
    body = bytes(((seq * 7 + i) & 0xFF) for i in range(10, n))
    return struct.pack("!IIH", MAGIC, seq & 0xFFFFFFFF, flow) + body


def check(data, expect_seq, flow):
    """Returns 'ok', 'ooo' or 'bad'."""
    if len(data) < 10:
        return "bad"
    magic, seq, fl = struct.unpack("!IIH", data[:10])
    if magic != MAGIC or fl != flow or data != payload(seq, fl):
        return "bad"
    return "ok" if seq == expect_seq else "ooo"


def big_rcvbuf(s):
    SO_RCVBUFFORCE = 33
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)


def echo(dst, n, window=16):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_rcvbuf(s)
    s.settimeout(2.0)
    s.connect((dst, 7))
    sent = got = ok = bad = ooo = 0
    expect = 0
    while got < n:
        while sent < n and sent - got < window:
            s.send(payload(sent, 0))
            sent += 1
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        got += 1
        r = check(data, expect, 0)
        if r == "ok":
            ok += 1
        elif r == "ooo":
            ooo += 1
        else:
            bad += 1
        if len(data) >= 10:
            expect = struct.unpack("!I", data[4:8])[0] + 1
    print(f"echo sent={sent} got={got} ok={ok} ooo={ooo} bad={bad}")
    return 0 if ok == n else 1


def send(dst, n, flows=1, first_flow=0):
    socks = []
    for _ in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((dst, 9999))
        socks.append(s)
    seqs = [0] * flows
    for i in range(n):
        f = i % flows
        socks[f].send(payload(seqs[f], first_flow + f))
        seqs[f] += 1
    print(f"send sent={n} flows={flows}")
    return 0


def recv(bind, n, idle=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_rcvbuf(s)
    s.bind((bind, 9999))
    print("recv ready", flush=True)
    s.settimeout(idle)
    got = ok = ooo = bad = 0
    expect = {}
    while got < n:
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        got += 1
        flow = struct.unpack("!H", data[8:10])[0] if len(data) >= 10 else 0
        r = check(data, expect.get(flow, 0), flow)
        if r == "ok":
            ok += 1
        elif r == "ooo":
            ooo += 1
        else:
            bad += 1
        if len(data) >= 10:
            expect[flow] = struct.unpack("!I", data[4:8])[0] + 1
    print(f"recv got={got} ok={ok} ooo={ooo} bad={bad}")
    return 0 if ok == n else 1


def arp(iface, ip):
    from scapy.all import ARP, Ether, srp, conf  # noqa: E402
    conf.verb = 0
    ans, _ = srp(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, pdst=ip), iface=iface, timeout=1,
                 retry=1)
    macs = sorted({r.hwsrc for _, r in ans if r.haslayer(ARP) and r[ARP].op == 2 and r[ARP].psrc == ip})
    print(f"arp {ip} {macs[0] if macs else 'none'}")
    return 0


def malformed(iface, dst_mac, dst):
    from scapy.all import ARP, IP, UDP, Ether, Raw, sendp, conf  # noqa: E402
    conf.verb = 0
    eth = Ether(dst=dst_mac, type=0x0800)
    good_ip = bytes(IP(dst=dst) / UDP(dport=9999) / Raw(b"x" * 20))
    frames = [
        # IHL 4: impossible header length.
        eth / Raw(bytes([0x44]) + good_ip[1:]),
        # IHL 15 (60 bytes) in a 48-byte packet: header beyond the frame.
        eth / Raw(bytes([0x4F]) + good_ip[1:]),
        # IPv4 cut off after 10 bytes.
        Ether(dst=dst_mac, type=0x0800) / Raw(good_ip[:10]),
        # ARP for us, truncated to 20 bytes.
        Ether(dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(bytes(ARP(op=1, pdst=dst))[:20]),
        # Version 6 in an IPv4 ethertype.
        eth / Raw(bytes([0x65]) + good_ip[1:]),
    ]
    sendp(frames, iface=iface)
    print(f"malformed sent={len(frames)}")
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "echo":
        return echo(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 16)
    if cmd == "send":
        return send(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 1,
                    int(argv[5]) if len(argv) > 5 else 0)
    if cmd == "recv":
        return recv(argv[2], int(argv[3]), float(argv[4]) if len(argv) > 4 else 3.0)
    if cmd == "arp":
        return arp(argv[2], argv[3])
    if cmd == "malformed":
        return malformed(argv[2], argv[3], argv[4])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
