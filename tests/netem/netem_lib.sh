# netem_lib.sh: an emulated network path (delay, loss, reordering, rate) between two network namespaces,
# made of path_emu in a middle namespace of its own, for benchmarks and tests (this kernel has no tc
# netem). Sourced; it sets no trap and no shell options: the caller's EXIT trap calls netem_cleanup.
#
#   NS_A:IF_A <--veth--> NETEM_IF_A [NS_MID: path_emu, no address] NETEM_IF_B <--veth--> IF_B:NS_B
#
# NETEM_BIN=PATH                      path_emu to run (required by netem_start), e.g. BUILD/tests/netem/path_emu
# netem_make_path NS_A IF_A NS_MID NS_B IF_B
#     Creates NS_MID and two veth pairs, IF_A (in NS_A) to $NETEM_IF_A and $NETEM_IF_B to IF_B (in NS_B);
#     NS_A and NS_B must exist. Middle: IPv6 off, no address, both up and promiscuous, GRO/GSO/TSO and
#     checksum offload off (path_emu forwards frames as read: offload metadata would not cross). Ends:
#     IPv6 off (no router solicitations or MLD crossing the path), `ethtool -K tx off` (complete
#     checksums), up. Addresses and neighbours at the ends are the caller's. With NETEM_MTU set, all
#     four interfaces get that MTU (path_emu takes frames up to 9216 bytes).
# netem_start NS_MID [path_emu options...]
#     Starts `path_emu --a $NETEM_IF_A --b $NETEM_IF_B OPTIONS` in NS_MID in the background, its PID in
#     NETEM_PID, and returns once it forwards. One emulator at a time.
# netem_stats
#     Prints the running emulator's counters (one JSON object, keys a2b and b2a) after a SIGUSR1.
# netem_counter DIR NAME
#     One counter from the last counters seen (netem_stats or netem_stop): netem_counter a2b dropped_loss
# netem_stop [FILE]
#     SIGTERM by PID and wait; fails unless path_emu exits 0. Its final counters stay in $NETEM_STATS
#     (until the next netem_start) and are copied to FILE if given.
# netem_cleanup
#     For the caller's EXIT trap: kills path_emu if still running (by PID), deletes NS_MID (which
#     removes both veth pairs) and netem's temporary files. Safe to call twice.
NETEM_IF_A=${NETEM_IF_A:-emu-a}
NETEM_IF_B=${NETEM_IF_B:-emu-b}
NETEM_PID=""
NETEM_NS=""
NETEM_TMP=""
NETEM_STATS=""

netem_fail() {
	echo "netem: $*" >&2
	return 1
}

