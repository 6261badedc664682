#!/usr/bin/env bash
# Jumbo frames over AF_XDP against Linux: both ends of the veth at MTU 9000, the server taking its MTU
# from the device (multi-buffer AF_XDP: XDP_USE_SG, a frags-aware program, chained descriptors).
# Unfragmented 8000-byte pings with DF, 8000-byte UDP echoed byte-exact, TCP bulk echoed byte-exact
# in segments above 1500 bytes both ways (the MSS offered, and the frames on the wire, checked); then
# a 30,000-byte datagram reassembled and fragmented at MTU 9000; then smolxdp-tcpclient to a Linux
# server, 2 MB each way in jumbo segments. With
# 1514-byte frames at most, every step fails: DF pings go unanswered, the server fragments, TCP's
# MSS stays at 1460.
. "$(dirname "$0")/lib.sh"
smx_setup
S ip link set veth0 mtu 9000
C ip link set veth1 mtu 9000
smx_start_server -v
grep -q "MTU 9000" "$TMP/server.out" || fail "the server did not take the device's MTU 9000"
ok "server MTU 9000 from the device"

C ping -c 2 -i 0.2 -W 2 -M do -s 8000 -p a5 "$SRV_IP" >"$TMP/ping.out" 2>&1 ||
	{ cat "$TMP/ping.out" >&2; fail "ping -M do -s 8000"; }
grep -q "2 received" "$TMP/ping.out" || { cat "$TMP/ping.out" >&2; fail "ping -M do -s 8000: replies lost"; }
ok "ping -M do -s 8000 answered"

# capture_start FILE / capture_stop: every TCP and UDP frame on the link, to see the sizes really
# sent (ip netns exec, not C: $! must be tcpdump itself).
capture_start() {
	ip netns exec "$NS_CLI" tcpdump -i veth1 -n -s 96 --immediate-mode -U -w "$1" "tcp or udp" \
		2>"$TMP/tcpdump.err" &
	CAPTURE_PID=$!
	EXTRA_PIDS+=("$CAPTURE_PID")
	for _ in $(seq 50); do grep -q "listening" "$TMP/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
}
capture_stop() {
	sleep 0.5
	kill -INT "$CAPTURE_PID" 2>/dev/null || true
	wait "$CAPTURE_PID" 2>/dev/null || true
}
# big_tcp FILE from|to: TCP frames above 1600 bytes sent by, or to, SRV_IP.
big_tcp() {
	local dir=src
	[ "$2" = to ] && dir=dst
	tcpdump -r "$1" -n "$dir host $SRV_IP and tcp and greater 1600" 2>/dev/null | wc -l
}
capture_start "$TMP/link.pcap"

head -c 8000 /dev/urandom >"$TMP/udp.in"
C timeout 5 socat -b 65536 -t 2 stdio "udp4-connect:$SRV_IP:6969" <"$TMP/udp.in" >"$TMP/udp.out" ||
	fail "socat 8000-byte datagram"
cmp -s "$TMP/udp.in" "$TMP/udp.out" || fail "socat: 8000-byte echo differs ($(stat -c %s "$TMP/udp.out") bytes)"
ok "socat: 8000-byte UDP datagram echoed byte-exact"

# TCP echo (port 6970): 2 MB each way through a kernel socket, byte-exact; the MSS Linux uses
# towards us is what the server offered, less the timestamp option.
head -c 2000000 /dev/urandom >"$TMP/tcp.in"
C /usr/bin/python3 - "$SRV_IP" "$TMP/tcp.in" "$TMP/tcp.out" <<'PY' || fail "TCP bulk echo"
import socket, sys, threading
data = open(sys.argv[2], "rb").read()
s = socket.create_connection((sys.argv[1], 6970), timeout=10)
mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
if mss <= 1460:
    sys.exit("MSS towards the server is %d: not above 1460" % mss)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = bytearray()
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    got += b
t.join()
open(sys.argv[3], "wb").write(got)
print("TCP MSS %d, echoed %d bytes" % (mss, len(got)))
PY
cmp -s "$TMP/tcp.in" "$TMP/tcp.out" || fail "TCP echo differs ($(stat -c %s "$TMP/tcp.out") bytes)"
ok "TCP bulk: 2 MB echoed byte-exact"

