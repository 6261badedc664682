#!/usr/bin/env bash
# Installs the Debian packages a command needs (scripts/packages.txt says which, and why):
#
#   scripts/setup.sh [run] [test] [bench] [dev]     (no argument: all of them)
#
# run is what scripts/demo.sh and building the programs need, test scripts/test.sh, bench
# scripts/bench.sh. Idempotent: when everything is there it says so in one line and touches nothing.
# Otherwise one line names what is missing and why, apt's output goes to a log whose path is printed
# (and shown in full if apt fails). Needs root (or sudo).
set -euo pipefail
list="$(dirname "$0")/packages.txt"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
wanted=()
for a in "$@"; do
	case "$a" in
	run | test | bench | dev) wanted+=("$a") ;;
	all) wanted+=(run test bench dev) ;;
	-h | --help) usage; exit 0 ;;
	*) echo "setup.sh: unknown command '$a' (run, test, bench, dev or all)" >&2; exit 2 ;;
	esac
done
[ "${#wanted[@]}" -gt 0 ] || wanted=(run test bench dev)
for_what="${wanted[*]}"

# packages.txt: "package  need need...  # why"
packages=() why=()
while IFS= read -r line; do
	line=${line%%$'\r'}
	[[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
	reason=""
	[[ "$line" == *"#"* ]] && reason=$(sed 's/^[^#]*#[[:space:]]*//' <<<"$line")
	read -r -a words <<<"${line%%#*}"
	for w in "${wanted[@]}"; do
		if [[ " ${words[*]:1} " == *" $w "* ]]; then
			packages+=("${words[0]}")
			why+=("$reason")
			break
		fi
	done
done <"$list"

missing=() described=()
for i in "${!packages[@]}"; do
	p=${packages[$i]}
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
	missing+=("$p")
	described+=("$p (${why[$i]})")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "setup: the ${#packages[@]} packages for $for_what are installed"
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "setup: installing packages needs root (or sudo)" >&2; exit 1; }
	SUDO=(sudo)
fi
log=$(mktemp "${TMPDIR:-/tmp}/smolxdp-setup.XXXXXX.log")
chmod 644 "$log"
joined=$(printf '%s, ' "${described[@]}")
echo "setup: installing ${#missing[@]} missing package(s) for $for_what: ${joined%, }; apt's output: $log"
# The package lists are refreshed only now that something is missing.
if ! { "${SUDO[@]}" apt-get update &&
	DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; } \
	>"$log" 2>&1; then
	echo "setup: apt failed; its output ($log):" >&2
	cat "$log" >&2
	exit 1
fi
echo "setup: installed ${missing[*]}"
