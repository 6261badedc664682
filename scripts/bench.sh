#!/usr/bin/env bash
# README command (3): the benchmarks, side by side with the kernel in one run. Makes a veth pair across
# two network namespaces it creates, runs every server in turn on the same link (interleaved: A B C A B C
# ...), measures UDP echo RTT, ping RTT and UDP echo rate from a Linux client and from smolxdp-bench's
# stack client, and bulk TCP both ways and connection rates (apps/bench/bench_tcp.sh) on that link with
# loss and on an emulated path, then prints tables of medians and ratios, writes JSON, and draws plots.
#
#   scripts/bench.sh [--build DIR] [--out DIR] [--repeats N] [--duration S] [--quick] [--only LIST]
#
# Needs root. Writes nothing outside the build directory (or --out). Cleans up on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=""
out=""
repeats=4
duration=2
warmup=0.3
only=""
tcp_repeats=3
tcp_duration=2
tcp_long=1 # the 50 ms paths run 10 s at least (bench_tcp.sh); --quick: no
tcp_only=""
tcp_roles_only=""
tcp_rates=1
tcp_kernel_cc=cubic
rate_window=256
rate_flows=4

usage() {
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
	cat <<EOF
Options:
  --build DIR     use binaries already built in DIR (default: configure and build build/bench)
  --out DIR       where results go (default: DIR/results/<date-time>)
  --repeats N     rounds of every contender (default $repeats)
  --duration S    seconds measured per run (default $duration)
  --tcp-repeats N rounds of every TCP run (default $tcp_repeats)
  --tcp-duration S seconds of each TCP transfer (default $tcp_duration; 10 at least on the 50 ms paths)
  --tcp-conditions LIST  comma-separated TCP paths to run (default: all; see apps/bench/bench_tcp.sh)
  --tcp-roles LIST  comma-separated TCP runs of each path (default: all, e.g. srv-up-smolxdp,
                  srv-up-kernel: a row's smolxdp and kernel runs, for more rounds of one row)
  --no-tcp-rates  skip the TCP connection-rate and 10,000-connection runs
  --kernel-cc NAME the kernel's TCP congestion control in the benchmark's namespaces (default cubic,
                  Linux's and Debian's default; bbr, reno: whatever the kernel offers)
  --quick         2 rounds of 0.5 s, 1 TCP round of 1 s (a smoke run, not for publishing)
  --only LIST     comma-separated: udp,udp-block,icmp,icmp-block,rate,stack,cost,tcp,netsim (default:
                  all; netsim, the simulated TCP grid, is printed with the TCP tables)
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--repeats) repeats=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--tcp-repeats) tcp_repeats=$2; shift 2 ;;
	--tcp-duration) tcp_duration=$2; shift 2 ;;
	--tcp-conditions) tcp_only=$2; shift 2 ;;
	--tcp-roles) tcp_roles_only=$2; shift 2 ;;
	--no-tcp-rates) tcp_rates=0; shift ;;
	--kernel-cc) tcp_kernel_cc=$2; shift 2 ;;
	--quick) repeats=2; duration=0.5; warmup=0.2; tcp_repeats=1; tcp_duration=1; tcp_long=0; shift ;;
	--only) only=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
want_udp=0
for t in udp udp-block icmp icmp-block rate stack; do want $t && want_udp=1; done

# Like the other two commands, it installs what it needs first (Debian packages only).
./scripts/setup.sh bench

# --- build -------------------------------------------------------------------------------------------
if [ -z "$build" ]; then
	build=build/bench
	# Tests on: the raw AF_XDP reflector is the device's test tool (tests/xsk/xsk_tool). CC picks the
	# compiler (default cc).
	cc=(); [ -n "${CC:-}" ] && cc=(-DCMAKE_C_COMPILER="$CC")
	cmake -S . -B "$build" "${cc[@]}" -DCMAKE_BUILD_TYPE=Release -DSMX_TESTS=ON >/dev/null ||
		cmake -S . -B "$build" "${cc[@]}" -DCMAKE_BUILD_TYPE=Release -DSMX_TESTS=OFF >/dev/null
	targets=(smolxdp-bench smolxdp-kernel-echo)
	avail=$(cmake --build "$build" --target help | sed -n 's/^\.\.\. //p')
	for t in smolxdp-server smolxdp-stack-cost xsk_tool smolxdp-tcpbench smolxdp-kernel-tcp smolxdp-tcpclient \
		path_emu netsim_grid; do
		grep -qx "$t" <<<"$avail" && targets+=("$t")
	done
	cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >/dev/null
