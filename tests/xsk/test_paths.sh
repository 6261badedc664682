#!/bin/bash
# Attach paths: native as a single program (no bpffs here, or libxdp told to skip its dispatcher),
# SKB (generic) mode, and libxdp's dispatcher on a bpffs mounted in the test's own mount namespace,
# beside another program, including kill -9 and restart there. Each path must steer our traffic
# and leave the host's alone.
. "$(dirname "$0")/xsk_lib.sh"
setup_pair
static_neigh

serves() { # serves NAME: the tool in $TMP/NAME.out reflects, and the kernel address still answers
	# (the peer's report stays in $TMP/NAME-echo.out for the failure dump)
	ina $PY "$HERE/peer.py" echo $IPS 100 16 >"$TMP/$1-echo.out" 2>&1
	grep -q 'ok=100 ooo=0 bad=0' "$TMP/$1-echo.out" &&
	ina ping -c 1 -W 2 -q $IPB >/dev/null
}

# path NAME EXPECT_PROG_LINE [ENV] -- TOOL_ARGS...
path() {
	local name=$1 expect=$2 envs=$3; shift 4
	TOOL_WRAP="env $envs" start_tool "$name" reflect -i "$IFB" -a $IPS "$@" ||
		fatal "could not start xsk_tool ($name)"
	local p=$LASTPID
	check "$name: attached as expected ($expect)" grep -q "$expect" "$TMP/$name.out"
	check "$name: steers ours, host keeps its own" serves "$name"
	kill -TERM $p
	wait_pid $p
	check "$name: clean exit, nothing left attached" sh -c "test $? -eq 0 && ! ip -n $NSB link show $IFB | grep -q xdp"
}

# The default path: native. Whether libxdp's dispatcher is used depends on a bpffs being mounted
# (systemd hosts mount one) and on the kernel accepting the dispatcher, which this one refuses: the
# expectation is what libxdp does here, witnessed below in a bpffs of the test's own.
mounted_bpffs=$(mount | grep -c ' /sys/fs/bpf type bpf' || true)
path default "native=1" "" --
default_disp=$(val "$TMP/default.out" dispatcher)
if [ "$mounted_bpffs" -eq 0 ]; then
	check "default, no bpffs: no dispatcher" test "$default_disp" = 0
fi
path skip-dispatcher "native=1 dispatcher=0" "LIBXDP_SKIP_DISPATCHER=1" --
path skb "native=0 dispatcher=0" "LIBXDP_SKIP_DISPATCHER=1" -- -k skb
path skb-auto-dispatcher "native=0" "" -- -k skb

# libxdp's dispatcher needs a bpffs: mount one in a mount namespace of our own (ip netns exec makes
# one). Whether libxdp then uses its dispatcher depends on the kernel accepting its freplace
# programs; xdp-loader, loading another program there, is the witness, and our tool must agree
# with it: beside that program through the dispatcher, or refusing with a clear error if it is
# alone.
cat >"$TMP/inner.sh" <<INNER
mount -t bpf bpf /sys/fs/bpf || exit 3
for n in d1 d2; do
	$TOOL reflect -i $IFB -a $IPS >$TMP/\$n.out 2>$TMP/\$n.err &
	echo \$! >$TMP/\$n.pid
	wait
done
xdp-loader load -m native $IFB /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o >$TMP/load.out 2>&1 || exit 4
xdp-loader status $IFB >$TMP/status1.out 2>&1
$TOOL reflect -i $IFB -a $IPS >$TMP/d3.out 2>$TMP/d3.err &
echo \$! >$TMP/d3.pid
wait
xdp-loader status $IFB >$TMP/status2.out 2>&1
echo done >$TMP/inner.done
INNER
ip netns exec "$NSB" bash "$TMP/inner.sh" &
INNER=$!
PIDS="$PIDS $INNER"
wait_for() { # wait_for FILE PATTERN: until it appears, or the inner script ended
	local i
	for i in $(seq 1 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 $INNER 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
wait_for "$TMP/d1.out" READY || fatal "bpffs: could not start xsk_tool"
disp=$(val "$TMP/d1.out" dispatcher)
echo "info: with a bpffs, libxdp's dispatcher is $([ "$disp" = 1 ] && echo used || echo refused) here"
if [ "$mounted_bpffs" -gt 0 ]; then
	check "default, with the host's bpffs: dispatcher as libxdp does here ($disp)" test "$default_disp" = "$disp"
fi
check "bpffs: steers ours, host keeps its own" serves d1
kill -KILL "$(cat "$TMP/d1.pid")"
wait_for "$TMP/d2.out" READY || fatal "bpffs: restart failed"
check "bpffs: restart after kill -9 replaced our stale program" \
	grep -q "removed a smolxdp program .* which no longer runs" "$TMP/d2.err"
check "bpffs: restarted instance serves" serves d2
kill -TERM "$(cat "$TMP/d2.pid")"
wait_for "$TMP/status1.out" Interface || fatal "bpffs: xdp-loader failed: $(cat "$TMP/load.out")"
if grep -q xdp_dispatcher "$TMP/status1.out"; then
	check "dispatcher: libxdp used it for us too" test "$disp" = 1
	wait_for "$TMP/d3.out" READY || fatal "dispatcher: could not attach beside another program"
	check "dispatcher: steers ours beside another program, host keeps its own" serves d3
	kill -TERM "$(cat "$TMP/d3.pid")"
	wait_pid $INNER
	check "dispatcher: after exit the other program stays, ours is gone" \
		sh -c "grep -q xdpfilt_alw_all $TMP/status2.out && ! grep -q smx_steer $TMP/status2.out"
else
	echo "info: libxdp refused its dispatcher here (xdp-loader fell back to a single program);" \
		"coexistence through the dispatcher cannot be exercised on this kernel"
	check "no dispatcher: libxdp did not claim one for us either" test "$disp" = 0
	wait_pid $INNER
	check "no dispatcher: the other program is named in a clear error" \
		grep -q "another XDP program is attached to $IFB: xdpfilt_alw_all (id [0-9]*, native mode)" "$TMP/d3.err"
	check "no dispatcher: the other program is left untouched" grep -q xdpfilt_alw_all "$TMP/status2.out"
fi
check "bpffs: inner script completed" test -f "$TMP/inner.done"
finish
