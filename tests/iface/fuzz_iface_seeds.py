#!/usr/bin/python3
"""Seeds for fuzz_iface from the captures in tests/wire/data: the frames 10.0.0.1 sent to 10.0.0.2 (the
interface fuzz_iface plays), one seed per capture and one per frame, in fuzz_iface's input format:
[length and flags: 2 bytes BE][pause: 1 byte][frame]. TCP segments after the SYN ask fuzz_iface to fit
their seq, ack and ports to the stack's own segments (its ISNs differ from the capture's), so the
seeds get through the handshake. Plain pcap reading, no scapy needed.

Usage: tests/iface/fuzz_iface_seeds.py OUT_DIR [PCAP...]"""
import glob
import os
import struct
import sys

MY_MAC = bytes([2, 0, 0, 0, 0, 2])
BROADCAST = b"\xff" * 6


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


FIX_CSUM = 0x8000
FIX_TCP = 0x4000


def record(frame, pause=20):
    flags = 0
    is_tcp = frame[12:14] == b"\x08\x00" and len(frame) > 47 and frame[23] == 6
    if is_tcp and frame[14 + (frame[14] & 15) * 4 + 13] & 0x3F != 0x02:  # not a bare SYN
        flags = FIX_CSUM | FIX_TCP
    return struct.pack(">HB", len(frame) | flags, pause) + frame


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    pcaps = sys.argv[2:] or sorted(glob.glob(os.path.join(here, "..", "wire", "data", "*.pcap")))
    os.makedirs(out, exist_ok=True)
    count = 0
    for path in pcaps:
        frames = [f for f in pcap_frames(path) if f[:6] in (MY_MAC, BROADCAST)]
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(out, "seed-%s-all" % name), "wb") as f:
            f.write(b"".join(record(fr) for fr in frames))
        count += 1
        for i, fr in enumerate(frames):
            with open(os.path.join(out, "seed-%s-%03d" % (name, i)), "wb") as f:
                f.write(record(fr))
            count += 1
    print("%d seeds in %s" % (count, out))


if __name__ == "__main__":
    main()
