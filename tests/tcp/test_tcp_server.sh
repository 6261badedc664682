#!/usr/bin/env bash
# smolxdp-server's TCP services against Linux on veth: greeting via nc, 100 MB through echo, discard
# and source (sha256), a closed port refused, 200 concurrent connections, then the same transfers
# with 5% random loss injected by nftables in both directions, and echo and source again with Linux's
# window scaling, timestamps or SACK turned off in turn.
. "$(dirname "$0")/../server/lib.sh"
PY=/usr/bin/python3
CLIENT=$(realpath "$(dirname "$0")/tcp_client.py")
SIZE=${SMX_TCP_SIZE:-104857600}
LOSS_SIZE=${SMX_TCP_LOSS_SIZE:-104857600}
# Each step's wall time, for the log (never checked: the tests check behaviour).
step() {
	local t0=$SECONDS
	"$@"
	echo "   ($((SECONDS - t0)) s)"
}
smx_setup
# A 20 ms floor for the retransmission timeout (Linux's is 200 ms): this link's RTT is tens of
# microseconds, and without SACK (a later issue) a lost retransmission waits for the RTO; the
# default would make the 5% loss runs take minutes.
smx_start_server --tcp-rto-min 20
# The same floor for Linux's side of the link (its default is 200 ms), per route.
C ip route replace 192.168.69.0/24 dev veth1 src "$CLI_IP" rto_min 20ms

out=$(C timeout 10 nc -N "$SRV_IP" 6969 </dev/null)
[ "$out" = "hello" ] || fail "greeting: got '$out'"
ok "nc greeting: $out"

step C timeout 60 "$PY" "$CLIENT" refused "$SRV_IP" 7777 || fail "closed port"
ok "closed TCP port: connection refused"

step C timeout 120 "$PY" "$CLIENT" echo "$SRV_IP" "$SIZE" || fail "echo"
ok "echo $SIZE bytes byte-exact"
step C timeout 120 "$PY" "$CLIENT" sink "$SRV_IP" "$SIZE" || fail "discard"
ok "discard $SIZE bytes"
step C timeout 120 "$PY" "$CLIENT" source "$SRV_IP" "$SIZE" || fail "source"
ok "source $SIZE bytes byte-exact"
step C timeout 120 "$PY" "$CLIENT" concurrent "$SRV_IP" 200 20000 || fail "concurrent"
ok "200 concurrent connections"

# 5% loss each way, in the client namespace's kernel (nftables, no netem).
C nft -f - <<'NFT'
table inet smxloss {
	chain in { type filter hook input priority 0; policy accept; tcp sport 6969-6972 numgen random mod 100 < 5 counter drop; }
	chain out { type filter hook output priority 0; policy accept; tcp dport 6969-6972 numgen random mod 100 < 5 counter drop; }
}
NFT
step C timeout 600 "$PY" "$CLIENT" echo "$SRV_IP" "$LOSS_SIZE" || fail "echo with 5% loss"
ok "echo $LOSS_SIZE bytes byte-exact with 5% loss each way"
step C timeout 600 "$PY" "$CLIENT" sink "$SRV_IP" "$LOSS_SIZE" || fail "discard with 5% loss"
ok "discard $LOSS_SIZE bytes with 5% loss each way"
step C timeout 600 "$PY" "$CLIENT" source "$SRV_IP" "$LOSS_SIZE" || fail "source with 5% loss"
ok "source $LOSS_SIZE bytes byte-exact with 5% loss each way"
# The same with each of Linux's options turned off in turn (its namespace only): the stack must fall
# back to no window scaling, no timestamps or no SACK, and still be byte-exact under loss.
OPT_SIZE=${SMX_TCP_OPT_SIZE:-20971520}
for opt in tcp_window_scaling tcp_timestamps tcp_sack; do
	C sysctl -qw "net.ipv4.$opt=0"
	step C timeout 600 "$PY" "$CLIENT" echo "$SRV_IP" "$OPT_SIZE" || fail "echo with $opt off and 5% loss"
	step C timeout 600 "$PY" "$CLIENT" source "$SRV_IP" "$OPT_SIZE" || fail "source with $opt off and 5% loss"
	C sysctl -qw "net.ipv4.$opt=1"
	ok "$opt off on Linux's side: echo and source $OPT_SIZE bytes byte-exact with 5% loss each way"
done
dropped=$(C nft list table inet smxloss | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}')
[ "$dropped" -gt 0 ] || fail "nftables dropped nothing"
ok "nftables dropped $dropped packets"
C nft delete table inet smxloss

smx_stop_server
grep -E "tcp:" "$TMP/server.out"
grep -Eq "discarded $((SIZE + LOSS_SIZE))," "$TMP/server.out" || fail "discard count is not $((SIZE + LOSS_SIZE))"
grep -Eq "retransmits [1-9]" "$TMP/server.out" || fail "no retransmissions under loss?"
