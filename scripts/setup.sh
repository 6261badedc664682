#!/usr/bin/env bash
# Installs every Debian package smolxdp builds, tests and benchmarks with. Idempotent: re-running it
# installs nothing new. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang llvm lld gcc-multilib
  libxdp-dev libbpf-dev libelf-dev zlib1g-dev xdp-tools bpftool
  libcmocka-dev libpcap-dev
  iproute2 ethtool tcpdump iputils-ping iputils-arping socat netcat-openbsd nftables
  python3-scapy curl gnuplot-nox valgrind jq
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
