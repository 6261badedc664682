#!/usr/bin/env bash
# Smoke test of the TCP benchmark, behaviour only (no speed is judged): scripts/bench.sh --only tcp on
# three paths (clean, 2% loss, the emulated 10 ms path) for one short round must produce a record of every
# run (both servers, both directions, the stack as client; smolxdp interrupt-driven and busy-polling), goodput above zero, retransmissions counted
# for every sender under loss, connection rates for both servers, 10,000 concurrent connections with
# none failed, and the table and JSON summary. It exercises the tools the way the benchmark uses them.
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
echo "bench_tcp_smoke: ok"
