#!/usr/bin/python3
"""Writes a pcap of frames from demo.pcap, damaged the ways smolxdp-dump must name rather than skip:
bad IPv4 header checksum, bad TCP/UDP/ICMP checksums, a frame cut short by the snap length, padding.
The frame cut short goes to a second file, since tcpdump and smolxdp-dump decode what is left differently.
usage: make_damaged_pcap.py demo.pcap damaged.pcap cut.pcap"""
import struct
import sys


def read_pcap(path):
    data = open(path, "rb").read()
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack("<IIII", data[off:off + 16])
        frames.append((sec, usec, data[off + 16:off + 16 + caplen], wirelen))
        off += 16 + caplen
    return data[:24], frames


def flip(frame, off):
    b = bytearray(frame)
    b[off] ^= 0x01
    return bytes(b)


def main():
    header, frames = read_pcap(sys.argv[1])
    by_proto = {}
    for sec, usec, f, wl in frames:
        if f[12:14] == b"\x08\x00" and len(f) > 40:
            by_proto.setdefault(f[23], []).append((sec, usec, f, wl))
    tcp, udp, icmp = by_proto[6][3], by_proto[17][0], by_proto[1][0]  # tcp: the request with data
    out = []
    out.append((tcp[0], tcp[1], flip(tcp[2], 14 + 10), len(tcp[2])))   # IPv4 header checksum
    out.append((tcp[0], tcp[1], flip(tcp[2], len(tcp[2]) - 1), len(tcp[2])))  # TCP payload
    out.append((udp[0], udp[1], flip(udp[2], 34 + 6), len(udp[2])))    # UDP checksum field
    out.append((icmp[0], icmp[1], flip(icmp[2], 60), len(icmp[2])))    # ICMP data
    rst = by_proto[6][-1]
    out.append((rst[0], rst[1], rst[2] + bytes(60 - len(rst[2])), 60))  # Ethernet padding
    write_pcap(sys.argv[2], header, out)
    write_pcap(sys.argv[3], header, [(tcp[0], tcp[1], tcp[2][:60], len(tcp[2]))])  # cut by the snap length


def write_pcap(path, header, frames):
    with open(path, "wb") as fh:
        fh.write(header)
        for sec, usec, f, wl in frames:
            fh.write(struct.pack("<IIII", sec, usec, len(f), wl) + f)


main()
