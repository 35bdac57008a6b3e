#!/bin/bash
# libfuse 3.19's own test suite (test/run-tests.py over test/cases/**.sh, from the libfuse git
# mirror), run over /dev/fuse or, with --io-uring, over FUSE-over-io_uring, on our library (or,
# for reference, on the libfuse the same build made).
#
# Usage: scripts/conformance/libfuse319-suite.sh [--lib ours|libfuse] [--io-uring] [-j N]
#                                                [--total-timeout SECS] [--keep-logs] [PATTERN...]
#   --lib ours     (default) every program of the build runs from a copy of its example/ test/
#                  util/ whose ../lib (their RUNPATH is $ORIGIN/../lib) is our target dir, with
#                  LD_LIBRARY_PATH there too: they load our libfuse3.so.4. util/fusermount3 in
#                  that copy is OUR helper (target/<profile>/fusermount3, the one our library
#                  itself uses), so the cases' `fusermount3 -u` and auto_unmount go through it;
#                  util/mount.fuse3 is libfuse's (we have none), running on our library.
#   --lib libfuse  the build's own libfuse3.so.4, fusermount3 and mount.fuse3 (the baseline).
#   --io-uring     the runner's io_uring mode (FUSE_URING_ENABLE=1 for every daemon, and every
#                  session must report `FUSE_INIT: io_uring=on`); turns
#                  /sys/module/fuse/parameters/enable_uring on for the run and puts it back.
#   -j N           parallel tests (default 1: this is a two-core machine shared with others)
#   --total-timeout SECS  bound on the whole run (default 1200); each case has its own too
#   --keep-logs    keep every case's logs (the runner's --keep-logs), not only failed ones'
#   PATTERN...     run-tests.py -t patterns (fnmatch over names like examples/hello-ll-direct)
#
# Cases that cannot pass, and why, are excluded from the run and counted as skipped (listed
# with their reason before the summary):
#   examples/cuse   needs CUSE (/dev/cuse); skipped only when this kernel has none
#   ctests/signals  (ours only) reads `se->error` out of libfuse's private struct fuse_session
#                   (it includes lib/fuse_i.h): a test of libfuse's internals, not its API
#
# Environment it provides, as root: fusectl mounted on /sys/fs/fuse/connections for the run
# when it is not (ctests/teardown-watchdog aborts a connection there; unmounted again after);
# a `sudo` that just runs its command, first on PATH when there is no sudo (the runner reads
# a timed-out case's kernel stacks with `sudo -n cat`, and without sudo the whole run dies).
#
# It proves which library ran: ldd over every built program that needs libfuse3.so.4, and
# maps-audit.py sampling /proc/PID/maps of every process started from the programs' directory.
# Last line, always: "libfuse319-suite: N passed, M failed, K skipped". Exit 0 only when M is
# 0; 1 on failures; 2 when it could not run at all.
#
# Builds once, cached in ${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}/libfuse-3.19 (meson,
# ninja, gcc, g++, liburing-dev; lib.sh's conf_build_libfuse319). Needs root and /dev/fuse.
set -euo pipefail
conf_name=libfuse319-suite
. "$(dirname "$0")/lib.sh"

lib=ours
io_uring=0
jobs=${FERROFUSE_CONF_JOBS:-1}
total_timeout=1200
keep_logs=0
patterns=()
while [ $# -gt 0 ]; do
	case $1 in
	--lib) lib=${2:-}; shift 2 || conf_die "--lib needs ours or libfuse" ;;
	--lib=*) lib=${1#--lib=}; shift ;;
	--io-uring) io_uring=1; shift ;;
	-j) jobs=${2:-}; shift 2 || conf_die "-j needs a number" ;;
	-j*) jobs=${1#-j}; shift ;;
	--total-timeout) total_timeout=${2:-}; shift 2 || conf_die "--total-timeout needs seconds" ;;
	--keep-logs) keep_logs=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) conf_die "unknown option '$1' (see --help)" ;;
	*) patterns+=("$1"); shift ;;
	esac
done
case $lib in
ours|libfuse) ;;
*) conf_die "--lib must be ours or libfuse, not '$lib'" ;;
esac
[[ $jobs =~ ^[1-9][0-9]*$ ]] || conf_die "-j needs a positive number, not '$jobs'"
[[ $total_timeout =~ ^[1-9][0-9]*$ ]] || conf_die "--total-timeout needs seconds, not '$total_timeout'"
[ "$(id -u)" -eq 0 ] || conf_die "run as root (the suite mounts; fusectl and enable_uring need root)"
[ -c /dev/fuse ] || conf_die "/dev/fuse is missing"
conf_need_tools python3 timeout realpath awk ldd flock mount umount

uring_param=/sys/module/fuse/parameters/enable_uring
if [ "$io_uring" = 1 ]; then
	[ -w "$uring_param" ] ||
		conf_die "--io-uring needs a kernel with FUSE io_uring ($uring_param is missing)"
fi

conf_build_libfuse319
top=$conf_319_top
build=$conf_319_build
runner=$conf_319_src/test/run-tests.py
[ -f "$runner" ] || conf_die "$runner not found"

