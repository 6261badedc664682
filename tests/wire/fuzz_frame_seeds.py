#!/usr/bin/python3
"""Seeds for fuzz_frame from the captures in tests/wire/data: each frame whole (frame_print reads whole
frames) and what fuzz_frame's parsers read at offset 0: the ARP body or IPv4 packet, and the TCP, UDP or
ICMP message inside. A slice seen before is not written again (the captures repeat headers a lot).

Usage: tests/wire/fuzz_frame_seeds.py OUT_DIR"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "data"))
from pcap2c import read_pcap  # noqa: E402

L4_NAMES = {1: "icmp", 6: "tcp", 17: "udp"}


def slices(frame):
    """(layer name, bytes) for the frame and each header in it a parser of fuzz_frame takes."""
    yield "eth", frame
    ethertype, l3 = frame[12:14], frame[14:]
    if ethertype == b"\x08\x06":
        yield "arp", l3
    if ethertype != b"\x08\x00" or len(l3) < 20:
        return
    yield "ipv4", l3
    ihl, total = (l3[0] & 15) * 4, int.from_bytes(l3[2:4], "big")
    if l3[9] in L4_NAMES and 20 <= ihl < total <= len(l3):
        yield L4_NAMES[l3[9]], l3[ihl:total]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen = set()
    for path in sorted(glob.glob(os.path.join(HERE, "data", "*.pcap"))):
        name = os.path.splitext(os.path.basename(path))[0]
        for i, frame in enumerate(read_pcap(path)):
            for layer, data in slices(frame):
                if data in seen:
                    continue
                seen.add(data)
                with open(os.path.join(out, "seed-%s-%03d-%s" % (name, i, layer)), "wb") as f:
                    f.write(data)
    print("%d seeds in %s" % (len(seen), out))


if __name__ == "__main__":
    main()
