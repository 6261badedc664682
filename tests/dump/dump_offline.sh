#!/usr/bin/env bash
# smolxdp-dump without a network: --help, one-line errors with exit status 2 (bad arguments, missing
# interface or file, bad filter, no permission), -c, -w, filters, the frame count on exit, no leaks
# (LeakSanitizer in sanitizer builds, valgrind otherwise); its default lines equal to tcpdump -nn's (and
# with -e, -S to tcpdump's with them) for real captures (demo.pcap, sack.pcap) and crafted frames
# (make_cases_pcap.py: ARP, ICMP errors, UDP, TCP with every option); and its full decode (-v) of the
# captures and of damaged frames agreeing with tcpdump -vv's field by field.
set -euo pipefail
build=${1:?build dir}
dump=$build/apps/dump/smolxdp-dump
src=$(cd "$(dirname "$0")/../.." && pwd)
data=$src/tests/wire/data
cmp=$src/tests/dump/compare_decodings.py
lines=$src/tests/dump/compare_lines.py
tmp=$(mktemp -d /tmp/smx-dump-offline.$$.XXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# --help
"$dump" --help >"$tmp/help" || fail "--help exit status $?"
grep -q "usage: smolxdp-dump" "$tmp/help" || fail "--help prints no usage"
grep -q "AF_XDP" "$tmp/help" && grep -q "peer" "$tmp/help" && grep -q -- "--pcap" "$tmp/help" ||
	fail "--help does not say that frames steered to AF_XDP are not visible to a capture"
"$dump" --version >"$tmp/version" || fail "--version exit status $?"
grep -qx "smolxdp-dump (smolxdp) [0-9][0-9.]*" "$tmp/version" || fail "--version: $(cat "$tmp/version")"

# every bad invocation: exit 2 and exactly one line on stderr
expect_usage_error() {
	local want=$1
	shift
	local rc=0
	"$dump" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "'smolxdp-dump $*' exit status $rc, want 2"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "'smolxdp-dump $*' stderr is not one line: $(cat "$tmp/err")"
	grep -qi -- "$want" "$tmp/err" || fail "'smolxdp-dump $*' stderr lacks '$want': $(cat "$tmp/err")"
	[ ! -s "$tmp/out" ] || fail "'smolxdp-dump $*' printed to stdout"
}
expect_usage_error "exactly one of"
expect_usage_error "bad arguments" -x
expect_usage_error "bad arguments" -c
expect_usage_error "bad count" -r "$data/demo.pcap" -c abc
expect_usage_error "bad count" -r "$data/demo.pcap" -c 0
expect_usage_error "exactly one of" -i lo -r "$data/demo.pcap"
expect_usage_error "no such interface" -i smxnosuch$$
expect_usage_error "$tmp/missing.pcap: .*no such file" -r "$tmp/missing.pcap"
expect_usage_error "bad filter" -r "$data/demo.pcap" tcp port banana
echo "not a capture" >"$tmp/garbage.pcap"
expect_usage_error "$tmp/garbage.pcap: .*format" -r "$tmp/garbage.pcap"
# a pcap of raw IP frames (link type 101): only Ethernet is decoded
/usr/bin/python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,65535,101))' "$tmp/raw.pcap"
expect_usage_error "only Ethernet" -r "$tmp/raw.pcap"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$tmp"
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$dump" -i lo >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "unprivileged capture exit status $rc, want 2"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "permission denied" "$tmp/err" ||
		fail "unprivileged capture: $(cat "$tmp/err")"
fi

# the default lines are tcpdump's, with -e and -S too (crafted frames and the real captures)
/usr/bin/python3 "$src/tests/dump/make_cases_pcap.py" "$tmp/cases.pcap"
for p in "$tmp/cases.pcap" "$data/demo.pcap" "$data/sack.pcap"; do
	for o in "" -e -S "-e -S"; do
		# shellcheck disable=SC2086 # $o: zero to two options
		"$dump" $o -r "$p" >"$tmp/default.txt" 2>/dev/null || fail "smolxdp-dump $o -r $p"
		# shellcheck disable=SC2086
		"$lines" "$p" "$tmp/default.txt" $o || fail "$(basename "$p"): default lines ($o) differ from tcpdump's"
	done
