#!/usr/bin/env bash
# ARP against Linux tools: the gratuitous ARP at start is seen by tcpdump, arping gets replies from
# the server's MAC, and the kernel's own address on the same link keeps working while the server runs.
. "$(dirname "$0")/lib.sh"
smx_setup
S ip addr add "$KERN_IP/24" dev veth0

# tcpdump on the client end from before the server starts, to catch the announcement.
ip netns exec "$NS_CLI" tcpdump -i veth1 -n -l -e arp >"$TMP/tcpdump.out" 2>"$TMP/tcpdump.err" &
EXTRA_PIDS+=($!)
for _ in $(seq 50); do grep -q "listening on" "$TMP/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$TMP/tcpdump.err" || fail "tcpdump did not start"
smx_start_server

C arping -c 3 -w 5 -I veth1 "$SRV_IP" >"$TMP/arping.out" 2>&1 || { cat "$TMP/arping.out"; fail "arping got no reply"; }
grep -qi "$SRV_MAC" "$TMP/arping.out" || { cat "$TMP/arping.out"; fail "arping reply not from $SRV_MAC"; }
ok "arping: replies from $SRV_MAC"

# The kernel's address on veth0 is not ours: ping and a kernel UDP service keep working.
C ping -c 5 -i 0.1 -W 1 "$KERN_IP" >"$TMP/kping.out" || { cat "$TMP/kping.out"; fail "kernel address $KERN_IP unreachable"; }
ip netns exec "$NS_SRV" socat -T 5 "udp4-recvfrom:7000,bind=$KERN_IP,fork" exec:cat >/dev/null 2>&1 &
EXTRA_PIDS+=($!)
sleep 0.3
out=$(C timeout 5 socat -t 1 stdio "udp4-connect:$KERN_IP:7000" <<<"kernel")
[ "$out" = "kernel" ] || fail "kernel UDP service on $KERN_IP answered '$out'"
ok "the kernel's $KERN_IP answers ping and UDP while the server runs"
# And the server still does.
C ping -c 3 -i 0.1 -W 1 "$SRV_IP" >/dev/null || fail "server stopped answering"

sleep 0.2
kill "${EXTRA_PIDS[0]}"; wait "${EXTRA_PIDS[0]}" 2>/dev/null || true
# Gratuitous ARP: a broadcast request from our MAC with 192.168.69.1 as both sender and target
# (tcpdump prints it as an "Announcement").
garp="$SRV_MAC > ff:ff:ff:ff:ff:ff, .*ARP.*(Announcement, $SRV_IP,|who-has $SRV_IP tell $SRV_IP,)"
line=$(grep -m1 -E "$garp" "$TMP/tcpdump.out") || { cat "$TMP/tcpdump.out" >&2; fail "no gratuitous ARP from the server seen by tcpdump"; }
ok "gratuitous ARP seen by tcpdump: ${line#* }"

smx_stop_server
# After the server: the kernel address still works (nothing left steering traffic away).
C ping -c 2 -i 0.1 -W 1 "$KERN_IP" >/dev/null || fail "kernel address broken after the server exited"
ok "kernel address fine after exit"
