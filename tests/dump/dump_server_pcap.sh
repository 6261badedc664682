#!/usr/bin/env bash
# smolxdp-server --pcap read back: the records carry wall-clock times (the first one within a day of
# `date +%s`, not seconds since boot), and smolxdp-dump prints the capture (ARP, ping, UDP echo, TCP
# greeting and echo, as the demo makes them) exactly as tcpdump -nn does, and agrees with tcpdump -vv
# field by field with -v.
. "$(dirname "$0")/../server/lib.sh"
dump=$SMX_BUILD/apps/dump/smolxdp-dump
src=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$dump" ] || fail "no smolxdp-dump in $SMX_BUILD"
smx_setup
smx_start_server --ip "$SRV_IP/24" --pcap "$TMP/srv.pcap"
C ping -c 2 -i 0.2 "$SRV_IP" >/dev/null || fail "ping"
C timeout 5 socat stdio udp4-connect:$SRV_IP:6969 <<<"abcdefg" >"$TMP/udp.out" || fail "UDP echo"
C timeout 5 nc -N "$SRV_IP" 6969 </dev/null >"$TMP/greeting.out" || fail "TCP greeting"
C timeout 5 nc -N "$SRV_IP" 6970 <<<"echo over TCP" >"$TMP/echo.out" || fail "TCP echo"
smx_stop_server
now=$(date +%s)

first=$(/usr/bin/python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(struct.unpack_from("<I", d, 24)[0] if len(d) >= 40 else -1)' "$TMP/srv.pcap")
[ "$first" -ge 0 ] || fail "the capture holds no frame"
diff=$((now - first))
[ "${diff#-}" -le 86400 ] || fail "first pcap timestamp $first is not within a day of now ($now): not wall-clock time"
ok "--pcap: first timestamp $first, $diff s before date +%s"

"$dump" -r "$TMP/srv.pcap" >"$TMP/default.txt" 2>"$TMP/dump.err" || fail "smolxdp-dump -r: $(cat "$TMP/dump.err")"
for want in "ARP, Re" "ICMP echo request, id [0-9]*, seq 2, length 64" "ICMP echo reply" \
	"$SRV_IP.6969 > $CLI_IP.[0-9]*: UDP, length 8" "> $SRV_IP.6970: Flags \[S\], seq [0-9]*, win [0-9]*, options \[mss [0-9]*,sackOK,TS val [0-9]* ecr 0,nop,wscale [0-9]*\]" \
	"$SRV_IP.6970 > $CLI_IP.[0-9]*: Flags \[F\{0,1\}P.\], seq 1:15, ack 1[56]" "Flags \[F.\]"; do
	grep -q "$want" "$TMP/default.txt" || { cat "$TMP/default.txt" >&2; fail "smolxdp-dump -r lacks '$want'"; }
done
/usr/bin/python3 "$src/tests/dump/compare_lines.py" "$TMP/srv.pcap" "$TMP/default.txt" || fail "default lines"
"$dump" -e -S -r "$TMP/srv.pcap" >"$TMP/default.txt" 2>/dev/null
/usr/bin/python3 "$src/tests/dump/compare_lines.py" "$TMP/srv.pcap" "$TMP/default.txt" -e -S || fail "-e -S lines"
"$dump" -v -r "$TMP/srv.pcap" >"$TMP/full.txt" 2>/dev/null
/usr/bin/python3 "$src/tests/dump/compare_decodings.py" "$TMP/srv.pcap" "$TMP/full.txt" || fail "-v decoding"
ok "smolxdp-dump reads the server's capture as tcpdump does"