done
"$dump" -r "$tmp/cases.pcap" >"$tmp/cases.txt" 2>/dev/null
# the issue's own examples, literally
for want in "IP 192.168.69.100.37563 > 192.168.69.1.6969: UDP, length 7" \
	"Flags \[S\], seq 1000, win 64240, options \[mss 1460,nop,wscale 7\], length 0" \
	"ARP, Request who-has 192.168.69.1 tell 192.168.69.100, length 28" \
	"ICMP echo request, id 5, seq 1, length 64" "options \[nop,nop,sack 2 {100:200}{300:400}\]" \
	"options \[nop,eol\]" "options \[unknown-99 0x0102,nop,nop,eol\]" "Flags \[.\], ack 1, win 502, length 0"; do
	grep -q "^[0-9:.]\{15\} .*$want" "$tmp/cases.txt" || fail "default decoding lacks '$want'"
done
# Output to a file first: `dump | grep -q` under pipefail fails when grep stops reading early (SIGPIPE).
"$dump" -S -r "$tmp/cases.pcap" >"$tmp/cases-S.txt" 2>/dev/null || fail "-S: exit status"
grep -q "Flags \[.\], ack 5001, win 502, length 0" "$tmp/cases-S.txt" || fail "-S"
# the comparison fails when one field differs
sed '0,/seq 1:7/s//seq 1:8/' "$tmp/cases.txt" >"$tmp/wrong.txt"
! cmp -s "$tmp/cases.txt" "$tmp/wrong.txt" || fail "could not alter the default lines"
if "$lines" "$tmp/cases.pcap" "$tmp/wrong.txt" >/dev/null; then fail "compare_lines missed a wrong seq"; fi
head -n -1 "$tmp/cases.txt" >"$tmp/wrong.txt"
if "$lines" "$tmp/cases.pcap" "$tmp/wrong.txt" >/dev/null; then fail "compare_lines missed a missing line"; fi

# the full decode (-v) of the real captures agrees with tcpdump -vv's, field by field
for p in demo sack; do
	"$dump" -v -r "$data/$p.pcap" >"$tmp/$p.txt" 2>"$tmp/$p.err"
	n=$(tcpdump -nn -r "$data/$p.pcap" 2>/dev/null | wc -l)
	[ "$(wc -l <"$tmp/$p.txt")" -eq "$n" ] || fail "$p: $(wc -l <"$tmp/$p.txt") lines for $n frames"
	grep -qx "$n frames" "$tmp/$p.err" || fail "$p: count on exit: $(cat "$tmp/$p.err")"
	"$cmp" "$data/$p.pcap" "$tmp/$p.txt"
	"$dump" -vv -r "$data/$p.pcap" 2>/dev/null | cmp -s - "$tmp/$p.txt" || fail "$p: -vv differs from -v"
done
# what demo.pcap must hold, decoded
for want in "ARP request who-has 10.0.0.2 tell 10.0.0.1" "ARP reply 10.0.0.2 is-at" "gratuitous" \
	"ICMP echo request, id" "ICMP echo reply, id" "UDP 40000 > 9999, length 6" \
	"ICMP port unreachable (3/3), quote 10.0.0.1 > 10.0.0.2 proto UDP 40001 > 9998" \
	"Flags \[S\], seq [0-9]*, win 64240, options \[mss 1460,sackOK,TS val [0-9]* ecr 0,wscale 10\]" \
	"Flags \[S\.\]" "Flags \[P\.\].*length 77" "Flags \[F\.\]" "Flags \[R\.\], seq 0" "ICMP time exceeded"; do
	grep -q "$want" "$tmp/demo.txt" || fail "demo decoding lacks '$want'"
done
grep -q "sack 2 {" "$tmp/sack.txt" || fail "sack decoding lacks SACK blocks"

# the comparison itself fails when one field differs
sed '0,/Flags \[P\.\], seq \([0-9]*\)/s//Flags [P.], seq 1\1/' "$tmp/demo.txt" >"$tmp/wrong.txt"
! cmp -s "$tmp/demo.txt" "$tmp/wrong.txt" || fail "could not alter the decoding"
if "$cmp" "$data/demo.pcap" "$tmp/wrong.txt" >/dev/null; then fail "compare_decodings missed a wrong seq"; fi
sed 's/wscale 10/wscale 11/' "$tmp/demo.txt" >"$tmp/wrong.txt"
if "$cmp" "$data/demo.pcap" "$tmp/wrong.txt" >/dev/null; then fail "compare_decodings missed a wrong option"; fi

