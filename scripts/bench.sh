#!/bin/bash
# Benchmark ferrofuse against Debian's libfuse: the same FUSE binary, run once per round on each
# (LD_LIBRARY_PATH swap), order alternating, plus the tmpfs source itself as the physical limit.
# Prints a Markdown table (medians, ratio ours/libfuse, daemon CPU per op); --out DIR also
# writes DIR/results.md, results.csv and raw.csv. Needs root (tmpfs and FUSE mounts).
#
#   scripts/bench.sh [--quick] [--rounds N] [--duration SECS] [--file-mib N]
#                    [--program PATH -- ARGS...] [--out DIR] [--profile release|debug] [--no-build]
#
# Default program: Debian's passthrough_ll (built here from libfuse3-dev's example with
# Debian's headers), run as `passthrough_ll -f -o source={src},cache=never {mnt}`.
# --quick: one round, 1 s per workload, 64 MiB files (CI). Full runs are manual.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

profile=release
build=1
pass=()
program=
while [ $# -gt 0 ]; do
	case "$1" in
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