fi
build=$(cd "$build" && pwd)
find_bin() { find "$build" -type f -perm -u+x -name "$1" -print -quit 2>/dev/null; }
BENCH=$(find_bin smolxdp-bench)
KECHO=$(find_bin smolxdp-kernel-echo)
SERVER=$(find_bin smolxdp-server)
REFLECT=$(find_bin xsk_tool)
[ -n "$BENCH" ] && [ -n "$KECHO" ] || { echo "bench.sh: smolxdp-bench or smolxdp-kernel-echo not built in $build" >&2; exit 1; }
stack_client=0
if "$BENCH" --backends | grep -qw stack; then
	stack_client=1
fi

[ -n "$out" ] || out=$build/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out/runs" "$out/logs"
out=$(cd "$out" && pwd)

# --- the link ----------------------------------------------------------------------------------------
ns_s=smxb-s-$$
ns_c=smxb-c-$$
if_s=bs$$
if_c=bc$$
SIP=192.168.69.1       # smolxdp-server and the raw reflector (AF_XDP, steered by the XDP program)
KIP=192.168.69.2       # the kernel of the server namespace (kernel echo servers, kernel ping)
CIP=192.168.69.100     # the kernel of the client namespace (Linux client)
STACK_CIP=192.168.69.101 # smolxdp-bench's stack client on the client end
SMAC=02:00:00:00:00:01
STACK_CMAC=02:00:00:00:00:65
server_pid=""

