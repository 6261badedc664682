#!/usr/bin/env bash
# path_emu between two Linux namespaces (a - mid - b): ARP and ping cross it unchanged, the delay shows in
# the RTT, loss drops exactly the frames its seed predicts, reordering reorders (and only when asked),
# and a burst into a slow bottleneck is tail-dropped at the queue limit. Counts are checked exactly from
# the emulator's counters; the only timing check is the RTT's lower bound (frames never leave early).
set -euo pipefail
BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
NETEM_BIN=$BUILD/tests/netem/path_emu
PY=/usr/bin/python3
UDP=$HERE/udp_seq.py
NS_A=smx-nea-$$
NS_MID=smx-nem-$$
NS_B=smx-neb-$$
IF_A=veth-a
IF_B=veth-b
IP_A=10.77.0.1
IP_B=10.77.0.2
PORT=7777
TMP=$(mktemp -d /tmp/smx-netem-test.XXXXXX)
RECV_PID=""
. "$HERE/netem_lib.sh"

cleanup() {
	local rc=$?
	[ -z "$RECV_PID" ] || { kill -KILL "$RECV_PID" 2>/dev/null; wait "$RECV_PID" 2>/dev/null; } || true
	if [ $rc -ne 0 ] && [ -n "$NETEM_TMP" ]; then
		echo "--- path_emu stderr ---" >&2
		cat "$NETEM_TMP/err" >&2 2>/dev/null || true
	fi
	netem_cleanup
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
A() { ip netns exec "$NS_A" "$@"; }
B() { ip netns exec "$NS_B" "$@"; }

[ -x "$NETEM_BIN" ] || fail "no path_emu in $BUILD"
for ns in "$NS_A" "$NS_B"; do
	ip netns add "$ns"
	# Nothing but the test's own frames may cross: the loss count is checked frame by frame.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
netem_make_path "$NS_A" "$IF_A" "$NS_MID" "$NS_B" "$IF_B" || fail "netem_make_path"
ip -n "$NS_A" addr add "$IP_A/24" dev "$IF_A"
ip -n "$NS_B" addr add "$IP_B/24" dev "$IF_B"
MAC_A=$(A cat /sys/class/net/$IF_A/address)
MAC_B=$(B cat /sys/class/net/$IF_B/address)
# b counts the test's datagrams as they reach its IP layer, independently of the receiver.
B nft -f - <<EOF
table inet netem_test {
	counter udp_in {}
	chain input { type filter hook input priority 0; udp dport $PORT counter name udp_in; }
}
EOF
nft_count() { B nft -j list counter inet netem_test udp_in | jq '.nftables[] | select(.counter) | .counter.packets'; }
nft_reset() { B nft reset counter inet netem_test udp_in >/dev/null; }

# udp_run COUNT SIZE: the receiver in b, COUNT datagrams from a, then waits until the emulator has read
# all of them and holds none, and b's IP layer has seen every one it forwarded. Leaves the receiver's
# report in $TMP/recv.json and the emulator's counters in $NETEM_STATS.
udp_run() {
	local count=$1 size=$2 i
	nft_reset
	rm -f "$TMP/ready"
	ip netns exec "$NS_B" "$PY" "$UDP" recv "$PORT" "$TMP/ready" >"$TMP/recv.json" &
	RECV_PID=$!
	for i in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
	[ -e "$TMP/ready" ] || fail "UDP receiver did not start"
	# One CPU for the sender: its datagrams then cannot overtake each other in the kernel on the way.
	A taskset -c 0 "$PY" "$UDP" send "$IP_B" "$PORT" "$count" "$size"
	for i in $(seq 600); do
		netem_stats >/dev/null || fail "no counters from path_emu"
		[ "$(netem_counter a2b frames_in)" -eq "$count" ] && [ "$(netem_counter a2b held)" -eq 0 ] &&
			[ "$(nft_count)" -eq "$(netem_counter a2b forwarded)" ] && break
		sleep 0.05
	done
	[ "$(netem_counter a2b kernel_drops)" -eq 0 ] || fail "the emulator's socket dropped frames: $(cat "$NETEM_STATS")"
	[ "$(netem_counter a2b frames_in)" -eq "$count" ] || fail "emulator read $(netem_counter a2b frames_in) of $count: $(cat "$NETEM_STATS")"
	[ "$(netem_counter a2b held)" -eq 0 ] || fail "emulator still holds frames: $(cat "$NETEM_STATS")"
	kill -TERM "$RECV_PID"
	wait "$RECV_PID" || fail "UDP receiver failed"
	RECV_PID=""
	RECEIVED=$(jq .received "$TMP/recv.json")
	[ "$RECEIVED" -eq "$(nft_count)" ] || fail "receiver got $RECEIVED, b's IP layer saw $(nft_count)"
	[ "$(jq .duplicates "$TMP/recv.json")" -eq 0 ] || fail "duplicates: $(cat "$TMP/recv.json")"
}

# --- ARP and ping: a transparent wire, and the delay shows --------------------------------------
D=20
netem_start "$NS_MID" --delay-ms "$D" || fail "path_emu did not start"
# No neighbour entry yet: ARP itself must cross the emulator both ways.
A ping -c 1 -W 5 "$IP_B" >/dev/null || fail "first ping (ARP through the emulator) got no answer"
A ip neigh show "$IP_B" dev "$IF_A" | grep -qi "$MAC_B" || fail "a did not learn b's MAC through the emulator"
ok "ARP crosses the emulator"
# From now on static neighbours: nothing but the test's datagrams crosses the path.
A ip neigh replace "$IP_B" lladdr "$MAC_B" dev "$IF_A" nud permanent
B ip neigh replace "$IP_A" lladdr "$MAC_A" dev "$IF_B" nud permanent
A ping -c 5 -i 0.2 -W 5 "$IP_B" >"$TMP/ping.out" || { cat "$TMP/ping.out"; fail "ping through a ${D} ms path"; }
rtts=$(sed -n 's/.* time=\([0-9.]*\) ms/\1/p' "$TMP/ping.out")
[ "$(echo "$rtts" | wc -l)" -eq 5 ] || { cat "$TMP/ping.out"; fail "expected 5 RTTs"; }
# Every RTT at least the two one-way delays: a lower bound the emulator guarantees (it never releases
# a frame early), so no load on the machine can fail it. How far above it they are is printed, never
# judged: the project's tests check behaviour, not speed.
echo "$rtts" | awk -v min=$((2 * D)) '$1 < min { bad = 1 } END { exit bad }' || fail "an RTT under $((2 * D)) ms: $rtts"
med=$(echo "$rtts" | sort -n | sed -n 3p)
ok "ping with ${D} ms each way: RTTs $(echo $rtts) ms, all >= $((2 * D)), median $med"
# Full-size frames with a pattern: the payload crosses unchanged.
A ping -c 2 -i 0.2 -W 5 -s 1472 -M do -p a5c3 "$IP_B" >"$TMP/big.out" || { cat "$TMP/big.out"; fail "ping -s 1472"; }
grep -qi "wrong data" "$TMP/big.out" && fail "ping -s 1472 saw altered data"
ok "1500-byte frames cross with their data intact"
netem_stop || fail "path_emu did not stop cleanly"
[ "$(netem_counter a2b forwarded)" -ge 8 ] && [ "$(netem_counter b2a forwarded)" -ge 8 ] || fail "counters: $(cat "$NETEM_STATS")"
ok "SIGTERM: exit 0, counters $(cat "$NETEM_STATS")"

# --- loss: exactly the frames the seed says ----------------------------------------------------
N=2000
P=10
SEED=12345
netem_start "$NS_MID" --a2b-loss "$P" --seed "$SEED" || fail "path_emu did not start"
udp_run "$N" 64
lost=$(netem_counter a2b dropped_loss)
predicted=$("$NETEM_BIN" --a2b-loss "$P" --seed "$SEED" --predict-loss "$N" | jq .a2b)
[ $((RECEIVED + lost)) -eq "$N" ] || fail "received $RECEIVED + dropped_loss $lost != sent $N"
[ "$lost" -eq "$predicted" ] || fail "dropped_loss $lost, the seed predicts $predicted"
[ "$(netem_counter a2b forwarded)" -eq "$RECEIVED" ] || fail "forwarded $(netem_counter a2b forwarded), received $RECEIVED"
# Binomial(N, P): within 4 standard deviations of N*P (a property of the seed's stream, checked once).
awk -v n=$N -v p=$P -v k="$lost" 'BEGIN { m = n * p / 100; sd = sqrt(m * (1 - p / 100)); exit !(k > m - 4 * sd && k < m + 4 * sd) }' ||
	fail "dropped $lost of $N at $P%: too far from $((N * P / 100))"
netem_stop || fail "path_emu did not stop cleanly"
[ "$(netem_counter b2a dropped_loss)" -eq 0 ] || fail "loss applied to b->a too: $(cat "$NETEM_STATS")"
ok "loss $P% a->b: $RECEIVED received + $lost dropped = $N sent; --predict-loss says $predicted"

# --- reordering: only when asked ---------------------------------------------------------------
netem_start "$NS_MID" --delay-ms 1 --a2b-reorder 10 --reorder-hold-ms 1 --seed 3 || fail "path_emu did not start"
udp_run "$N" 64
ooo=$(jq .out_of_order "$TMP/recv.json")
reordered=$(netem_counter a2b reordered)
[ "$RECEIVED" -eq "$N" ] || fail "with reordering and no loss, received $RECEIVED of $N"
# Each held frame arrives late at most once; the frames passing it are in order among themselves.
[ "$ooo" -gt 0 ] && [ "$ooo" -le "$reordered" ] || fail "$ooo out of order, $reordered frames held back"
netem_stop || fail "path_emu did not stop cleanly"
ok "reorder 10%: all $N arrived, $ooo out of order ($reordered held back)"
netem_start "$NS_MID" --delay-ms 1 --seed 3 || fail "path_emu did not start"
udp_run "$N" 64
[ "$RECEIVED" -eq "$N" ] || fail "with no impairment, received $RECEIVED of $N"
[ "$(jq .out_of_order "$TMP/recv.json")" -eq 0 ] || fail "out of order without reordering: $(cat "$TMP/recv.json")"
netem_stop || fail "path_emu did not stop cleanly"
ok "no reordering asked: all $N in order"

# --- rate and queue: a burst into a 1 Mbit/s bottleneck of 20 frames ----------------------------
BURST=500
netem_start "$NS_MID" --a2b-rate 1M --a2b-limit-frames 20 || fail "path_emu did not start"
udp_run "$BURST" 1000
qdrop=$(netem_counter a2b dropped_queue)
[ "$qdrop" -gt 0 ] || fail "a burst of $BURST into a 20-frame queue dropped nothing: $(cat "$NETEM_STATS")"
[ $((RECEIVED + qdrop)) -eq "$BURST" ] || fail "received $RECEIVED + dropped_queue $qdrop != sent $BURST"
# Frames are dropped only when 20 are waiting, and never admitted beyond: the queue peaked at exactly 20.
[ "$(netem_counter a2b max_queue_frames)" -eq 20 ] || fail "queue peaked at $(netem_counter a2b max_queue_frames), limit 20"
netem_stop || fail "path_emu did not stop cleanly"
ok "rate 1 Mbit/s, 20-frame queue: burst of $BURST, $RECEIVED received + $qdrop tail-dropped"
