#!/bin/bash
# libfuse 3.14's own test/test_syscalls, run over one of Debian's passthrough examples
# (passthrough_ll by default), the way libfuse 3.14's test/test_examples.py::test_passthrough
# does it:
#
#   passthrough_ll -f MNT                  (mirrors "/", so the work dir is MNT + SRC)
#   test_syscalls MNT/SRC :SRC             (checks each result against the real SRC)
#   fusermount3 -z -u MNT                  (then the daemon must exit 0 within 30 s)
#
# Usage: scripts/conformance/test-syscalls.sh [--lib system|ours] [--single-thread] [--debug]
#                                             [--writeback] [--example NAME]
#                                             [--io-uring | --io-uring-default]
#   --lib system     Debian's /usr/lib/x86_64-linux-gnu/libfuse3.so.3 (the reference; default,
#                    or $FUSE_UNDER_TEST)
#   --lib ours       ours: LD_LIBRARY_PATH=${FERROFUSE_LIB_DIR:-<repo>/target/debug}
#   --single-thread  pass -s (fuse_session_loop instead of fuse_session_loop_mt; libfuse's test
#                    does not)
#   --debug          pass -d, as the test's debug=True variant does
#   --writeback      -o writeback, and skip test 53 as the writeback=True variant does
#   --example NAME   passthrough_ll (low-level, the default), passthrough or passthrough_fh
#                    (high-level, fuse_main), or passthrough_plus (passthrough --plus)
#   --io-uring       -o io_uring (ours only): turns /sys/module/fuse/parameters/enable_uring on
#                    for the run (root) and puts it back, and fails unless the daemon's
#                    io_uring queues carried requests (completions in /proc/PID/fdinfo)
#   --io-uring-default  (ours only) the switch on as with --io-uring, but no option and no
#                    FUSE_URING_ENABLE: ours's default decides. Fails unless the rings carried
#                    requests, or with --single-thread unless none were set up (the
#                    single-threaded loop keeps /dev/fuse)
#
# Otherwise the daemon gets FUSE_URING_ENABLE=0: /dev/fuse, whatever the kernel switch says
# (another run may hold it on meanwhile).
#
# Either way it proves, from /proc/PID/maps, which libfuse3 the daemon mapped.
# Last line, always: "test_syscalls: N passed, M failed". Exit 0 only when M is 0 and the
# library was verified; 1 on test failures; 2 when it could not run at all.
#
# Builds (cached in ${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}/3.14): test_syscalls from
# the Debian 12 source tree tests/fetch-reference.sh fetches, and the example from Debian's
# libfuse3-dev examples against the installed headers (pkg-config fuse3). Needs root or a
# setuid fusermount3, /dev/fuse, gcc, pkg-config, fusermount3.
set -euo pipefail
conf_name=test-syscalls
. "$(dirname "$0")/lib.sh"

lib=${FUSE_UNDER_TEST:-system}
fs_args=()
syscall_args=()
example=passthrough_ll
io_uring=0
uring_default=0
single=0
uring_param=/sys/module/fuse/parameters/enable_uring
uring_was=
while [ $# -gt 0 ]; do
	case $1 in
	--lib) lib=${2:-}; shift 2 || conf_die "--lib needs system or ours" ;;
	--lib=*) lib=${1#--lib=}; shift ;;
	--single-thread) fs_args+=(-s); single=1; shift ;;
	--debug) fs_args+=(-d); shift ;;
	--writeback) fs_args+=(-o writeback); syscall_args+=(-53); shift ;;
	--example) example=${2:-}; shift 2 || conf_die "--example needs a name" ;;
	--io-uring) fs_args+=(-o io_uring); io_uring=1; shift ;;
	--io-uring-default) io_uring=1; uring_default=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) conf_die "unknown argument '$1' (see --help)" ;;
	esac
done
prog=$example
case $example in
passthrough_ll|passthrough|passthrough_fh) ;;
passthrough_plus) prog=passthrough; fs_args+=(--plus) ;;
*) conf_die "--example must be passthrough_ll, passthrough, passthrough_fh or passthrough_plus" ;;
esac
case $lib in
system|ours) ;;
*) conf_die "--lib must be system or ours, not '$lib'" ;;
esac
[ "$io_uring" = 0 ] || [ "$lib" = ours ] || conf_die "--io-uring and --io-uring-default are for --lib ours"
# Rings with the switch on: expected unless the default meets the single-threaded loop.
want_rings=$io_uring
[ "$uring_default" = 0 ] || [ "$single" = 0 ] || want_rings=0

