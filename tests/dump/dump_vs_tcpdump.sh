#!/usr/bin/env bash
# smolxdp-dump -i against tcpdump, live: on a veth pair between two network namespaces made here, Linux
# sends a gratuitous ARP, ARP request/reply, pings, UDP (socat), UDP to a closed port (ICMP port
# unreachable), an HTTP exchange (curl: handshake with MSS/SACK-permitted/timestamps/wscale, data, FIN)
# and a connection to a closed port (RST), while smolxdp-dump and tcpdump capture on the same interface.
# Then: both saw the same frames, smolxdp-dump -v's lines agree with tcpdump -vv's decoding field by
# field, and its default lines for tcpdump's capture are tcpdump -nn's.
set -euo pipefail
build=${1:?build dir}
dump=$build/apps/dump/smolxdp-dump
src=$(cd "$(dirname "$0")/../.." && pwd)
A=smxdumpa$$ B=smxdumpb$$
tmp=$(mktemp -d /tmp/smx-dump-live.$$.XXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add veth0 type veth peer name veth1 netns "$B"
for ns in "$A" "$B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip netns exec "$A" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
ip netns exec "$B" sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1
ip -n "$A" addr add 10.77.0.1/24 dev veth0
ip -n "$B" addr add 10.77.0.2/24 dev veth1
# checksums computed by the kernel, not left to an offload veth never performs
ip netns exec "$A" ethtool -K veth0 tx off >/dev/null
ip netns exec "$B" ethtool -K veth1 tx off >/dev/null
ip -n "$A" link set veth0 up
ip -n "$B" link set veth1 up

# listeners in B
echo hi >"$tmp/index.html"
ip netns exec "$B" socat -u UDP-RECV:9999 - >/dev/null &
pids+=($!)
ip netns exec "$B" /usr/bin/python3 -m http.server 8080 --bind 10.77.0.2 -d "$tmp" >/dev/null 2>&1 &
pids+=($!)

# both captures in A, started before any traffic and confirmed listening
ip netns exec "$A" "$dump" -v -i veth0 >"$tmp/dump.txt" 2>"$tmp/dump.err" &
dump_pid=$!
pids+=($dump_pid)
ip netns exec "$A" tcpdump -i veth0 -U -w "$tmp/tcpdump.pcap" 2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 100); do
	grep -q "listening on" "$tmp/dump.err" && grep -q "listening on" "$tmp/tcpdump.err" &&
		ip netns exec "$B" ss -ltn | grep -q ":8080 " && break
	sleep 0.1
done
grep -q "listening on" "$tmp/dump.err" || fail "smolxdp-dump did not start: $(cat "$tmp/dump.err")"
grep -q "listening on" "$tmp/tcpdump.err" || fail "tcpdump did not start: $(cat "$tmp/tcpdump.err")"

# the traffic
ip netns exec "$A" arping -q -U -c 1 -I veth0 10.77.0.1 || true
ip netns exec "$A" ping -q -c 3 -i 0.2 10.77.0.2 >/dev/null
echo hello | ip netns exec "$A" socat -u - UDP:10.77.0.2:9999,sourceport=40000
echo hello | ip netns exec "$A" socat -u - UDP:10.77.0.2:9998,sourceport=40001
ip netns exec "$A" curl -s -o /dev/null --max-time 10 http://10.77.0.2:8080/ || fail "curl failed"
rc=0
ip netns exec "$A" nc -w 2 10.77.0.2 8081 </dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "connection to a closed port succeeded"
sleep 0.5 # let the last frames reach both captures

# stop: Ctrl-C prints the count; tcpdump flushes its file
kill -INT "$dump_pid"
rc=0
wait "$dump_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "smolxdp-dump exited $rc after SIGINT: $(cat "$tmp/dump.err")"
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
pids=("${pids[@]:0:2}")

lines=$(grep -c . "$tmp/dump.txt")
grep -qx "$lines frames" "$tmp/dump.err" || fail "count on Ctrl-C: '$(tail -1 "$tmp/dump.err")' for $lines lines"
frames=$(tcpdump -r "$tmp/tcpdump.pcap" 2>/dev/null | wc -l)
[ "$lines" -eq "$frames" ] || fail "smolxdp-dump printed $lines frames, tcpdump captured $frames"

# everything the test made is there, decoded
for want in "gratuitous" "ARP request who-has 10.77.0.2 tell 10.77.0.1" "ARP reply 10.77.0.2 is-at" \
	"ICMP echo request, id [0-9]*, seq 3" "ICMP echo reply, id [0-9]*, seq 3" "UDP 40000 > 9999, length 6" \
	"ICMP port unreachable (3/3), quote 10.77.0.1 > 10.77.0.2 proto UDP 40001 > 9998" \
	"> 8080 Flags \[S\], seq [0-9]*, win [0-9]*, options \[mss 1460,sackOK,TS val [0-9]* ecr 0,wscale [0-9]*\]" \
	"8080 > [0-9]* Flags \[S\.\]" "> 8080 Flags \[P\.\].*length [1-9]" "8080 > [0-9]* Flags \[P\.\].*length [1-9]" \
	"Flags \[F\.\]" "> 8081 Flags \[S\]" "8081 > [0-9]* Flags \[R\.\], seq 0, ack"; do
	grep -q "$want" "$tmp/dump.txt" || fail "smolxdp-dump output lacks '$want'"
done
! grep -Eq "truncated|bad checksum|malformed|not decoded" "$tmp/dump.txt" || fail "clean traffic decoded as damaged"

# field by field against tcpdump's decoding of its own capture of the same frames
/usr/bin/python3 "$src/tests/dump/compare_decodings.py" "$tmp/tcpdump.pcap" "$tmp/dump.txt"
# and the default lines, tcpdump's own, for the frames tcpdump captured
"$dump" -r "$tmp/tcpdump.pcap" >"$tmp/default.txt" 2>/dev/null
/usr/bin/python3 "$src/tests/dump/compare_lines.py" "$tmp/tcpdump.pcap" "$tmp/default.txt"
"$dump" -e -r "$tmp/tcpdump.pcap" >"$tmp/default.txt" 2>/dev/null
/usr/bin/python3 "$src/tests/dump/compare_lines.py" "$tmp/tcpdump.pcap" "$tmp/default.txt" -e
echo "dump_vs_tcpdump: ok ($lines frames)"
