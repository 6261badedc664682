#!/usr/bin/python3
"""The Linux side of test_pmtu.sh: downloads from smolxdp-server's source service, and halfway makes
the path look narrower: with its own ACKs held back (nftables, so the server's segments stay
unacknowledged), it answers one of the server's full-sized segments with an ICMP "fragmentation
needed" (next-hop MTU given) quoting it, as a router would (RFC 1191), then lets the ACKs go again.
Checks every byte of the stream (byte i = i mod 256) and prints, one per line: the payload sizes
seen before the ICMP (max), after it (max), and the bytes checked."""
import socket
import subprocess
import sys
import time

from scapy.all import AsyncSniffer, IP, ICMP, TCP, conf, raw  # noqa: E402

server, iface, mtu, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen = []  # (time, payload length) of the server's data segments
state = {"icmp_at": None, "quoted": None, "quoted_at": 0.0}


def on_pkt(p):
    if IP in p and TCP in p and p[IP].src == server and p[TCP].sport == 6972:
        n = len(p[TCP].payload)
        if n:
            seen.append((time.monotonic(), n))
            if state["icmp_at"] == "armed" and n >= 1000:
                # The latest full segment since our ACKs were held: surely unacknowledged.
                state["quoted"] = raw(p[IP])[: p[IP].ihl * 4 + 8]
                state["quoted_at"] = time.monotonic()


sniffer = AsyncSniffer(iface=iface, prn=on_pkt, store=False, filter=f"tcp and src host {server}")
sniffer.start()
l3 = conf.L3socket()  # opened now: the ICMP must leave at once, while the segment is unacknowledged
time.sleep(0.5)
s = socket.create_connection((server, 6972), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
got = 0
bad = None


def read(upto):
    global got, bad
    while got < upto:
        b = s.recv(65536)
        if not b:
            raise SystemExit("the server closed the stream at byte %d" % got)
        for i, x in enumerate(b):
            if x != (got + i) & 255 and bad is None:
                bad = got + i
        got += len(b)


read(total // 2)
# Hold our ACKs back so the server has segments in flight, and quote one of them.
subprocess.run(["nft", "-f", "-"], input=f"""table inet smxpmtu {{
    chain out {{ type filter hook output priority 0; policy accept; ip daddr {server} tcp dport 6972 drop; }}
}}""", text=True, check=True)
state["icmp_at"] = "armed"
s.settimeout(0.01)
t_end = time.monotonic() + 5
# Until the server's window is out (no segment for 30 ms), well before its 200 ms RTO.
while (state["quoted"] is None or time.monotonic() - state["quoted_at"] < 0.03) and time.monotonic() < t_end:
    try:
        b = s.recv(65536)
    except socket.timeout:
        continue
    for i, x in enumerate(b):
        if x != (got + i) & 255 and bad is None:
            bad = got + i
    got += len(b)
s.settimeout(10)
if state["quoted"] is None:
    raise SystemExit("no full-sized segment from the server to quote")
# ICMP type 3 code 4 with the next-hop MTU in the low 16 bits of the second word (RFC 1191 4).
l3.send(IP(src=s.getsockname()[0], dst=server) / ICMP(type=3, code=4, nexthopmtu=mtu) / state["quoted"])
t_icmp = time.monotonic()
subprocess.run(["nft", "delete", "table", "inet", "smxpmtu"], check=True)
read(total)
s.close()
time.sleep(0.2)
sniffer.stop()
l3.close()
before = max((n for t, n in seen if t < t_icmp), default=0)
after = max((n for t, n in seen if t > t_icmp + 0.02), default=0)
print(before)
print(after)
print(total if bad is None and got >= total else -1)
