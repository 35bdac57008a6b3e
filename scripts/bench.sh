#!/bin/bash
# Benchmark ferrofuse against Debian's libfuse: the same FUSE binary, run once per round on each
# (LD_LIBRARY_PATH swap), order alternating, plus the tmpfs source itself as the physical limit.
# Prints a Markdown table (medians, ratio ours/libfuse, ratios to tmpfs, daemon CPU per op);
# --out DIR also writes DIR/results.md, results.csv and raw.csv. Needs root (tmpfs and FUSE
# mounts, and passthrough's BACKING_OPEN).
#
#   scripts/bench.sh [--quick] [--rounds N] [--duration SECS] [--file-mib N]
#                    [--no-passthrough | --passthrough-only]
#                    [--program PATH -- ARGS...] [--out DIR] [--profile release|debug] [--no-build]
#                    [--only KEY]...   (rows by key: stat-8t, seq-read-1m/passthrough, ...)
#                    [--splice | --io-uring]
#
# Classic suite: Debian's passthrough_ll (built here from libfuse3-dev's example with Debian's
# headers), run as `passthrough_ll -f -o source={src},cache=never {mnt}`, on Debian's libfuse
# and on ours (or --program).
# Passthrough suite: c-examples/mirror_pt.c built against libfuse 3.18.3's headers (Debian
# unstable's source, fetched by tests/fetch-reference.sh), run as `mirror_pt -f -o source={src}
# {mnt}` on 3.18.3's libfuse3.so.4 (meson-built and cached as scripts/conformance does, in
# ${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}/libfuse-3.18.3/build) and on ours.
# --quick: one round, 1 s per workload, 64 MiB files (CI). Full runs are manual.
# --splice: libfuse 3.14's passthrough_hp example (from Debian's source package, built here with
# Debian's headers), which asks for FUSE_CAP_SPLICE_WRITE, run as
# `passthrough_hp --foreground --nocache {src} {mnt}` with replies spliced and with --nosplice.
# --io-uring: the classic program with ours over /dev/fuse and over `-o io_uring` (Debian's
# libfuse has no io_uring and runs both over /dev/fuse); then libfuse 3.18.3's passthrough_ll,
# from a meson build of 3.18.3 with its own io_uring (liburing-dev, libnuma-dev; cached in
# ${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}/libfuse-3.18.3-uring/build), the same
# binary on 3.18.3's library and on our libfuse3.so.4, each over /dev/fuse and over
# `-o io_uring`. Turns the kernel's enable_uring on for the run (under the lock the io_uring
# tests take) and puts it back. /dev/fuse variants get FUSE_URING_ENABLE=0 (ours takes io_uring
# by default in the multithreaded loop when the kernel offers it), and every daemon's rings are
# checked in /proc/PID/fdinfo: used where meant, absent elsewhere, or the run is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

profile=release
build=1
pass=()
program=
splice=0
io_uring=0
passthrough=1
while [ $# -gt 0 ]; do
	case "$1" in
	--splice) splice=1; passthrough=0; shift ;;
	--io-uring) io_uring=1; passthrough=0; shift ;;
	--no-passthrough) passthrough=0; shift ;;
	--passthrough-only) passthrough=only; shift ;;
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

pt=()
if [ "$passthrough" != 0 ]; then
	conf_name=bench.sh
	# shellcheck source=conformance/lib.sh
	. "$root/scripts/conformance/lib.sh"
	conf_build_libfuse318 --no-hold lib/libfuse3.so.3.18.3
	exec 9>&-
	ref_lib=$conf_318_build/lib
	mkdir -p "$root/target/bench"
	mirror=$root/target/bench/mirror_pt-3.18.3
	src=$root/c-examples/mirror_pt.c
	if [ ! -x "$mirror" ] || [ "$src" -nt "$mirror" ]; then
		# 3.18.3's public headers plus the libfuse_config.h its meson build generated.
		gcc -O2 -Wall -Wextra -Werror -I"$conf_318_build" -I"$conf_318_tree/include" \
			-o "$mirror.tmp" "$src" -L"$ref_lib" -lfuse3 -lpthread
		mv "$mirror.tmp" "$mirror"
	fi
	pt=(--pt-program "$mirror" --pt-libfuse-dir "$ref_lib")
	[ "$passthrough" != only ] || pt+=(--pt-only)
fi

if [ "$io_uring" = 1 ]; then
	uring_param=/sys/module/fuse/parameters/enable_uring
	[ -w "$uring_param" ] || { echo "bench.sh: --io-uring needs root and $uring_param" >&2; exit 1; }
	conf_name=bench.sh
	# shellcheck source=conformance/lib.sh
	. "$root/scripts/conformance/lib.sh"
	bash "$root/tests/fetch-reference.sh" >/dev/null
	conf_build_libfuse318_uring lib/libfuse3.so.3.18.3 example/passthrough_ll
	[ -e "$dir/libfuse3.so.4" ] || { echo "bench.sh: $dir/libfuse3.so.4 is missing" >&2; exit 1; }
	# The kernel's io_uring switch on for the run, put back afterwards; one holder at a time
	# (tests/common/uring.rs and scripts/conformance/test-syscalls.sh take the same lock).
	exec 7>"${TMPDIR:-/tmp}/ferrofuse-enable-uring.lock"
	flock -w 600 7 || { echo "bench.sh: another run holds the io_uring switch" >&2; exit 1; }
	uring_was=$(cat "$uring_param")
	trap 'echo "$uring_was" >"$uring_param"' EXIT
	echo Y >"$uring_param"
	"$dir/ferrofuse-bench" --lib-dir "$dir" --program "$program" --set io_uring \
		--uring-program "$conf_318u_build/example/passthrough_ll" \
		--uring-libfuse-dir "$conf_318u_build/lib" "${pass[@]}"
	exit
fi

exec "$dir/ferrofuse-bench" --lib-dir "$dir" --program "$program" "${pt[@]}" "${pass[@]}"
