# The TCP part of scripts/bench.sh (sourced by it, after the link and the build are ready): bulk TCP
# both ways and connection rates, smolxdp against the kernel, interleaved in one run, on the direct veth
# link with nftables loss and on an emulated path (tests/netem/path_emu in a middle namespace: delay,
# a bottleneck rate with a finite queue, loss, reordering). Raw results go under $out/tcp/, the summary
# (apps/bench/bench_tcp_summary.py) writes tcp-table.md, tcp-summary.json and tcp-goodput.png.
#
# Uses from bench.sh: build, out, root, ns_s, ns_c, if_s, if_c, SIP, KIP, CIP, STACK_CIP, SMAC,
# STACK_CMAC, SRV_CPU, CLI_CPU, find_bin, tcp_repeats, tcp_duration, tcp_only (conditions to run, empty:
# all), tcp_roles_only (the runs of each, empty: all), tcp_rates (1: also the connection-rate runs),
# tcp_kernel_cc (the kernel's congestion control, set on its sockets, never taken from the host: a
# host whose default is BBR, which does not slow down for random loss, would otherwise be compared
# with loss-based CUBIC without saying so).

TCPBENCH=$(find_bin smolxdp-tcpbench)
KTCP=$(find_bin smolxdp-kernel-tcp)
TCPCLIENT=$(find_bin smolxdp-tcpclient)
EMU=$(find_bin path_emu)
NETSIM=$(find_bin netsim_grid)

# The emulated path: client end $if_c2 in $ns_c, server end $if_s2 in $ns_s, forwarder in $ns_m.
ns_m=smxb-m-$$
if_c2=ec$$
if_s2=es$$
SIP2=192.168.70.1
KIP2=192.168.70.2
CIP2=192.168.70.100
STACK_CIP2=192.168.70.101
SMAC2=02:00:00:00:01:01
STACK_CMAC2=02:00:00:00:01:65
EMU_RATE=${EMU_RATE:-1G} # the reordering rows' bottleneck: below the forwarder's own ceiling
# smolxdp's TCP buffers for bulk runs: as large as Linux's own maxima (tcp_rmem 6 MB, tcp_wmem 4 MB),
# so windows, not buffers, are what is compared; few connections, so the memory stays modest.
SMX_TCP_BUF=(--tcp-conns 64 --tcp-buf 4194304)

tcp_smx_pid=""
tcp_smx2_pid=""
tcp_ktcp_pid=""

tcp_cleanup() {
	set +e
	for p in $tcp_smx_pid $tcp_smx2_pid $tcp_ktcp_pid; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	tcp_smx_pid="" tcp_smx2_pid="" tcp_ktcp_pid=""
	declare -F netem_cleanup >/dev/null && netem_cleanup
	ip netns exec "$ns_c" nft delete table inet smxbloss 2>/dev/null
	ip netns exec "$ns_s" nft delete table inet smxbloss 2>/dev/null
}

# The conditions: name|link|loss %|path_emu options (emulated link only)|the shortest run in seconds
# (optional). Loss on the direct link is nftables in the kernel end's namespace; on the emulated link,
# the forwarder's own seeded loss. The 50 ms paths run 10 s at least (unless --quick): 2 s is 40
# RTTs, mostly slow start and a handful of losses, which made those rows a lottery (1 MB per run at
# 1% loss: 0.26x to 1.5x between runs of the same binaries).
tcp_conditions=(
	"clean|direct|0|"
	"loss1|direct|1|"
	"loss2|direct|2|"
	"loss5|direct|5|"
	"reorder|emu|0|--rate $EMU_RATE --limit-frames 1000 --reorder 2 --reorder-hold-ms 0.25"
	"reorder-loss1|emu|1|--rate $EMU_RATE --limit-frames 1000 --reorder 2 --reorder-hold-ms 0.25"
	"reorder-loss2|emu|2|--rate $EMU_RATE --limit-frames 1000 --reorder 2 --reorder-hold-ms 0.25"
	"reorder-loss5|emu|5|--rate $EMU_RATE --limit-frames 1000 --reorder 2 --reorder-hold-ms 0.25"
	"rtt10|emu|0|--delay-ms 5 --rate 100M --limit-frames 100"
	"rtt10-loss1|emu|1|--delay-ms 5 --rate 100M --limit-frames 100"
	"rtt50|emu|0|--delay-ms 25 --rate 100M --limit-frames 420|10"
	"rtt50-loss1|emu|1|--delay-ms 25 --rate 100M --limit-frames 420|10"
)

