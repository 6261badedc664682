#!/usr/bin/env bash
# Smoke test of the benchmark tools, behaviour only (no timing is judged): in a network namespace of
# its own, smolxdp-kernel-echo echoes on loopback; smolxdp-bench's UDP ping-pong, windowed rate and ICMP
# runs must write well-formed JSON whose counts add up (sent = received + lost, one RTT sample per
# reply), the echo server's counters must cover them, and bench_summary.py must turn them into a table.
set -euo pipefail
build=${1:?usage: bench_smoke.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$build/apps/bench/smolxdp-bench
KECHO=$build/apps/bench/smolxdp-kernel-echo
PY=/usr/bin/python3
ns=smxbt-$$
tmp=$(mktemp -d)
echo_pid=""
cleanup() {
	set +e
	[ -n "$echo_pid" ] && kill -TERM "$echo_pid" 2>/dev/null && wait "$echo_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "bench_smoke: FAIL: $*" >&2; exit 1; }

# Usage and argument errors.
"$BENCH" --help | grep -q -- '--rate' || fail "--help does not describe --rate"
"$BENCH" --backends | grep -qw kernel || fail "--backends does not list kernel"
rc=0; "$BENCH" --size 3 127.0.0.1 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "--size below the header length accepted (rc $rc)"
rc=0; "$BENCH" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "missing server address accepted (rc $rc)"
"$KECHO" --help | grep -q -- '--spin' || fail "smolxdp-kernel-echo --help"

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
ip netns exec "$ns" "$KECHO" --ip 127.0.0.1 --port 7001 --threads 2 2>"$tmp/echo.log" &
echo_pid=$!
for _ in $(seq 50); do
	ip netns exec "$ns" ss -Huln 'sport = :7001' | grep -q 7001 && break
	sleep 0.1
done

run() { # NAME ARGS...: one client run into $tmp/runs/NAME.json
	local name=$1
	shift
	ip netns exec "$ns" "$BENCH" --duration 0.3 --warmup 0.05 --timeout-ms 2000 --json "$tmp/runs/$name.json" \
		--cdf "$tmp/runs/$name.cdf" --quiet "$@" 127.0.0.1 || fail "smolxdp-bench $* exited $?"
}
mkdir -p "$tmp/runs"
run udp-spin--kernel-block--linux--r1 --port 7001
run udp-block--kernel-block--linux--r1 --port 7001 --wait block --flows 3
run rate--kernel-block--linux--r1 --port 7001 --rate --flows 4 --window 32 --size 200
run rate--kernel-block--linux--r2 --port 7001 --rate --flows 2 --window 8 --wait block
run icmp-spin--kernel--linux--r1 --proto icmp --flows 2
# A closed port: every message is lost, none answered, and the tool still reports cleanly.
# (Elsewhere the generous timeout keeps a loaded machine from turning a slow reply into a loss.)
run udp-spin--closed--linux--r1 --port 7002 --timeout-ms 20

# Every JSON file: well formed, counts consistent.
"$PY" - "$tmp/runs" <<'PY' || fail "JSON checks"
import glob, json, sys
total_udp = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.json")):
    with open(path) as f:
        d = json.load(f)
    name = path.rsplit("/", 1)[1]
    def check(cond, what):
        if not cond:
            sys.exit(f"{name}: {what}: {d}")
    check(d["tool"] == "smolxdp-bench", "tool")
    check(d["sent"] == d["received"] + d["lost"], "sent != received + lost")
    check(d["rtt_us"]["samples"] == d["received"], "one RTT sample per reply")
    check(d["send_errors"] == 0, "send errors")
    r = d["rtt_us"]
    if name.startswith("udp-spin--closed"):
        check(d["received"] == 0 and d["sent"] > 0 and d["lost"] == d["sent"], "closed port answered")
        continue
    check(d["received"] > 0 and d["lost"] == 0, "loopback lost messages or got none")
    check(0 < r["min"] <= r["p50"] <= r["p90"] <= r["p99"] <= r["p99_9"] <= r["max"], "percentiles out of order")
    check(d["late"] == 0 and d["foreign"] == 0, "late or foreign replies on a private loopback")
    check(d["mode"] == ("rate" if name.startswith("rate") else "pingpong"), "mode")
    check(d["proto"] == ("icmp" if name.startswith("icmp") else "udp"), "proto")
    if d["proto"] == "udp":
        total_udp += d["sent"]
    cdf = [l.split() for l in open(path[:-5] + ".cdf") if not l.startswith("#")]
    check(len(cdf) > 0 and float(cdf[-1][1]) == 1.0, "CDF does not reach 1")
    check(all(float(a[0]) <= float(b[0]) and float(a[1]) <= float(b[1]) for a, b in zip(cdf, cdf[1:])), "CDF not monotonic")
open(sys.argv[1] + "/../udp_sent", "w").write(str(total_udp))
PY

# The echo server echoed at least every message counted (warm-up messages come on top).
kill -TERM "$echo_pid"
wait "$echo_pid" || fail "smolxdp-kernel-echo exited non-zero: $(cat "$tmp/echo.log")"
echo_pid=""
"$PY" - "$tmp/echo.log" "$(cat "$tmp/udp_sent")" <<'PY' || fail "echo counters: $(cat "$tmp/echo.log")"
import re, sys
rx = tx = 0
for m in re.finditer(r"received (\d+) sent (\d+) send_errors (\d+)", open(sys.argv[1]).read()):
    rx += int(m.group(1)); tx += int(m.group(2))
    assert int(m.group(3)) == 0
assert rx == tx and rx >= int(sys.argv[2]) > 0, (rx, tx, sys.argv[2])
PY

# The summary turns the runs into a table, summary.json and a gnuplot script.
"$PY" "$src/apps/bench/bench_summary.py" --runs "$tmp/runs" --out "$tmp" --note smoke --repeats 1 \
	--duration 0.3 >"$tmp/table.txt" || fail "bench_summary.py"
grep -q '| kernel-block |' "$tmp/table.md" || fail "table has no kernel-block row"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["results"]["rate"]["linux"]["kernel-block"]["repeats"] == 2' \
	"$tmp/summary.json" || fail "summary.json"
grep -q "rtt-cdf.png" "$tmp/cdf.gp" || fail "cdf.gp"
if command -v gnuplot >/dev/null; then
	gnuplot "$tmp/cdf.gp" || fail "gnuplot cdf.gp"
	[ -s "$tmp/rtt-cdf.png" ] || fail "no PNG drawn"
fi
# The stack-cost harness echoes every frame it replays, UDP and ICMP, and checks each reply itself.
COST=$build/apps/bench/smolxdp-stack-cost
if [ -x "$COST" ]; then
	for args in "--batch 32" "--batch 1 --icmp" "--batch 7 --size 1000"; do
		# shellcheck disable=SC2086
		line=$("$COST" --packets 500 $args) || fail "smolxdp-stack-cost $args"
		grep -q 'packets=500 echoed=500 ' <<<"$line" || fail "smolxdp-stack-cost $args: $line"
	done
fi
echo "bench_smoke: ok"
