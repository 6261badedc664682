#!/usr/bin/env bash
# smolxdp-server's TCP connection counters: a scripted session against each service (hello, echo,
# discard, source), ending every way a connection can end (closed by us first, by the peer first,
# reset by the peer, still open at exit), then the exit block must count each end exactly once:
# opened = ended ok + ended with errors + open. The --stats lines and the --tcp-log lines (one per
# connection as it ends) must agree with it.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
smx_setup
smx_start_server --stats 1 --tcp-log

# The server's latest --stats line, or nothing.
last_stats() { grep -E '^[0-9T:+-]+ stats: ' "$TMP/server.out" | tail -n 1 || true; }
stats_lines() { grep -cE '^[0-9T:+-]+ stats: ' "$TMP/server.out" || true; }

# hello (6969) twice: we send the greeting and close first; the peer closes after.
for i in 1 2; do
	out=$(C timeout 10 nc -N "$SRV_IP" 6969 </dev/null)
	[ "$out" = "hello" ] || fail "hello $i: got '$out'"
done
ok "hello: 2 greetings"

# echo (6970) twice: the peer closes first (nc -N: FIN at the end of its input), we follow.
for i in 1 2; do
	out=$(printf 'echo %s\n' "$i" | C timeout 10 nc -N "$SRV_IP" 6970)
	[ "$out" = "echo $i" ] || fail "echo $i: got '$out'"
done
ok "echo: 2 round trips"

# discard (6971): 100 kB, then the peer closes.
head -c 100000 /dev/zero | C timeout 10 nc -N "$SRV_IP" 6971 >/dev/null || fail "discard"
ok "discard: 100000 bytes"

# source (6972): one clean end (read, half-close, read to EOF) and one reset by the peer (SO_LINGER 0).
C timeout 20 "$PY" - "$SRV_IP" <<'PY' || fail "source, clean close"
import socket, sys
s = socket.create_connection((sys.argv[1], 6972), timeout=10)
got = b""
while len(got) < 10000:
    b = s.recv(65536)
    assert b, "early EOF"
    got += b
assert all(got[i] == i % 256 for i in range(len(got))), "not the i mod 256 pattern"
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass  # what was in flight, then the server's FIN
s.close()
PY
C timeout 20 "$PY" - "$SRV_IP" <<'PY' || fail "source, reset"
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 6972), timeout=10)
assert s.recv(1000), "nothing from source"
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()  # a reset, not a FIN
PY
ok "source: one clean close, one reset by the peer"

