#!/usr/bin/env bash
# The suite's short fuzzing run: FUZZER (a libFuzzer binary) for SECONDS on a fresh copy of CORPUS in
# WORK (under the build dir, so the source tree is never written). Fails on any crash, sanitizer report,
# failed check, leak, slow input or memory blow-up, and says where the input is and where it goes once
# the bug is fixed. Usage: fuzz_run.sh FUZZER CORPUS WORK SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 secs=$4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/found"
cp -R "$corpus"/. "$work/corpus"/
# -timeout: one input may take seconds under ASan on a loaded machine, not more. -max_len: else the
# 65,535-byte datagram seed lets every input grow that large (fuzz_iface, 20 s: a 5 MB corpus against
# 0.9 MB, and fewer runs); the seed is read cut to 8 KB here, fuzz_replay runs it whole.
if "$fuzzer" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
	-artifact_prefix="$work/found/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1; then
	grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$work/log" || true
	exit 0
fi
tail -n 60 "$work/log"
echo "fuzz_run: $(basename "$fuzzer") failed; the input: $(ls "$work"/found/* 2>/dev/null | tr '\n' ' ')"
echo "fuzz_run: replay it with $fuzzer FILE; once fixed, commit it to $corpus/regressions/"
exit 1
