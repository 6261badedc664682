#!/usr/bin/env bash
# smolxdp-server on some RX queues of a many-queue interface (issue 14 item 3). veth has no n-tuple
# filters, so serving one queue of two is refused, naming the fix; with --force it serves, and the
# flows that land on the other queue are counted as no_socket in its steering report. Serving every
# queue needs no rule.
. "$(dirname "$0")/lib.sh"
smx_setup 2

# The refusal: non-zero exit, one line naming the rule, --force and --queues; nothing left attached.
for q in 0 1; do
	rc=0
	S "$SMX_SERVER" veth0 --queue $q >"$TMP/refused.out" 2>&1 || rc=$?
	[ $rc -ne 0 ] || fail "serving queue $q of 2 without a flow rule was not refused"
	grep -q "veth0 has 2 RX queues and we would serve 1" "$TMP/refused.out" || fail "refusal unclear: $(cat "$TMP/refused.out")"
	grep -q "ethtool -N veth0 flow-type ip4 dst-ip $SRV_IP action $q" "$TMP/refused.out" ||
		fail "refusal does not name the rule for queue $q: $(cat "$TMP/refused.out")"
	grep -q -- "--queue 0 --queues 2), or --force" "$TMP/refused.out" || fail "refusal does not name --queues/--force"
	! S ip link show veth0 | grep -q xdp || fail "an XDP program was left after the refusal"
done
ok "serving 1 of 2 queues without n-tuple filters: refused, the fix named, nothing attached"

# Every queue: no refusal, no warning. (Not through smx_start_server's ping: whether ARP works across
# queues is another test's business.)
ip netns exec "$NS_SRV" "$SMX_SERVER" veth0 --queues 2 >"$TMP/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
	grep -q "stop with Ctrl-C" "$TMP/server.out" && break
	kill -0 "$SERVER_PID" 2>/dev/null || fail "smolxdp-server --queues 2 exited at start"
	sleep 0.1
done
grep -q "stop with Ctrl-C" "$TMP/server.out" || fail "smolxdp-server --queues 2 did not start"
grep -q "RX queues" "$TMP/server.out" && fail "a refusal or warning when serving every queue: $(cat "$TMP/server.out")"
C ping -c 2 -i 0.2 -W 0.2 "$SRV_IP" >/dev/null 2>&1 || true # traffic, so that it has counters to print
smx_stop_server
ok "serving both queues of 2: no refusal"

# --force: serves queue 0, warns. Transmit-packet steering on the client's veth puts what CPU 0 sends
# on TX (so our RX) queue 0 and what CPU 1 sends on queue 1; the server is pinned to CPU 0 so that
# the client's ARP replies, made while receiving our request, leave on queue 0 too.
if [ "$(nproc)" -lt 2 ]; then
	smx_start_server --force
	grep -q "warning: serving 1 of the 2 RX queues of veth0 (--force)" "$TMP/server.out" || fail "no warning with --force"
	smx_stop_server
	ok "--force: serves with a warning (one CPU: the no_socket check needs two)"
	exit 0
fi
C sh -c 'echo 1 >/sys/class/net/veth1/queues/tx-0/xps_cpus; echo 2 >/sys/class/net/veth1/queues/tx-1/xps_cpus'
ip netns exec "$NS_SRV" taskset -c 0 "$SMX_SERVER" veth0 --force >"$TMP/server.out" 2>&1 &
SERVER_PID=$!
up=0
for _ in $(seq 100); do
	if C taskset -c 0 ping -c 1 -W 0.2 "$SRV_IP" >/dev/null 2>&1; then up=1; break; fi
	kill -0 "$SERVER_PID" 2>/dev/null || fail "smolxdp-server --force exited at start"
	sleep 0.1
done
[ $up -eq 1 ] || fail "smolxdp-server --force on queue 0 does not answer ping from CPU 0"
grep -q "warning: serving 1 of the 2 RX queues of veth0 (--force)" "$TMP/server.out" || fail "no warning with --force"
out=$(C taskset -c 0 timeout 5 socat -t 1 stdio "udp4-connect:$SRV_IP:6969" <<<"queue0")
[ "$out" = "queue0" ] || fail "UDP from CPU 0 (queue 0) not echoed: '$out'"
for i in 1 2 3 4 5; do
	C taskset -c 1 timeout 2 socat -t 0.2 stdio "udp4-connect:$SRV_IP:6969" <<<"queue1-$i" >/dev/null || true
done
smx_stop_server
n=$(sed -n 's/^steering:.* no_socket \([0-9]*\),.*/\1/p' "$TMP/server.out")
[ -n "$n" ] && [ "$n" -ge 5 ] || fail "5 datagrams sent to queue 1 but no_socket is '$n': $(grep steering "$TMP/server.out")"
ok "--force: serves queue 0 with a warning; the $n frames that landed on queue 1 are counted as no_socket"