# One echo connection left open; when the server stops, it must reset it (the peer sees that).
cat >"$TMP/held.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 6970), timeout=10)
s.sendall(b"held\n")
assert s.recv(100) == b"held\n"
print("open", flush=True)
s.settimeout(None)
try:
    print("eof" if s.recv(100) == b"" else "data", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
PY
ip netns exec "$NS_CLI" "$PY" "$TMP/held.py" "$SRV_IP" >"$TMP/held.out" 2>&1 &
HELD_PID=$!
EXTRA_PIDS+=("$HELD_PID")
for _ in $(seq 100); do
	grep -q open "$TMP/held.out" && break
	kill -0 "$HELD_PID" 2>/dev/null || { cat "$TMP/held.out"; fail "the held connection failed"; }
	sleep 0.1
done
grep -q open "$TMP/held.out" || fail "the held connection never opened"

# Wait for a --stats line printed after all this that shows the seven finished connections ended
# (the last ACKs and FINs cross after the clients exit): then exactly the held one is open.
before=$(stats_lines)
for _ in $(seq 200); do
	line=$(last_stats)
	if [ "$(stats_lines)" -gt "$before" ] && [[ "$line" == *" open 1; "* ]]; then
		break
	fi
	sleep 0.1
done
echo "$line"
[[ "$line" == *" open 1; "* ]] || fail "no --stats line with exactly the held connection open: '$line'"

# What the --stats lines counted, interval by interval, adds up to the whole session.
read -r sum_opened sum_closed < <(grep -E '^[0-9T:+-]+ stats: ' "$TMP/server.out" |
	sed -nE 's/.* tcp opened ([0-9]+) closed ([0-9]+) open [0-9]+;.*/\1 \2/p' |
	awk '{o += $1; c += $2} END {print o + 0, c + 0}')
[ "$sum_opened" -eq 8 ] && [ "$sum_closed" -eq 7 ] ||
	fail "--stats lines add up to $sum_opened opened, $sum_closed closed (want 8 and 7)"
ok "--stats lines: 8 opened, 7 closed, 1 open"

smx_stop_server

# The held peer was reset by the server's exit, not left hanging.
for _ in $(seq 100); do
	kill -0 "$HELD_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$HELD_PID" 2>/dev/null && fail "the held connection's peer heard nothing when the server stopped"
wait "$HELD_PID" || true
grep -q reset "$TMP/held.out" || { cat "$TMP/held.out"; fail "the held connection was not reset at exit"; }
ok "the connection open at exit was reset"

line=$(grep -E '^  tcp: opened ' "$TMP/server.out") || fail "no TCP counter line at exit"
echo "$line"
re='^  tcp: opened ([0-9]+) \(hello ([0-9]+), echo ([0-9]+), discard ([0-9]+), source ([0-9]+)\); ended ([0-9]+) ok, ([0-9]+) with errors \(reset by peer ([0-9]+), timed out ([0-9]+), other ([0-9]+), reset by us ([0-9]+), reset at exit ([0-9]+)\); ([0-9]+) open$'
[[ "$line" =~ $re ]] || fail "the TCP counter line does not parse"
m=("${BASH_REMATCH[@]}")
opened=${m[1]} hello=${m[2]} echo_=${m[3]} discard=${m[4]} source=${m[5]}
ended_ok=${m[6]} errors=${m[7]} reset_peer=${m[8]} timed_out=${m[9]} other=${m[10]}
reset_us=${m[11]} at_exit=${m[12]} open=${m[13]}
[ "$opened" -eq $((hello + echo_ + discard + source)) ] || fail "opened is not the sum of the services"
[ "$errors" -eq $((reset_peer + timed_out + other + reset_us + at_exit)) ] || fail "errors are not the sum of their kinds"
[ "$opened" -eq $((ended_ok + errors + open)) ] || fail "opened != ended ok + ended with errors + open"
[ "$hello" -eq 2 ] && [ "$echo_" -eq 3 ] && [ "$discard" -eq 1 ] && [ "$source" -eq 2 ] ||
	fail "per service: want hello 2, echo 3, discard 1, source 2"
[ "$ended_ok" -eq 6 ] || fail "ended ok: $ended_ok, want 6 (2 hello, 2 echo, 1 discard, 1 source)"
[ "$reset_peer" -eq 1 ] && [ "$at_exit" -eq 1 ] && [ "$errors" -eq 2 ] ||
	fail "errors: want 1 reset by the peer and 1 reset at exit"
[ "$open" -eq 0 ] || fail "$open still open after the exit's resets"
ok "exit: 8 opened = 6 ended ok + 2 with errors (1 reset by peer, 1 reset at exit) + 0 open"

# --tcp-log: one line per connection, as each ended.
for svc in "hello 2" "echo 3" "discard 1" "source 2"; do
	read -r name want <<<"$svc"
	n=$(grep -c "^tcp-conn: service $name " "$TMP/server.out" || true)
	[ "$n" -eq "$want" ] || fail "--tcp-log: $n lines for $name, want $want"
done
[ "$(grep -c '^tcp-conn: .* error connection-reset ' "$TMP/server.out" || true)" -eq 1 ] ||
	fail "--tcp-log: want exactly one connection ended by the peer's reset"
ok "--tcp-log: a line for each of the 8 connections as it ended"