# The runs of one condition, interleaved: role|client|mode|server kind|smolxdp's polling.
#   srv-*: a Linux client against smolxdp-server or the kernel's server (the same services);
#   cli-*: smolxdp-tcpclient (the stack as the client) against the kernel's server; its kernel
#          reference is the Linux client's run against the same server (srv-*-kernel).
# smolxdp runs both ways it can: interrupt-driven (asleep in poll() until a frame or a timer: the
# kernel's way) and, in the *-busy roles, busy-polling (--busy-poll: a core spinning per queue, the
# driver's receive work run from the stack's own loop, as a low-latency deployment runs it). A busy
# smolxdp-server runs only for its own runs (restarted around them), so it never spins on the CPU
# while the kernel's server is measured.
tcp_roles=(
	"srv-up-smolxdp|linux|upload|smx|irq"
	"srv-up-smolxdp-busy|linux|upload|smx|busy"
	"srv-up-kernel|linux|upload|kernel|irq"
	"srv-down-smolxdp|linux|download|smx|irq"
	"srv-down-smolxdp-busy|linux|download|smx|busy"
	"srv-down-kernel|linux|download|kernel|irq"
	"cli-up-smolxdp|stack|upload|kernel|irq"
	"cli-up-smolxdp-busy|stack|upload|kernel|busy"
	"cli-down-smolxdp|stack|download|kernel|irq"
	"cli-down-smolxdp-busy|stack|download|kernel|busy"
)

tcp_missing() {
	local m=()
	[ -n "$TCPBENCH" ] || m+=(smolxdp-tcpbench)
	[ -n "$KTCP" ] || m+=(smolxdp-kernel-tcp)
	[ -n "$TCPCLIENT" ] || m+=(smolxdp-tcpclient)
	[ -n "$SERVER" ] || m+=(smolxdp-server)
	[ -n "$EMU" ] || m+=(path_emu)
	echo "${m[*]}"
}

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# nstat_dump NS FILE: the namespace's absolute TCP counters (no history file is touched).
nstat_dump() {
	ip netns exec "$1" nstat -asz -j >"$2" 2>/dev/null || echo '{}' >"$2"
}

# tcp_wait_ping PID ADDR LOG: until smolxdp-server PID answers ping at ADDR (1 if it exits or does not
# in 10 s: LOG says why).
tcp_wait_ping() {
	for _ in $(seq 100); do
		ip netns exec "$ns_c" ping -c1 -W0.2 "$2" >/dev/null 2>&1 && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench.sh: smolxdp-server at $2 did not start (see $3)" >&2
	return 1
}

# tcp_smx_start [smolxdp-server options]: (re)starts the direct link's smolxdp-server, waits for ping.
# The options are kept, so tcp_smx_poll can restart it the same but polling another way.
tcp_smx_args=()
tcp_smx_start() {
	tcp_smx_args=("$@")
	if [ -n "$tcp_smx_pid" ]; then
		kill -TERM "$tcp_smx_pid" 2>/dev/null || true
		wait "$tcp_smx_pid" 2>/dev/null || true
	fi
	ip netns exec "$ns_s" taskset -c "$SRV_CPU" "$SERVER" "$if_s" --ip $SIP/24 --mac $SMAC --force "$@" \
		>>"$out/logs/tcp-smolxdp.log" 2>&1 &
	tcp_smx_pid=$!
	tcp_wait_ping "$tcp_smx_pid" $SIP "$out/logs/tcp-smolxdp.log"
}

# tcp_smx2_start [smolxdp-server options]: (re)starts the emulated link's smolxdp-server (it answers
# ping once the forwarder runs, so it is not waited for here: tcp_setup and tcp_smx_poll do).
tcp_smx2_start() {
	if [ -n "$tcp_smx2_pid" ]; then
		kill -TERM "$tcp_smx2_pid" 2>/dev/null || true
		wait "$tcp_smx2_pid" 2>/dev/null || true
	fi
	ip netns exec "$ns_s" taskset -c "$SRV_CPU" "$SERVER" "$if_s2" --ip $SIP2/24 --mac $SMAC2 --tcp-log "${SMX_TCP_BUF[@]}" \
		"$@" >>"$out/logs/tcp-smolxdp-emu.log" 2>&1 &
	tcp_smx2_pid=$!
}

