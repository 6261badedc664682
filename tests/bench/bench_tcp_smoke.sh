#!/usr/bin/env bash
# Smoke test of the TCP benchmark, behaviour only (no speed is judged): scripts/bench.sh --only tcp on
# three paths (clean, 2% loss, the emulated 10 ms path) for one short round must produce a record of every
# run (both servers, both directions, the stack as client; smolxdp interrupt-driven and busy-polling), goodput above zero, retransmissions counted
# for every sender under loss, connection rates for both servers, 10,000 concurrent connections with
# none failed, the table and JSON summary, and the rounds comparison. It exercises the tools the way the benchmark uses them.
set -euo pipefail
build=${1:?usage: bench_tcp_smoke.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bench_tcp_smoke: FAIL: $*" >&2; [ -d "$tmp/out/logs" ] && tail -n 20 "$tmp"/out/logs/*.log >&2; exit 1; }

"$src/scripts/bench.sh" --build "$build" --out "$tmp/out" --only tcp --tcp-repeats 1 --tcp-duration 0.5 \
	--tcp-conditions clean,loss2,rtt10 || fail "bench.sh exited $?"
[ -s "$tmp/out/tcp-table.md" ] || fail "no tcp-table.md"
/usr/bin/python3 - "$tmp/out/tcp-summary.json" <<'PY' || fail "summary checks"
import json, sys
doc = json.load(open(sys.argv[1]))
bulk, rates = doc["bulk"], doc.get("rates", {})
roles = ["srv-up-smolxdp", "srv-up-kernel", "srv-down-smolxdp", "srv-down-kernel", "cli-up-smolxdp", "cli-down-smolxdp"]
roles += [r + "-busy" for r in roles if "smolxdp" in r]
bad = []
for cond in ("clean", "loss2", "rtt10"):
    for role in roles:
        r = bulk.get(f"{cond}:{role}")
        if not r:
            bad.append(f"{cond}:{role}: no record")
            continue
        if not r["goodput_gbps"] or r["goodput_gbps"] <= 0:
            bad.append(f"{cond}:{role}: goodput {r['goodput_gbps']}")
        if r["retransmits"] is None:
            bad.append(f"{cond}:{role}: the sender's retransmissions are missing")
        # 2% loss each way on a transfer of thousands of segments: every sender must have resent.
        if cond == "loss2" and not r["retransmits"]:
            bad.append(f"{cond}:{role}: no retransmission counted under 2% loss")
for test in ("crr1", "crr8"):
    for srv in ("smolxdp", "kernel"):
        r = rates.get(f"{test}:{srv}")
        if not r or not r["conns_per_s"]:
            bad.append(f"{test}:{srv}: no connection rate")
for srv in ("smolxdp", "kernel"):
    r = rates.get(f"concurrent:{srv}")
    if not r or r["time_to_all_s"] is None or r["failed"]:
        bad.append(f"concurrent:{srv}: {r}")
for b in bad:
    print("bench_tcp_smoke:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
grep -q "x kernel" "$tmp/out/tcp-table.md" || fail "the table has no ratio column"
# The rounds comparison reads the same runs: a line for each of the 8 smolxdp runs, and its test
# computed right on a case worked by hand (U = 0 for 3 against 3: z = -4.5 / sqrt(63 / 12), p = 0.0495).
rounds=$(/usr/bin/python3 "$src/apps/bench/bench_tcp_rounds.py" clean "$tmp/out") || fail "bench_tcp_rounds.py exited $?"
[ "$(grep -c -- "-smolxdp[a-z-]* vs [a-z-]*-kernel |" <<<"$rounds")" -eq 8 ] || fail "bench_tcp_rounds.py: $rounds"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$src/apps/bench" <<'PY' || fail "bench_tcp_rounds.py's test"
import sys
sys.path.insert(0, sys.argv[1])
from bench_tcp_rounds import mann_whitney
beats, p = mann_whitney([1, 2, 3], [4, 5, 6])
assert beats == 0 and abs(p - 0.0495) < 0.0005, (beats, p)
beats, p = mann_whitney([2, 2], [2, 2])
assert beats == 0.5 and p == 1.0, (beats, p)
PY
echo "bench_tcp_smoke: ok"