conf_need_tools gcc pkg-config fusermount3 timeout realpath awk flock
[ -e /dev/fuse ] || conf_die "/dev/fuse does not exist"
pkg-config --exists fuse3 || conf_die "pkg-config does not know fuse3 (apt-get install libfuse3-dev)"

# ---------------------------------------------------------------- build (cached)
tree=$(conf_ref_tree bookworm fuse3-3.14.0)
bin=$conf_cache/3.14
mkdir -p "$bin"
examples=/usr/share/doc/libfuse3-dev/examples
pt_src=$examples/$prog.c
[ -f "$pt_src" ] || pt_src=$tree/example/$prog.c

stale()
{
	local out=$1; shift
	# Rebuilt when a source is newer; compiled to a temporary name so an interrupted build
	# never leaves a half-written binary behind.
	if [ ! -x "$out" ] || [ -n "$(find "$@" -newer "$out" 2>/dev/null | head -1)" ]; then
		return 0
	fi
	return 1
}
# Runs side by side (cargo test) must not build into the same files at once.
exec 8>"$bin/.lock"
flock -w 300 8 || conf_die "another run holds $bin/.lock for 5 minutes"
if stale "$bin/test_syscalls" "$tree/test/test_syscalls.c"; then
	# test_syscalls includes the build's fuse_config.h; of it, it reads HAVE_COPY_FILE_RANGE,
	# which 3.14's meson defines on glibc.
	echo '#define HAVE_COPY_FILE_RANGE 1' >"$bin/fuse_config.h"
	gcc -O2 -Wall -D_REENTRANT -D_FILE_OFFSET_BITS=64 -I"$bin" \
		-o "$bin/test_syscalls.tmp" "$tree/test/test_syscalls.c" ||
		conf_die "building test_syscalls failed"
	mv "$bin/test_syscalls.tmp" "$bin/test_syscalls"
fi
# The high-level passthroughs test for optional features with HAVE_* macros from libfuse's
# config.h, which Debian's examples Makefile does not provide. Build them with what 3.14's meson
# finds on glibc (as test_examples.py's binaries have), so utimens, fallocate, the xattr calls
# and copy_file_range are there; ulockmgr is not installed, so no HAVE_LIBULOCKMGR.
features=()
if [ "$prog" != passthrough_ll ]; then
	features=(-DHAVE_SETXATTR -DHAVE_UTIMENSAT -DHAVE_POSIX_FALLOCATE -DHAVE_COPY_FILE_RANGE
		-DHAVE_FSTATAT -DHAVE_FDATASYNC)
	prog=${prog}_cfg
fi
if stale "$bin/$prog" "$pt_src"; then
	# As Debian's examples/Makefile builds them (plus the features above).
	# shellcheck disable=SC2046
	gcc -Wall "${features[@]}" $(pkg-config fuse3 --cflags) -o "$bin/$prog.tmp" "$pt_src" \
		$(pkg-config fuse3 --libs) || conf_die "building $prog failed"
	mv "$bin/$prog.tmp" "$bin/$prog"
fi
exec 8>&-

# ---------------------------------------------------------------- library under test
# The transport: /dev/fuse unless --io-uring (the option beats the variable) or
# --io-uring-default (no variable: the library's default decides).
if [ "$uring_default" = 1 ]; then
	uring_env=(-u FUSE_URING_ENABLE)
else
	uring_env=(FUSE_URING_ENABLE=0)
