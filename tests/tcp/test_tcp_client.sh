#!/usr/bin/env bash
# The stack as a TCP client (smolxdp-tcpclient on veth) against Linux servers: 100 MB each way
# byte-exact (4 MB spinning and busy-polling), the same with 5% loss by nftables in both directions, a refused connection, and on 2 and
# 4 receive queues with no readable RSS, each queue's frames handed to the connection's (issue 14).
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

# run_pair PORT BYTES [CLIENT OPTIONS]: a Linux server in the client namespace, the stack connecting
# to it from veth0.
run_pair() {
	local port=$1 bytes=$2 t0=$SECONDS
	shift 2
	ip netns exec "$NS_CLI" "$PY" "$HELPER" server "$port" "$bytes" >"$TMP/linux.$port" 2>&1 &
	local spid=$!
	EXTRA_PIDS+=("$spid")
	for _ in $(seq 50); do grep -q listening "$TMP/linux.$port" 2>/dev/null && break; sleep 0.1; done
	S timeout 600 "$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:$port" --send "$bytes" \
		--expect "$bytes" --tcp-rto-min 20 "$@" || fail "smolxdp-tcpclient $* to port $port"
	wait "$spid" || { cat "$TMP/linux.$port" >&2; fail "the Linux server on port $port"; }
	cat "$TMP/linux.$port"
	echo "   ($((SECONDS - t0)) s)"
}

run_pair 5001 "$SIZE"
ok "stack -> Linux server: $SIZE bytes each way, byte-exact"

# The spinning modes (the benchmark runs the client busy-polling): the same exchange, smaller.
run_pair 5003 4194304 --spin
run_pair 5004 4194304 --busy-poll
ok "stack -> Linux server, --spin and --busy-poll: 4 MB each way, byte-exact"

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

# Several receive queues and no readable RSS (veth; issue 14): the client opens every queue, the
# stack of --queue owns the connection and the others hand it what lands on them. The peer's XPS
# sends all its frames (ARP replies included: no static neighbours on either side) on one transmit
# queue, which veth delivers to the same receive queue here: queue j in turn with the connection on
# j + 1, so every queue hands over to another in some run, then no XPS (the kernel's own spread).
# Each run uploads and downloads MQ_SIZE bytes byte-exact.
MQ_SIZE=${SMX_TCP_MQ_SIZE:-4194304}
grep -q "queues" <<<"$out" && fail "a line about queues on a single-queue veth: $out"
# xps QUEUE|none: the peer transmits everything on QUEUE (every CPU mapped to it), or spreads itself.
xps() {
	local i m
	for ((i = 0; i < nq; i++)); do
		m=0
		[ "$1" = "$i" ] && m=$(printf '%x' $(((1 << $(nproc)) - 1)))
		C sh -c "echo $m >/sys/class/net/veth3/queues/tx-$i/xps_cpus"
	done
}
# mq_run PORT OWNER: one connection from queue OWNER's stack through veth2, its hand-off line
# printed and kept.
mq_run() {
	local port=$1 owner=$2
	C ip neigh flush dev veth3
	ip netns exec "$NS_CLI" "$PY" "$HELPER" server "$port" "$MQ_SIZE" >"$TMP/linux.$port" 2>&1 &
	local spid=$!
	EXTRA_PIDS+=("$spid")
	for _ in $(seq 50); do grep -q listening "$TMP/linux.$port" 2>/dev/null && break; sleep 0.1; done
	S timeout 120 "$CLIENT" veth2 --ip 192.168.70.1/24 --connect "192.168.70.100:$port" --send "$MQ_SIZE" \
		--expect "$MQ_SIZE" --tcp-rto-min 20 --queue "$owner" >"$TMP/mq.$port" 2>&1 ||
		{ cat "$TMP/mq.$port" >&2; fail "$nq queues: smolxdp-tcpclient to port $port"; }
	wait "$spid" || { cat "$TMP/linux.$port" >&2; fail "$nq queues: the Linux server on port $port"; }
	grep -q "pattern ok" "$TMP/mq.$port" || fail "$nq queues, port $port: $(cat "$TMP/mq.$port")"
	handoff=$(grep "$nq queues, hand-off to queue $owner:" "$TMP/mq.$port") ||
		fail "$nq queues, port $port: no hand-off line: $(cat "$TMP/mq.$port")"
	echo "   port $port: $handoff"
	handed=$(sed -E 's/.*handed off ([0-9]+).*/\1/' <<<"$handoff")
}
for nq in 2 4; do
	ip link add veth2 netns "$NS_SRV" numrxqueues $nq numtxqueues $nq type veth peer name veth3 \
		netns "$NS_CLI" numrxqueues $nq numtxqueues $nq
	S ip link set veth2 up
	S ethtool -K veth2 tx off >/dev/null
	C ip addr add 192.168.70.100/24 dev veth3
	C ip link set veth3 up
	C ethtool -K veth3 tx off >/dev/null
	total=0
	for ((q = 0; q < nq; q++)); do
		xps "$q"
		mq_run $((5100 + nq * 10 + q)) $(((q + 1) % nq))
		# Replies and the ARP reply all on queue q, the connection on the next one.
		[ "$handed" -gt 0 ] || fail "$nq queues: replies on queue $q, none handed off"
		total=$((total + handed))
	done
	xps none
	mq_run $((5100 + nq * 10 + nq)) $((nq - 1))
	total=$((total + handed))
	ok "$nq queues, no readable RSS: $((nq + 1)) connections, $MQ_SIZE bytes each way byte-exact, $total frames handed to the owner's queue"
	if [ "$nq" -eq 2 ]; then
		# Without the hand-off the queue the replies land on answers them with a reset.
		xps 1
		C ip neigh flush dev veth3
		ip netns exec "$NS_CLI" "$PY" "$HELPER" server 5199 "$MQ_SIZE" >"$TMP/linux.5199" 2>&1 &
		EXTRA_PIDS+=("$!")
		for _ in $(seq 50); do grep -q listening "$TMP/linux.5199" 2>/dev/null && break; sleep 0.1; done
		out=$(S timeout 60 "$CLIENT" veth2 --ip 192.168.70.1/24 --connect 192.168.70.100:5199 --send "$MQ_SIZE" \
			--expect "$MQ_SIZE" --timeout 5 --no-handoff 2>&1) && fail "connected with replies on queue 1 and no hand-off: $out"
		ok "the same with --no-handoff and replies on queue 1 (the connection on 0) fails: $(grep -v "queues," <<<"$out" | tail -1)"
	fi
	S ip link del veth2
done
