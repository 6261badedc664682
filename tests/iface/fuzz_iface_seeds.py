#!/usr/bin/python3
"""Seeds for fuzz_iface from the captures in tests/wire/data: the frames 10.0.0.1 sent to 10.0.0.2 (the
interface fuzz_iface plays), one seed per capture and one per frame, in fuzz_iface's input format:
[length and flags: 2 bytes BE][pause: 1 byte][frame]. TCP segments after the SYN ask fuzz_iface to fit
their seq, ack and ports to the stack's own segments (its ISNs differ from the capture's), so the
seeds get through the handshake. Plain pcap reading, no scapy needed. Then fragment sets, built here
with their checksums right (no fix-up flag: fuzz_iface's fixing would sum one fragment as a whole
datagram): a ping and a UDP datagram in order, reversed and duplicated, an overlap, a tiny first
fragment, a gap that never fills, a 65,535-byte ping and an end one byte past that, two sources'
datagrams with the same identification interleaved, a flood of incomplete datagrams.

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


PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_IP = bytes([10, 0, 0, 1])
OTHER_MAC = bytes([2, 0, 0, 0, 0, 3])  # a second neighbour, for fragments of two sources at once
OTHER_IP = bytes([10, 0, 0, 3])
MY_IP = bytes([10, 0, 0, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def arp_request(mac=PEER_MAC, ip=PEER_IP):
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + bytes(6) + MY_IP
    return BROADCAST + mac + b"\x08\x06" + arp


def ip_frame(proto, ident, off, more, data, mac=PEER_MAC, ip=PEER_IP):
    flags = (0x2000 if more else 0) | (off // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, flags, 64, proto, 0, ip, MY_IP)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return MY_MAC + mac + b"\x08\x00" + hdr + data


def icmp_echo(n):
    body = struct.pack("!HH", 0x1234, 1) + bytes((i * 7) & 255 for i in range(n))
    return struct.pack("!BBH", 8, 0, csum(b"\x08\x00\x00\x00" + body)) + body


def udp_to_echo(n, src=PEER_IP):
    payload = bytes((i * 11) & 255 for i in range(n))
    length = 8 + n
    pseudo = src + MY_IP + struct.pack("!BBH", 0, 17, length)
    c = csum(pseudo + struct.pack("!HHHH", 40000, 9999, length, 0) + payload) or 0xFFFF
    return struct.pack("!HHHH", 40000, 9999, length, c) + payload


def split(proto, ident, l4, per, mac=PEER_MAC, ip=PEER_IP):
    return [ip_frame(proto, ident, off, off + per < len(l4), l4[off:off + per], mac, ip)
            for off in range(0, len(l4), per)]


def frag_seeds():
    ping = split(1, 100, icmp_echo(3000), 1480)
    udp = split(17, 101, udp_to_echo(1200), 608)
    tcp_hdr = bytes(12) + b"\x50\x02" + bytes(6)
    # The largest datagram, 65,535 bytes with its header (RFC 791), in 45 fragments of 1480.
    biggest = split(1, 106, icmp_echo(65535 - 20 - 8), 1480)
    # Same identification, protocol and destination from two sources: two datagrams (RFC 791's key),
    # the second's fragments in reverse, each source's interleaved with the other's.
    mine = split(17, 108, udp_to_echo(2000), 512)
    other = split(17, 108, udp_to_echo(2000, OTHER_IP), 512, OTHER_MAC, OTHER_IP)[::-1]
    interleaved = [arp_request(OTHER_MAC, OTHER_IP)] + [f for pair in zip(mine, other) for f in pair]
    return {
        "frag-ping-inorder": ping,
        "frag-ping-reversed": ping[::-1],
        "frag-ping-duplicated": [ping[1], ping[0], ping[1], ping[2], ping[0]],
        "frag-udp": udp,
        "frag-udp-reversed": udp[::-1],
        "frag-overlap": [ip_frame(1, 102, 0, True, icmp_echo(24)[:16]), ip_frame(1, 102, 8, False, bytes(16))],
        "frag-tiny-tcp": [ip_frame(6, 103, 0, True, tcp_hdr[:8]), ip_frame(6, 103, 8, False, tcp_hdr[8:])],
        "frag-gap": [ip_frame(1, 104, 0, True, icmp_echo(8)), ip_frame(1, 104, 4088, False, bytes(64))],
        "frag-max-datagram": biggest,
        "frag-past-max": [ip_frame(1, 107, 0, True, icmp_echo(8)), ip_frame(1, 107, 65512, False, bytes(4))],
        "frag-interleaved": interleaved,
        "frag-flood": [ip_frame(17, 200 + i, 0, True, udp_to_echo(8)) for i in range(6)] + udp,
        "frag-last-only": [ip_frame(1, 105, 1480, False, bytes(100))],
    }


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
    for name, frames in frag_seeds().items():
        with open(os.path.join(out, "seed-%s" % name), "wb") as f:
            f.write(b"".join(record(fr, pause=0) for fr in [arp_request()] + frames))
        count += 1
    print("%d seeds in %s" % (count, out))


if __name__ == "__main__":
    main()
