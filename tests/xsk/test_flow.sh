#!/bin/bash
# Traffic: thousands of frames each way with content and order checked (kernel UDP socket on the
# other end), a single frame each way, both directions at once, the reflector in place and through
# reserved TX frames (the stack's path), with and without need_wakeup; every frame recycled.
. "$(dirname "$0")/xsk_lib.sh"
setup_pair
static_neigh
N=4000

recycled() { # recycled OUTFILE: no frame held or in flight, completions == transmissions
	test "$(val "$1" frames_rx_held)$(val "$1" frames_tx_held)$(val "$1" frames_tx_kernel)" = 000 &&
	test "$(val "$1" tx_completions)" -eq "$(val "$1" tx_frames)" &&
	test "$(val "$1" tx_invalid)$(val "$1" rx_invalid)" = 00
}

# peer_recv NAME COUNT: kernel receiver in A, ready on return.
peer_recv() {
	ina $PY "$HERE/peer.py" recv $IPA "$2" 3 >"$TMP/$1.out" &
	LASTPY=$!
	for i in $(seq 1 100); do grep -q ready "$TMP/$1.out" && break; sleep 0.05; done
}

# 1. Kernel -> device: N frames, content and order checked by the device.
start_tool c1 count -i "$IFB" -a $IPS -e $N -w 3000 || fatal "could not start xsk_tool"
P=$LASTPID
ina $PY "$HERE/peer.py" send $IPS $N >/dev/null
wait_pid $P
check "kernel -> device: $N frames in order, content intact" grep -q "ok=$N ooo=0 bad=0" "$TMP/c1.out"
check "kernel -> device: frames recycled" recycled "$TMP/c1.out"

# 2. Device -> kernel: N frames built in reserved TX frames.
peer_recv p2 $N
start_tool s2 send -i "$IFB" -a $IPS -d $IPA -m "$MACA" -n $N -w 1000 || fatal "could not start xsk_tool"
P=$LASTPID
wait $LASTPY
wait_pid $P
check "device -> kernel: $N frames in order, content intact" grep -q "got=$N ok=$N ooo=0 bad=0" "$TMP/p2.out"
check "device -> kernel: frames recycled" recycled "$TMP/s2.out"
check "device -> kernel: $N transmitted" test "$(val "$TMP/s2.out" tx_frames)" -eq $N

# 3. A single frame each way.
start_tool c3 count -i "$IFB" -a $IPS -e 1 -w 3000 || fatal "could not start xsk_tool"
P=$LASTPID
ina $PY "$HERE/peer.py" send $IPS 1 >/dev/null
wait_pid $P
check "single frame kernel -> device" grep -q "rx=1 ok=1 ooo=0 bad=0" "$TMP/c3.out"
peer_recv p3 1
start_tool s3 send -i "$IFB" -a $IPS -d $IPA -m "$MACA" -n 1 || fatal "could not start xsk_tool"
P=$LASTPID
wait $LASTPY
wait_pid $P
check "single frame device -> kernel" grep -q "got=1 ok=1" "$TMP/p3.out"
check "single frame: recycled" recycled "$TMP/s3.out"

# 4. Both directions at once.
peer_recv p4 $N
start_tool d4 send -i "$IFB" -a $IPS -d $IPA -m "$MACA" -n $N -e $N -w 3000 || fatal "could not start xsk_tool"
P=$LASTPID
ina $PY "$HERE/peer.py" send $IPS $N >/dev/null
wait $LASTPY
wait_pid $P
check "both ways: device received $N in order" grep -q "ok=$N ooo=0 bad=0" "$TMP/d4.out"
check "both ways: kernel received $N in order" grep -q "got=$N ok=$N ooo=0 bad=0" "$TMP/p4.out"
check "both ways: recycled" recycled "$TMP/d4.out"

# 5. The reflector: in place, by copy into reserved frames, without need_wakeup, busy polling.
for variant in "" "-C" "-N" "-b -s"; do
	start_tool r5 reflect -i "$IFB" -a $IPS $variant || fatal "could not start xsk_tool"
	P=$LASTPID
	ina $PY "$HERE/peer.py" echo $IPS $N 64 >"$TMP/e5.out"
	kill -TERM $P
	wait_pid $P
	check "reflector ${variant:-in place}: $N echoes in order, content intact" \
		grep -q "ok=$N ooo=0 bad=0" "$TMP/e5.out"
	check "reflector ${variant:-in place}: recycled" recycled "$TMP/r5.out"
done
finish