# tcp_smx_poll LINK irq|busy: restarts that link's smolxdp-server polling that way (same options
# otherwise) and waits until it answers ping.
tcp_smx_poll() {
	local poll=() args=() a
	[ "$2" = busy ] && poll=(--busy-poll)
	if [ "$1" = direct ]; then
		for a in "${tcp_smx_args[@]}"; do [ "$a" = --busy-poll ] || args+=("$a"); done
		tcp_smx_start "${args[@]}" "${poll[@]}"
	else
		tcp_smx2_start "${poll[@]}"
		tcp_wait_ping "$tcp_smx2_pid" $SIP2 "$out/logs/tcp-smolxdp-emu.log"
	fi
}

# tcp_set_loss LOSS: random loss on the direct link, applied where each frame arrives, so no sender
# can tell it from loss in the network (a drop in a sender's own output hook is reported back to
# Linux's TCP as a failed send, not a loss): nftables input hooks in front of the kernel's TCP, and
# the stack's own fault device (receive side) in front of smolxdp's.
tcp_smx_loss=0
tcp_set_loss() {
	ip netns exec "$ns_c" nft delete table inet smxbloss 2>/dev/null || true
	ip netns exec "$ns_s" nft delete table inet smxbloss 2>/dev/null || true
	if [ "$1" != "$tcp_smx_loss" ]; then
		if [ "$1" = 0 ]; then tcp_smx_start --tcp-log "${SMX_TCP_BUF[@]}"; else
			tcp_smx_start --tcp-log "${SMX_TCP_BUF[@]}" --drop-chance "$1" --fault-dir rx --seed "$1"; fi
		tcp_smx_loss=$1
	fi
	[ "$1" = 0 ] && return 0
	ip netns exec "$ns_c" nft -f - <<-NFT
	table inet smxbloss {
		chain in { type filter hook input priority 0; policy accept; iifname "$if_c" ip daddr $CIP numgen random mod 100 < $1 counter drop; }
	}
	NFT
	ip netns exec "$ns_s" nft -f - <<-NFT
	table inet smxbloss {
		chain in { type filter hook input priority 0; policy accept; iifname "$if_s" ip saddr { $CIP, $STACK_CIP } numgen random mod 100 < $1 counter drop; }
	}
	NFT
}

tcp_setup() {
	# shellcheck source=../../tests/netem/netem_lib.sh
	. "$root/tests/netem/netem_lib.sh"
	NETEM_BIN=$EMU
	netem_make_path "$ns_c" "$if_c2" "$ns_m" "$ns_s" "$if_s2"
	ip netns exec "$ns_s" ip addr add $KIP2/24 dev "$if_s2"
	ip netns exec "$ns_c" ip addr add $CIP2/24 dev "$if_c2"
	ip netns exec "$ns_c" ip neigh replace $SIP2 lladdr $SMAC2 dev "$if_c2" nud permanent
	ip netns exec "$ns_c" ip neigh replace $KIP2 lladdr "$(ip netns exec "$ns_s" cat /sys/class/net/"$if_s2"/address)" dev "$if_c2" nud permanent
	ip netns exec "$ns_s" ip neigh replace $CIP2 lladdr "$(ip netns exec "$ns_c" cat /sys/class/net/"$if_c2"/address)" dev "$if_s2" nud permanent
	ip netns exec "$ns_s" ip neigh replace $STACK_CIP2 lladdr $STACK_CMAC2 dev "$if_s2" nud permanent
	# Short connections leave TIME-WAIT behind on the client, which closes first.
	ip netns exec "$ns_c" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
	# Both servers run for the whole TCP part, on both links; each run talks to one of them.
	ip netns exec "$ns_s" taskset -c "$SRV_CPU" "$KTCP" --cc "$tcp_kernel_cc" >>"$out/logs/tcp-kernel.log" 2>&1 &
	tcp_ktcp_pid=$!
	tcp_smx_start --tcp-log "${SMX_TCP_BUF[@]}" || return 1
	tcp_smx_loss=0
	tcp_smx2_start
	local t
	for t in $(seq 100); do
		if ip netns exec "$ns_c" ping -c1 -W0.2 $SIP >/dev/null 2>&1 &&
			ip netns exec "$ns_c" bash -c "exec 3<>/dev/tcp/$KIP/6971" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench.sh: the TCP servers did not start (see $out/logs/tcp-*.log)" >&2
	return 1
}

