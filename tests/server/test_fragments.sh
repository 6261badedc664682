#!/usr/bin/env bash
# IPv4 fragments both ways against Linux (RFC 791): large pings (4000 and 65000 bytes of data, the
# client letting them fragment) answered; 60,000-byte UDP datagrams echoed by socat and Python, the
# server reassembling them and fragmenting its echo; scapy's fragment sets out of order, duplicated
# and interleaved from several sources reassembled; hostile sets (overlap, tiny first fragment, past
# 65,535 bytes, a flood of incomplete datagrams) dropped and counted, the server answering on.
. "$(dirname "$0")/lib.sh"
smx_setup
PEER="$(dirname "$(realpath "$0")")/frag_peer.py"
CLI_IP2=192.168.69.101
CLI_IP3=192.168.69.102
C ip addr add "$CLI_IP2/24" dev veth1
C ip addr add "$CLI_IP3/24" dev veth1
smx_start_server

# -M dont: the client fragments what exceeds the MTU, and takes fragmented replies.
for size in 4000 65000 65507; do
	C ping -c 2 -i 0.2 -W 2 -M dont -s "$size" -p a5 "$SRV_IP" >"$TMP/ping.out" 2>&1 ||
		{ cat "$TMP/ping.out" >&2; fail "ping -s $size"; }
	grep -q "2 received" "$TMP/ping.out" || { cat "$TMP/ping.out" >&2; fail "ping -s $size: replies lost"; }
	ok "ping -s $size -M dont answered"
done

# socat: one 60,000-byte datagram (-b: socat's block is 8 KiB otherwise), byte-exact.
head -c 60000 /dev/urandom >"$TMP/big.in"
C timeout 5 socat -b 65536 -t 2 stdio "udp4-connect:$SRV_IP:6969" <"$TMP/big.in" >"$TMP/big.out" ||
	fail "socat 60000-byte datagram"
cmp -s "$TMP/big.in" "$TMP/big.out" || fail "socat: 60000-byte echo differs ($(stat -c %s "$TMP/big.out") bytes)"
ok "socat: 60000-byte UDP datagram echoed byte-exact"

# Sizes around the MTU and up to the largest datagram, from a kernel socket.
C /usr/bin/python3 - "$SRV_IP" <<'PY' || fail "UDP echo of large sizes"
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 6969))
for size in (1472, 1473, 2952, 2953, 8000, 30000, 60000, 65507):
    data = os.urandom(size)
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(65535)
            break
        except socket.timeout:
            continue
    else:
        sys.exit("no echo of %d bytes" % size)
    if got != data:
        sys.exit("echo of %d bytes differs" % size)
print("echoed 1472..65507 bytes byte-exact")
PY
ok "UDP echo of 1472..65507 bytes, byte-exact"

C /usr/bin/python3 "$PEER" veth1 "$SRV_IP" "$SRV_MAC" good "$CLI_IP" "$CLI_IP2" "$CLI_IP3" ||
	fail "scapy fragment sets (out of order, duplicated, interleaved)"
ok "scapy: out-of-order, duplicated and interleaved fragment sets reassembled"
C /usr/bin/python3 "$PEER" veth1 "$SRV_IP" "$SRV_MAC" hostile "$CLI_IP" ||
	fail "scapy hostile fragment sets"
ok "scapy: hostile fragment sets dropped, the server reassembling on"

# Still answering, unfragmented and fragmented.
C ping -c 1 -W 2 "$SRV_IP" >/dev/null || fail "ping after the hostile sets"
C ping -c 1 -W 2 -M dont -s 4000 "$SRV_IP" >/dev/null || fail "ping -s 4000 after the hostile sets"
ok "ping and ping -s 4000 still answered"

smx_stop_server
counter() { awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }' "$TMP/server.out"; }
for c in frag_reassembled frag_tx_datagrams drop_frag_overlap drop_frag_tiny drop_frag_too_long \
	drop_frag_evicted drop_frag_duplicate; do
	[ "$(counter "$c")" -gt 0 ] || { grep -E "frag" "$TMP/server.out" >&2; fail "$c not counted"; }
done
ok "counted: $(for c in frag_reassembled frag_tx_datagrams drop_frag_overlap drop_frag_tiny \
	drop_frag_too_long drop_frag_evicted drop_frag_duplicate; do printf '%s=%s ' "$c" "$(counter "$c")"; done)"
