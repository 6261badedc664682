#!/usr/bin/env bash
# Every public header stands alone (compiles on its own, in C11 with -pedantic), includes only
# public headers (the directories given hold nothing else), and all of them together compile as
# C++ with C linkage: a C++ program calling into the library links against the C symbols.
# Usage: test_headers.sh CC CXX "EXTRA_FLAGS" INCLUDE_DIR... (the directories holding smolxdp/)
# With LIBDIR=dir set, the C++ program is also linked against libsmolxdp.so there and run.
set -euo pipefail

CC=${1:?usage: $0 CC CXX FLAGS INCLUDE_DIR...}
CXX=${2:?usage: $0 CC CXX FLAGS INCLUDE_DIR...}
FLAGS=$3
shift 3
[ $# -gt 0 ] || { echo "usage: $0 CC CXX FLAGS INCLUDE_DIR..." >&2; exit 2; }
TMP=$(mktemp -d /tmp/smx-headers.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

incs=()
headers=()
for d in "$@"; do
	[ -d "$d/smolxdp" ] || fail "no $d/smolxdp"
	incs+=("-I$d")
	while IFS= read -r h; do headers+=("$h"); done < <(cd "$d" && find smolxdp -name '*.h' | sort)
done
[ ${#headers[@]} -gt 10 ] || fail "only ${#headers[@]} headers found in $*"
command -v "$CXX" >/dev/null || fail "no C++ compiler '$CXX' (g++ comes with build-essential)"

# Each header alone, so a user can include any one of them first.
for h in "${headers[@]}"; do
	# Twice: the include guard works. The typedef: C forbids an empty file (api.h is only macros).
	printf '#include "%s"\n#include "%s"\ntypedef int smx_not_empty;\n' "$h" "$h" >"$TMP/one.c"
	# shellcheck disable=SC2086
	"$CC" -std=c11 -pedantic -Wall -Wextra -Werror $FLAGS "${incs[@]}" -fsyntax-only "$TMP/one.c" ||
		fail "$h does not compile on its own"
done
echo "ok: ${#headers[@]} public headers compile alone in C11 -pedantic"

# All of them in C++, and a few calls, so a mangled (C++ linkage) name would not link.
{
	for h in "${headers[@]}"; do echo "#include \"$h\""; done
	cat <<'CPP'
#include <cstdio>
#include <cstring>

int main()
{
	struct iface_config cfg;
	std::memset(&cfg, 0, sizeof(cfg));
	cfg.addrs[0].addr = IPV4_ADDR(10, 0, 0, 1);
	cfg.addrs[0].prefix_len = 24;
	cfg.addr_count = 1;
	struct tcp_config tc;
	tcp_config_default(&tc);
	std::printf("C++: iface needs %zu bytes, TCP %zu; %s, %s\n", iface_mem_size(&cfg), tcp_mem_size(&tc),
		    tcp_state_name(TCP_ESTABLISHED), xsk_last_error()[0] ? "error set" : "no xsk error");
	return iface_mem_size(&cfg) > 0 && tcp_mem_size(&tc) > 0 ? 0 : 1;
}
CPP
} >"$TMP/all.cpp"
for std in c++11 c++17 c++20; do
	# shellcheck disable=SC2086
	"$CXX" -std=$std -pedantic -Wall -Wextra -Werror $FLAGS "${incs[@]}" -c "$TMP/all.cpp" -o "$TMP/all.o" ||
		fail "the public headers do not compile as $std"
done
echo "ok: all public headers compile together as C++11, C++17 and C++20"
if [ -n "${LIBDIR:-}" ]; then
	# shellcheck disable=SC2086
	"$CXX" $FLAGS "$TMP/all.o" -o "$TMP/cxx_user" -L"$LIBDIR" -lsmolxdp -Wl,-rpath,"$LIBDIR" ||
		fail "a C++ program does not link against $LIBDIR/libsmolxdp.so (C linkage?)"
	"$TMP/cxx_user" || fail "the C++ program failed"
	echo "ok: a C++ program links against libsmolxdp.so and runs"
fi
