#!/usr/bin/env bash
# smolxdp-server echoes UDP on port 6969 (socat, several sizes, byte-exact) and refuses other ports
# with ICMP port unreachable, which a Linux client sees as ECONNREFUSED.
. "$(dirname "$0")/lib.sh"
smx_setup
smx_start_server

out=$(C timeout 5 socat -t 1 stdio "udp4-connect:$SRV_IP:6969" <<<"abcdefg")
[ "$out" = "abcdefg" ] || fail "socat echo returned '$out'"
ok "socat echo: abcdefg"

# Several sizes up to the largest unfragmented datagram, byte-exact, from one Python client.
C /usr/bin/python3 - "$SRV_IP" <<'PY' || fail "UDP echo of several sizes"
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 6969))
for size in (0, 1, 18, 64, 512, 1000, 1471, 1472):
    data = os.urandom(size)
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(2048)
            break
        except socket.timeout:
            continue
    else:
        sys.exit("no echo of %d bytes" % size)
    if got != data:
        sys.exit("echo of %d bytes differs" % size)
print("echoed sizes 0..1472 byte-exact")
PY
ok "UDP echo of 0..1472 bytes, byte-exact"

# A closed port: ICMP port unreachable -> ECONNREFUSED on a connected socket.
C /usr/bin/python3 - "$SRV_IP" <<'PY' || fail "closed port did not give ECONNREFUSED"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 7777))
s.send(b"anyone?")
try:
    s.recv(100)
except ConnectionRefusedError:
    print("ECONNREFUSED")
    sys.exit(0)
except socket.timeout:
    sys.exit("timeout: no port unreachable")
sys.exit("got a reply from a closed port")
PY
ok "closed UDP port: ECONNREFUSED"

smx_stop_server
grep -Eq "icmp_errors_sent +[1-9]" "$TMP/server.out" || fail "icmp_errors_sent not counted"

# The spinning modes echo too: --spin (no syscall but the TX kicks) and --busy-poll (socket busy polling).
for mode in --spin --busy-poll; do
	smx_start_server "$mode"
	out=$(C timeout 5 socat -t 1 stdio "udp4-connect:$SRV_IP:6969" <<<"echo with $mode")
	[ "$out" = "echo with $mode" ] || fail "socat echo with $mode returned '$out'"
	ok "socat echo with $mode"
	smx_stop_server
done