capture_stop
big_from=$(big_tcp "$TMP/link.pcap" from)
big_to=$(big_tcp "$TMP/link.pcap" to)
udp_frags=$(tcpdump -r "$TMP/link.pcap" -n "udp and (ip[6:2] & 0x3fff != 0)" 2>/dev/null | wc -l)
[ "$big_from" -gt 0 ] || fail "no TCP segment above 1600 bytes from the server"
[ "$big_to" -gt 0 ] || fail "no TCP segment above 1600 bytes to the server"
[ "$udp_frags" -eq 0 ] || fail "$udp_frags UDP fragments on a 9000-byte link"
ok "on the wire: $big_from TCP frames above 1600 bytes from the server, $big_to to it, no UDP fragments"

# Above the MTU: a 30,000-byte datagram, fragmented by Linux at 9000 and reassembled by the server,
# which fragments its echo at its own MTU: fragments of 9000 bytes, not 1500.
capture_start "$TMP/frag.pcap"
head -c 30000 /dev/urandom >"$TMP/frag.in"
C timeout 5 socat -b 65536 -t 2 stdio "udp4-connect:$SRV_IP:6969" <"$TMP/frag.in" >"$TMP/frag.out" ||
	fail "socat 30000-byte datagram"
cmp -s "$TMP/frag.in" "$TMP/frag.out" || fail "socat: 30000-byte echo differs ($(stat -c %s "$TMP/frag.out") bytes)"
capture_stop
frag_sizes=$(tcpdump -r "$TMP/frag.pcap" -n -v "src host $SRV_IP and ip[6:2] & 0x3fff != 0" 2>/dev/null |
	grep -o "length [0-9]*)" | grep -o "[0-9]*" | xargs)
[ "$(wc -w <<<"$frag_sizes")" -eq 4 ] || fail "the 30000-byte echo did not come in 4 fragments: $frag_sizes"
for n in $frag_sizes; do [ "$n" -le 9000 ] || fail "a fragment of $n bytes"; done
ok "30000-byte UDP echo byte-exact, reassembled and fragmented at MTU 9000: fragments of $frag_sizes bytes"

smx_stop_server
counter() { awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }' "$TMP/server.out"; }
for c in frag_reassembled frag_tx_datagrams; do
	[ "$(counter "$c")" -eq 1 ] || fail "$c is $(counter "$c"), not 1 (the 30000-byte datagram): jumbo traffic went as fragments"
done
grep -Eq "rx_linearized [1-9]" "$TMP/server.out" || fail "no multi-buffer frame received"
grep -Eq "tx_chained [1-9]" "$TMP/server.out" || fail "no multi-buffer frame sent"
ok "$(grep "xsk multi-buffer" "$TMP/server.out" | sed 's/^ *//'); fragments only for the 30000-byte datagram"

# The stack as a TCP client (smolxdp-tcpclient, MTU from the device too) to a Linux server: 2 MB each
# way, byte-exact, in jumbo segments both ways.
CLIENT=$(realpath "$SMX_BUILD/apps/tcpclient/smolxdp-tcpclient")
HELPER=$(realpath "$(dirname "$0")/../tcp/tcp_client.py")
capture_start "$TMP/client.pcap"
ip netns exec "$NS_CLI" /usr/bin/python3 "$HELPER" server 5001 2000000 >"$TMP/linux.out" 2>&1 &
spid=$!
EXTRA_PIDS+=("$spid")
for _ in $(seq 50); do grep -q listening "$TMP/linux.out" 2>/dev/null && break; sleep 0.1; done
S timeout 60 "$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:5001" --send 2000000 --expect 2000000 \
	>"$TMP/client.out" 2>&1 || { cat "$TMP/client.out"; fail "smolxdp-tcpclient at MTU 9000"; }
wait "$spid" || { cat "$TMP/linux.out" >&2; fail "the Linux server"; }
capture_stop
big_from=$(big_tcp "$TMP/client.pcap" from)
big_to=$(big_tcp "$TMP/client.pcap" to)
[ "$big_from" -gt 0 ] && [ "$big_to" -gt 0 ] ||
	fail "smolxdp-tcpclient: TCP frames above 1600 bytes: $big_from from it, $big_to to it"
ok "smolxdp-tcpclient: 2 MB each way with a Linux server, byte-exact; $big_from frames above 1600 bytes from it, $big_to to it"