netem_make_path() {
	local ns_a=$1 if_a=$2 ns_mid=$3 ns_b=$4 if_b=$5
	[ $# -eq 5 ] || netem_fail "usage: netem_make_path NS_A IF_A NS_MID NS_B IF_B" || return 1
	ip netns add "$ns_mid" || return 1
	NETEM_NS=$ns_mid
	# Before the interfaces exist, so they never get an IPv6 link-local address or send anything.
	ip netns exec "$ns_mid" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		2>/dev/null || true
	ip link add "$if_a" netns "$ns_a" type veth peer name "$NETEM_IF_A" netns "$ns_mid" || return 1
	ip link add "$if_b" netns "$ns_b" type veth peer name "$NETEM_IF_B" netns "$ns_mid" || return 1
	local ns dev
	for dev in "$NETEM_IF_A" "$NETEM_IF_B"; do
		[ -z "${NETEM_MTU:-}" ] || ip -n "$ns_mid" link set "$dev" mtu "$NETEM_MTU" || return 1
		ip netns exec "$ns_mid" ethtool -K "$dev" gro off gso off tso off tx off >/dev/null || return 1
		ip -n "$ns_mid" link set "$dev" promisc on up || return 1
	done
	for ns in "$ns_a:$if_a" "$ns_b:$if_b"; do
		dev=${ns#*:}
		ns=${ns%%:*}
		[ -z "${NETEM_MTU:-}" ] || ip -n "$ns" link set "$dev" mtu "$NETEM_MTU" || return 1
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null || true
		ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null || return 1
		ip -n "$ns" link set "$dev" up || return 1
	done
}

netem_start() {
	local ns_mid=$1
	shift
	[ -x "${NETEM_BIN:-}" ] || netem_fail "NETEM_BIN='${NETEM_BIN:-}' is not an executable path_emu" || return 1
	[ -z "$NETEM_PID" ] || netem_fail "path_emu already running (PID $NETEM_PID)" || return 1
	[ -n "$NETEM_TMP" ] || NETEM_TMP=$(mktemp -d /tmp/netem.XXXXXX) || return 1
	NETEM_STATS=$NETEM_TMP/stats.json
	rm -f "$NETEM_STATS"
	# Not through a function or subshell: ip netns exec execs path_emu, so $! is path_emu itself.
	ip netns exec "$ns_mid" "$NETEM_BIN" --a "$NETEM_IF_A" --b "$NETEM_IF_B" --stats "$NETEM_STATS" "$@" \
		>"$NETEM_TMP/out" 2>"$NETEM_TMP/err" &
	NETEM_PID=$!
	local i
	for i in $(seq 200); do
		grep -q "path_emu: ready" "$NETEM_TMP/err" 2>/dev/null && return 0
		if ! kill -0 "$NETEM_PID" 2>/dev/null; then
			wait "$NETEM_PID" 2>/dev/null || true # its status is not news: it failed
			NETEM_PID=""
			cat "$NETEM_TMP/err" >&2
			netem_fail "path_emu exited at start"
			return 1
		fi
		sleep 0.05
	done
	netem_fail "path_emu not ready after 10 s"
}

netem_stats() {
	[ -n "$NETEM_PID" ] || netem_fail "path_emu is not running" || return 1
	# path_emu renames a complete file into place: its appearance means a whole new snapshot.
	rm -f "$NETEM_STATS"
	kill -USR1 "$NETEM_PID" || return 1
	local i
	for i in $(seq 200); do
		[ -s "$NETEM_STATS" ] && { cat "$NETEM_STATS"; return 0; }
		sleep 0.05
	done
	netem_fail "no counters from path_emu after SIGUSR1"
}

netem_counter() {
	jq -e ".$1.$2" "$NETEM_STATS" 2>/dev/null || netem_fail "no counter $1.$2 in ${NETEM_STATS:-(none)}"
}

netem_stop() {
	[ -n "$NETEM_PID" ] || netem_fail "path_emu is not running" || return 1
	local rc=0
	kill -TERM "$NETEM_PID" 2>/dev/null || true
	wait "$NETEM_PID" || rc=$?
	NETEM_PID=""
	if [ $rc -ne 0 ]; then
		cat "$NETEM_TMP/err" >&2
		netem_fail "path_emu exited with status $rc after SIGTERM"
		return 1
	fi
	[ -s "$NETEM_STATS" ] || netem_fail "path_emu left no counters" || return 1
	[ $# -eq 0 ] || cp "$NETEM_STATS" "$1"
}

netem_cleanup() {
	if [ -n "$NETEM_PID" ]; then
		kill -TERM "$NETEM_PID" 2>/dev/null || true
		local i
		for i in $(seq 50); do
			kill -0 "$NETEM_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$NETEM_PID" 2>/dev/null || true
		wait "$NETEM_PID" 2>/dev/null || true
		NETEM_PID=""
	fi
	[ -z "$NETEM_NS" ] || ip netns del "$NETEM_NS" 2>/dev/null || true
	NETEM_NS=""
	[ -z "$NETEM_TMP" ] || rm -rf "$NETEM_TMP"
	NETEM_TMP=""
}
