#!/bin/bash
# Overload and bad input: RX ring full and fill ring empty are counted by the kernel and the device
# and are not fatal; pool exhaustion degrades to drops and recovers; invalid TX submits are refused
# and counted by the device, invalid raw descriptors by the kernel.
. "$(dirname "$0")/xsk_lib.sh"
setup_pair
static_neigh

# stalled NAME TOOL_ARGS...: the tool reads nothing while 500 frames (flow 0) arrive, then drains
# its rings and must take 40 more (flow 1; fewer than any ring holds) in full: not fatal.
stalled() {
	local name=$1; shift
	start_tool "$name" count -i "$IFB" -a $IPS -S -w 1000 "$@" || return 1
	local p=$LASTPID i
	ina $PY "$HERE/peer.py" send $IPS 500 >/dev/null
	kill -USR1 $p
	for i in $(seq 1 100); do grep -q RESUMED "$TMP/$name.out" && break; sleep 0.05; done
	ina $PY "$HERE/peer.py" send $IPS 40 1 1 >/dev/null
	wait_pid $p
}

# 1. RX ring (64) smaller than the fill ring (256): the ring overflows.
stalled full -R 64 -f 256 -F 512
O=$TMP/full.out
check "RX ring full: counted by the kernel" test "$(val "$O" rx_ring_full)" -gt 0
check "RX ring full: the ring's 64 frames delivered in order, then 40 more in full" \
	grep -q 'flowok=0:64,1:40' "$O"

# 2. Fill ring (64) smaller than the RX ring (256): the kernel runs out of frames.
stalled empty -R 256 -f 64 -F 512
O=$TMP/empty.out
check "fill ring empty: counted by the kernel" test "$(val "$O" rx_fill_ring_empty_descs)" -gt 0
check "fill ring empty: counted by the device" test "$(val "$O" fill_ring_empty)" -gt 0
check "fill ring empty: 64 delivered in order, then 40 more in full" grep -q 'flowok=0:64,1:40' "$O"

# 3. The application holds every RX frame and reserves every TX frame: RX drops, tx_reserve says
#    no, nothing wedges; once it gives them back the device reflects normally.
start_tool hold hold -i "$IFB" -a $IPS -H 64 -f 64 -F 128 -R 64 -T 64 || fatal "could not start xsk_tool"
P=$LASTPID
ina $PY "$HERE/peer.py" send $IPS 200 >/dev/null
for i in $(seq 1 100); do grep -q HOLDING "$TMP/hold.out" && break; sleep 0.05; done
ina $PY "$HERE/peer.py" send $IPS 20 >/dev/null # arrives while everything is held
kill -USR1 $P
for i in $(seq 1 100); do grep -q HOLD-DONE "$TMP/hold.out" && break; sleep 0.05; done
O=$TMP/hold.out
check "pool exhausted: 64 RX frames held, 64 TX frames reserved" grep -q 'held=64 tx_held=64' "$O"
check "pool exhausted: tx_reserve refused and counted" test "$(val "$O" tx_pool_empty)" -gt 0
check "pool exhausted: the kernel dropped, counted" test "$(val "$O" rx_fill_ring_empty_descs)" -gt 0
check "pool exhausted: the device saw the fill ring empty" test "$(val "$O" fill_ring_empty)" -gt 0
check "pool exhausted: no frame appeared while none could" test "$(val "$O" bad)" -eq 0
ina $PY "$HERE/peer.py" echo $IPS 300 16 >"$TMP/hold-echo.out"
check "pool exhausted: recovers, 300 echoes in order afterwards" grep -q 'ok=300 ooo=0 bad=0' "$TMP/hold-echo.out"
kill -TERM $P
wait_pid $P
check "pool exhausted: exits cleanly" test $? -eq 0
check "pool exhausted: every frame recycled" \
	test "$(val "$O" frames_rx_held)$(val "$O" frames_tx_held)$(val "$O" frames_tx_kernel)" = 000

# 4. Invalid TX: 5 bad submits/aborts and 1 bad release through the API, 2 raw bad descriptors on
#    the TX ring, then one good frame, which must still arrive.
ina $PY "$HERE/peer.py" recv $IPA 1 2 >"$TMP/inv-peer.out" &
PR=$!
for i in $(seq 1 100); do grep -q ready "$TMP/inv-peer.out" && break; sleep 0.05; done
inb "$TOOL" invalid -i "$IFB" -a $IPS -d $IPA -m "$MACA" >"$TMP/inv.out" 2>"$TMP/inv.err"
check "invalid TX: refused and counted (device and kernel)" test $? -eq 0
grep INVALID "$TMP/inv.out"
check "invalid TX: kernel refused both raw descriptors" grep -q 'tx_invalid_descs=2 ' "$TMP/inv.out"
check "invalid TX: every frame back (free or on the fill ring)" \
	test $(( $(val "$TMP/inv.out" frames_free) + $(val "$TMP/inv.out" frames_rx_kernel) )) -eq 4096
wait $PR
check "invalid TX: the good frame after them arrived intact" grep -q 'got=1 ok=1' "$TMP/inv-peer.out"
check "no XDP program left attached" no_xdp
finish
