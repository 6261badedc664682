#!/usr/bin/env bash
# The stack as a TCP client (smolxdp-tcpclient on veth) against Linux servers: 100 MB each way
# byte-exact, the same with 5% loss by nftables in both directions, and a refused connection.
. "$(dirname "$0")/../server/lib.sh"
PY=/usr/bin/python3
HELPER=$(realpath "$(dirname "$0")/tcp_client.py")
CLIENT=$(realpath "$SMX_BUILD/apps/tcpclient/smolxdp-tcpclient")
SIZE=${SMX_TCP_SIZE:-104857600}
LOSS_SIZE=${SMX_TCP_LOSS_SIZE:-104857600}
[ -x "$CLIENT" ] || fail "no smolxdp-tcpclient in $SMX_BUILD"
smx_setup
# The same floor for Linux's side of the link (its default is 200 ms), per route.
C ip route replace 192.168.69.0/24 dev veth1 src "$CLI_IP" rto_min 20ms

# run_pair PORT BYTES: a Linux server in the client namespace, the stack connecting to it from veth0.
run_pair() {
	local port=$1 bytes=$2 t0=$SECONDS
	ip netns exec "$NS_CLI" "$PY" "$HELPER" server "$port" "$bytes" >"$TMP/linux.$port" 2>&1 &
	local spid=$!
	EXTRA_PIDS+=("$spid")
	for _ in $(seq 50); do grep -q listening "$TMP/linux.$port" 2>/dev/null && break; sleep 0.1; done
	S timeout 600 "$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:$port" --send "$bytes" \
		--expect "$bytes" --tcp-rto-min 20 || fail "smolxdp-tcpclient to port $port"
	wait "$spid" || { cat "$TMP/linux.$port" >&2; fail "the Linux server on port $port"; }
	cat "$TMP/linux.$port"
	echo "   ($((SECONDS - t0)) s)"
}

run_pair 5001 "$SIZE"
ok "stack -> Linux server: $SIZE bytes each way, byte-exact"

out=$(S timeout 30 "$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:5999" 2>&1) && fail "connected to a closed port"
grep -q "connection refused" <<<"$out" || fail "closed port: $out"
ok "stack -> closed Linux port: connection refused"

C nft -f - <<'NFT'
table inet smxloss {
	chain in { type filter hook input priority 0; policy accept; tcp dport 5002 numgen random mod 100 < 5 counter drop; }
	chain out { type filter hook output priority 0; policy accept; tcp sport 5002 numgen random mod 100 < 5 counter drop; }
}
NFT
run_pair 5002 "$LOSS_SIZE"
dropped=$(C nft list table inet smxloss | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}')
[ "$dropped" -gt 0 ] || fail "nftables dropped nothing"
ok "stack -> Linux server with 5% loss each way ($dropped dropped): $LOSS_SIZE bytes each way, byte-exact"

# Several receive queues (issue 14): the client serves queue 0 only, so where RSS cannot be read
# (veth has none) it says how to steer the replies; on one queue it says nothing.
grep -q "receive queues" <<<"$out" && fail "a note about receive queues on a single-queue veth: $out"
ip link add veth2 netns "$NS_SRV" numrxqueues 2 numtxqueues 2 type veth peer name veth3 netns "$NS_CLI" \
	numrxqueues 2 numtxqueues 2
S ip link set veth2 up
C ip addr add 192.168.70.100/24 dev veth3
C ip link set veth3 up
C ethtool -K veth3 tx off >/dev/null
out=$(S timeout 30 "$CLIENT" veth2 --ip 192.168.70.1/24 --connect 192.168.70.100:5999 --timeout 3 2>&1) &&
	fail "connected to a closed port over veth2"
grep -q "note: veth2 has 2 receive queues and no readable RSS" <<<"$out" && grep -q "ethtool -N veth2" <<<"$out" ||
	fail "no note about the queues it does not serve: $out"
ok "two receive queues and no readable RSS: the client says how to steer replies to its queue"