# tcp_run COND LINK ROLE REP: one measurement; leaves $out/tcp/COND--ROLE--rREP.{client.json,...}.
tcp_run() {
	local cond=$1 link=$2 role=$3 rep=$4 client mode kind poll
	IFS='|' read -r _ client mode kind poll <<<"$(printf '%s\n' "${tcp_roles[@]}" | grep "^$role|")"
	local cli_poll=()
	if [ "$poll" = busy ] && [ "$kind" = smx ]; then
		tcp_smx_poll "$link" busy || return 0
	elif [ "$poll" = busy ]; then
		cli_poll=(--busy-poll)
	fi
	local base=$out/tcp/$cond--$role--r$rep
	local sip=$SIP kip=$KIP ifc=$if_c scip=$STACK_CIP scmac=$STACK_CMAC smx=$tcp_smx_pid log=$out/logs/tcp-smolxdp.log
	local drop=(--drop-chance "$tcp_smx_loss" --seed "$rep")
	if [ "$link" = emu ]; then
		drop=()
		sip=$SIP2 kip=$KIP2 ifc=$if_c2 scip=$STACK_CIP2 scmac=$STACK_CMAC2 smx=$tcp_smx2_pid log=$out/logs/tcp-smolxdp-emu.log
	fi
	local addr=$kip spid=$tcp_ktcp_pid dur=$tcp_duration
	if [ "${tcp_long:-1}" = 1 ] && [ -n "${cond_secs:-}" ] && [ "${dur%.*}" -lt "$cond_secs" ]; then
		dur=$cond_secs
	fi
	[ "$kind" = smx ] && addr=$sip spid=$smx
	local port=6971
	[ "$mode" = download ] && port=6972

	nstat_dump "$ns_c" "$base.nstat-c0.json"
	nstat_dump "$ns_s" "$base.nstat-s0.json"
	local lines0 cpu0 cpu1 rc=0
	lines0=$(wc -l <"$log")
	cpu0=$(cpu_ticks "$spid")
	if [ "$client" = linux ]; then
		ip netns exec "$ns_c" taskset -c "$CLI_CPU" "$TCPBENCH" --cc "$tcp_kernel_cc" --mode "$mode" --duration "$dur" \
			--label "$cond:$role" --json "$base.client.json" --quiet "$addr" 2>>"$out/logs/tcp-client.log" || rc=$?
	else
		ip netns exec "$ns_c" taskset -c "$CLI_CPU" timeout $((${dur%.*} + 60)) "$TCPCLIENT" "$ifc" \
			--ip "$scip/24" --mac "$scmac" --connect "$addr:$port" --bench "$mode" --duration "$dur" \
			--label "$cond:$role" --json "$base.client.json" --quiet "${drop[@]}" "${cli_poll[@]}" --tcp-buf 4194304 >>"$out/logs/tcp-client.log" 2>&1 || rc=$?
	fi
	# The server logs its side of the connection once it has ended: at once for a reset, after the
	# last data and FINs are acknowledged for a close (an RTO or two later under loss): wait for it.
	sleep 0.05
	if [ "$kind" = smx ]; then
		for _ in $(seq 100); do
			tail -n +$((lines0 + 1)) "$log" | grep -q '^tcp-conn:' && break
			sleep 0.05
		done
	fi
	cpu1=$(cpu_ticks "$spid")
	nstat_dump "$ns_c" "$base.nstat-c1.json"
	nstat_dump "$ns_s" "$base.nstat-s1.json"
	tail -n +$((lines0 + 1)) "$log" | grep '^tcp-conn:' >"$base.server.log" || true
	printf '{"role": "%s", "condition": "%s", "link": "%s", "client": "%s", "mode": "%s", "server": "%s", "rep": %s, "rc": %s, "server_cpu_s": %s}\n' \
		"$role" "$cond" "$link" "$client" "$mode" "$kind" "$rep" "$rc" \
		"$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", (b - a) / hz}')" >"$base.meta.json"
	[ $rc -eq 0 ] || echo "bench.sh: tcp run $cond/$role round $rep failed ($rc; see $out/logs/tcp-client.log)" >&2
	# Back to sleeping in poll(), so it takes no CPU from the other servers' runs.
	if [ "$poll" = busy ] && [ "$kind" = smx ]; then
		tcp_smx_poll "$link" irq || true
	fi
}

