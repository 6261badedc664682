#!/usr/bin/env bash
# Errors a user can act on (issue 11, items 4-10): every program answers -h, --help and --version
# (exit 0) and refuses bad usage in one line naming itself by its short name, then points to --help
# (exit 2); bad values say why; contradicting flags are refused; an address the kernel has on the
# interface is refused unless --force; an unprivileged run names every missing capability at once;
# an AF_XDP failure is said once; the zero-copy fallback is one line of information naming the
# driver; smolxdp-detach explains --force, and a server whose program it removed notices and stops.
. "$(dirname "$0")/lib.sh"
B=$(realpath "$SMX_BUILD")
CLIENT=$B/apps/tcpclient/smolxdp-tcpclient
DETACH=$B/xsk/smolxdp-detach

# --- help, version and bad usage, for every program ----------------------------------------------
progs=("$SMX_SERVER" "$CLIENT" "$DETACH")
for p in smolxdp-bench smolxdp-kernel-echo smolxdp-kernel-tcp smolxdp-tcpbench smolxdp-stack-cost; do
	[ -x "$B/apps/bench/$p" ] && progs+=("$B/apps/bench/$p")
done
for p in "${progs[@]}"; do
	name=$(basename "$p")
	[ -x "$p" ] || fail "$name not built"
	"$p" --help >"$TMP/help" || fail "$name --help exits $?"
	grep -q "^usage: $name" "$TMP/help" || fail "$name --help prints no usage line"
	! grep -q '%%' "$TMP/help" || fail "$name --help shows a literal %%"
	"$p" -h >/dev/null || fail "$name -h exits $?"
	[ "$("$p" --version)" = "$name (smolxdp) $("$SMX_SERVER" --version | awk '{print $3}')" ] ||
		fail "$name --version: $("$p" --version)"
	rc=0
	"$p" --no-such-option >/dev/null 2>"$TMP/err" || rc=$?
	[ $rc -eq 2 ] || fail "$name --no-such-option exits $rc"
	[ "$(cat "$TMP/err")" = "$name: unknown option '--no-such-option'
Try '$name --help'." ] || { cat "$TMP/err"; fail "$name: bad usage is not two lines naming it by its short name"; }
done
ok "-h, --help, --version and bad usage: ${#progs[@]} programs"

# usage_error "EXPECTED FIRST LINE" PROGRAM ARGS...: exit 2, that line, then the pointer to --help.
usage_error() {
	local want=$1 rc=0
	shift
	"$@" >/dev/null 2>"$TMP/err" || rc=$?
	local name
	name=$(basename "$1")
	[ $rc -eq 2 ] && [ "$(cat "$TMP/err")" = "$want
Try '$name --help'." ] || { echo "got (exit $rc):" >&2; cat "$TMP/err" >&2; fail "$name ${*:2}: wanted '$want'"; }
}
usage_error "smolxdp-server: --ip 192.168.69.1/33: prefix length must be 0..32" \
	"$SMX_SERVER" veth0 --ip 192.168.69.1/33
usage_error "smolxdp-server: --ip 192.168.69.300/24: not an IPv4 address (a dotted quad, as 192.168.69.1/24)" \
	"$SMX_SERVER" veth0 --ip 192.168.69.300/24
usage_error "smolxdp-server: --ip 192.168.69.255/24: the network's broadcast address (host part all ones)" \
	"$SMX_SERVER" veth0 --ip 192.168.69.255/24
usage_error "smolxdp-server: --queues 0: must be 1..16" "$SMX_SERVER" veth0 --queues 0
usage_error "smolxdp-server: option '--ip' needs a value" "$SMX_SERVER" veth0 --ip
usage_error "smolxdp-server: --copy and --zero-copy contradict each other: give one" \
	"$SMX_SERVER" veth0 --copy --zero-copy
usage_error "smolxdp-server: --spin and --busy-poll: give one (--busy-poll spins too, with a syscall on every empty receive that runs the driver)" \
	"$SMX_SERVER" veth0 --busy-poll --spin
usage_error "smolxdp-server: --gateway 10.0.0.1 is not on our subnet 192.168.69.0/24 (--ip): a gateway must be on-link" \
	"$SMX_SERVER" veth0 --gateway 10.0.0.1
usage_error "smolxdp-server: --tcp-buf, --tcp-pool, --tcp-rto-min and --tcp-log need TCP, which --tcp-conns 0 turns off" \
	"$SMX_SERVER" veth0 --tcp-conns 0 --tcp-log
usage_error "smolxdp-server: give the interface to serve (smolxdp-server IFACE [options])" "$SMX_SERVER"
usage_error "smolxdp-tcpclient: --connect 192.168.69.100: give the server's port too (ADDR:PORT)" \
	"$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP"
usage_error "smolxdp-tcpclient: --connect 192.168.69.100:99999: the port must be 1..65535" \
	"$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:99999"
usage_error "smolxdp-tcpclient: give our address: --ip ADDR/PREFIX" "$CLIENT" veth0 --connect "$CLI_IP:80"
usage_error "smolxdp-tcpclient: --copy and --zero-copy contradict each other: give one" \
	"$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:80" --zero-copy --copy
usage_error "smolxdp-tcpclient: --spin and --busy-poll: give one (--busy-poll spins too)" \
	"$CLIENT" veth0 --ip "$SRV_IP/24" --connect "$CLI_IP:80" --busy-poll --spin
usage_error "smolxdp-detach: give the interface (smolxdp-detach IFACE [--force])" "$DETACH"
ok "bad values and contradicting flags: one line saying why, and the pointer to --help"

# --- on a veth pair -----------------------------------------------------------------------------
smx_setup
# one_line FILE EXPECTED: the program said exactly this, once.
one_line() { [ "$(cat "$1")" = "$2" ] || { echo "got:" >&2; cat "$1" >&2; fail "wanted exactly: $2"; }; }

rc=0
S "$SMX_SERVER" veth0 --queue 5 >/dev/null 2>"$TMP/err" || rc=$?
[ $rc -eq 1 ] || fail "--queue 5 on a 1-queue veth exits $rc"
one_line "$TMP/err" "smolxdp-server: queue 5 out of range: veth0 has 1 RX queue (0..0)"
ok "an AF_XDP error is said once"

# The kernel's own address: refused, named; taken with --force.
S ip addr add "$KERN_IP/24" dev veth0
rc=0
S "$SMX_SERVER" veth0 --ip "$KERN_IP/24" >/dev/null 2>"$TMP/err" || rc=$?
[ $rc -eq 1 ] || fail "a kernel-owned --ip: exit $rc"
one_line "$TMP/err" "smolxdp-server: the kernel has $KERN_IP on veth0: serving it would cut the host's own traffic to it (ssh); choose another --ip, or --force"
S ip link show veth0 | grep -q xdp && fail "refused, yet an XDP program is attached"
rc=0
S "$CLIENT" veth0 --ip "$KERN_IP/24" --connect "$CLI_IP:5999" >/dev/null 2>"$TMP/err" || rc=$?
[ $rc -eq 1 ] || fail "smolxdp-tcpclient with a kernel-owned --ip: exit $rc"
grep -q "^smolxdp-tcpclient: the kernel has $KERN_IP on veth0" "$TMP/err" || { cat "$TMP/err"; fail "smolxdp-tcpclient took the kernel's address"; }
ok "a kernel-owned --ip is refused, naming the interface and the address"

ip netns exec "$NS_SRV" "$SMX_SERVER" veth0 --ip "$KERN_IP/24" --force >"$TMP/server.out" 2>&1 &
SERVER_PID=$!
# The kernel answered for this address until now: wait for the server's own start line first.
for _ in $(seq 100); do
	grep -q "stop with Ctrl-C" "$TMP/server.out" && break
	kill -0 "$SERVER_PID" 2>/dev/null || fail "smolxdp-server --force exited at start"
	sleep 0.1
done
C ping -c 3 -i 0.2 -W 1 "$KERN_IP" >/dev/null || fail "no answer from the server on the address it took"
grep -q "^smolxdp-server: warning: taking $KERN_IP from the kernel on veth0 (--force)" "$TMP/server.out" ||
	fail "--force took the address without saying so"
smx_stop_server
S ip addr del "$KERN_IP/24" dev veth0
ok "--force takes it, with a warning"

# A normal start: the zero-copy fallback is one line of information naming the driver.
smx_start_server
grep -c "zero-copy" "$TMP/server.out" | grep -qx 1 || fail "the zero-copy fallback is not said exactly once"
grep -qx "smolxdp-server: zero-copy unsupported on veth0 (driver veth); using copy mode" "$TMP/server.out" ||
	fail "the zero-copy fallback line"
! grep -qi "warning" "$TMP/server.out" || fail "a warning on a normal veth start"
ok "zero-copy fallback: once, as information, naming the driver"

# smolxdp-detach while the server runs: kept, and --force explained; then forced off.
rc=0
S "$DETACH" veth0 >/dev/null 2>"$TMP/err" || rc=$?
[ $rc -eq 1 ] || fail "smolxdp-detach on a live server's program: exit $rc"
grep -Eq "^smolxdp-detach: smolxdp \(pid $SERVER_PID\) still runs on veth0 \(program id [0-9]+\): stop it first, or --force removes its program anyway" "$TMP/err" ||
	{ cat "$TMP/err"; fail "smolxdp-detach does not explain --force"; }
C ping -c 1 -W 1 "$SRV_IP" >/dev/null || fail "the server stopped answering after a refused detach"
S "$DETACH" veth0 --force >"$TMP/det.out" 2>&1 || { cat "$TMP/det.out"; fail "smolxdp-detach --force"; }
grep -q "removed 1 program from veth0" "$TMP/det.out" || fail "smolxdp-detach --force: $(cat "$TMP/det.out")"
# The server checks once a second: it must notice, say so and stop with status 1, by itself.
rc=0
for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
[ $rc -eq 1 ] || fail "a server whose program was removed exited with $rc"
grep -q "^smolxdp-server: our XDP program was removed from veth0 (smolxdp-detach --force?): no traffic reaches us any more; stopping" \
	"$TMP/server.out" || fail "the server did not say its program was removed"
! grep -qi "detach.*failed\|remove it with" "$TMP/server.out" || fail "the server claims something is left to remove"
S "$DETACH" veth0 >"$TMP/det.out" 2>&1 || fail "smolxdp-detach with nothing attached"
grep -q "nothing to remove" "$TMP/det.out" || fail "smolxdp-detach with nothing attached: $(cat "$TMP/det.out")"
ok "smolxdp-detach explains --force; the server notices its program removed, says so and stops"

# Unprivileged: every missing capability named at once, with the setcap line.
unpriv() { # CAPS: run the server as nobody with these capabilities (inheritable and ambient)
	ip netns exec "$NS_SRV" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$1" \
		--ambient-caps="$1" "$SMX_SERVER" veth0 >/dev/null 2>"$TMP/err"
}
memlock_kib=$(ulimit -l)
ipc=""
# The UMEM (4096 frames of 4096 bytes) counts against RLIMIT_MEMLOCK without CAP_IPC_LOCK.
if [ "$memlock_kib" != unlimited ] && [ "$memlock_kib" -lt 16384 ]; then
	ipc=", CAP_IPC_LOCK (or RLIMIT_MEMLOCK of 16384 KiB: it is $memlock_kib KiB)"
fi
grant="cap_net_admin,cap_bpf,cap_perfmon,cap_net_raw${ipc:+,cap_ipc_lock}"
rc=0
unpriv -all || rc=$?
[ $rc -eq 1 ] || fail "unprivileged: exit $rc"
one_line "$TMP/err" "smolxdp-server: permission denied: missing CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_RAW$ipc; run as root, or grant them: sudo setcap $grant+ep $SMX_SERVER"
rc=0
unpriv +net_admin,+bpf || rc=$?
[ $rc -eq 1 ] || fail "with CAP_NET_ADMIN and CAP_BPF only: exit $rc"
one_line "$TMP/err" "smolxdp-server: permission denied: missing CAP_PERFMON, CAP_NET_RAW$ipc; run as root, or grant them: sudo setcap $grant+ep $SMX_SERVER"
S ip link show veth0 | grep -q xdp && fail "an XDP program was left attached"
ok "unprivileged: every missing capability named in one line, with the setcap line"