# ---------------------------------------------------------------- exclusions
excluded=()     # "name<TAB>reason"
exclude()
{
	excluded+=("$1	$2")
}
[ -c /dev/cuse ] ||
	exclude examples/cuse "needs CUSE: this kernel has no /dev/cuse (and ferrofuse has no CUSE either)"
[ "$lib" = libfuse ] ||
	exclude ctests/signals "reads se->error from libfuse's private struct fuse_session (lib/fuse_i.h); the same loop return (15) and fuse_session_exited (1) come back on ours"

# ---------------------------------------------------------------- library under test
view=
run_dir=
audit_pid=
out=
audit_log=
fusectl_mounted=
uring_was=
cleanup()
{
	local rc=$?
	set +e
	[ -z "$audit_pid" ] || { kill "$audit_pid" 2>/dev/null; wait "$audit_pid" 2>/dev/null; }
	# The runner unmounts in every case's own trap; a leftover under our dirs is a bug to see.
	local leftover m
	leftover=$(awk -v a="$top/" 'index($5, a) == 1 { print $5 }' /proc/self/mountinfo)
	if [ -n "$leftover" ]; then
		conf_note "warning: unmounting leftovers:" $leftover
		for m in $leftover; do
			umount -l "$m" 2>/dev/null || conf_lazy_umount "$m"
		done
	fi
	[ -z "$uring_was" ] || echo "$uring_was" >"$uring_param"
	[ -z "$fusectl_mounted" ] || umount /sys/fs/fuse/connections 2>/dev/null
	rm -f "${out:-}" "${audit_log:-}"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

env_cmd=(env -u LD_LIBRARY_PATH)
if [ "$lib" = ours ]; then
	libdir=$(conf_lib_dir)
	want_lib=$libdir/libfuse3.so.4
	[ -x "$libdir/fusermount3" ] ||
		conf_die "$libdir/fusermount3 not found: run 'cargo build --workspace'"
	# A copy of the programs whose $ORIGIN/../lib is our target dir, remade by every run (under
	# the lock) and left in place so the repro.sh of a failed case still works. Traversable by
	# anyone: mount.fuse3 -o drop_privileges runs the filesystem without CAP_DAC_OVERRIDE.
	view=$top/ours
	rm -rf --one-file-system "$view"
	mkdir -m 755 "$view"
	for d in example test util; do
		mkdir "$view/$d"
		find "$build/$d" -maxdepth 1 -type f -perm -u+x -exec cp -p {} "$view/$d/" \;
	done
	# The runner reads HAVE_URING (and the sync-init default) from here.
	cp -p "$build/fuse_config.h" "$view/"
	ln -s "$libdir" "$view/lib"
	# Our helper, as a copy: the cases run $FUSE_UTIL_DIR/fusermount3. As root it needs no
	# setuid bit.
	rm -f "$view/util/fusermount3"
	cp "$libdir/fusermount3" "$view/util/fusermount3"
	suite_build=$view
	env_cmd=(env "LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
else
	want_lib=$build/lib/libfuse3.so.4
	suite_build=$build
fi
want_real=$(realpath -e "$want_lib") || conf_die "$want_lib does not exist"
conf_note "library under test: $lib ($want_real); libfuse tree $conf_319_commit"
conf_note "fusermount3: $(realpath -e "$suite_build/util/fusermount3"); mount.fuse3: libfuse's, on the library under test"

# Static proof: every program of the build that needs libfuse3.so.4 resolves it to ours.
checked=0
for f in "$suite_build"/example/* "$suite_build"/test/* "$suite_build"/util/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	resolved=$("${env_cmd[@]}" ldd "$f" 2>/dev/null | awk '$1 == "libfuse3.so.4" { print $3 }')
	[ -n "$resolved" ] || continue
	if [ "$(realpath -e "$resolved" 2>/dev/null)" != "$want_real" ]; then
		conf_die "VERIFY FAILED: $f resolves libfuse3.so.4 to $resolved, not $want_real"
	fi
	checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || conf_die "VERIFY FAILED: no built program links libfuse3.so.4"
conf_note "verified: $checked programs resolve libfuse3.so.4 to $want_real"

# ---------------------------------------------------------------- environment
if [ -d /sys/fs/fuse/connections ] && ! conf_is_mounted /sys/fs/fuse/connections; then
	mount -t fusectl none /sys/fs/fuse/connections ||
		conf_die "cannot mount fusectl on /sys/fs/fuse/connections"
	fusectl_mounted=1
	conf_note "mounted fusectl on /sys/fs/fuse/connections for the run"
fi
shim=
if ! command -v sudo >/dev/null 2>&1; then
	shim=$top/shim
	mkdir -p "$shim"
	cat >"$shim/sudo" <<'SUDO'
#!/bin/sh
# Root already (libfuse319-suite.sh): run the command itself, ignoring sudo's -n.
while [ $# -gt 0 ]; do case $1 in -n|-E) shift ;; *) break ;; esac; done
exec "$@"
SUDO
	chmod 755 "$shim/sudo"
fi

if [ "$io_uring" = 1 ]; then
	# One run at a time owns the kernel parameter (the same lock test-syscalls.sh takes).
	exec 8>"${TMPDIR:-/tmp}/ferrofuse-enable-uring.lock"
	flock -w 900 8 || conf_die "another run holds the io_uring parameter for 15 minutes"
	uring_was=$(cat "$uring_param")
	echo Y >"$uring_param"
fi

# Dynamic proof: sample the maps of every process started from the build during the run.
audit_log=$(mktemp "$top/audit.XXXXXX")
rm -f "$audit_log"
python3 "$conf_repo/scripts/conformance/maps-audit.py" "$suite_build" "$want_real" \
	"$audit_log" &
audit_pid=$!
for _ in $(seq 100); do
	[ ! -e "$audit_log" ] || break
	kill -0 "$audit_pid" 2>/dev/null || conf_die "maps-audit.py did not start"
	sleep 0.1
done
[ -e "$audit_log" ] || conf_die "maps-audit.py did not start watching within 10 s"

# ---------------------------------------------------------------- run
mode=devfuse
[ "$io_uring" = 0 ] || mode=io_uring
run_dir=$top/runs/$lib-$mode-$(date +%y%m%d%H%M%S)-$$
mkdir -p "$top/runs"
# Failed runs keep their logs there; keep the ten newest.
find "$top/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +11 |
	cut -d' ' -f2- | while read -r old; do rm -rf --one-file-system "$old"; done
args=(--build-dir "$suite_build" --run-dir "$run_dir" -j "$jobs")
[ "$io_uring" = 0 ] || args+=(--io-uring)
[ "$keep_logs" = 0 ] || args+=(--keep-logs)
for p in ${patterns[@]+"${patterns[@]}"}; do
	args+=(-t "$p")
done
for e in ${excluded[@]+"${excluded[@]}"}; do
	args+=(-X "${e%%	*}")
done
out=$(mktemp)
conf_note "running libfuse's suite over ${mode/devfuse//dev/fuse} (-j$jobs); logs of failures stay in $run_dir"
# FUSE_TESTS_UNDER_SCOPE: the runner's own marker that it has already re-executed itself under
# `systemd-run --user --scope`, which fails where there is no user manager (CI, containers).
"${env_cmd[@]}" ${shim:+PATH=$shim:$PATH} FUSE_TESTS_UNDER_SCOPE=1 \
	timeout -k 30 "$total_timeout" python3 "$runner" "${args[@]}" 2>&1 | tee "$out" &&
	rc=0 || rc=${PIPESTATUS[0]}

kill "$audit_pid" 2>/dev/null || true
wait "$audit_pid" 2>/dev/null || true
audit_pid=

summary=$(grep -E '^[0-9]+ tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$out" | tail -1 || true)
mounted_passed=$(grep -cE '^\+ *[0-9.]+s PASS +(examples|mount|ctests|notify|misc/hello-uds)' "$out" || true)
passed=0 failed=0 skipped=0
if [ -n "$summary" ]; then
	read -r passed failed skipped < <(sed -E \
		's/^[0-9]+ tests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' \
		<<<"$summary")
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	conf_note "run-tests.py did not finish within $total_timeout s"
	failed=$((failed + 1))
elif [ "$rc" -eq 77 ]; then
	conf_note "run-tests.py refused to run (exit 77: the kernel did not offer io_uring?)"
	failed=$((failed + 1))
elif [ -z "$summary" ]; then
	conf_note "run-tests.py exited $rc without a summary"
	failed=$((failed + 1))
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	conf_note "run-tests.py exited $rc with no failed test"
	failed=1
fi
rm -f "$out"

seen=$(grep -c '^ok ' "$audit_log" 2>/dev/null || true)
wrong=$(grep '^WRONG ' "$audit_log" 2>/dev/null || true)
rm -f "$audit_log"
if [ -n "$wrong" ]; then
	conf_note "VERIFY FAILED: processes mapped another libfuse3:"
	echo "$wrong" >&2
	failed=$((failed + 1))
elif [ "${seen:-0}" -eq 0 ] && [ "${mounted_passed:-0}" -gt 0 ]; then
	conf_note "VERIFY FAILED: no process of the run was seen mapping $want_real"
	failed=$((failed + 1))
else
	conf_note "verified: ${seen:-0} processes seen mapping $want_real, none another libfuse3"
fi

# Excluded cases count as skipped, each with its reason (only those the selection had).
if [ ${#excluded[@]} -gt 0 ]; then
	sel=()
	for p in ${patterns[@]+"${patterns[@]}"}; do sel+=(-t "$p"); done
	listed=$(python3 "$runner" --build-dir "$suite_build" -l ${sel[@]+"${sel[@]}"} 2>/dev/null || true)
	for e in "${excluded[@]}"; do
		name=${e%%	*}
		if grep -qxF "$name" <<<"$listed"; then
			echo "skipped: $name: ${e#*	}"
			skipped=$((skipped + 1))
		fi
	done
fi
echo "libfuse319-suite: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
