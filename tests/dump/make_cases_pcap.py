#!/usr/bin/python3
"""Writes a pcap of crafted frames covering what smolxdp-dump's default (tcpdump-style) line decodes:
ARP requests and replies, ICMP echo and errors, UDP, and TCP flows with every option tcpdump names (mss,
nop, wscale, sackOK, TS, sack, eol, unknown kinds), flags, urgent data and relative sequence numbers in
both directions. Run with Debian's python for scapy.
usage: make_cases_pcap.py OUT.pcap"""
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, Raw, wrpcap

A_MAC, B_MAC = "02:00:00:00:00:64", "02:00:00:00:00:01"
A, B = "192.168.69.100", "192.168.69.1"
T0 = 1700000000.0


def eth(src=A_MAC, dst=B_MAC):
    return Ether(src=src, dst=dst)


def ab():
    return eth() / IP(src=A, dst=B, id=1)


def ba():
    return eth(B_MAC, A_MAC) / IP(src=B, dst=A, id=2, flags="DF")


def quote(proto_layer):
    return IP(src=A, dst="10.9.9.9", ttl=1) / proto_layer


frames = [
    eth(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A_MAC, psrc=A, pdst=B),
    eth(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A_MAC, psrc=A, pdst=A, hwdst="ff:ff:ff:ff:ff:ff"),
    eth(B_MAC, A_MAC) / ARP(op=2, hwsrc=B_MAC, psrc=B, hwdst=A_MAC, pdst=A),
    ab() / ICMP(type=8, id=5, seq=1) / Raw(b"x" * 56),
    ba() / ICMP(type=0, id=5, seq=1) / Raw(b"x" * 56),
    ab() / UDP(sport=37563, dport=6969) / Raw(b"abcdefg"),
    ba() / UDP(sport=6969, dport=37563) / Raw(b"abcdefg"),
    ab() / UDP(sport=40000, dport=9999),
    ba() / ICMP(type=3, code=3) / quote(UDP(sport=40001, dport=9998) / Raw(b"hello")),
    ba() / ICMP(type=3, code=3) / quote(TCP(sport=40001, dport=9997)),
    ba() / ICMP(type=3, code=1) / quote(UDP(sport=1, dport=2)),
    ba() / ICMP(type=3, code=0) / quote(UDP(sport=1, dport=2)),
    ba() / ICMP(type=3, code=2) / IP(src=A, dst="10.9.9.9", proto=253) / Raw(b"12345678"),
    ba() / ICMP(type=3, code=4, nexthopmtu=1400) / quote(UDP(sport=1, dport=2)),
    ba() / ICMP(type=3, code=13) / quote(UDP(sport=1, dport=2)),
    ba() / ICMP(type=11, code=0) / quote(ICMP(type=8, id=9, seq=3)),
    ba() / ICMP(type=11, code=1) / quote(ICMP(type=8, id=9, seq=3)),
    ba() / ICMP(type=4) / quote(UDP(sport=1, dport=2)),
    ba() / ICMP(type=42, code=0) / Raw(b"\0" * 8),
    # a TCP handshake with the options of the example, data, SACK, FIN
    ab() / TCP(sport=37564, dport=6970, flags="S", seq=1000, window=64240,
                options=[("MSS", 1460), ("NOP", None), ("WScale", 7)]),
    ba() / TCP(sport=6970, dport=37564, flags="SA", seq=5000, ack=1001, window=65535,
                options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (111, 222)), ("NOP", None),
                         ("WScale", 10)]),
    ab() / TCP(sport=37564, dport=6970, flags="A", seq=1001, ack=5001, window=502),
    ab() / TCP(sport=37564, dport=6970, flags="PA", seq=1001, ack=5001, window=502,
                options=[("NOP", None), ("NOP", None), ("Timestamp", (333, 111))]) / Raw(b"hello\n"),
    ba() / TCP(sport=6970, dport=37564, flags="A", seq=5001, ack=1007, window=512,
                options=[("NOP", None), ("NOP", None), ("SAck", (1100, 1200, 1300, 1400))]),
    ba() / TCP(sport=6970, dport=37564, flags="PA", seq=5001, ack=1007, window=512) / Raw(b"hi there\n"),
    ab() / TCP(sport=37564, dport=6970, flags="UA", seq=1007, ack=5010, window=502, urgptr=1) / Raw(b"!"),
    ab() / TCP(sport=37564, dport=6970, flags="FA", seq=1008, ack=5010, window=502,
                options=[("NOP", None), ("EOL", None), ("NOP", None), ("NOP", None)]),
    ba() / TCP(sport=6970, dport=37564, flags="FA", seq=5010, ack=1009, window=512),
    ab() / TCP(sport=37564, dport=6970, flags="A", seq=1009, ack=5011, window=502),
    # options tcpdump has no name for, ECN flags, no flags at all, a RST to a closed port
    ab() / TCP(sport=37565, dport=6971, flags="SEC", seq=7, window=1024,
                options=[(99, b"\x01\x02"), ("NOP", None), ("NOP", None)]),
    ab() / TCP(sport=37566, dport=6972, flags="", seq=7, window=0),
    ab() / TCP(sport=37567, dport=8081, flags="S", seq=3206682904, window=64240),
    ba() / TCP(sport=8081, dport=37567, flags="RA", seq=0, ack=3206682905, window=0),
    # an 802.1Q-tagged echo request; an ARP reply and a UDP datagram tagged with a priority, as
    # smolxdp-server --vlan 5:3 sends them
    eth() / Dot1Q(vlan=5) / IP(src=A, dst=B, id=3) / ICMP(type=8, id=6, seq=1),
    eth() / Dot1Q(vlan=5, prio=3) / ARP(op=2, hwsrc="02:00:00:00:00:01", psrc=A, hwdst="02:00:00:00:00:02", pdst=B),
    eth() / Dot1Q(vlan=4094, prio=7) / IP(src=A, dst=B, id=4) / UDP(sport=6969, dport=40000) / Raw(b"vlan"),
]
for i, f in enumerate(frames):
    f.time = T0 + i * 0.001
wrpcap(sys.argv[1], frames)