fi
env_cmd=(env)
if [ "$lib" = ours ]; then
	libdir=$(conf_lib_dir)
	want_lib=$libdir/libfuse3.so.3
	env_cmd=(env "${uring_env[@]}" "LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
else
	want_lib=$(env -u LD_LIBRARY_PATH ldd "$bin/$prog" |
		awk '$1 == "libfuse3.so.3" { print $3 }')
	[ -n "$want_lib" ] && [ -e "$want_lib" ] ||
		conf_die "$prog does not resolve libfuse3.so.3 to a system library"
	env_cmd=(env -u LD_LIBRARY_PATH "${uring_env[@]}")
fi
conf_note "library under test: $lib ($(realpath "$want_lib"))"

# ---------------------------------------------------------------- mount, test, unmount
# Short: test_syscalls binds a socket under MNT/SRC, and sun_path holds 108 bytes.
work=$(mktemp -d /tmp/ffsc.XXXXXX)
mnt=$work/mnt
src=$work/src
log=$work/$example.log
out=$work/test_syscalls.out
mkdir "$mnt" "$src"
fs_pid=

cleanup()
{
	local rc=$?
	set +e
	if [ -n "$fs_pid" ]; then
		conf_lazy_umount "$mnt"
		conf_stop_pid "$fs_pid"
	fi
	conf_lazy_umount "$mnt"
	[ -n "$uring_was" ] && echo "$uring_was" >"$uring_param"
	# passthrough_ll mirrors "/": never delete anything while MNT is still a mount point.
	if conf_is_mounted "$mnt"; then
		conf_note "warning: $mnt is still mounted; leaving $work in place"
	else
		rmdir "$mnt" 2>/dev/null
		rm -rf --one-file-system "$src"
		rm -f "$log" "$out" "$log.tail"
		rmdir "$work" 2>/dev/null
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
verdict()
{
	echo "test_syscalls: $passed passed, $failed failed"
}
show_log()
{
	echo "--- $example log (last 40 lines) ---" >&2
	tail -n 40 "$log" >&2 || true
	echo "--- end ---" >&2
}

if [ "$io_uring" = 1 ]; then
	[ -w "$uring_param" ] || conf_die "--io-uring needs root and a kernel with $uring_param"
	# One run at a time owns the kernel parameter (it is put back at the end).
	exec 9>"${TMPDIR:-/tmp}/ferrofuse-enable-uring.lock"
	flock -w 600 9 || conf_die "another run holds the io_uring parameter for 10 minutes"
	uring_was=$(cat "$uring_param")
	echo Y >"$uring_param"
fi
"${env_cmd[@]}" "$bin/$prog" -f "${fs_args[@]}" "$mnt" >"$log" 2>&1 &
fs_pid=$!
if ! conf_wait_mount "$mnt" "$fs_pid" 30; then
	show_log
	failed=1
	verdict
	exit 1
fi
if ! conf_verify_maps "$fs_pid" "$want_lib"; then
	failed=1
	verdict
	exit 1
fi

rc=0
timeout -k 10 300 "$bin/test_syscalls" "$mnt$src" ":$src" "${syscall_args[@]}" >"$out" 2>&1 || rc=$?
cat "$out"
passed=$(grep -cE '^ *[0-9]+ \[.*\] OK$' "$out" || true)
failed=$(sed -nE 's/^([0-9]+) tests failed$/\1/p' "$out" | tail -1)
failed=${failed:-0}
unlinked=$(sed -nE 's/^([0-9]+) unlinked testfile checks failed$/\1/p' "$out" | tail -1)
failed=$((failed + ${unlinked:-0}))
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "$conf_name: test_syscalls did not finish within 300 s" >&2
	failed=$((failed + 1))
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "$conf_name: test_syscalls exited $rc without reporting a count" >&2
	failed=1
fi

# Over io_uring, the rings must have carried the test's requests: sum the completion-queue
# tails of the daemon's io_uring descriptors. Where they must not exist, there must be none.
if [ "$io_uring" = 1 ]; then
	rings=$({ grep -l '^CqTail:' /proc/"$fs_pid"/fdinfo/* 2>/dev/null || true; } | wc -l)
	cqes=$(cat /proc/"$fs_pid"/fdinfo/* 2>/dev/null | awk '$1 == "CqTail:" { n += $2 } END { print n + 0 }')
	conf_note "io_uring: $rings ring(s), $cqes completions"
	if [ "$want_rings" = 1 ] && [ "$cqes" -lt 300 ]; then
		echo "$conf_name: the daemon's io_uring queues carried $cqes requests (want >= 300)" >&2
		show_log
		failed=$((failed + 1))
	elif [ "$want_rings" = 0 ] && [ "$rings" -ne 0 ]; then
		echo "$conf_name: the single-threaded daemon set up $rings io_uring(s) by default" >&2
		show_log
		failed=$((failed + 1))
	fi
fi

# Unmount as libfuse's test does: fusermount3 -z -u, then the daemon must exit 0 by itself.
if ! timeout -k 5 30 fusermount3 -z -u "$mnt"; then
	echo "$conf_name: fusermount3 -z -u $mnt failed" >&2
	failed=$((failed + 1))
elif conf_is_mounted "$mnt"; then
	echo "$conf_name: $mnt still mounted after fusermount3 -u" >&2
	failed=$((failed + 1))
fi
fs_rc=0
deadline=$((SECONDS + 30))
while kill -0 "$fs_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
	sleep 0.1
done
if kill -0 "$fs_pid" 2>/dev/null; then
	echo "$conf_name: $example still running 30 s after unmount" >&2
	failed=$((failed + 1))
else
	wait "$fs_pid" || fs_rc=$?
	fs_pid=
	if [ "$fs_rc" -ne 0 ]; then
		echo "$conf_name: $example exited with $fs_rc" >&2
		failed=$((failed + 1))
	fi
fi
[ "$failed" -eq 0 ] || show_log
verdict
[ "$failed" -eq 0 ]
