# Shared set-up for the xsk integration scripts (sourced): two network namespaces joined by a veth
# pair, both ends created here and removed on exit. Peer side (kernel stack): $NSA/$IFA 10.99.0.1.
# Device side: $NSB/$IFB, where the kernel owns 10.99.0.2 and the device (xsk_tool) owns 10.99.0.3.
set -u
BUILD=${1:?usage: $0 BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
TOOL=$BUILD/tests/xsk/xsk_tool
DETACH=$BUILD/xsk/smolxdp-detach
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
NSA=smxa$$
NSB=smxb$$
IFA=sxa$$
IFB=sxb$$
IPA=10.99.0.1
IPB=10.99.0.2
IPS=10.99.0.3
TMP=$(mktemp -d)
PIDS=""
FAILS=0

cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# setup_pair [queues]
setup_pair() {
	local q=${1:-1}
	ip netns add "$NSA" && ip netns add "$NSB" || exit 1
	ip link add "$IFA" numtxqueues "$q" numrxqueues "$q" netns "$NSA" type veth \
		peer name "$IFB" numtxqueues "$q" numrxqueues "$q" netns "$NSB" || exit 1
	ip -n "$NSA" addr add $IPA/24 dev "$IFA"
	ip -n "$NSB" addr add $IPB/24 dev "$IFB"
	ip -n "$NSA" link set "$IFA" up
	ip -n "$NSB" link set "$IFB" up
	ip -n "$NSA" link set lo up
	ip -n "$NSB" link set lo up
	# Kernel peers would otherwise send unfinished checksums (veth offload).
	ip netns exec "$NSA" ethtool -K "$IFA" tx off >/dev/null
	ip netns exec "$NSB" ethtool -K "$IFB" tx off >/dev/null
	MACA=$(ip netns exec "$NSA" cat /sys/class/net/"$IFA"/address)
	MACB=$(ip netns exec "$NSB" cat /sys/class/net/"$IFB"/address)
}

# The peer's kernel learns the device's MAC up front: while ARP resolves, Linux queues a socket's
# first datagrams and may let later ones overtake them, which order checks would take for a fault.
static_neigh() { ip -n "$NSA" neigh replace $IPS lladdr "$MACB" dev "$IFA" nud permanent; }

ina() { ip netns exec "$NSA" "$@"; }
inb() { ip netns exec "$NSB" "$@"; }

# start_tool NAME ARGS...: xsk_tool in $NSB in the background (under $TOOL_WRAP, if set, e.g.
# valgrind); output in $TMP/NAME.out/.err; its PID in $LASTPID.
# Waits until it is ready (or has exited).
start_tool() {
	local name=$1; shift
	ip netns exec "$NSB" ${TOOL_WRAP:-} "$TOOL" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	LASTPID=$!
	PIDS="$PIDS $LASTPID"
	local i
	for i in $(seq 1 200); do
		grep -q READY "$TMP/$name.out" 2>/dev/null && return 0
		kill -0 "$LASTPID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_pid PID: waits for it to exit (bounded, so a hang fails the test instead of the suite);
# returns its exit status.
wait_pid() {
	local i
	for i in $(seq 1 600); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
		sleep 0.05
	done
	echo "process $1 did not exit" >&2
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	return 124
}

# val FILE KEY: the number after "KEY=" on the first line carrying it
val() { grep -o "\b$2=[0-9]*" "$1" | head -1 | cut -d= -f2; }

check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		FAILS=$((FAILS + 1))
	fi
}

xdp_attached() { inb ip link show dev "$IFB" | grep -q 'xdp'; }
no_xdp() { ! xdp_attached; }

fatal() { echo "FAIL $*"; FAILS=$((FAILS + 1)); finish; }

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed; tool output:"
		for f in "$TMP"/*.out "$TMP"/*.err; do [ -s "$f" ] && { echo "== $f"; cat "$f"; }; done
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
