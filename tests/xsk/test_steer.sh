#!/bin/bash
# Steering: frames for the device's address reach its socket (ARP answered by the device, UDP
# reflected), while the same interface's kernel address keeps working (ping, UDP, ARP answered by
# the kernel), ARP for other addresses is not taken, and malformed frames go to the kernel, counted.
. "$(dirname "$0")/xsk_lib.sh"
setup_pair

start_tool r reflect -i "$IFB" -a $IPS || { cat "$TMP"/r.*; exit 1; }
R=$LASTPID

check "device answers ARP for its address" \
	test "$(ina $PY "$HERE/peer.py" arp "$IFA" $IPS)" = "arp $IPS $MACB"
check "kernel still answers ARP for its own address" \
	test "$(ina $PY "$HERE/peer.py" arp "$IFA" $IPB)" = "arp $IPB $MACB"
check "ARP for an unowned address is not answered" \
	test "$(ina $PY "$HERE/peer.py" arp "$IFA" 10.99.0.9)" = "arp 10.99.0.9 none"
check "kernel address still answers ping" ina ping -c 2 -i 0.2 -W 2 -q $IPB >/dev/null
# UDP to the kernel's address reaches a kernel socket on the same interface.
inb $PY "$HERE/peer.py" recv $IPB 20 3 >"$TMP/krecv.out" &
KR=$!
for i in $(seq 1 100); do grep -q ready "$TMP/krecv.out" && break; sleep 0.05; done
ina $PY "$HERE/peer.py" send $IPB 20 >/dev/null
wait $KR
check "UDP to the kernel address reaches the kernel (20/20)" grep -q "got=20 ok=20" "$TMP/krecv.out"
# No static neighbour here: the peer's kernel resolves the device's address by ARP. The single-frame
# echo goes first on purpose: while ARP resolves, Linux queues the datagrams and one sent as the
# reply lands may overtake the queued ones, so the 200-frame order check runs on a resolved entry.
# The peer's reports stay in $TMP for the failure dump.
ina $PY "$HERE/peer.py" echo $IPS 1 >"$TMP/echo1.out" 2>&1
check "a single frame is echoed by the device" grep -q 'ok=1 ooo=0 bad=0' "$TMP/echo1.out"
ina $PY "$HERE/peer.py" echo $IPS 200 >"$TMP/echo200.out" 2>&1
check "200 frames echoed in order with content intact" grep -q 'ok=200 ooo=0 bad=0' "$TMP/echo200.out"
ina $PY "$HERE/peer.py" malformed "$IFA" "$MACB" $IPS >/dev/null

kill -TERM $R
wait_pid $R
check "reflector exits cleanly on SIGTERM" test $? -eq 0
check "no XDP program left attached" no_xdp
O=$TMP/r.out
check "the 5 malformed frames counted by the program" test "$(val "$O" malformed)" -eq 5
check "nothing but ARP and IPv4 reached the socket" test "$(val "$O" other)" -eq 0
check "every steered frame reached the socket" test "$(val "$O" steered)" -eq "$(val "$O" rx_frames)"
check "no steered frame lacked a socket" test "$(val "$O" no_socket)" -eq 0
check "other traffic passed to the kernel" test "$(val "$O" passed)" -gt 0
check "every frame recycled (none held or in flight)" \
	test "$(val "$O" frames_rx_held)$(val "$O" frames_tx_held)$(val "$O" frames_tx_kernel)" = 000
check "completions match transmissions" test "$(val "$O" tx_completions)" -eq "$(val "$O" tx_frames)"
finish
