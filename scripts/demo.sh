#!/usr/bin/env bash
# README command (1): the seed's server example over AF_XDP. Makes a veth pair across two network
# namespaces, starts smolxdp-server (192.168.69.1) on one end, and from the other end runs the seed's
# own examples, `ping 192.168.69.1` and `socat stdio udp4-connect:192.168.69.1:6969 <<<"abcdefg"`,
# showing their output, then a TCP greeting and echo with nc; then stops the server and removes
# everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
./scripts/setup.sh run
build=${SMX_BUILD_DIR:-build/release}
if [ ! -x "$build/apps/server/smolxdp-server" ]; then
	echo "demo: building smolxdp-server in $build"
	cmake -S . -B "$build" -DCMAKE_C_COMPILER="${CC:-gcc}" -DSMX_TESTS=OFF >/dev/null
	cmake --build "$build" -j "$(nproc)" --target smolxdp-server >/dev/null
fi
server_bin=$(realpath "$build/apps/server/smolxdp-server")

ns_srv=smx-demo-srv-$$
ns_cli=smx-demo-cli-$$
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	ip netns del "$ns_srv" 2>/dev/null || true
	ip netns del "$ns_cli" 2>/dev/null || true
}
trap cleanup EXIT

run() { echo "+ $*"; "$@"; }

ip netns add "$ns_srv"
ip netns add "$ns_cli"
ip link add veth0 netns "$ns_srv" type veth peer name veth1 netns "$ns_cli"
ip -n "$ns_srv" link set veth0 up
ip -n "$ns_cli" addr add 192.168.69.100/24 dev veth1
ip -n "$ns_cli" link set veth1 up
# The kernel end sends UDP with the checksum left to offload, which veth never fills in.
ip netns exec "$ns_cli" ethtool -K veth1 tx off >/dev/null

echo "demo: starting smolxdp-server on veth0 (namespace $ns_srv)"
ip netns exec "$ns_srv" "$server_bin" veth0 --ip 192.168.69.1/24 &
server_pid=$!
# Ready when it answers (the program attaches and the socket binds in well under a second).
for _ in $(seq 50); do
	ip netns exec "$ns_cli" ping -c 1 -W 0.2 192.168.69.1 >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || { echo "demo: smolxdp-server failed to start" >&2; exit 1; }
	sleep 0.1
done

echo
run ip netns exec "$ns_cli" ping -c 3 192.168.69.1
echo
echo "+ ip netns exec $ns_cli socat stdio udp4-connect:192.168.69.1:6969 <<<\"abcdefg\""
ip netns exec "$ns_cli" timeout 5 socat stdio udp4-connect:192.168.69.1:6969 <<<"abcdefg"
echo
echo "+ ip netns exec $ns_cli nc -N 192.168.69.1 6969 </dev/null      # TCP greeting"
ip netns exec "$ns_cli" timeout 5 nc -N 192.168.69.1 6969 </dev/null
echo "+ ip netns exec $ns_cli nc -N 192.168.69.1 6970 <<<\"echo over TCP\"   # TCP echo"
ip netns exec "$ns_cli" timeout 5 nc -N 192.168.69.1 6970 <<<"echo over TCP"
echo
echo "demo: stopping smolxdp-server (SIGTERM); its counters:"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
