#!/usr/bin/env bash
# smolxdp-server answers ping: 1,000 echo requests with no loss, and the largest unfragmented
# one (1472 bytes of data in a 1500-byte packet) with its data intact; then exits cleanly.
. "$(dirname "$0")/lib.sh"
smx_setup
smx_start_server

# Flood ping: the next request goes out as soon as the reply arrives, so 1,000 take well under a second.
C ping -f -c 1000 -W 1 "$SRV_IP" >"$TMP/ping.out" || true
grep -q "1000 packets transmitted, 1000 received" "$TMP/ping.out" || { cat "$TMP/ping.out"; fail "1000 pings lost some"; }
ok "1000 pings, no loss"

# -M do: no fragmentation anywhere; -p: a pattern ping checks in every reply.
C ping -c 3 -i 0.2 -s 1472 -M do -p a5c3 "$SRV_IP" >"$TMP/big.out" || { cat "$TMP/big.out"; fail "ping -s 1472"; }
grep -q "3 received" "$TMP/big.out" || fail "ping -s 1472 lost replies"
grep -q "1480 bytes from $SRV_IP" "$TMP/big.out" || { cat "$TMP/big.out"; fail "ping -s 1472 reply size"; }
grep -qi "wrong data" "$TMP/big.out" && fail "ping -s 1472 saw altered data"
ok "ping -s 1472: replies of full size, data intact"

# 1473 bytes of data would need fragmentation: the client refuses to send it with -M do.
if C ping -c 1 -W 1 -s 1473 -M do "$SRV_IP" >/dev/null 2>&1; then
	fail "a 1501-byte ping got through a 1500-byte MTU"
fi
ok "ping -s 1473 -M do does not pass (MTU 1500)"

smx_stop_server
grep -Eq "icmp_echo_replies_sent +10[0-9][0-9]" "$TMP/server.out" || fail "echo reply counter"
