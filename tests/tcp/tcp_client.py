#!/usr/bin/python3
"""Linux-side TCP clients for the smolxdp-server TCP tests: each mode exits non-zero with a message
when the bytes are not exactly what the service promises."""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

# tcp_info's tcpi_state (include/net/tcp_states.h): our FIN sent, not yet acknowledged.
TCP_FIN_WAIT1, TCP_LAST_ACK, TCP_CLOSING = 4, 9, 11


def connect(host, port, timeout=60):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def total_rtos(s):
    """The socket's retransmission timeouts so far, every one, SYN's and repeated ones included
    (tcp_info's tcpi_total_rto, Linux 6.7 on, at byte 240); None on an older kernel."""
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("H", info, 240)[0] if len(info) >= 242 else None


def wait_acked(s, timeout):
    """Until the peer has acknowledged everything sent, the FIN included, or `timeout` s. A socket
    closed before that is orphaned, and Linux drops an orphan whose retransmissions have gone on
    for about 100 s (tcp_orphan_retries: 8 at the 200 ms minimum RTO) without a reset: the peer
    is never told, and waits out its own timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state not in (TCP_FIN_WAIT1, TCP_LAST_ACK, TCP_CLOSING):
            return
        time.sleep(0.05)


def pattern_block(start, n):
    """Bytes start .. start+n-1 of the source service's stream (byte i = i mod 256)."""
    base = bytes(range(256)) * ((n + 511) // 256)
    off = start % 256
    return base[off:off + n]


def echo(host, size):
    """Send `size` random bytes through the echo service while reading them back; compare sha256."""
    s = connect(host, 6970)
    data = os.urandom(min(size, 1 << 20))
    sent_hash = hashlib.sha256()
    errors = []

    def writer():
        try:
            left = size
            while left > 0:
                chunk = data[:min(left, len(data))]
                s.sendall(chunk)
                sent_hash.update(chunk)
                left -= len(chunk)
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    got_hash = hashlib.sha256()
    got = 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got_hash.update(b)
        got += len(b)
    t.join()
    s.close()
    if errors:
        sys.exit("echo: writer failed: %r" % errors[0])
    if got != size or got_hash.digest() != sent_hash.digest():
        sys.exit("echo: sent %d bytes sha256 %s, got %d bytes sha256 %s"
                 % (size, sent_hash.hexdigest(), got, got_hash.hexdigest()))
    print("echo %d bytes sha256 %s" % (size, got_hash.hexdigest()))


def sink(host, size):
    s = connect(host, 6971)
    data = os.urandom(1 << 20)
    left = size
    while left > 0:
        n = min(left, len(data))
        s.sendall(data[:n])
        left -= n
    s.shutdown(socket.SHUT_WR)
    # The server closes once it has read everything (EOF after our FIN).
    if s.recv(1) != b"":
        sys.exit("discard: the service sent data")
    s.close()
    print("discard %d bytes" % size)


def source(host, size, timeout=60):
    """Reads `size` bytes of the pattern from the source service and checks them; `timeout` bounds
    each socket call."""
    s = connect(host, 6972, timeout)
    # Said first, so that a transfer that fails still names its connection (the server's log is
    # found by it: interop_tcp.sh).
    print("source: local port %d" % s.getsockname()[1], flush=True)
    want = hashlib.sha256()
    got = hashlib.sha256()
    n = 0
    while n < size:
        b = s.recv(min(1 << 16, size - n))
        if not b:
            sys.exit("source: EOF after %d bytes" % n)
        got.update(b)
        want.update(pattern_block(n, len(b)))
        n += len(b)
    s.close()
    if got.digest() != want.digest():
        sys.exit("source: %d bytes, sha256 %s, expected %s" % (n, got.hexdigest(), want.hexdigest()))
    print("source %d bytes sha256 %s" % (n, got.hexdigest()))


def concurrent(host, count, size):
    """`count` connections open at once to echo, each sending `size` bytes and checking them."""
    socks = [connect(host, 6970) for _ in range(count)]
    payloads = [os.urandom(size) for _ in range(count)]
    for s, p in zip(socks, payloads):
        s.sendall(p)
    for i, (s, p) in enumerate(zip(socks, payloads)):
        got = b""
        while len(got) < size:
            b = s.recv(size - len(got))
            if not b:
                break
            got += b
        if got != p:
            sys.exit("concurrent: connection %d got %d bytes, not its own %d" % (i, len(got), size))
    for s in socks:
        s.shutdown(socket.SHUT_WR)
    for i, s in enumerate(socks):
        if s.recv(1) != b"":
            sys.exit("concurrent: connection %d: data after the echo" % i)
        s.close()
    print("%d concurrent connections echoed %d bytes each" % (count, size))


def refused(host, port):
    try:
        connect(host, port, timeout=5)
    except ConnectionRefusedError:
        print("port %d: connection refused" % port)
        return
    sys.exit("port %d: connected, expected a refusal" % port)


def server(port, size, recv_size=None, timeout=120, cc=None):
    """A Linux server for the stack's client: sends `size` bytes of the pattern, reads what the client
    sends (the same pattern; `recv_size` bytes, default `size`) and checks it, then closes. `timeout`
    bounds each socket call (a whole sendall included). `cc`: the congestion control (TCP_CONGESTION
    on the listener, which accepted sockets inherit; root may set one the namespace does not allow
    by default), else the namespace's default."""
    if recv_size is None:
        recv_size = size
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if cc:
        ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    print("listening", flush=True)
    s, _ = ls.accept()
    s.settimeout(timeout)
    if cc and s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") != cc.encode():
        sys.exit("server: congestion control is not %s" % cc)
    errors = []

    def writer():
        try:
            left, n = size, 0
            while left > 0:
                k = min(left, 1 << 16)
                s.sendall(pattern_block(n, k))
                n += k
                left -= k
            s.shutdown(socket.SHUT_WR)
        except Exception as e:
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    n = 0
    ok = True
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        if b != pattern_block(n, len(b)):
            ok = False
        n += len(b)
    t.join()
    # The peer may have closed first (smolxdp-tcpclient --send 0 does at once): all we sent must
    # be acknowledged before the close, which would orphan the socket. Then the count is complete.
    wait_acked(s, timeout)
    rtos = total_rtos(s)
    s.close()
    if errors:
        sys.exit("server: writer failed: %r" % errors[0])
    if not ok or n != recv_size:
        sys.exit("server: received %d bytes (%s)" % (n, "pattern ok" if ok else "pattern differs"))
    print("server: sent %d and received %d bytes, rtos %s" % (size, recv_size, "?" if rtos is None else rtos))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
    elif mode == "sink":
        sink(sys.argv[2], int(sys.argv[3]))
    elif mode == "source":
        source(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 60)
    elif mode == "concurrent":
        concurrent(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "refused":
        refused(sys.argv[2], int(sys.argv[3]))
    elif mode == "server":
        server(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else None,
               int(sys.argv[5]) if len(sys.argv) > 5 else 120, sys.argv[6] if len(sys.argv) > 6 else None)
    else:
        sys.exit("unknown mode " + mode)
