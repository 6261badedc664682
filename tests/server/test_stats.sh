#!/usr/bin/env bash
# smolxdp-server --stats: under UDP echo traffic with 10% of incoming frames dropped by the fault
# injector, one timestamped line per second, each parsed field by field: rates in and out that agree
# with the frame size sent, drops counted, no TCP; the full counter block only once, at exit.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
smx_setup
smx_start_server --stats 1 --drop-chance 10 --fault-dir rx --seed 3

RE='^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}) stats: in ([0-9]+) f/s ([0-9]+\.[0-9]{2}) Mbit/s, out ([0-9]+) f/s ([0-9]+\.[0-9]{2}) Mbit/s; tcp opened ([0-9]+) closed ([0-9]+) open ([0-9]+); drops ([0-9]+)$'
stats_lines() { grep -cE '^[0-9T:+-]+ stats: ' "$TMP/server.out" || true; }

# 1000-byte datagrams (1042-byte frames) for about three seconds, without waiting for each echo
# (a tenth of them are dropped on the way in); replies are drained as they come.
before=$(stats_lines)
C timeout 30 "$PY" - "$SRV_IP" <<'PY' || fail "UDP traffic"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 6969))
s.setblocking(False)
data = bytes(1000)
sent = got = 0
end = time.monotonic() + 3.5
while time.monotonic() < end:
    for _ in range(5):
        s.send(data)
        sent += 1
    time.sleep(0.001)
    while True:
        try:
            got += len(s.recv(2048)) > 0
        except BlockingIOError:
            break
print("sent", sent, "echoed", got)
if got == 0:
    sys.exit("no echo at all")
PY
# Two more lines after the traffic, so every interval that saw it has been printed.
after=$(stats_lines)
for _ in $(seq 100); do
	[ "$(stats_lines)" -ge $((after + 2)) ] && break
	sleep 0.1
done
[ "$(stats_lines)" -ge $((after + 2)) ] || fail "--stats 1 printed no line for 10 s"
[ "$(stats_lines)" -ge $((before + 3)) ] || fail "fewer than 3 lines over the traffic"

smx_stop_server

grep -E '^[0-9T:+-]+ stats: ' "$TMP/server.out" >"$TMP/lines"
cat "$TMP/lines"
n=0 busiest_in=0 busiest="" sum_drops=0 prev_ts=0
while IFS= read -r line; do
	n=$((n + 1))
	[ "${#line}" -lt 150 ] || fail "line $n is ${#line} characters: '$line'"
	[[ "$line" =~ $RE ]] || fail "line $n does not parse: '$line'"
	m=("${BASH_REMATCH[@]}")
	ts=$(date -d "${m[1]}" +%s) || fail "line $n: bad time '${m[1]}'"
	[ "$ts" -ge "$prev_ts" ] || fail "line $n: time goes backwards"
	prev_ts=$ts
	[ "${m[6]}" -eq 0 ] && [ "${m[7]}" -eq 0 ] && [ "${m[8]}" -eq 0 ] || fail "line $n: TCP connections, but none were made"
	sum_drops=$((sum_drops + m[9]))
	if [ "${m[2]}" -gt "$busiest_in" ]; then
		busiest_in=${m[2]}
		busiest=$line
	fi
done <"$TMP/lines"
[ "$n" -ge 3 ] || fail "only $n lines"
[ "$busiest_in" -gt 0 ] || fail "no line shows frames in"
[[ "$busiest" =~ $RE ]]
m=("${BASH_REMATCH[@]}")
[ "${m[4]}" -gt 0 ] || fail "the busiest line shows no frames out: '$busiest'"
# Mbit/s and frames/s must describe the same frames: 1042 bytes each (a few ARP frames aside), within
# what rounding Mbit/s to 0.01 allows, in both directions.
for dir in "${m[2]} ${m[3]} in" "${m[4]} ${m[5]} out"; do
	read -r fps mbit name <<<"$dir"
	awk -v f="$fps" -v m="$mbit" 'BEGIN {
		lo = (m - 0.005) * 125000 / f; hi = (m + 0.005) * 125000 / f
		exit !(hi >= 900 && lo <= 1100) }' || fail "$name: $mbit Mbit/s at $fps f/s is not ~1042-byte frames"
done
ok "--stats: $n lines parsed; busiest: ${m[2]} f/s ${m[3]} Mbit/s in, ${m[4]} f/s ${m[5]} Mbit/s out"

# The drops the lines counted (the fault injector's, and any other) are in the exit block too, which
# also holds any after the last line.
injected=$(sed -nE 's/.*fault injector: dropped ([0-9]+),.*/\1/p' "$TMP/server.out")
[ -n "$injected" ] || fail "no fault injector counters at exit"
others=$(awk '$1 ~ /^drop_/ {s += $2}
	/replies dropped/ {for (i = 1; i < NF; i++) if ($(i + 1) ~ /^replies/) s += $i}
	/xsk: / {for (i = 1; i < NF; i++) if ($i ~ /^(rx_dropped|rx_ring_full|tx_ring_full)$/) {v = $(i + 1); sub(/,/, "", v); s += v}}
	END {print s + 0}' "$TMP/server.out")
[ "$sum_drops" -gt 0 ] || fail "the lines show no drops with 10% dropped"
[ "$sum_drops" -le $((injected + others)) ] || fail "the lines count $sum_drops drops, the exit block $((injected + others))"
ok "--stats drops: $sum_drops in the lines; at exit $injected injected, $others others"

[ "$(grep -c 'rx_frames' "$TMP/server.out")" -eq 1 ] || fail "the full counter block is printed more than once"
ok "the full counter block only at exit"
