#!/usr/bin/env bash
# The installed library as a user gets it: `cmake --install --prefix` into a temporary directory
# installs libsmolxdp.so and .a, the public headers under include/smolxdp/ (and no internal one),
# smolxdp.pc and the CMake package; then examples/udp_loopback.c is built against the installed
# tree with pkg-config (shared, and fully static with --static), with find_package(smolxdp) (both
# targets), and a C++ program including every installed header, and each of them is run.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR CC CXX "EXTRA_FLAGS" (the sanitizer flags of a
# sanitizer build, which its library needs from the programs linking it)
set -euo pipefail

BUILD=$(realpath "${1:?usage: $0 BUILD_DIR SOURCE_DIR CC CXX FLAGS}")
SRC=$(realpath "${2:?}")
CC=${3:?}
CXX=${4:?}
FLAGS=${5:-}
HERE=$(dirname "$(realpath "$0")")
TMP=$(mktemp -d /tmp/smx-install.XXXXXX)
PREFIX=$TMP/prefix
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok: $*"
}

# The example prints "udp_loopback: 3 of 3 datagrams echoed" and exits 0 when the two stacks talked.
run_example() {
	local what=$1 bin=$2 out
	out=$("$bin" 3) || fail "$what: the example failed: $out"
	grep -q "^udp_loopback: 3 of 3 datagrams echoed$" <<<"$out" || fail "$what: unexpected output: $out"
}

cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" || { cat "$TMP/install.log" >&2; fail "cmake --install"; }
pc=$(find "$PREFIX" -name smolxdp.pc)
[ -n "$pc" ] || fail "no smolxdp.pc installed"
LIBDIR=$(dirname "$(dirname "$pc")")
for f in "$LIBDIR/libsmolxdp.so" "$LIBDIR/libsmolxdp.a" "$LIBDIR/cmake/smolxdp/smolxdpConfig.cmake" \
	"$LIBDIR/cmake/smolxdp/smolxdpConfigVersion.cmake" "$PREFIX/include/smolxdp/iface.h" \
	"$PREFIX/include/smolxdp/xsk_dev.h" "$PREFIX/include/smolxdp/wire/tcp.h"; do
	[ -e "$f" ] || fail "not installed: ${f#"$PREFIX"/}"
done
# Exactly the public headers: those of stack/include and xsk/include, nothing from beside the sources.
diff <(cd "$PREFIX/include" && find smolxdp -type f | sort) \
	<( (cd "$SRC/stack/include" && find smolxdp -name '*.h'; cd "$SRC/xsk/include" && find smolxdp -name '*.h') | sort) ||
	fail "the installed headers are not exactly the public ones"
ok "installed: libsmolxdp.so, libsmolxdp.a, $(find "$PREFIX/include" -name '*.h' | wc -l) public headers, smolxdp.pc, CMake package"

# pkg-config, shared. The .pc finds its prefix from where it lies, so it is right in any prefix.
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
[ "$(pkg-config --modversion smolxdp)" = "$(grep -m1 -oE 'project\(smolxdp VERSION [0-9.]+' "$SRC/CMakeLists.txt" | cut -d' ' -f3)" ] ||
	fail "pkg-config --modversion smolxdp: $(pkg-config --modversion smolxdp)"
# shellcheck disable=SC2046,SC2086
"$CC" $FLAGS -o "$TMP/ex_pc" "$SRC/examples/udp_loopback.c" $(pkg-config --cflags --libs smolxdp) ||
	fail "building the example with pkg-config"
LD_LIBRARY_PATH=$LIBDIR ldd "$TMP/ex_pc" >"$TMP/ldd" 2>&1 || true
grep -q "$LIBDIR/libsmolxdp.so" "$TMP/ldd" || { cat "$TMP/ldd" >&2; fail "the example does not use the installed libsmolxdp.so"; }
LD_LIBRARY_PATH=$LIBDIR run_example "pkg-config" "$TMP/ex_pc"
ok "built with \$(pkg-config --cflags --libs smolxdp) and ran against the installed libsmolxdp.so"

# pkg-config, static: a fully static program, as docs/api.md shows. The sanitizers have no static
# runtime: a sanitizer build checks the archive through find_package's smolxdp::smolxdp_static only.
if [ -z "$FLAGS" ]; then
	# shellcheck disable=SC2046
	"$CC" -static -o "$TMP/ex_static" "$SRC/examples/udp_loopback.c" $(pkg-config --cflags --static --libs smolxdp) ||
		fail "building a static example with \$(pkg-config --cflags --static --libs smolxdp)"
	! ldd "$TMP/ex_static" >/dev/null 2>&1 || fail "the -static example is dynamically linked"
	run_example "static" "$TMP/ex_static"
	ok "built with -static \$(pkg-config --cflags --static --libs smolxdp) and ran"
fi

# find_package(smolxdp): both imported targets.
mkdir -p "$TMP/user"
cat >"$TMP/user/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(smolxdp_user C)
find_package(smolxdp 0.1 REQUIRED)
add_executable(ex_shared "$SRC/examples/udp_loopback.c")
target_link_libraries(ex_shared PRIVATE smolxdp::smolxdp)
add_executable(ex_static "$SRC/examples/udp_loopback.c")
target_link_libraries(ex_static PRIVATE smolxdp::smolxdp_static)
CMAKE
cmake -S "$TMP/user" -B "$TMP/user/build" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$CC" \
	-DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$FLAGS" >"$TMP/user.log" 2>&1 &&
	cmake --build "$TMP/user/build" >>"$TMP/user.log" 2>&1 || { cat "$TMP/user.log" >&2; fail "find_package(smolxdp) project"; }
ldd "$TMP/user/build/ex_shared" >"$TMP/ldd" 2>&1 || true
grep -q "$LIBDIR/libsmolxdp.so" "$TMP/ldd" || { cat "$TMP/ldd" >&2; fail "smolxdp::smolxdp is not the installed libsmolxdp.so"; }
run_example "find_package smolxdp::smolxdp" "$TMP/user/build/ex_shared"
run_example "find_package smolxdp::smolxdp_static" "$TMP/user/build/ex_static"
ok "built with find_package(smolxdp) (smolxdp::smolxdp and smolxdp::smolxdp_static) and ran"

# The installed headers alone, in C and C++, and a C++ program linked against the installed library.
LIBDIR=$LIBDIR "$HERE/test_headers.sh" "$CC" "$CXX" "$FLAGS" "$PREFIX/include"
