# Shared by the smolxdp-server integration scripts: a veth pair between two network namespaces made
# for this test only (names carry the PID), the server on one end, everything removed on exit.
# Usage: . lib.sh BUILD_DIR; smx_setup; smx_start_server [options]; ...; smx_stop_server
set -euo pipefail

SMX_BUILD=${1:?usage: $0 BUILD_DIR}
SMX_SERVER=$(realpath "$SMX_BUILD/apps/server/smolxdp-server")
NS_SRV=smx-srv-$$
NS_CLI=smx-cli-$$
SRV_IP=192.168.69.1
SRV_MAC=02:00:00:00:00:01
CLI_IP=192.168.69.100
KERN_IP=192.168.69.2 # an address the server namespace's kernel owns on the same link
TMP=$(mktemp -d /tmp/smx-server-test.XXXXXX)
SERVER_PID=""
EXTRA_PIDS=()

smx_cleanup() {
	local rc=$?
	for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	ip netns del "$NS_SRV" 2>/dev/null || true
	ip netns del "$NS_CLI" 2>/dev/null || true
	if [ $rc -ne 0 ] && [ -f "$TMP/server.out" ]; then
		echo "--- server output ---" >&2
		cat "$TMP/server.out" >&2
	fi
	rm -rf "$TMP"
	exit $rc
}
trap smx_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok: $*"
}

# For foreground commands only: started with &, $! would be a subshell, not the command.
S() { ip netns exec "$NS_SRV" "$@"; }
C() { ip netns exec "$NS_CLI" "$@"; }

# smx_setup [QUEUES]: the pair, with QUEUES RX and TX queues each end (default 1).
smx_setup() {
	local nq=${1:-1}
	[ -x "$SMX_SERVER" ] || fail "no smolxdp-server in $SMX_BUILD"
	ip netns add "$NS_SRV"
	ip netns add "$NS_CLI"
	ip link add veth0 netns "$NS_SRV" numtxqueues "$nq" numrxqueues "$nq" type veth \
		peer name veth1 netns "$NS_CLI" numtxqueues "$nq" numrxqueues "$nq"
	S ip link set lo up
	C ip link set lo up
	S ip link set veth0 up
	C ip addr add "$CLI_IP/24" dev veth1
	C ip link set veth1 up
	# Kernel peers leave UDP/TCP checksums to an offload veth never performs.
	C ethtool -K veth1 tx off >/dev/null
	S ethtool -K veth0 tx off >/dev/null
}

# smx_start_server [options]: starts it on veth0 and waits until it answers ping.
smx_start_server() {
	# Not through S(): a function would run in a subshell and $! would not be the server itself
	# (ip netns exec execs into the program it runs).
	ip netns exec "$NS_SRV" "$SMX_SERVER" veth0 "$@" >"$TMP/server.out" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		if C ping -c 1 -W 0.2 "$SRV_IP" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || fail "smolxdp-server exited at start"
		sleep 0.1
	done
	fail "smolxdp-server does not answer ping"
}

# smx_wait_ready: waits for the ready line of the server started in the background as $SERVER_PID
# (for where ping cannot tell).
smx_wait_ready() {
	for _ in $(seq 100); do
		grep -q "stop with Ctrl-C" "$TMP/server.out" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || fail "smolxdp-server exited at start"
		sleep 0.1
	done
	fail "smolxdp-server did not start"
}

# smx_stop_server: SIGTERM; it must exit 0, print its counters and leave no XDP program behind.
smx_stop_server() {
	kill -TERM "$SERVER_PID"
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=""
	[ $rc -eq 0 ] || fail "smolxdp-server exited with status $rc after SIGTERM"
	grep -q "rx_frames" "$TMP/server.out" || fail "no counters printed at exit"
	if S ip link show veth0 | grep -q "xdp"; then
		S ip link show veth0 >&2
		fail "an XDP program is still attached to veth0"
	fi
	ok "SIGTERM: clean exit, counters printed, no XDP program left"
}
