#!/usr/bin/env bash
# Path MTU discovery against Linux (issue 13, RFC 1191): a download from smolxdp-server's source
# service, and halfway an ICMP "fragmentation needed" (next-hop MTU 1200, crafted by scapy as a router
# would send it, quoting one of the server's unacknowledged segments). The connection must carry on,
# byte-exact, in segments that fit 1200 bytes; the server's per-connection line says so. (The test
# holds the client's ACKs back for a moment so that the quoted segment is surely unacknowledged: a
# timeout may come of that, and is not checked.)
# Then UDP (udp_pmtu_peer.py): a fragmentation needed quoting one of the echo service's datagrams lowers
# the path MTU to the client, and the next echo comes in fragments of that size; a forged one (not
# quoting a datagram the server sent) changes nothing and is counted.
# Usage: test_pmtu.sh BUILD_DIR
here=$(dirname "$(realpath "$0")")
. "$here/lib.sh"

smx_setup
smx_start_server --tcp-log
# 4 MB: long enough that the ICMP lands mid-stream.
out=$(C /usr/bin/python3 "$here/pmtu_client.py" "$SRV_IP" veth1 1200 4000000 2>"$TMP/client.err") || fail "client: $out $(cat "$TMP/client.err")"
before=$(sed -n 1p <<<"$out")
after=$(sed -n 2p <<<"$out")
checked=$(sed -n 3p <<<"$out")
[ "$checked" = 4000000 ] || fail "stream not byte-exact ($checked)"
[ "$before" -gt 1148 ] || fail "segments before the ICMP were only $before bytes: nothing to shrink"
# 1200 - 20 (IP) - 20 (TCP) - 12 (timestamps, on every segment with a Linux peer).
[ "$after" -gt 0 ] && [ "$after" -le 1148 ] || fail "after the ICMP the largest segment carried $after bytes ($(cat "$TMP/client.err"))"
ok "download carried on after ICMP fragmentation needed: $before -> $after bytes per segment, byte-exact"
C /usr/bin/python3 "$here/udp_pmtu_peer.py" "$SRV_IP" veth1 >"$TMP/udp.out" 2>&1 ||
	{ cat "$TMP/udp.out" >&2; fail "UDP path MTU"; }
ok "UDP path MTU: $(tr '\n' ';' <"$TMP/udp.out")"
smx_stop_server
line=$(grep '^tcp-conn: service source' "$TMP/server.out" | head -1)
[ -n "$line" ] || fail "no per-connection line"
grep -q ' mss 1160$' <<<"$line" || fail "server's line does not show MSS 1160: $line"
ok "server: $line"
counter() { awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }' "$TMP/server.out"; }
[ "$(counter udp_pmtu_reductions)" = 1 ] && [ "$(counter drop_udp_pmtu_unverified)" = 1 ] ||
	fail "UDP path MTU counters: reductions $(counter udp_pmtu_reductions), unverified $(counter drop_udp_pmtu_unverified)"
ok "server: udp_pmtu_reductions 1, drop_udp_pmtu_unverified 1"
