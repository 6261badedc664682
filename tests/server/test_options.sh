#!/usr/bin/env bash
# smolxdp-server's --pcap and --drop-chance: a lossy run still answers most pings, loses some, and
# the capture it writes is a pcap tcpdump reads, holding the echo requests and replies.
. "$(dirname "$0")/lib.sh"
smx_setup
smx_start_server --pcap "$TMP/cap.pcap" --drop-chance 30 --seed 7 --stats 1

C ping -c 100 -i 0.01 -W 0.5 "$SRV_IP" >"$TMP/ping.out" 2>&1 || true
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping.out")
[ -n "$rx" ] || { cat "$TMP/ping.out"; fail "no ping summary"; }
# 30% loss each way leaves about half; anything strictly between none and all shows the injector works.
[ "$rx" -gt 10 ] && [ "$rx" -lt 100 ] || fail "with 30% drop, $rx of 100 pings came back"
ok "--drop-chance 30: $rx of 100 pings answered"

smx_stop_server
grep -Eq "fault injector: dropped [1-9]" "$TMP/server.out" || fail "fault injector counters missing"
tcpdump -n -r "$TMP/cap.pcap" >"$TMP/cap.txt" 2>"$TMP/cap.err" || { cat "$TMP/cap.err"; fail "tcpdump cannot read the capture"; }
grep -q "$CLI_IP > $SRV_IP: ICMP echo request" "$TMP/cap.txt" || fail "no echo request in the capture"
grep -q "$SRV_IP > $CLI_IP: ICMP echo reply" "$TMP/cap.txt" || fail "no echo reply in the capture"
ok "--pcap: tcpdump reads $(wc -l <"$TMP/cap.txt") frames"
