#!/usr/bin/env bash
# The three examples (examples/) do what they say: udp_loopback's two stacks echo over the loopback
# device; xdp_udp_echo and tcp_echo, on one end of a veth pair between two network namespaces made
# for this test, echo what socat sends from the kernel on the other end (byte-exact, and for TCP a
# transfer larger than the buffers), stop cleanly on SIGTERM and leave no XDP program behind.
# Usage: test_examples.sh BUILD_DIR
set -euo pipefail

BUILD=$(realpath "${1:?usage: $0 BUILD_DIR}")
EX=$BUILD/examples
NS_SRV=smx-ex-srv-$$
NS_CLI=smx-ex-cli-$$
SRV_IP=192.168.69.1
CLI_IP=192.168.69.100
TMP=$(mktemp -d /tmp/smx-examples.XXXXXX)
PID=""

cleanup() {
	local rc=$?
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	ip netns del "$NS_SRV" 2>/dev/null || true
	ip netns del "$NS_CLI" 2>/dev/null || true
	if [ $rc -ne 0 ] && [ -f "$TMP/out" ]; then
		echo "--- example output ---" >&2
		cat "$TMP/out" >&2
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok: $*"
}

C() { ip netns exec "$NS_CLI" "$@"; }

for ex in udp_loopback xdp_udp_echo tcp_echo; do
	[ -x "$EX/$ex" ] || fail "no $EX/$ex"
done

# 1. Two stacks over the loopback device, on virtual time.
out=$("$EX/udp_loopback" 5) || fail "udp_loopback failed: $out"
grep -q '^udp_loopback: 5 of 5 datagrams echoed$' <<<"$out" || fail "udp_loopback: $out"
[ "$(grep -c '^A got "hello [0-4]" back from 10.0.0.2:7$' <<<"$out")" -eq 5 ] || fail "udp_loopback: $out"
ok "udp_loopback: 5 datagrams echoed between two stacks over the loopback device"

# 2. The veth pair: the examples on veth0, the kernel with socat on veth1.
ip netns add "$NS_SRV"
ip netns add "$NS_CLI"
ip link add veth0 netns "$NS_SRV" type veth peer name veth1 netns "$NS_CLI"
ip -n "$NS_SRV" link set lo up
ip -n "$NS_CLI" link set lo up
ip -n "$NS_SRV" link set veth0 up
ip -n "$NS_CLI" addr add "$CLI_IP/24" dev veth1
ip -n "$NS_CLI" link set veth1 up
# The kernel peer would leave its UDP/TCP checksums to an offload veth never performs.
C ethtool -K veth1 tx off >/dev/null

# start EXAMPLE ARGS...: runs it on veth0 (ip netns exec execs it: $! is the example) and waits
# until it answers ping.
start() {
	ip netns exec "$NS_SRV" "$EX/$1" veth0 "$SRV_IP/24" "${@:2}" >"$TMP/out" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		C ping -c 1 -W 0.2 "$SRV_IP" >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null || fail "$1 exited at start"
		sleep 0.1
	done
	fail "$1 does not answer ping"
}

# stop: SIGTERM; it must exit 0 and leave no XDP program on veth0.
stop() {
	kill -TERM "$PID"
	local rc=0
	wait "$PID" || rc=$?
	PID=""
	[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"
	if grep -q xdp <<<"$(ip -n "$NS_SRV" link show veth0)"; then
		fail "an XDP program is still attached to veth0"
	fi
}

start xdp_udp_echo 7
for msg in abcdefg "a second datagram"; do
	got=$(C timeout 5 socat -t 1 stdio "udp4-connect:$SRV_IP:7" <<<"$msg")
	[ "$got" = "$msg" ] || fail "xdp_udp_echo returned '$got' for '$msg'"
done
stop
grep -q '^xdp_udp_echo: echoed 2 datagrams$' "$TMP/out" || fail "xdp_udp_echo did not count 2 echoes"
grep -qE '^  icmp_echo_replies_sent +[1-9]' "$TMP/out" || fail "xdp_udp_echo printed no counters"
ok "xdp_udp_echo: socat's datagrams echoed over AF_XDP, counters printed, clean stop"

start tcp_echo 7
got=$(C timeout 10 socat -t 5 stdio "tcp4:$SRV_IP:7" <<<"echo over TCP")
[ "$got" = "echo over TCP" ] || fail "tcp_echo returned '$got'"
# More than the 16 KB buffers hold: the echo waits for WRITABLE events and resumes.
head -c 300000 /dev/urandom >"$TMP/sent"
C timeout 30 socat -t 10 - "tcp4:$SRV_IP:7" <"$TMP/sent" >"$TMP/got" || fail "socat bulk transfer failed"
cmp "$TMP/sent" "$TMP/got" || fail "tcp_echo: 300000 bytes echoed differ ($(stat -c %s "$TMP/got") received)"
stop
grep -qE '^tcp_echo: 2 connections accepted, 2 ended, 300014 bytes echoed' "$TMP/out" ||
	fail "tcp_echo's summary is not 2 connections, 300014 bytes"
ok "tcp_echo: a line and 300000 bytes echoed byte-exact over AF_XDP, both connections ended, clean stop"
