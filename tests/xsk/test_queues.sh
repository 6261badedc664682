#!/bin/bash
# Two RX queues: one socket per queue (one thread each) sharing one program and XSKMAP; frames are
# steered by rx_queue_index to the socket of the queue they arrived on. A queue without a socket
# hands its frames to the kernel (counted no_socket), and a queue id beyond the interface's is a
# clear error.
. "$(dirname "$0")/xsk_lib.sh"
setup_pair 2
# The static entry is the peer's (our MAC in its kernel), for the order check below, not the device's:
# xsk_tool learns no neighbours. smolxdp-server's queues resolving theirs with none installed
# anywhere is tests/server/test_queues.sh.
static_neigh
N=3000
FLOWS=16

# Kernel sockets spread flows over the veth's two TX queues by hash, which become the peer's RX
# queues.
start_tool q2 count -i "$IFB" -a $IPS -q 0,1 -w 1500 || fatal "could not start xsk_tool"
P=$LASTPID
ina $PY "$HERE/peer.py" send $IPS $N $FLOWS >/dev/null
wait_pid $P
O=$TMP/q2.out
ok0=$(grep 'dev q=0' "$O" | grep -o '\bok=[0-9]*' | cut -d= -f2)
ok1=$(grep 'dev q=1' "$O" | grep -o '\bok=[0-9]*' | cut -d= -f2)
f0=$(grep 'dev q=0' "$O" | grep -o 'flows=[0-9,]*' | cut -d= -f2)
f1=$(grep 'dev q=1' "$O" | grep -o 'flows=[0-9,]*' | cut -d= -f2)
check "both queues received frames (q0 $ok0, q1 $ok1)" test "${ok0:-0}" -gt 0 -a "${ok1:-0}" -gt 0
check "all $N frames received in order across the queues" test $((ok0 + ok1)) -eq $N
check "no frame out of order or damaged" sh -c "! grep -E 'ooo=[1-9]|bad=[1-9]' $O"
# A flow hashes to one TX queue, so each flow must show up on exactly one socket.
both=$(comm -12 <(echo "$f0" | tr , '\n' | sort) <(echo "$f1" | tr , '\n' | sort) | wc -l)
check "each flow stayed on one queue" test "$both" -eq 0
check "no steered frame lacked a socket" test "$(val "$O" no_socket)" -eq 0
check "steered count matches the sockets' frames" test "$(val "$O" steered)" -eq $N
check "zero-copy fallback said once for the two sockets" \
	test "$(grep -c 'zero-copy unsupported on' "$TMP/q2.err")" -eq 1

# Only queue 0 has a socket: queue 1's frames go to the kernel, counted.
start_tool q1 count -i "$IFB" -a $IPS -q 0 -w 1500 || fatal "could not start xsk_tool"
P=$LASTPID
ina $PY "$HERE/peer.py" send $IPS $N $FLOWS >/dev/null
wait_pid $P
O=$TMP/q1.out
check "frames on the socketless queue handed to the kernel (no_socket > 0)" \
	test "$(val "$O" no_socket)" -gt 0
check "socket on queue 0 got the rest" test $(( $(val "$O" ok) + $(val "$O" no_socket) )) -eq $N

# Queue 2 does not exist on a 2-queue interface.
inb "$TOOL" count -i "$IFB" -a $IPS -q 2 >/dev/null 2>"$TMP/q3.err"
check "queue beyond the interface's queues refused" test $? -ne 0
check "  ... with a clear error" grep -q "queue 2 out of range: $IFB has 2 RX queues" "$TMP/q3.err"
check "no XDP program left attached" no_xdp
finish
