#!/usr/bin/env bash
# smolxdp-server's n-tuple steering end to end (issue 14 item 3) under a fake driver: veth has no
# n-tuple filters, so fake_nic_preload.so (LD_PRELOAD) answers the server's ethtool rule commands for
# veth0 from a table in a file, as a driver that needs a location does (tests/xsk/fake_nic.h). Serving
# queue 1 of 2: both rules to queue 1 beside someone else's rule, the state file written; after kill -9
# the next start removes what the killed run left; SIGTERM removes the rules and the state file; a
# driver that refuses the ARP rule gets the refusal, naming the step, and nothing is left. Whether the
# NIC then steers the traffic is for a real NIC to show: veth ignores the table.
. "$(dirname "$0")/lib.sh"
SHIM=$(realpath "$SMX_BUILD/tests/xsk/libsmx_fake_nic_preload.so")
[ -f "$SHIM" ] || fail "no $SHIM"
smx_setup 2
TABLE=$TMP/table
STATE=$TMP/run
STATE_FILE=$STATE/ntuple-veth0-$SRV_IP
FOREIGN="loc 15 ip4 10.9.9.9/255.255.255.255 queue 3"

# start_fake [VAR=value...]: the server on queue 1 of veth0 under the fake driver, in the background
# (ping cannot tell when it is ready: veth puts the peer's frames on either queue).
start_fake() {
	ip netns exec "$NS_SRV" env LD_PRELOAD="$SHIM" SMX_FAKE_NIC_IF=veth0 SMX_FAKE_NIC_TABLE="$TABLE" \
		SMOLXDP_STATE_DIR="$STATE" "$@" "$SMX_SERVER" veth0 --queue 1 >"$TMP/server.out" 2>&1 &
	SERVER_PID=$!
}

# table_is LINE...: the fake NIC's table holds exactly these rules.
table_is() {
	diff <(printf '%s\n' "$@") "$TABLE" >&2 || fail "the fake NIC's table is not as expected (above: want < > have)"
}

OURS=("loc 13 ether 0x0806/0xffff queue 1" "loc 14 ip4 $SRV_IP/255.255.255.255 queue 1" "$FOREIGN")

echo "$FOREIGN" >"$TABLE"
start_fake
smx_wait_ready
grep -q "$SRV_IP and ARP steered to queue 1 of veth0 by n-tuple rules (locations 14, 13)" "$TMP/server.out" ||
	fail "no steering line: $(cat "$TMP/server.out")"
grep -q "RX queues" "$TMP/server.out" && fail "a refusal or warning with the rules in place: $(cat "$TMP/server.out")"
table_is "${OURS[@]}"
[ "$(cat "$STATE_FILE")" = "ip 14 arp 13" ] || fail "state file: '$(cat "$STATE_FILE" 2>&1)'"
ok "queue 1 of 2: IPv4 to $SRV_IP and ARP steered to queue 1 at the highest free locations, state recorded"

kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
table_is "${OURS[@]}"
[ -f "$STATE_FILE" ] || fail "the state file went with the killed server"
start_fake
smx_wait_ready
grep -q "warning: n-tuple rules an earlier run left on veth0 (locations 14, 13): removed" "$TMP/server.out" ||
	fail "no warning about the earlier run's rules: $(cat "$TMP/server.out")"
table_is "${OURS[@]}"
ok "after kill -9: the next start removed the rules left behind first (the table holds only the new two)"

# Not smx_stop_server: with no traffic on queue 1 there is no rx_frames counter for it to find.
kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
[ $rc -eq 0 ] || fail "smolxdp-server exited with status $rc after SIGTERM"
! S ip link show veth0 | grep -q xdp || fail "an XDP program is still attached to veth0"
table_is "$FOREIGN"
[ ! -e "$STATE_FILE" ] || fail "the state file is left after SIGTERM"
ok "SIGTERM: both rules removed, someone else's kept, the state file gone"

rc=0
ip netns exec "$NS_SRV" env LD_PRELOAD="$SHIM" SMX_FAKE_NIC_IF=veth0 SMX_FAKE_NIC_TABLE="$TABLE" \
	SMOLXDP_STATE_DIR="$STATE" SMX_FAKE_NIC_REFUSE_ARP=1 "$SMX_SERVER" veth0 --queue 1 >"$TMP/refused.out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "serving queue 1 of 2 with the ARP rule refused was not refused"
grep -q "veth0: the driver refused the n-tuple rule for ARP (ETHTOOL_SRXCLSRLINS: Invalid argument)" \
	"$TMP/refused.out" || fail "refusal does not name the ARP rule: $(cat "$TMP/refused.out")"
grep -q "veth0 has 2 RX queues and we would serve 1" "$TMP/refused.out" || fail "refusal unclear: $(cat "$TMP/refused.out")"
table_is "$FOREIGN"
[ ! -e "$STATE_FILE" ] || fail "a state file after the refusal"
! S ip link show veth0 | grep -q xdp || fail "an XDP program was left after the refusal"
ok "the ARP rule refused: the IPv4 rule rolled back, refused naming the step, nothing attached"
