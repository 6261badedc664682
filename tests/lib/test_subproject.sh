#!/usr/bin/env bash
# smolxdp as a subproject: a user's CMake project with add_subdirectory(<this source tree>) builds the
# library alone (no programs, tests or -Werror of ours) and links smolxdp::smolxdp; the example built
# that way runs.
# Usage: test_subproject.sh SOURCE_DIR CC "EXTRA_FLAGS"
set -euo pipefail

SRC=$(realpath "${1:?usage: $0 SOURCE_DIR CC FLAGS}")
CC=${2:?}
FLAGS=${3:-}
TMP=$(mktemp -d /tmp/smx-subproject.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

cat >"$TMP/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(smolxdp_user C)
add_subdirectory("$SRC" smolxdp)
add_executable(ex "$SRC/examples/udp_loopback.c")
target_link_libraries(ex PRIVATE smolxdp::smolxdp)
add_executable(ex_static "$SRC/examples/udp_loopback.c")
target_link_libraries(ex_static PRIVATE smolxdp::smolxdp_static)
CMAKE
cmake -S "$TMP" -B "$TMP/build" -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$FLAGS" \
	-DCMAKE_EXE_LINKER_FLAGS="$FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$FLAGS" >"$TMP/log" 2>&1 &&
	cmake --build "$TMP/build" -j2 >>"$TMP/log" 2>&1 || { tail -50 "$TMP/log" >&2; fail "add_subdirectory build"; }
# Only the library: no program or test of smolxdp's was built.
for t in smolxdp-server smolxdp-dump smolxdp-detach wire_checksum; do
	[ -z "$(find "$TMP/build/smolxdp" -name "$t" -type f)" ] || fail "the subproject built $t"
done
for bin in ex ex_static; do
	out=$("$TMP/build/$bin" 3) || fail "$bin failed: $out"
	grep -q "^udp_loopback: 3 of 3 datagrams echoed$" <<<"$out" || fail "$bin: unexpected output: $out"
done
echo "ok: add_subdirectory(smolxdp) builds the library alone; the example links smolxdp::smolxdp (shared and static) and runs"