cleanup() {
	set +e
	if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
	declare -F tcp_cleanup >/dev/null && tcp_cleanup
	ip netns del "$ns_s" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_s"
ip netns add "$ns_c"
# Two queues each way, so the multi-queue server has a second queue to open.
ip link add "$if_s" netns "$ns_s" numtxqueues 2 numrxqueues 2 type veth \
	peer name "$if_c" netns "$ns_c" numtxqueues 2 numrxqueues 2
S() { ip netns exec "$ns_s" "$@"; }
C() { ip netns exec "$ns_c" "$@"; }
S ip addr add $KIP/24 dev "$if_s"
C ip addr add $CIP/24 dev "$if_c"
S ip link set lo up
C ip link set lo up
S ip link set "$if_s" up
C ip link set "$if_c" up
# veth hands over unfinished checksums otherwise; the stack verifies every checksum.
S ethtool -K "$if_s" tx off >/dev/null
C ethtool -K "$if_c" tx off >/dev/null
# Transmit queue 0 for every CPU (XPS) on both ends: each frame then arrives on the peer's RX queue 0,
# where the single-queue AF_XDP sockets are. The two-queue server's turn lifts it on the client end
# (set_xps), so the Linux client's flows spread over both queues by their hash, as RSS would.
set_xps() { # NS IF MASK0 MASK1
	ip netns exec "$1" sh -c "echo $3 >/sys/class/net/$2/queues/tx-0/xps_cpus; echo $4 >/sys/class/net/$2/queues/tx-1/xps_cpus"
}
allcpus=$(printf '%x' $(( (1 << $(nproc)) - 1 )))
set_xps "$ns_s" "$if_s" "$allcpus" 0
set_xps "$ns_c" "$if_c" "$allcpus" 0
# Ping sockets (SOCK_DGRAM ICMP) for root in the client namespace, as ping(8) uses them.
C sysctl -qw net.ipv4.ping_group_range="0 2147483647"
# Static neighbours: no ARP inside any measurement.
C ip neigh replace $SIP lladdr $SMAC dev "$if_c" nud permanent
C ip neigh replace $KIP lladdr "$(S cat /sys/class/net/"$if_s"/address)" dev "$if_c" nud permanent
S ip neigh replace $CIP lladdr "$(C cat /sys/class/net/"$if_c"/address)" dev "$if_s" nud permanent
S ip neigh replace $STACK_CIP lladdr $STACK_CMAC dev "$if_s" nud permanent

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	SRV_CPU=1; CLI_CPU=0; SRV_CPUS=1,0
else
	SRV_CPU=0; CLI_CPU=0; SRV_CPUS=0
fi
pin_note="server pinned to CPU $SRV_CPU, client to CPU $CLI_CPU (taskset), $ncpu CPUs, load average at start $(cut -d' ' -f1 /proc/loadavg)"
echo "bench.sh: $ns_s/$if_s <-> $ns_c/$if_c; $pin_note; $repeats rounds of ${duration}s; results in $out" >&2

# --- the contenders ----------------------------------------------------------------------------------
# name|address|command (run in the server namespace, pinned). Kernel ping is measured in kernel-block's
# turn: ICMP is answered by the kernel whichever process runs.
servers=()
servers+=("kernel-block|$KIP|$KECHO --ip $KIP")
servers+=("kernel-busy|$KIP|$KECHO --ip $KIP --spin --busy-poll 50")
if [ -n "$SERVER" ]; then
	# --force: one queue of the two, where XPS (above), not an n-tuple rule, brings our frames.
	servers+=("smolxdp-busy|$SIP|$SERVER $if_s --ip $SIP/24 --mac $SMAC --busy-poll --force")
	# Spins on the rings with no busy-poll syscalls: on veth (copy mode) RX work is done in the
	# sender's softirq, so the recvfrom that --busy-poll makes on every empty poll buys nothing.
	servers+=("smolxdp-spin|$SIP|$SERVER $if_s --ip $SIP/24 --mac $SMAC --spin --force")
	servers+=("smolxdp-irq|$SIP|$SERVER $if_s --ip $SIP/24 --mac $SMAC --force")
	servers+=("smolxdp-2q|$SIP|$SERVER $if_s --ip $SIP/24 --mac $SMAC --busy-poll --queues 2")
else
	echo "bench.sh: smolxdp-server not built: its rows are missing" >&2
fi
if [ -n "$REFLECT" ]; then
	# Swaps MAC, IP and UDP ports in place and sends the frame back; spins (never sleeps in poll).
	servers+=("reflector|$SIP|$REFLECT reflect -i $if_s -a $SIP -s")
else
	echo "bench.sh: the raw reflector (tests/xsk xsk_tool) is not built: its rows are missing" >&2
fi

# run_client TEST SERVER CLIENT REPEAT ADDR ARGS...: one measurement, pinned, JSON (+CDF) kept.
run_client() {
	local test=$1 srv=$2 cli=$3 rep=$4 addr=$5
	shift 5
	local base=$out/runs/$test--$srv--$cli--r$rep
	local backend=(--backend kernel)
	[ "$cli" = stack ] && backend=(--backend stack --iface "$if_c" --ip $STACK_CIP/24 --mac $STACK_CMAC)
	if ! C taskset -c $CLI_CPU "$BENCH" "${backend[@]}" --duration "$duration" --warmup "$warmup" \
		--label "$test:$srv:$cli" --json "$base.json" --cdf "$base.cdf" --quiet "$@" "$addr" \
		2>>"$out/logs/client.log"; then
		echo "bench.sh: client run $test/$srv/$cli failed (see $out/logs/client.log)" >&2
		rm -f "$base.json" "$base.cdf"
	fi
}

# wait_ready ADDR: until the server echoes (or 10 s).
wait_ready() {
	local t
	for t in $(seq 100); do
		if C "$BENCH" --duration 0.05 --warmup 0 --timeout-ms 20 --json - --quiet "$1" 2>/dev/null |
			grep -q '"received": [1-9]'; then
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

start_server() {
	local name=$1 cmd=$2 cpus=$SRV_CPU
	[[ "$name" == *-2q ]] && cpus=$SRV_CPUS
	# shellcheck disable=SC2086
	# Not through S(): $! must be the server itself (ip netns exec and taskset both exec into it).
	ip netns exec "$ns_s" taskset -c "$cpus" $cmd >>"$out/logs/$name.log" 2>&1 &
	server_pid=$!
}

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

[ $want_udp -eq 1 ] || servers=()
for rep in $(seq "$repeats"); do
	for entry in "${servers[@]}"; do
		IFS='|' read -r name addr cmd <<<"$entry"
		echo "bench.sh: round $rep/$repeats: $name" >&2
		echo "=== round $rep" >>"$out/logs/$name.log"
		if [[ "$name" == *-2q ]]; then set_xps "$ns_c" "$if_c" 0 0; else set_xps "$ns_c" "$if_c" "$allcpus" 0; fi
		start_server "$name" "$cmd"
		if ! wait_ready "$addr"; then
			echo "bench.sh: $name did not start or does not echo (see $out/logs/$name.log)" >&2
			stop_server
			continue
		fi
		is_2q=0; [[ "$name" == *-2q ]] && is_2q=1
		is_smx=0; [[ "$name" == smolxdp-* ]] && is_smx=1
		if [ $is_2q -eq 0 ]; then
			want udp && run_client udp-spin "$name" linux "$rep" "$addr" --wait spin
			want udp-block && run_client udp-block "$name" linux "$rep" "$addr" --wait block
			if [ "$name" = kernel-block ] || [ $is_smx -eq 1 ]; then
				pname=$name; [ "$name" = kernel-block ] && pname=kernel
				want icmp && run_client icmp-spin "$pname" linux "$rep" "$addr" --proto icmp --wait spin
				want icmp-block && run_client icmp-block "$pname" linux "$rep" "$addr" --proto icmp --wait block
			fi
		fi
		want rate && run_client rate "$name" linux "$rep" "$addr" --rate --flows $rate_flows --window $rate_window
		if [ $stack_client -eq 1 ] && want stack; then
			if [ $is_2q -eq 0 ]; then
				run_client udp-spin "$name" stack "$rep" "$addr" --wait spin
				if [ "$name" = kernel-block ] || [ $is_smx -eq 1 ]; then
					run_client icmp-spin "$pname" stack "$rep" "$addr" --proto icmp --wait spin
				fi
			fi
			# Against the two-queue server the stack client runs a stack per queue too (flows alternate).
			qs=(); [ $is_2q -eq 1 ] && qs=(--queues 2)
			run_client rate "$name" stack "$rep" "$addr" --rate --flows $rate_flows --window $rate_window "${qs[@]}"
		fi
		stop_server
	done
done

# --- instructions per echoed packet (callgrind; repeatable where times are not) ----------------------
COST=$(find_bin smolxdp-stack-cost)
if [ -n "$COST" ] && command -v valgrind >/dev/null && want cost; then
	echo "bench.sh: counting instructions per echoed packet (callgrind over smolxdp-stack-cost)" >&2
	echo "[" >"$out/instructions.json"
	sep=""
	for args in "--batch 32" "--batch 1" "--batch 32 --icmp" "--batch 1 --icmp"; do
		# shellcheck disable=SC2086
		line=$(valgrind --tool=callgrind --toggle-collect=server_step --callgrind-out-file="$out/logs/callgrind.%p" \
			"$COST" --packets 20000 $args 2>"$out/logs/callgrind.log") || { echo "bench.sh: smolxdp-stack-cost $args failed" >&2; continue; }
		ir=$(grep -o 'Collected : [0-9]*' "$out/logs/callgrind.log" | tail -1 | grep -o '[0-9]*$')
		pk=$(grep -o 'packets=[0-9]*' <<<"$line" | cut -d= -f2)
		proto=$(grep -o 'proto=[a-z]*' <<<"$line" | cut -d= -f2)
		batch=$(grep -o 'batch=[0-9]*' <<<"$line" | cut -d= -f2)
		printf '%s{"proto": "%s", "batch": %s, "packets": %s, "instructions": %s}\n' "$sep" "$proto" "$batch" "$pk" "$ir" >>"$out/instructions.json"
		sep=","
	done
	echo "]" >>"$out/instructions.json"
fi

# --- TCP: bulk both ways with loss, reordering and delay; connection rates ------------------------------
if want tcp; then
	. "$root/apps/bench/bench_tcp.sh"
	tcp_bench || { echo "bench.sh: the TCP benchmark failed" >&2; tcp_failed=1; }
fi

# --- summary -----------------------------------------------------------------------------------------
# Other work on the machine shows up as spread: say how busy it was.
pin_note="$pin_note, at end $(cut -d' ' -f1 /proc/loadavg)"
if [ $want_udp -eq 1 ]; then
	/usr/bin/python3 "$root/apps/bench/bench_summary.py" --runs "$out/runs" --out "$out" --note "$pin_note" \
		--repeats "$repeats" --duration "$duration"
	if ! command -v gnuplot >/dev/null; then
		echo "bench.sh: gnuplot not installed (scripts/setup.sh installs it): no plot" >&2
	elif gnuplot "$out/cdf.gp" 2>"$out/logs/gnuplot.log"; then
		echo "bench.sh: plot $out/rtt-cdf.png" >&2
	else
		echo "bench.sh: gnuplot failed (see $out/logs/gnuplot.log)" >&2
	fi
	echo "bench.sh: table $out/table.md, JSON $out/summary.json" >&2
fi
if want tcp && [ -f "$out/tcp-table.md" ]; then
	echo "bench.sh: TCP table $out/tcp-table.md, JSON $out/tcp-summary.json" >&2
fi
exit "${tcp_failed:-0}"
