#!/usr/bin/python3
"""The Linux side of test_pmtu.sh: downloads from smolxdp-server's source service, and halfway makes
the path look narrower: with its own ACKs held back (nftables), so that what the server sends from
then on stays unacknowledged, it sends an ICMP "fragmentation needed" (next-hop MTU given) quoting a
sequence number in that range, as a router would (RFC 1191), then lets the ACKs go again. The quote
is computed from this socket's own receive state, not from a capture: a capture lags megabytes behind
at these rates. Checks every byte of the stream (byte i = i mod 256) and prints, one per line: the
largest payload captured before the ICMP, after it, and the bytes checked (-1 on a wrong byte)."""
import array
import fcntl
import socket
import subprocess
import sys
import termios
import time

from scapy.all import AsyncSniffer, IP, ICMP, TCP, conf, raw  # noqa: E402

server, iface, mtu, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen = []  # (capture time, payload length) of the server's data segments
isn = []   # the server's initial sequence number, from its SYN-ACK


def on_pkt(p):
    if IP not in p or TCP not in p or p[IP].src != server or p[TCP].sport != 6972:
        return
    if p[TCP].flags & 0x12 == 0x12:
        isn.append(p[TCP].seq)
    n = len(p[TCP].payload)
    if n:
        seen.append((float(p.time), n))


sniffer = AsyncSniffer(iface=iface, prn=on_pkt, store=False, filter=f"tcp and src host {server}")
sniffer.start()
l3 = conf.L3socket()  # opened now: the ICMP must leave at once
time.sleep(0.5)
# A large receive buffer, so the server is held back by its congestion window and not by ours: with
# our ACKs held it then still sends its tail loss probe (the last segment again), which it would not
# with nothing outstanding.
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.settimeout(10)
s.connect((server, 6972))
got = 0
bad = None


def take(b):
    global got, bad
    for i, x in enumerate(b):
        if x != (got + i) & 255 and bad is None:
            bad = got + i
    got += len(b)


def read(upto):
    while got < upto:
        b = s.recv(65536)
        if not b:
            raise SystemExit("the server closed the stream at byte %d" % got)
        take(b)


def segs_in():
    """Segments this socket received (tcp_info's tcpi_segs_in), duplicates included."""
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int.from_bytes(info[140:144], sys.byteorder)


def rcv_nxt():
    """The next sequence number this socket's kernel expects: all it took, read or not."""
    q = array.array("i", [0])
    fcntl.ioctl(s.fileno(), termios.FIONREAD, q)
    return (isn[0] + 1 + got + q[0]) & 0xFFFFFFFF


read(total // 2)
if not isn:
    raise SystemExit("the server's SYN-ACK was not captured")
HOLD = f"""table inet smxpmtu {{
    chain out {{ type filter hook output priority 0; policy accept; ip daddr {server} tcp dport 6972 drop; }}
}}"""
# With our ACKs held, a segment that arrives after r0 was taken (new data, or the server's tail loss
# probe resending its last segment) says the server has data outstanding: the last byte it sent,
# rcv_nxt - 1 (nothing is lost on this link), is in SND.UNA..SND.NXT (RFC 5927's check). When
# nothing arrives during the hold (the server had nothing in flight then), let the ACKs go, read on,
# and try again.
for attempt in range(8):
    subprocess.run(["nft", "-f", "-"], input=HOLD, text=True, check=True)
    r0 = rcv_nxt()
    n0 = segs_in()
    s.settimeout(0.005)
    t_hold = time.monotonic()
    while time.monotonic() - t_hold < 0.05:  # reading on, so the buffer never closes the window
        try:
            take(s.recv(65536))
        except socket.timeout:
            pass
    s.settimeout(10)
    r1 = rcv_nxt()
    if r1 != r0 or segs_in() != n0:
        break
    subprocess.run(["nft", "delete", "table", "inet", "smxpmtu"], check=True)
    read(got + 100000)
else:
    raise SystemExit("nothing arrived while the ACKs were held, in 8 tries")
seq = (r1 - 1) & 0xFFFFFFFF
quote = raw(IP(src=server, dst=s.getsockname()[0]) / TCP(sport=6972, dport=s.getsockname()[1], seq=seq,
                                                        flags="A"))[:28]
# ICMP type 3 code 4 with the next-hop MTU in the low 16 bits of the second word (RFC 1191 4).
l3.send(IP(src=s.getsockname()[0], dst=server) / ICMP(type=3, code=4, nexthopmtu=mtu) / quote)
t_icmp = time.time()
subprocess.run(["nft", "delete", "table", "inet", "smxpmtu"], check=True)
read(total)
s.close()
time.sleep(0.3)
sniffer.stop()
l3.close()
before = max((n for t, n in seen if t < t_icmp), default=0)
after = max((n for t, n in seen if t > t_icmp + 0.02), default=0)
print(before)
print(after)
print(total if bad is None and got >= total else -1)
