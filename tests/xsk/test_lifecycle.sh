#!/bin/bash
# Life cycle: open/close 10 times and SIGTERM leave no program attached and leak nothing (ASan build:
# LeakSanitizer at exit; other builds: valgrind); kill -9 leaves our program, which the next start
# recognises and replaces, or smolxdp-detach removes; a live owner is not displaced; and the clear
# one-line errors users hit: no privileges, no such interface, another program attached, UMEM
# registration refused.
. "$(dirname "$0")/xsk_lib.sh"
setup_pair
# The echo checks below judge order; ARP resolution (tested in test_steer.sh) could reorder the first
# datagrams in the peer's kernel, so the peer knows the device's MAC up front.
static_neigh

RUN=""
if ! nm "$TOOL" 2>/dev/null | grep -q __asan_init && command -v valgrind >/dev/null; then
	# Only leaks are judged: memcheck cannot see what the bpf() syscall writes, so its
	# uninitialised-value reports about libbpf are noise here.
	RUN="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --undef-value-errors=no"
fi
no_leak() { ! grep -qE 'are (definitely|indirectly) lost|ERROR SUMMARY: [1-9]|AddressSanitizer|LeakSanitizer' "$1"; }

# The peer's own report stays in $TMP (shown with the tool output on failure).
ECHOS=0
echo_ok() {
	ECHOS=$((ECHOS + 1))
	local out="$TMP/peer-echo-$ECHOS.out"
	ina $PY "$HERE/peer.py" echo $IPS "$1" 8 >"$out" 2>&1
	grep -q "ok=$1 ooo=0 bad=0" "$out"
}

# 1. Open and close 10 times (program attached and detached each time).
ip netns exec "$NSB" $RUN "$TOOL" openclose -i "$IFB" -a $IPS -n 10 -F 256 -f 128 -R 128 -T 128 \
	>"$TMP/oc.out" 2>"$TMP/oc.err"
check "open/close 10 times: clean exit" test $? -eq 0
check "open/close 10 times: no leak${RUN:+ (valgrind)}" no_leak "$TMP/oc.err"
check "open/close 10 times: all cycles done" grep -q 'cycles=10' "$TMP/oc.out"
check "open/close 10 times: no file descriptor leaked" \
	test "$(val "$TMP/oc.out" fds_before)" = "$(val "$TMP/oc.out" fds_after)"
check "open/close 10 times: no program left attached" no_xdp

# 2. SIGTERM while serving.
TOOL_WRAP=$RUN start_tool t reflect -i "$IFB" -a $IPS -F 256 -f 128 -R 128 -T 128 ||
	fatal "could not start xsk_tool"
P=$LASTPID
check "serving before SIGTERM" echo_ok 20
kill -TERM $P
wait_pid $P
check "SIGTERM: clean exit" test $? -eq 0
check "SIGTERM: no leak${RUN:+ (valgrind)}" no_leak "$TMP/t.err"
check "SIGTERM: no program left attached" no_xdp

# 3. kill -9 leaves the program; the next start replaces it.
start_tool k1 reflect -i "$IFB" -a $IPS || fatal "could not start xsk_tool"
P=$LASTPID
check "first instance serves" echo_ok 10
inb "$TOOL" reflect -i "$IFB" -a $IPS >/dev/null 2>"$TMP/second.err"
check "a second instance is refused while the first runs" test $? -ne 0
check "  ... naming the running owner" grep -q "smolxdp (pid $P) is already attached to $IFB" "$TMP/second.err"
check "first instance unharmed" echo_ok 10
kill -KILL $P
wait $P 2>/dev/null
check "kill -9 leaves the program attached" xdp_attached
start_tool k2 reflect -i "$IFB" -a $IPS || fatal "could not start xsk_tool"
P=$LASTPID
check "restart after kill -9 works" echo_ok 50
check "  ... saying it replaced the stale program" grep -q "removed a smolxdp program .* left on $IFB by pid" "$TMP/k2.err"
kill -TERM $P
wait_pid $P
check "restart: clean exit, program detached" no_xdp

# 4. kill -9, then removal by hand.
start_tool k3 reflect -i "$IFB" -a $IPS || fatal "could not start xsk_tool"
P=$LASTPID
inb "$DETACH" "$IFB" >"$TMP/d0.out" 2>"$TMP/d0.err"
check "smolxdp-detach refuses while the owner runs" test $? -ne 0
kill -KILL $P
wait $P 2>/dev/null
inb "$DETACH" "$IFB" >"$TMP/d1.out" 2>&1
check "smolxdp-detach removes the program a killed process left" grep -q "removed 1 program" "$TMP/d1.out"
check "  ... and the host has its traffic back" no_xdp

# 5. Errors users hit, one clear line each.
err_of() { inb "$@" >/dev/null 2>"$TMP/e.err"; test $? -ne 0 && cat "$TMP/e.err"; }
e=$(err_of "$TOOL" reflect -i nosuch$$ -a $IPS)
check "error: no such interface" test "$e" = "smolxdp: error: no such interface: nosuch$$"
e=$(err_of "$TOOL" reflect -i "$IFB" -a $IPS -c zc)
check "error: zero-copy demanded on veth" \
	test "$e" = "smolxdp: error: zero-copy mode unsupported on $IFB queue 0"
check "  ... and nothing left attached" no_xdp
e=$(err_of setpriv --bounding-set -net_admin,-bpf,-sys_admin,-net_raw "$TOOL" reflect -i "$IFB" -a $IPS)
check "error: missing privileges, named, with the setcap line that grants them" \
	test "$e" = "smolxdp: error: permission denied: missing CAP_NET_ADMIN, CAP_BPF; run as root, or grant them: sudo setcap cap_net_admin,cap_bpf,cap_perfmon,cap_net_raw+ep $(realpath "$TOOL")"
e=$(err_of sh -c "ulimit -l 64; exec setpriv --bounding-set -ipc_lock $TOOL reflect -i $IFB -a $IPS")
check "error: UMEM beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK, named up front" \
	sh -c "echo '$e' | grep -q 'permission denied: missing CAP_IPC_LOCK (or RLIMIT_MEMLOCK of 16384 KiB: it is 64 KiB)'"
check "  ... and nothing left attached" no_xdp
inb ip link set dev "$IFB" xdpgeneric obj /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o sec xdp 2>/dev/null
if xdp_attached; then
	e=$(err_of "$TOOL" reflect -i "$IFB" -a $IPS)
	check "error: another program attached, named" \
		sh -c "echo '$e' | grep -q 'another XDP program is attached to $IFB: xdpfilt_alw_all (id [0-9]*, skb mode)'"
	inb ip link set dev "$IFB" xdpgeneric off
else
	echo "FAIL could not attach a foreign XDP program to test against"
	FAILS=$((FAILS + 1))
fi
finish
