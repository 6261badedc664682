#!/usr/bin/env bash
# Re-creates demo.pcap and sack.pcap, the real Linux traffic the wire tests and smolxdp-dump's demo use:
# two network namespaces joined by a veth pair with fixed MACs, transmit checksum offload off (so every
# checksum on the wire is final), default sysctls (SYNs carry MSS, SACK-permitted, timestamps, wscale).
# demo.pcap: gratuitous ARP, ARP request/reply, ping, UDP with socat, UDP to a closed port (ICMP port
# unreachable), a curl HTTP exchange (handshake, data, FIN), curl to a closed port (RST), ping with TTL 1
# through a forwarding namespace (ICMP time exceeded). sack.pcap: a bulk transfer with 5% loss injected
# by nftables so that the receiver sends SACK blocks. Run as root: tests/wire/data/capture.sh
set -euo pipefail
cd "$(dirname "$0")"
A=smxcapa$$ B=smxcapb$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "${www:-}"
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 netns "$B" address 02:00:00:00:00:02
ip -n "$A" addr add 10.0.0.1/24 dev veth0
ip -n "$B" addr add 10.0.0.2/24 dev veth1
for ns in "$A" "$B"; do
	ip -n "$ns" link set lo up
	ip netns exec "$ns" ethtool -K "$([ "$ns" = "$A" ] && echo veth0 || echo veth1)" tx off >/dev/null
done
ip -n "$A" link set veth0 up
ip -n "$B" link set veth1 up
ip -n "$A" route add 10.9.9.0/24 via 10.0.0.2
ip netns exec "$B" sysctl -qw net.ipv4.ip_forward=1
ip -n "$B" route add 10.9.9.0/24 via 10.0.0.1
sleep 1 # let IPv6 DAD and router solicitations pass; the filter drops them anyway

ip netns exec "$A" tcpdump -i veth0 -U -w demo.pcap 'arp or ip' 2>/dev/null &
pids+=($!)
ip netns exec "$B" socat -u UDP-RECV:9999 - >/dev/null &
pids+=($!)
www=$(mktemp -d)
echo hi >"$www/index.html"
ip netns exec "$B" /usr/bin/python3 -m http.server 8080 --bind 10.0.0.2 -d "$www" >/dev/null 2>&1 &
pids+=($!)
sleep 1.5
ip netns exec "$A" arping -q -U -c 1 -I veth0 10.0.0.1 || true
ip netns exec "$A" ping -q -c 2 -i 0.2 10.0.0.2 >/dev/null
echo hello | ip netns exec "$A" socat -u - UDP:10.0.0.2:9999,sourceport=40000
echo hello | ip netns exec "$A" socat -u - UDP:10.0.0.2:9998,sourceport=40001
sleep 0.2
ip netns exec "$A" curl -s -o /dev/null http://10.0.0.2:8080/
ip netns exec "$A" curl -s -o /dev/null http://10.0.0.2:8081/ || true
ip netns exec "$A" ping -q -c 1 -t 1 10.9.9.9 >/dev/null || true
sleep 0.5
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

# SACK: drop 5% of the data segments B receives; B's duplicate ACKs then carry SACK blocks.
ip netns exec "$B" nft -f - <<'NFT'
table inet smxloss {
	chain in {
		type filter hook input priority 0;
		tcp dport 8082 numgen random mod 100 < 5 drop
	}
}
NFT
ip netns exec "$A" tcpdump -i veth0 -U -w sack.full.pcap 'tcp port 8082' 2>/dev/null &
pids+=($!)
ip netns exec "$B" socat -u TCP-LISTEN:8082,reuseaddr - >/dev/null &
pids+=($!)
sleep 1
head -c 300000 /dev/zero | ip netns exec "$A" socat -u - TCP:10.0.0.2:8082
sleep 0.5
kill "${pids[-2]}"; wait "${pids[-2]}" 2>/dev/null || true
# keep the handshake and the first segments carrying SACK blocks, to stay small
tcpdump -r sack.full.pcap -w sack.pcap 'tcp[tcpflags] & tcp-syn != 0 or (tcp[12] > 0x80 and src host 10.0.0.2 and tcp[32:4] != 0x0101080a)' 2>/dev/null || true
rm -f sack.full.pcap
tcpdump -nn -e -r demo.pcap | wc -l
tcpdump -nn -r sack.pcap | head -5
/usr/bin/python3 "$(dirname "$0")/pcap2c.py"
