#!/bin/sh
# The TCP files' layering, checked on the built objects: every stack/socket/tcp_*.c has a level in the
# table at the top of tcp_internal.h, calls (or reads) only what files of its own level or below
# define, and no files call each other in a circle. What a file calls is what its object leaves
# undefined (nm -u); who defines it, the other objects' defined symbols (nm --defined-only).
# usage: layering.sh TCP_INTERNAL_H NM OBJECT...   (objects may come as one ;-separated list, as
# CMake's $<TARGET_OBJECTS> gives them)
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 TCP_INTERNAL_H NM OBJECT..." >&2
	exit 2
fi
hdr=$1
nm=$2
shift 2
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The table: lines " *   level N  tcp_a.c tcp_b.c: what they are", one file per word before the colon.
sed -n 's/^ \*   level \([0-9][0-9]*\)  \([^:]*\):.*/\1 \2/p' "$hdr" |
	awk '{ for (i = 2; i <= NF; i++) { f = $i; sub(/\.c$/, "", f); print f, $1 } }' | sort >"$tmp/levels"
if [ ! -s "$tmp/levels" ]; then
	echo "layering: no level table in $hdr" >&2
	exit 1
fi

: >"$tmp/defs"
: >"$tmp/uses"
: >"$tmp/files"
for arg in "$@"; do
	old_ifs=$IFS
	IFS=';'
	for o in $arg; do
		IFS=$old_ifs
		[ -n "$o" ] || continue
		f=$(basename "$o")
		f=${f%.o}
		f=${f%.obj}
		f=${f%.c} # CMake names them tcp_x.c.o
		echo "$f" >>"$tmp/files"
		"$nm" -g --defined-only "$o" | awk -v f="$f" 'NF >= 3 { print $3, f }' >>"$tmp/defs"
		"$nm" -u "$o" | awk -v f="$f" 'NF >= 1 { print $NF, f }' >>"$tmp/uses"
	done
	IFS=$old_ifs
done
sort -u "$tmp/files" -o "$tmp/files"
if [ ! -s "$tmp/files" ] || [ ! -s "$tmp/defs" ]; then
	echo "layering: no objects, or nm found no symbols in them" >&2
	exit 1
fi

# Every object has a level, and every file in the table is built (a stale table checks nothing).
for f in $(join -v1 "$tmp/files" "$tmp/levels"); do
	echo "layering: $f.c has no level in $hdr's table" >&2
	fail=1
done
for f in $(join -v2 "$tmp/files" "$tmp/levels" | cut -d' ' -f1); do
	echo "layering: $f.c is in $hdr's table but was not built" >&2
	fail=1
done

# Edges between files: "caller callee symbol", then each side's level.
sort -k1,1 "$tmp/uses" -o "$tmp/uses"
sort -k1,1 "$tmp/defs" -o "$tmp/defs"
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3, $1 }' | sort >"$tmp/edges"
if [ ! -s "$tmp/edges" ]; then
	echo "layering: no calls between files found (nm output not understood?)" >&2
	exit 1
fi
awk 'NR == FNR { level[$1] = $2; next }
     ($1 in level) && ($2 in level) && level[$2] > level[$1] {
	printf "layering: %s.c (level %s) calls up into %s.c (level %s): %s\n", $1, level[$1], $2, level[$2], $3
	bad = 1
     }
     END { exit bad }' "$tmp/levels" "$tmp/edges" >&2 || fail=1

# No circles, within a level either (tsort names one).
if ! cut -d' ' -f1,2 "$tmp/edges" | sort -u | tsort >/dev/null 2>"$tmp/tsort"; then
	echo "layering: the files call each other in a circle:" >&2
	sed 's/^tsort: /  /' "$tmp/tsort" >&2
	fail=1
fi

if [ "$fail" -ne 0 ]; then
	exit 1
fi
nfiles=$(wc -l <"$tmp/files")
nrel=$(cut -d' ' -f1,2 "$tmp/edges" | sort -u | wc -l)
echo "layering: $nfiles files, $nrel calling relations between them, all down the levels of $(basename "$hdr"), no circle"