# Short connections and many at once: on the clean direct link, a Linux client against either server.
tcp_rate_runs() {
	local rep=$1 name addr par
	for par in 1 8; do
		for name in smolxdp kernel; do
			addr=$KIP; [ $name = smolxdp ] && addr=$SIP
			ip netns exec "$ns_c" taskset -c "$CLI_CPU" "$TCPBENCH" --cc "$tcp_kernel_cc" --mode crr --parallel $par \
				--duration "$tcp_duration" --label "crr$par:$name" --json "$out/tcp/crr$par--$name--r$rep.client.json" \
				--quiet "$addr" 2>>"$out/logs/tcp-client.log" ||
				echo "bench.sh: crr $name failed (see $out/logs/tcp-client.log)" >&2
		done
	done
}

# The kernel's memory now: slab bytes in use (every cache: active objects x object size) and TCP's
# buffer pages (sockstat's mem, all namespaces). Both are machine-wide.
tcp_mem_now() {
	awk 'NR > 2 { s += $2 * $4 } END { printf "%d", s }' /proc/slabinfo
	echo -n " "
	awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat
}

# tcp_mem_sampler FILE: every 100 ms, the highest of both so far into FILE ("slab pages"), until killed.
tcp_mem_sampler() {
	local best_slab=0 best_pages=0 slab pages
	while :; do
		read -r slab pages < <(tcp_mem_now)
		[ "$slab" -gt "$best_slab" ] && best_slab=$slab
		[ "${pages:-0}" -gt "$best_pages" ] && best_pages=$pages
		echo "$best_slab $best_pages" >"$1.tmp" && mv "$1.tmp" "$1"
		sleep 0.1
	done
}

# 10,000 concurrent connections need 10,000 slots (under 1 KB each); their buffers, 64 KB at most
# each way, are drawn from a 256 MB pool as they need them (each first offers a one-chunk window).
# Memory per connection: the kernel's slab and TCP buffer pages are sampled before and during each
# run while the client holds all 10,000 open (--hold-ms); the same Linux client runs against both
# servers, so the kernel run's growth minus smolxdp's is the kernel server's own. smolxdp-server
# says what it used as it exits.
tcp_concurrent() {
	local rep=$1 name addr base peak sp mem log=$out/logs/tcp-smolxdp.log
	tcp_smx_start --tcp-conns 10240 --tcp-pool $((256 << 20)) || return 0
	for name in smolxdp kernel; do
		addr=$KIP; [ $name = smolxdp ] && addr=$SIP
		mem=$out/tcp/concurrent--$name--r$rep
		read -r -a base < <(tcp_mem_now)
		tcp_mem_sampler "$mem.peak" &
		sp=$!
		ip netns exec "$ns_c" taskset -c "$CLI_CPU" "$TCPBENCH" --cc "$tcp_kernel_cc" --mode concurrent --conns 10000 \
			--hold-ms 1000 --label "concurrent:$name" --json "$mem.client.json" \
			--quiet "$addr" 2>>"$out/logs/tcp-client.log" ||
			echo "bench.sh: concurrent $name failed (see $out/logs/tcp-client.log)" >&2
		kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true
		read -r -a peak <"$mem.peak" 2>/dev/null || peak=(0 0)
		printf '{"slab_before": %s, "slab_peak": %s, "tcp_pages_before": %s, "tcp_pages_peak": %s}\n' \
			"${base[0]}" "${peak[0]}" "${base[1]:-0}" "${peak[1]:-0}" >"$mem.mem.json"
		rm -f "$mem.peak"
	done
	tcp_smx_start --tcp-log "${SMX_TCP_BUF[@]}" # the 10,000-slot server exits: its memory line is the last
	grep 'tcp: memory' "$log" | tail -n 1 >"$out/tcp/concurrent--smolxdp--r$rep.server.txt"
	tcp_smx_loss=0
}

