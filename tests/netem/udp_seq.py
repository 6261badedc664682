#!/usr/bin/python3
"""Numbered UDP datagrams for the path emulator's test.

  udp_seq.py send ADDR PORT COUNT [SIZE]   sends COUNT datagrams of SIZE bytes (default 64), each
                                           starting with its number (big-endian u32), back to back
  udp_seq.py recv PORT READY_FILE          receives until SIGTERM, then drains what is queued and prints
                                           {"received", "out_of_order", "duplicates"}; touches
                                           READY_FILE once bound
A datagram is out of order when a higher number came before it.
"""
import json
import os
import signal
import socket
import struct
import sys

SO_RCVBUFFORCE = 33  # not in Python's socket module; as root it passes net.core.rmem_max


def send(addr, port, count, size=64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pad = bytes(max(0, size - 4))
    for i in range(count):
        s.sendto(struct.pack("!I", i) + pad, (addr, port))


def recv(port, ready_file):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Large enough for a whole burst: a datagram the socket dropped would look like path loss.
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    s.bind(("0.0.0.0", port))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    open(ready_file, "w").close()
    seen, received, ooo, dups, top = set(), 0, 0, 0, -1
    s.settimeout(0.1)
    while True:
        if stop:
            s.setblocking(False)  # drain what already arrived, then stop
        try:
            data = s.recv(65536)
        except (socket.timeout, InterruptedError):
            continue
        except BlockingIOError:
            break
        (seq,) = struct.unpack("!I", data[:4])
        received += 1
        if seq in seen:
            dups += 1
        seen.add(seq)
        if seq < top:
            ooo += 1
        top = max(top, seq)
    print(json.dumps({"received": received, "out_of_order": ooo, "duplicates": dups}))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "send" and len(a) in (4, 5):
        send(a[1], int(a[2]), int(a[3]), *(int(x) for x in a[4:]))
    elif a and a[0] == "recv" and len(a) == 3:
        recv(int(a[1]), a[2])
    else:
        sys.exit(__doc__)
