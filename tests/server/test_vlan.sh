#!/usr/bin/env bash
# smolxdp-server --vlan 5:3 (IEEE 802.1Q). This kernel has no 8021q module, so the peer has no VLAN
# interface: first scapy sends tagged and untagged frames and reads the tags of the answers (ARP, ping
# and UDP on VLAN 5 answered on VLAN 5 with priority 3; untagged frames for our address reach the
# server namespace's kernel, which owns the address too, and VLAN 6 ones nobody); then a Linux peer
# whose veth a tc program tags and untags (vlan_tc.bpf.c) pings (1500-byte packets in 1518-byte
# frames), talks UDP (socat) and TCP (nc) over VLAN 5 - once with the tag in the frame (the peer's
# tx-vlan-offload off), once with the tag outside it (offload on: veth hands it to XDP as RX metadata,
# which the steering program, bound to the device, reads and puts back in the frame); last the stack
# as a TCP client on the VLAN (smolxdp-tcpclient --vlan) to a Linux server.
. "$(dirname "$0")/lib.sh"
VID=5
PCP=3
PEER=(/usr/bin/python3 "$(dirname "$(realpath "$0")")/vlan_peer.py" veth1)
TC_OBJ=$(realpath "$SMX_BUILD/tests/server/vlan_tc.bpf.o")
[ -f "$TC_OBJ" ] || fail "no $TC_OBJ (built with the tests)"

smx_setup
KERN_MAC=$(S cat /sys/class/net/veth0/address)
# The server namespace's kernel owns our address as well (hence --force): what the steering program
# leaves to the kernel is seen answered by it, from its own MAC.
S ip addr add "$SRV_IP/24" dev veth0

# Starts the server on VLAN 5 and waits for its ready line (ping untagged cannot tell).
start_vlan_server() {
	ip netns exec "$NS_SRV" "$SMX_SERVER" veth0 --vlan "$VID:$PCP" --force "$@" >"$TMP/server.out" 2>&1 &
	SERVER_PID=$!
	smx_wait_ready
}

# expect_probe WHAT EXPECTED ARGS...: runs one vlan_peer.py probe and compares its line.
expect_probe() {
	local what=$1 want=$2 got
	shift 2
	got=$(C "${PEER[@]}" "$@") || fail "$what: vlan_peer.py failed"
	[ "$got" = "$want" ] || fail "$what: got '$got', expected '$want'"
	ok "$what: $got"
}

# steering COUNTER: a counter of the steering program's line the server printed at exit.
steering() {
	sed -n "s/^steering:.* $1 \([0-9]*\).*/\1/p" "$TMP/server.out"
}

# The Linux peer's VLAN 5, both ways, with its tx-vlan-offload on or off.
peer_vlan_on() {
	C ethtool -K veth1 txvlan "$1" >/dev/null
	C tc qdisc add dev veth1 clsact
	C tc filter add dev veth1 egress bpf direct-action obj "$TC_OBJ" sec tc/egress
	C tc filter add dev veth1 ingress bpf direct-action obj "$TC_OBJ" sec tc/ingress
	C ip neigh flush dev veth1
}

peer_vlan_off() {
	C tc qdisc del dev veth1 clsact
	C ip neigh flush dev veth1
}

# ping, UDP and TCP from the Linux peer over VLAN 5.
kernel_peer_checks() {
	local how=$1 out
	C ping -c 3 -i 0.2 -W 2 -s 1472 -M do -p a5c3 "$SRV_IP" >"$TMP/ping.out" ||
		{ cat "$TMP/ping.out"; fail "$how: ping -s 1472 over VLAN $VID"; }
	grep -q "1480 bytes from $SRV_IP" "$TMP/ping.out" || { cat "$TMP/ping.out"; fail "$how: reply size"; }
	grep -qi "wrong data" "$TMP/ping.out" && fail "$how: ping saw altered data"
	ok "$how: ping -s 1472 -M do over VLAN $VID (1518-byte frames, MTU 1500)"
	out=$(C timeout 5 socat -t 1 stdio "udp4-connect:$SRV_IP:6969" <<<"udp over vlan")
	[ "$out" = "udp over vlan" ] || fail "$how: socat UDP echo returned '$out'"
	ok "$how: socat UDP echo"
	out=$(C timeout 10 nc -N "$SRV_IP" 6969 </dev/null)
	[ "$out" = "hello" ] || fail "$how: TCP greeting returned '$out'"
	head -c 300000 /dev/urandom >"$TMP/bulk.in"
	C timeout 20 nc -N "$SRV_IP" 6970 <"$TMP/bulk.in" >"$TMP/bulk.out" || fail "$how: TCP echo"
	cmp -s "$TMP/bulk.in" "$TMP/bulk.out" || fail "$how: TCP echo of 300000 bytes came back altered"
	ok "$how: TCP greeting and a 300000-byte echo (nc)"
}

