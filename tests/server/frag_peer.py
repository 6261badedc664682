#!/usr/bin/python3
"""The Linux-peer side of test_fragments.sh: crafts IPv4 fragment sets with scapy and sends them from
the client namespace to smolxdp-server's UDP echo (port 6969); the echoes come back to kernel UDP
sockets, which reassemble the server's own fragments. Usage:
  frag_peer.py IFACE SRV_IP SRV_MAC good SRC_IP...   out of order, duplicated, interleaved: all echoed
  frag_peer.py IFACE SRV_IP SRV_MAC hostile SRC_IP   overlap, tiny first, too long, flood: none echoed
Exits non-zero, saying why, on any failure."""
import os
import random
import socket
import sys

from scapy.all import IP, UDP, Ether, Raw, conf, fragment, sendp  # noqa: E402

conf.verb = 0
IFACE, SRV_IP, SRV_MAC, MODE = sys.argv[1:5]
SRCS = sys.argv[5:]
rng = random.Random(6864)


def sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(3)
    return s


def frags(src, sport, payload, ident, size=1480):
    pkt = IP(src=src, dst=SRV_IP, id=ident, flags=0) / UDP(sport=sport, dport=6969) / Raw(payload)
    return fragment(pkt, fragsize=size)


def send(pkts):
    sendp([Ether(dst=SRV_MAC) / p for p in pkts], iface=IFACE)


def expect_echo(s, payload, what):
    try:
        got = s.recv(65535)
    except socket.timeout:
        sys.exit("no echo: " + what)
    if got != payload:
        sys.exit("echo differs (%d bytes, sent %d): %s" % (len(got), len(payload), what))
    print("ok:", what)


def expect_none(s, what):
    s.settimeout(1)
    try:
        got = s.recv(65535)
    except socket.timeout:
        print("ok: no echo:", what)
        return
    sys.exit("echoed %d bytes, expected nothing: %s" % (len(got), what))


def good():
    socks = [sock(src) for src in SRCS]
    # out of order: reversed, and shuffled
    s = socks[0]
    for order in ("reversed", "shuffled"):
        payload = os.urandom(20000)
        fl = frags(SRCS[0], s.getsockname()[1], payload, 1000 + len(order))
        fl = fl[::-1] if order == "reversed" else rng.sample(fl, len(fl))
        send(fl)
        expect_echo(s, payload, "20000 bytes, fragments %s" % order)
    # duplicated: every fragment twice, some three times, shuffled
    payload = os.urandom(30000)
    fl = frags(SRCS[0], s.getsockname()[1], payload, 2000)
    fl = fl + fl + fl[::3]
    send(rng.sample(fl, len(fl)))
    expect_echo(s, payload, "30000 bytes, fragments duplicated and shuffled")
    # interleaved from several sources, the same ID from each, and two IDs from the first
    sets, payloads = [], []
    for i, src in enumerate(SRCS):
        payloads.append(os.urandom(8000 + 1000 * i))
        sets.append(frags(src, socks[i].getsockname()[1], payloads[i], 3000))
    extra = os.urandom(9000)
    sets.append(frags(SRCS[0], socks[0].getsockname()[1], extra, 3001))
    mixed = []
    for k in range(max(len(x) for x in sets)):
        for x in sets:
            if k < len(x):
                mixed.append(x[len(x) - 1 - k])
    send(mixed)
    for i, src in enumerate(SRCS):
        expect_echo(socks[i], payloads[i], "interleaved, from %s" % src)
    expect_echo(socks[0], extra, "interleaved, a second ID from %s" % SRCS[0])
    # small fragments: 8 bytes of data each (a first fragment holding just the UDP header)
    payload = os.urandom(200)
    fl = frags(SRCS[0], s.getsockname()[1], payload, 4000, size=8)
    send(rng.sample(fl, len(fl)))
    expect_echo(s, payload, "200 bytes in 8-byte fragments, shuffled")


def hostile():
    s = sock(SRCS[0])
    port = s.getsockname()[1]
    src = SRCS[0]
    hdr = bytes(UDP(sport=port, dport=6969, len=8 + 48, chksum=0))  # checksum 0: none (RFC 768)
    body = os.urandom(48)
    data = hdr + body
    # overlap: [0,32) then [24,56)
    send([IP(src=src, dst=SRV_IP, id=5000, flags="MF", frag=0, proto=17) / Raw(data[:32]),
          IP(src=src, dst=SRV_IP, id=5000, flags=0, frag=3, proto=17) / Raw(data[24:])])
    expect_none(s, "overlapping fragments")
    # tiny first fragment: a first fragment with MF carries a multiple of 8 bytes, so only TCP's
    # header can be cut (RFC 1858 3.1): 8 bytes of its 20
    tcp = bytes(20)
    send([IP(src=src, dst=SRV_IP, id=5001, flags="MF", frag=0, proto=6) / Raw(tcp[:8]),
          IP(src=src, dst=SRV_IP, id=5001, flags=0, frag=1, proto=6) / Raw(tcp[8:] + bytes(4))])
    # too long: the ping of death, an end past 65,535 bytes
    send([IP(src=src, dst=SRV_IP, id=5002, flags="MF", frag=0, proto=17) / Raw(data[:16]),
          IP(src=src, dst=SRV_IP, id=5002, flags=0, frag=8190, proto=17) / Raw(bytes(100))])
    expect_none(s, "a datagram past 65,535 bytes")
    # a flood of incomplete datagrams (first fragments only), far more than the slots
    flood = [IP(src=src, dst=SRV_IP, id=6000 + i, flags="MF", frag=0, proto=17) / Raw(data[:16])
             for i in range(300)]
    send(flood)
    # and the server still reassembles
    payload = os.urandom(12000)
    fl = frags(src, port, payload, 7000)
    send(rng.sample(fl, len(fl)))
    s.settimeout(3)
    expect_echo(s, payload, "12000 bytes after the flood")


if MODE == "good":
    good()
elif MODE == "hostile":
    hostile()
else:
    sys.exit("unknown mode " + MODE)