# damaged frames: named, never skipped, and the checksum verdicts agree with tcpdump's
/usr/bin/python3 "$src/tests/dump/make_damaged_pcap.py" "$data/demo.pcap" "$tmp/damaged.pcap" "$tmp/cut.pcap"
"$dump" -v -r "$tmp/damaged.pcap" >"$tmp/damaged.txt" 2>/dev/null
[ "$(wc -l <"$tmp/damaged.txt")" -eq 5 ] || fail "damaged: $(wc -l <"$tmp/damaged.txt") lines for 5 frames"
[ "$(grep -c "bad checksum" "$tmp/damaged.txt")" -eq 4 ] || fail "damaged: bad checksums not all shown"
"$cmp" "$tmp/damaged.pcap" "$tmp/damaged.txt"
# by default checksums are not verified, as tcpdump without -v: damaged frames print tcpdump's lines
"$dump" -r "$tmp/damaged.pcap" >"$tmp/damaged-default.txt" 2>/dev/null
"$lines" "$tmp/damaged.pcap" "$tmp/damaged-default.txt" || fail "damaged frames: default lines"
"$dump" -v -r "$tmp/cut.pcap" >"$tmp/cut.txt" 2>/dev/null
grep -q "IPv4 .*, truncated (46 of 129 bytes): TCP truncated (26 of 32 bytes) \[captured 60 of 143 bytes\]$" "$tmp/cut.txt" ||
	fail "snap length cut not shown: $(cat "$tmp/cut.txt")"
"$dump" -r "$tmp/cut.pcap" >"$tmp/cut-default.txt" 2>/dev/null || fail "cut.pcap: exit status"
grep -q "truncated-ip - 83 bytes missing! .*\[|tcp\]$" "$tmp/cut-default.txt" ||
	fail "snap length cut not shown by default: $("$dump" -r "$tmp/cut.pcap" 2>&1)"

# -c, filters, -w
"$dump" -r "$data/demo.pcap" -c 3 >"$tmp/c3.txt" 2>"$tmp/c3.err"
[ "$(wc -l <"$tmp/c3.txt")" -eq 3 ] && grep -qx "3 frames" "$tmp/c3.err" || fail "-c 3"
"$dump" -r "$data/demo.pcap" tcp port 8081 >"$tmp/f.txt" 2>/dev/null
[ "$(wc -l <"$tmp/f.txt")" -eq 2 ] && grep -q "Flags \[R\.\]" "$tmp/f.txt" || fail "filter 'tcp port 8081'"
"$dump" -v -r "$data/demo.pcap" -w "$tmp/copy.pcap" icmp >"$tmp/w.txt" 2>/dev/null
[ "$(tcpdump -r "$tmp/copy.pcap" 2>/dev/null | wc -l)" -eq "$(wc -l <"$tmp/w.txt")" ] || fail "-w"
[ "$(tcpdump -nn -r "$tmp/copy.pcap" icmp 2>/dev/null | wc -l)" -eq 7 ] || fail "-w with filter icmp"
"$cmp" "$tmp/copy.pcap" "$tmp/w.txt" >/dev/null || fail "-w copy decodes differently"

# nothing leaked: LeakSanitizer checks at exit in sanitizer builds; valgrind otherwise (gcc builds: this
# valgrind cannot read clang's DWARF 5)
sanitized=no
grep -q '^SMX_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && sanitized=yes
clang_built=no
readelf -p .comment "$dump" 2>/dev/null | grep -q clang && clang_built=yes
if [ "$sanitized" = no ] && [ "$clang_built" = no ] && command -v valgrind >/dev/null; then
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=3 \
		"$dump" -r "$data/demo.pcap" -w "$tmp/v.pcap" -c 20 tcp >/dev/null 2>"$tmp/vg.err" ||
		fail "valgrind: $(cat "$tmp/vg.err")"
	rc=0
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=3 \
		"$dump" -r "$data/demo.pcap" tcp port banana >/dev/null 2>"$tmp/vg.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "valgrind on the error path: $(cat "$tmp/vg.err")"
fi
echo "dump_offline: ok"