# 1. scapy, tags on the wire, then the Linux peer with the tag in the frame.
start_vlan_server -v
expect_probe "ARP on VLAN $VID" "reply vlan=$VID pcp=$PCP src=$SRV_MAC" arp "$VID" "$SRV_IP"
expect_probe "ping on VLAN $VID" "reply vlan=$VID pcp=$PCP src=$SRV_MAC" ping "$VID" "$SRV_MAC" "$SRV_IP"
expect_probe "UDP on VLAN $VID" "reply vlan=$VID pcp=$PCP src=$SRV_MAC" udp "$VID" "$SRV_MAC" "$SRV_IP" 6969
expect_probe "untagged ARP: the kernel answers" "reply vlan=0 pcp=0 src=$KERN_MAC" arp 0 "$SRV_IP"
expect_probe "untagged ping: the kernel answers" "reply vlan=0 pcp=0 src=$KERN_MAC" ping 0 "$KERN_MAC" "$SRV_IP"
expect_probe "ARP on VLAN 6: nobody answers" "none" arp 6 "$SRV_IP"
expect_probe "ping on VLAN 6: nobody answers" "none" ping 6 "$SRV_MAC" "$SRV_IP"
expect_probe "UDP on VLAN 6: nobody answers" "none" udp 6 "$SRV_MAC" "$SRV_IP" 6969
peer_vlan_on off
kernel_peer_checks "tag in the frame"
peer_vlan_off
smx_stop_server
grep -Eq "icmp_echo_replies_sent +4$" "$TMP/server.out" || fail "echo replies: 1 scapy + 3 ping expected"
grep -q "drop_eth_other_vlan" "$TMP/server.out" && fail "the steering program handed the stack another VLAN's frame"
other=$(steering other_vlan)
[ -n "$other" ] && [ "$other" -ge 5 ] || fail "steering other_vlan is '$other', expected >= 5"
[ "$(steering vlan_restored)" = 0 ] || fail "a tag was restored although none was stripped"
ok "the untagged and VLAN 6 frames went to the kernel (steering other_vlan $other), not to the stack"

# 2. The tag outside the frame: the steering program must be bound to veth0 to read it.
start_vlan_server -v
grep -q "bound to the device" "$TMP/server.out" || fail "the steering program is not bound to veth0"
peer_vlan_on on
kernel_peer_checks "tag as RX metadata"
peer_vlan_off
smx_stop_server
restored=$(steering vlan_restored)
[ -n "$restored" ] && [ "$restored" -gt 0 ] || fail "no stripped tag was put back (vlan_restored '$restored')"
ok "tags stripped by veth read from the RX metadata and restored: $restored frames"

# 3. The stack as a TCP client on VLAN 5 (smolxdp-tcpclient --vlan) to a Linux server behind the tc tagging.
CLIENT=$(realpath "$SMX_BUILD/apps/tcpclient/smolxdp-tcpclient")
HELPER=$(realpath "$(dirname "$0")/../tcp/tcp_client.py")
peer_vlan_on off
ip netns exec "$NS_CLI" /usr/bin/python3 "$HELPER" server 5001 200000 >"$TMP/linux.out" 2>&1 &
spid=$!
EXTRA_PIDS+=("$spid")
for _ in $(seq 50); do grep -q listening "$TMP/linux.out" 2>/dev/null && break; sleep 0.1; done
S timeout 60 "$CLIENT" veth0 --ip "$SRV_IP/24" --force --vlan "$VID:$PCP" --connect "$CLI_IP:5001" \
	--send 200000 --expect 200000 >"$TMP/client.out" 2>&1 || { cat "$TMP/client.out"; fail "smolxdp-tcpclient --vlan"; }
wait "$spid" || { cat "$TMP/linux.out" >&2; fail "the Linux server behind VLAN $VID"; }
peer_vlan_off
ok "smolxdp-tcpclient --vlan $VID:$PCP: 200000 bytes each way with a Linux server, byte-exact"
