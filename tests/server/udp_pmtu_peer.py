#!/usr/bin/python3
"""The Linux side of test_pmtu.sh's UDP part: plays a router whose next hop takes 1000 bytes. Sends a
1400-byte datagram to the echo port and captures the echo (whole, with DF); answers it with an ICMP
"fragmentation needed" (next-hop MTU 1000) - first a forged one (the quoted UDP checksum altered),
which must change nothing, then the real one; then the next 1400-byte echo must come as fragments of
at most 1000 bytes, and still reassemble byte-exact. Prints one line per step; exits non-zero with a
message on the first failure."""
import os
import socket
import sys
import time

from scapy.all import AsyncSniffer, IP, ICMP, conf, raw  # noqa: E402

server, iface = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((server, 6969))
l3 = conf.L3socket()


def echo(size):
    """Sends size random bytes; returns the IP packets the echo came in (captured) after checking it."""
    sniffer = AsyncSniffer(iface=iface, store=True, filter=f"ip proto 17 and src host {server}")
    sniffer.start()
    time.sleep(0.5)
    data = os.urandom(size)
    s.send(data)
    try:
        got = s.recv(65535)
    except socket.timeout:
        sys.exit("no echo of %d bytes" % size)
    time.sleep(0.3)
    pkts = [p[IP] for p in sniffer.stop() if IP in p]
    if got != data:
        sys.exit("echo of %d bytes differs" % size)
    if not pkts:
        sys.exit("echo of %d bytes not captured" % size)
    return pkts


def frag_needed(quote, mtu):
    """As a router on the way would: from an address of its own, quoting the header and 8 bytes."""
    l3.send(IP(dst=server) / ICMP(type=3, code=4, nexthopmtu=mtu) / quote[:28])
    time.sleep(0.3)


first = echo(1400)
if len(first) != 1 or not first[0].flags.DF or first[0].len != 1428:
    sys.exit("before: the echo was not one 1428-byte packet with DF: %s" % [(p.len, str(p.flags)) for p in first])
print("before: one %d-byte packet with DF" % first[0].len)
quote = bytearray(raw(first[0]))
forged = bytes(quote[:26]) + bytes([quote[26] ^ 0xFF, quote[27]])
frag_needed(forged, 1000)
after_forged = echo(1400)
if len(after_forged) != 1:
    sys.exit("a forged ICMP (checksum not ours) fragmented the echo")
print("forged ICMP ignored: still one %d-byte packet" % after_forged[0].len)
frag_needed(bytes(raw(after_forged[0])), 1000)
after = echo(1400)
sizes = [p.len for p in after]
if len(after) < 2 or max(sizes) > 1000 or any(p.flags.DF for p in after):
    sys.exit("after: the echo was not fragments of at most 1000 bytes without DF: %s" % sizes)
print("after: fragments of %s bytes, reassembled byte-exact" % sizes)
