#!/usr/bin/env bash
# smolxdp-server --queues N on a veth with N queues each way (2 and 4), with no static neighbour
# entries anywhere: the Linux peer's flows spread over every queue by their hash, and its ARP replies
# come to whichever queue the hash of an ARP frame picks, not to the queue that asked. The queues
# share their neighbours, so every flow is answered:
#  - 8 UDP flows from an address no queue knows yet (each queue that gets one asks; the replies land
#    on one queue), then 200 UDP flows from the address the peer's own ARP request taught one queue,
#    then 40 TCP connections to the echo service: each answered once, byte-exact;
#  - every queue served some of them (the TCP connections: two queues at least), and none dropped a
#    packet for want of a neighbour.
. "$(dirname "$0")/lib.sh"
PEER=$(dirname "$0")/queues_peer.py
CLI_IP2=192.168.69.101 # a second peer address, unknown to the server until it asks
FAILED=0

check() { # check WHAT COMMAND...: runs it, notes a failure and goes on (so that every count shows)
	local what=$1; shift
	if "$@"; then ok "$what"; else echo "FAIL: $what" >&2; FAILED=$((FAILED + 1)); fi
}

for nq in 2 4; do
	smx_setup "$nq"
	C ip addr add "$CLI_IP2/24" dev veth1
	smx_start_server --queues "$nq"
	check "$nq queues: 8 UDP flows from $CLI_IP2 (resolved by ARP, replies on another queue)" \
		C /usr/bin/python3 "$PEER" udp "$SRV_IP" "$CLI_IP2" 8 6969
	check "$nq queues: 200 UDP flows from $CLI_IP, each answered byte-exact" \
		C /usr/bin/python3 "$PEER" udp "$SRV_IP" "$CLI_IP" 200 6969
	check "$nq queues: 40 TCP connections to the echo service, 3000 bytes each, byte-exact" \
		C /usr/bin/python3 "$PEER" tcp "$SRV_IP" "$CLI_IP2" 40 6970 3000
	smx_stop_server
	for q in $(seq 0 $((nq - 1))); do
		echoed=$(grep -o "^queue $q: echoed [0-9]*" "$TMP/server.out" | grep -o '[0-9]*$' || true)
		check "$nq queues: queue $q echoed UDP (${echoed:-none})" test "${echoed:-0}" -gt 0
	done
	tcp_queues=$(grep -c "tcp: opened [1-9]" "$TMP/server.out" || true)
	tcp_ok=$(grep -o "ended [0-9]* ok" "$TMP/server.out" | awk '{s += $2} END {print s + 0}')
	check "$nq queues: the 40 connections ended cleanly ($tcp_ok), on $tcp_queues queues" \
		test "$tcp_ok" -eq 40 -a "$tcp_queues" -ge 2
	check "$nq queues: no packet dropped for want of a neighbour" \
		sh -c "! grep -Eq 'drop_tx_arp_(unresolved|queue_full) +[1-9]' '$TMP/server.out'"
	[ $FAILED -eq 0 ] || { cat "$TMP/server.out" >&2; fail "$FAILED check(s) failed with $nq queues"; }
	ip netns del "$NS_SRV"
	ip netns del "$NS_CLI"
done
echo "all checks passed"
