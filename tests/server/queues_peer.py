#!/usr/bin/python3
"""The Linux peer of test_queues.sh: many flows at once towards smolxdp-server, each from its own
source port, so that the veth's hash spreads them over every queue; each must be answered,
byte-exact, exactly once.

  queues_peer.py udp SERVER SRC FLOWS PORT      one datagram per flow, all sent before any is read
  queues_peer.py tcp SERVER SRC CONNS PORT SIZE  connections all opened at once to the echo service,
                                                 SIZE bytes each, write side shut, echo read to EOF

A flow that is not answered within the deadline is a failure (the deadline only bounds the wait
for replies that will never come; it is no performance threshold)."""
import os
import selectors
import socket
import sys
import time

DEADLINE = 15.0


def udp(server, src, flows, port):
    socks = {}
    for _ in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.setblocking(False)
        payload = b"flow %d " % s.getsockname()[1] + os.urandom(32)
        socks[s] = payload
    for s, payload in socks.items():
        s.sendto(payload, (server, port))
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    answered, wrong = set(), 0
    end = time.monotonic() + DEADLINE
    while len(answered) < flows and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            data, addr = s.recvfrom(2048)
            if data != socks[s] or addr != (server, port) or s in answered:
                wrong += 1
            answered.add(s)
    missing = [s.getsockname()[1] for s in socks if s not in answered]
    print("udp: %d flows, %d answered byte-exact, %d wrong, unanswered ports %s"
          % (flows, len(answered), wrong, missing[:20]))
    return not missing and not wrong


def tcp(server, src, conns, port, size):
    sel = selectors.DefaultSelector()
    state = {}
    for _ in range(conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        s.connect_ex((server, port))
        state[s] = {"out": os.urandom(size), "sent": 0, "got": bytearray(), "eof": False}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    end = time.monotonic() + DEADLINE
    errors = 0
    while time.monotonic() < end and not all(st["eof"] for st in state.values()):
        for key, ev in sel.select(timeout=0.2):
            s, st = key.fileobj, state[key.fileobj]
            try:
                if ev & selectors.EVENT_WRITE and st["sent"] < size:
                    st["sent"] += s.send(st["out"][st["sent"]:])
                    if st["sent"] == size:
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                if ev & selectors.EVENT_READ:
                    data = s.recv(65536)
                    if data:
                        st["got"] += data
                    else:
                        st["eof"] = True
                        sel.unregister(s)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                print("tcp: connection from port %s: %s" % (s.getsockname()[1], e))
                errors += 1
                st["eof"] = True
                sel.unregister(s)
    exact = sum(1 for st in state.values() if st["eof"] and bytes(st["got"]) == st["out"])
    print("tcp: %d connections of %d bytes, %d echoed byte-exact and closed, %d errors"
          % (conns, size, exact, errors))
    return exact == conns


def main():
    mode, server, src, n, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ok = udp(server, src, n, port) if mode == "udp" else tcp(server, src, n, port, int(sys.argv[6]))
    sys.exit(0 if ok else 1)


main()