# tcp_check_names LIST KIND ENTRY...: every comma-separated name in LIST is the first field of an
# entry (a typo in --tcp-conditions or --tcp-roles would otherwise run nothing and say nothing).
tcp_check_names() {
	local list=$1 kind=$2 name known
	shift 2
	known=$(printf '%s\n' "$@" | cut -d'|' -f1)
	for name in ${list//,/ }; do
		grep -qx -- "$name" <<<"$known" && continue
		echo "bench.sh: no TCP $kind named '$name' (known: $(tr '\n' ' ' <<<"$known"))" >&2
		return 1
	done
}

tcp_bench() {
	local miss
	tcp_check_names "$tcp_only" path "${tcp_conditions[@]}" || return 1
	tcp_check_names "$tcp_roles_only" run "${tcp_roles[@]}" || return 1
	miss=$(tcp_missing)
	if [ -n "$miss" ]; then
		echo "bench.sh: TCP benchmark skipped: not built: $miss" >&2
		return 0
	fi
	mkdir -p "$out/tcp"
	tcp_setup || { tcp_cleanup; return 1; }
	local rep entry cond link loss emu cond_secs role seed=1
	for rep in $(seq "$tcp_repeats"); do
		for entry in "${tcp_conditions[@]}"; do
			IFS='|' read -r cond link loss emu cond_secs <<<"$entry"
			[ -z "$tcp_only" ] || [[ ",$tcp_only," == *",$cond,"* ]] || continue
			echo "bench.sh: tcp round $rep/$tcp_repeats: $cond" >&2
			if [ "$link" = direct ]; then
				tcp_set_loss "$loss"
			else
				tcp_set_loss 0
				seed=$((seed + 1))
				# shellcheck disable=SC2086
				netem_start "$ns_m" --seed $seed --loss "$loss" $emu || { echo "bench.sh: path_emu failed" >&2; continue; }
			fi
			for entry in "${tcp_roles[@]}"; do
				role=${entry%%|*}
				[ -z "$tcp_roles_only" ] || [[ ",$tcp_roles_only," == *",$role,"* ]] || continue
				tcp_run "$cond" "$link" "$role" "$rep"
			done
			if [ "$link" = emu ]; then
				netem_stop "$out/tcp/$cond--emu--r$rep.json" || echo "bench.sh: path_emu failed (see above)" >&2
			fi
		done
		tcp_set_loss 0
		if [ "$tcp_rates" = 1 ]; then
			# Many at once first: the short connections leave tens of thousands of TIME-WAIT
			# sockets in the client's kernel, which slow its own connect() down for a minute.
			tcp_concurrent "$rep"
			tcp_rate_runs "$rep"
		fi
	done
	tcp_cleanup
	if [ -n "$NETSIM" ] && want netsim; then
		echo "bench.sh: the simulated TCP grid (netsim_grid, virtual time)" >&2
		"$NETSIM" --json "$out/tcp/netsim.json" >"$out/tcp/netsim.md" 2>>"$out/logs/netsim.log" ||
			echo "bench.sh: netsim_grid failed (see $out/logs/netsim.log)" >&2
	fi
	/usr/bin/python3 "$root/apps/bench/bench_tcp_summary.py" --dir "$out/tcp" --out "$out" \
		--note "$pin_note; $tcp_repeats rounds of ${tcp_duration}s per run$([ "${tcp_long:-1}" = 1 ] && echo ' (10 s on the 50 ms paths)')" --emu-rate "$EMU_RATE" \
		--kernel-cc "$tcp_kernel_cc"
	if command -v gnuplot >/dev/null && [ -f "$out/tcp-goodput.gp" ]; then
		# A run without the direct link's rows (--tcp-conditions) has nothing to plot: not a failure.
		if gnuplot "$out/tcp-goodput.gp" 2>>"$out/logs/gnuplot.log"; then
			echo "bench.sh: plot $out/tcp-goodput.png" >&2
		else
			echo "bench.sh: no goodput plot (see $out/logs/gnuplot.log)" >&2
		fi
	fi
}
