#!/usr/bin/env bash
# libsmolxdp.so exports the public API and nothing else: its dynamic symbols (nm -D --defined-only)
# must be exactly the functions and variables the public headers (stack/include, xsk/include)
# declare. A name only in the library is an internal function leaking out (a missing static, a
# declaration outside SMX_API_BEGIN/END); a name only in the headers is a declaration with no
# definition, or a definition compiled without its header's default visibility.
# Usage: test_symbols.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

BUILD=${1:?usage: $0 BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR}
LIB=$BUILD/libsmolxdp.so
TMP=$(mktemp -d /tmp/smx-symbols.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ -f "$LIB" ] || fail "no $LIB"
command -v gcc >/dev/null || fail "gcc is needed for -aux-info (the prototypes the headers declare)"

# Every public header in one translation unit; gcc -aux-info lists each function declared, with the
# file and line it comes from and whether it is a declaration (C) or a definition (F: static inline).
headers=$( (cd "$SRC/stack/include" && find smolxdp -name '*.h'; cd "$SRC/xsk/include" && find smolxdp -name '*.h') | sort)
[ -n "$headers" ] || fail "no public headers found under $SRC"
for h in $headers; do echo "#include \"$h\""; done >"$TMP/all.c"
gcc -std=gnu11 -I"$SRC/stack/include" -I"$SRC/xsk/include" -fsyntax-only -aux-info "$TMP/aux.txt" "$TMP/all.c"

# Declarations (not static inline definitions) from the public headers themselves, not from libc.
# base.h declares memcpy & co. only so that the stack builds with no libc headers: those are libc's.
grep -E "^/\* ($SRC/stack/include|$SRC/xsk/include)/smolxdp/.*:NC \*/ extern " "$TMP/aux.txt" |
	sed -E 's/^\/\* [^ ]+ \*\/ extern [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*/\1/' |
	grep -vxE 'memcpy|memmove|memset|memcmp' >"$TMP/declared"
# Variables: "extern TYPE NAME;" or "extern TYPE NAME[...];" lines in the headers.
for h in $headers; do
	f="$SRC/stack/include/$h"
	[ -f "$f" ] || f="$SRC/xsk/include/$h"
	{ grep -hE '^extern [^(]*;' "$f" || true; } | sed -E 's/^extern [^;]*[ *]([A-Za-z_][A-Za-z0-9_]*)( *\[[^]]*\])? *;.*/\1/'
done >>"$TMP/declared"
sort -u "$TMP/declared" -o "$TMP/declared"
[ "$(wc -l <"$TMP/declared")" -gt 50 ] || fail "only $(wc -l <"$TMP/declared") declarations found: the parsing is broken"

# Defined dynamic symbols. A sanitizer build's library also carries the sanitizers' own
# instrumentation symbols, which are not ours to list.
nm -D --defined-only "$LIB" | awk '{print $NF}' |
	grep -vE '^(__asan|__odr_asan|__ubsan|__sanitizer|__sancov|___asan|_init$|_fini$|_edata$|_end$|__bss_start$)' |
	sort -u >"$TMP/exported"

if ! diff -u --label declared-in-public-headers --label exported-by-libsmolxdp.so "$TMP/declared" "$TMP/exported"; then
	echo "('-': declared but not exported; '+': exported but not declared in a public header)" >&2
	fail "the shared library's exports differ from the public headers' declarations"
fi
echo "ok: libsmolxdp.so exports exactly the $(wc -l <"$TMP/exported") functions and variables the public headers declare"
