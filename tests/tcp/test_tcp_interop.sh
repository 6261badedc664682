#!/usr/bin/env bash
# The interop matrix in small (apps/bench/interop_tcp.sh): 2 MB each way between smolxdp (server and
# client) and Linux, with each of Linux's SACK, timestamps and window scaling off in turn, at 5% loss
# with reordering. Completion and byte-exactness only; the full matrix (100 MB, 0/1/5/10%) is the
# script's default.
set -euo pipefail
exec "$(dirname "$0")/../../apps/bench/interop_tcp.sh" "${1:?usage: $0 BUILD_DIR}" --size 2097152 --loss 5 \
	--opts all,nosack,nots,nows
