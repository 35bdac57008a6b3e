#!/bin/bash
# Benchmark ferrofuse against Debian's libfuse: the same FUSE binary, run once per round on each
# (LD_LIBRARY_PATH swap), order alternating, plus the tmpfs source itself as the physical limit.
# Prints a Markdown table (medians, ratio ours/libfuse, daemon CPU per op); --out DIR also
# writes DIR/results.md, results.csv and raw.csv. Needs root (tmpfs and FUSE mounts).
#
#   scripts/bench.sh [--quick] [--rounds N] [--duration SECS] [--file-mib N]
#                    [--program PATH -- ARGS...] [--out DIR] [--profile release|debug] [--no-build]
#                    [--splice]
#
# Default program: Debian's passthrough_ll (built here from libfuse3-dev's example with
# Debian's headers), run as `passthrough_ll -f -o source={src},cache=never {mnt}`.
# --quick: one round, 1 s per workload, 64 MiB files (CI). Full runs are manual.
# --splice: libfuse 3.14's passthrough_hp example (from Debian's source package, built here with
# Debian's headers), which asks for FUSE_CAP_SPLICE_WRITE, run as
# `passthrough_hp --foreground --nocache {src} {mnt}` with replies spliced and with --nosplice.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

profile=release
build=1
pass=()
program=
splice=0
while [ $# -gt 0 ]; do
	case "$1" in
	--splice) splice=1; shift ;;
	--profile) profile=$2; shift 2 ;;
	--no-build) build=0; shift ;;
	--program) program=$2; shift 2 ;;
	--) pass+=("$@"); break ;;
	*) pass+=("$1"); shift ;;
	esac
done
case "$profile" in
release) cargo_flags=(--release) ;;
debug) cargo_flags=() ;;
*) echo "bench.sh: --profile is release or debug" >&2; exit 2 ;;
esac
dir=$root/target/$profile

if [ "$build" = 1 ]; then
	cargo build "${cargo_flags[@]}" --workspace
fi
for f in "$dir/libfuse3.so.3" "$dir/ferrofuse-bench"; do
	[ -e "$f" ] || { echo "bench.sh: $f is missing: build the workspace ($profile)" >&2; exit 1; }
done

if [ "$splice" = 1 ]; then
	[ -z "$program" ] || { echo "bench.sh: --splice chooses its own program" >&2; exit 2; }
	bash "$root/tests/fetch-reference.sh" >/dev/null
	ref=${FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}/bookworm/fuse3-3.14.0/example
	[ -e "$ref/passthrough_hp.cc" ] || { echo "bench.sh: $ref/passthrough_hp.cc missing" >&2; exit 1; }
	mkdir -p "$root/target/bench"
	program=$root/target/bench/passthrough_hp
	if [ ! -x "$program" ] || [ "$ref/passthrough_hp.cc" -nt "$program" ]; then
		# shellcheck disable=SC2046
		env -u PKG_CONFIG_PATH g++ -O2 -std=c++17 -w -o "$program.tmp" "$ref/passthrough_hp.cc" \
			$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs fuse3) -lpthread
		mv "$program.tmp" "$program"
	fi
	pass=(--set splice "${pass[@]}" -- --foreground --nocache "{src}" "{mnt}")
fi

if [ -z "$program" ]; then
	# Debian's example, compiled against Debian's headers (not ours: no PKG_CONFIG_PATH).
	example=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
	[ -e "$example" ] || { echo "bench.sh: $example missing: apt-get install libfuse3-dev" >&2; exit 1; }
	mkdir -p "$root/target/bench"
	program=$root/target/bench/passthrough_ll
	if [ ! -x "$program" ] || [ "$example" -nt "$program" ]; then
		# shellcheck disable=SC2046
		env -u PKG_CONFIG_PATH gcc -O2 -Wall -o "$program.tmp" "$example" \
			$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs fuse3)
		mv "$program.tmp" "$program"
	fi
fi

exec "$dir/ferrofuse-bench" --lib-dir "$dir" --program "$program" "${pass[@]}"
