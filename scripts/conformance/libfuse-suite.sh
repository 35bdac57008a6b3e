#!/bin/bash
# libfuse 3.18.3's own test suite (Debian unstable's source tree: test/run-tests.py over
# test/cases/**.sh), run against the library of choice.
#
# Usage: scripts/conformance/libfuse-suite.sh [--lib system|ours] [--select SET] [-j N]
#                                             [--total-timeout SECS] [--list] [--categories]
#                                             [PATTERN...]
#   --lib system  the libfuse3.so.4 meson built from the same tree (the reference; default, or
#                 $FUSE_UNDER_TEST)
#   --lib ours    ours: every libfuse program of the build is run from a copy of the build's
#                 example/ test/ util/ whose ../lib (their RUNPATH is $ORIGIN/../lib) is our
#                 target dir, with LD_LIBRARY_PATH pointing there too; meson's library is not
#                 reachable from that copy at all.
#   --select SET  which cases (default st); see the categories below, or --categories:
#                   st        low-level API, single-threaded loop (fuse_session_loop)
#                   mt        low-level API needing fuse_session_loop_mt (and, through
#                             mount.fuse3, fuse_daemonize), no notifications
#                   lowlevel  st + mt
#                   notify    notifications (inval_inode/entry, store/retrieve, prune)
#                   highlevel high-level API (fuse.h: fuse_main, fuse_new) programs
#                   other     low-level ioctl, CUSE, fusermount3-only cases
#                   all       every case
#   -j N          parallel tests (run-tests.py's -j; default 1 to stay frugal)
#   --total-timeout SECS  bound on the whole run (default 1500); each case has its own too
#   PATTERN...    run-tests.py -t patterns (fnmatch over names like examples/hello-ll-direct);
#                 replaces --select
#   --list        print the selected test names and exit
#   --categories  print every test with its category and exit
#
# Both ways it proves which libfuse3 the programs load: ldd over every built program that
# needs libfuse3.so.4, and a watcher sampling /proc/PID/maps of every process started from the
# build (scripts/conformance/maps-audit.py) during the run.
# Last line, always: "libfuse-suite: N passed, M failed, K skipped". Exit 0 only when M is 0
# and the library was verified; 1 on failures; 2 when it could not run at all.
#
# Builds, cached in ${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}/libfuse-3.18.3/build, only
# the targets the selection needs (meson + ninja; Debian 12: apt-get install meson ninja-build).
# Needs root (the suite's mounts and the root-only cases), /dev/fuse, gcc, python3.
set -euo pipefail
conf_name=libfuse-suite
. "$(dirname "$0")/lib.sh"

lib=${FUSE_UNDER_TEST:-system}
select=st
jobs=${FERROFUSE_CONF_JOBS:-1}
patterns=()
mode=run
total_timeout=1500
while [ $# -gt 0 ]; do
	case $1 in
	--lib) lib=${2:-}; shift 2 || conf_die "--lib needs system or ours" ;;
	--lib=*) lib=${1#--lib=}; shift ;;
	--select) select=${2:-}; shift 2 || conf_die "--select needs a set" ;;
	--select=*) select=${1#--select=}; shift ;;
	-j) jobs=${2:-}; shift 2 || conf_die "-j needs a number" ;;
	-j*) jobs=${1#-j}; shift ;;
	--total-timeout) total_timeout=${2:-}; shift 2 || conf_die "--total-timeout needs seconds" ;;
	--list) mode=list; shift ;;
	--categories) mode=categories; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) conf_die "unknown option '$1' (see --help)" ;;
	*) patterns+=("$1"); shift ;;
	esac
done
case $lib in
system|ours) ;;
*) conf_die "--lib must be system or ours, not '$lib'" ;;
esac
case $select in
st|mt|lowlevel|notify|highlevel|other|private|all) ;;
*) conf_die "--select must be st, mt, lowlevel, notify, highlevel, other, private or all, not '$select'" ;;
esac
[[ $jobs =~ ^[1-9][0-9]*$ ]] || conf_die "-j needs a positive number, not '$jobs'"
[[ $total_timeout =~ ^[1-9][0-9]*$ ]] || conf_die "--total-timeout needs seconds, not '$total_timeout'"

# ---------------------------------------------------------------- categories
# Every test id of the 3.18.3 suite, by what it needs from the library. Read from the cases
# and the example sources: hello_ll gets -s only where lib/hello.sh launches it directly (the
# mount.fuse3 variants run it multi-threaded and daemonized); passthrough_ll, passthrough_hp and
# the notify examples loop with fuse_session_loop_mt unless given -s, which no case passes.
category()
{
	case $1 in
	examples/hello-ll-direct | examples/hello-ll-direct-clone_fd | \
		misc/hello-uds | misc/printcap | mount/*-hello-ll | \
		ctests/api-30 | ctests/write-cache | ctests/write-cache-writeback | unit/test_abi)
		echo st ;;
	examples/hello-ll-mount-fuse* | examples/hello-ll-dropcaps* | \
		examples/passthrough-ll* | examples/passthrough-hp* | \
		examples/dev-auto-unmount-*)
		echo mt ;;
	# test_signals includes libfuse's private fuse_i.h and reads `se->error` out of libfuse's
	# own struct fuse_session: it tests libfuse's internals, not its API, and cannot run on
	# another implementation of that API.
	ctests/signals)
		echo private ;;
	notify/inval-inode* | notify/inval-entry-* | notify/store-retrieve* | notify/prune*)
		echo notify ;;
	examples/hello-direct* | examples/hello-mount-fuse* | examples/hello-dropcaps* | \
		examples/test-hello-* | mount/*-hello | \
		examples/passthrough-base* | examples/passthrough-plus* | examples/passthrough-fh* | \
		examples/passthrough-zero-ino* | examples/null | examples/release-unlink-race | \
		examples/ioctl | examples/poll | \
		notify/file-size* | notify/invalidate-path*)
		echo highlevel ;;
	mount/mountpoint-* | examples/ioctl-ll | examples/cuse)
		echo other ;;
	*) echo unknown ;;
	esac
}
in_select()
{
	local c=$1
	case $select in
	all) return 0 ;;
	lowlevel) [ "$c" = st ] || [ "$c" = mt ] ;;
	*) [ "$c" = "$select" ] ;;
	esac
}

conf_need_tools python3 timeout realpath awk ldd flock
tree=$(conf_ref_tree sid fuse3-3.18.3)
runner=$tree/test/run-tests.py
[ -f "$runner" ] || conf_die "$runner not found: this tree has no run-tests.py suite"

all_names=$(python3 "$runner" --list)
if [ "$mode" = categories ]; then
	while read -r name; do
		printf '%-8s %s\n' "$(category "$name")" "$name"
	done <<<"$all_names"
	exit 0
fi
unknown=$(while read -r name; do [ "$(category "$name")" != unknown ] || echo "$name"; done \
	<<<"$all_names")
[ -z "$unknown" ] ||
	conf_die "tests this script does not categorise (update category()):" $unknown

selected=()
if [ ${#patterns[@]} -gt 0 ]; then
	listed=$(python3 "$runner" --list "${patterns[@]/#/-t}" 2>&1) ||
		conf_die "bad pattern: $listed"
	mapfile -t selected <<<"$listed"
else
	while read -r name; do
		in_select "$(category "$name")" && selected+=("$name")
	done <<<"$all_names"
fi
if [ "$mode" = list ]; then
	printf '%s\n' "${selected[@]}"
	exit 0
fi
[ ${#selected[@]} -gt 0 ] || conf_die "nothing selected"
# ---------------------------------------------------------------- build (cached)
# Which build targets the selected cases run. Anything not built makes its case skip
# ("... not built"), so this list and the case list must agree: a skip count that grows is
# the symptom.
targets=(example/printcap util/fusermount3 util/mount.fuse3)
for name in "${selected[@]}"; do
	case $name in
	misc/printcap) ;;
	*hello-ll*) targets+=(example/hello_ll) ;;
	misc/hello-uds) targets+=(example/hello_ll_uds) ;;
	examples/passthrough-ll* | examples/dev-auto-unmount-*)
		targets+=(example/passthrough_ll test/test_syscalls test/readdir_inode) ;;
	examples/passthrough-hp*)
		targets+=(example/passthrough_hp test/test_syscalls test/readdir_inode) ;;
	ctests/api-30) targets+=(test/test_api_30) ;;
	ctests/write-cache*) targets+=(test/test_write_cache) ;;
	ctests/signals) targets+=(test/test_signals) ;;
	unit/test_abi) targets+=(test/test_abi) ;;
	notify/inval-inode*) targets+=(example/notify_inval_inode) ;;
	notify/inval-entry*) targets+=(example/notify_inval_entry) ;;
	notify/store-retrieve*) targets+=(example/notify_store_retrieve) ;;
	*) targets=(all); break ;;      # the rest: simply build everything
	esac
done
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
[[ " ${targets[*]} " != *" all "* ]] || targets=()

conf_build_libfuse318 "${targets[@]}"
top=$conf_318_top
build=$conf_318_build

# ---------------------------------------------------------------- library under test
view=
run_dir=
audit_pid=
out=
audit_log=
cleanup()
{
	local rc=$?
	set +e
	[ -z "$audit_pid" ] || { kill "$audit_pid" 2>/dev/null; wait "$audit_pid" 2>/dev/null; }
	# The runner unmounts in every case's own trap; a leftover under our dirs is a bug to see.
	local leftover
	leftover=$(awk -v a="$top/" -v b="${run_dir:-/nonexistent}/" \
		'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo)
	if [ -n "$leftover" ]; then
		conf_note "warning: unmounting leftovers:" $leftover
		for m in $leftover; do conf_lazy_umount "$m"; done
	fi
	rm -f "${out:-}" "${audit_log:-}"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

env_cmd=(env -u LD_LIBRARY_PATH)
if [ "$lib" = ours ]; then
	libdir=$(conf_lib_dir)
	want_lib=$libdir/libfuse3.so.4
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
	cp -p "$build/fuse_config.h" "$view/"
	ln -s "$libdir" "$view/lib"
	suite_build=$view
	env_cmd=(env "LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
else
	want_lib=$build/lib/libfuse3.so.4
	suite_build=$build
fi
want_real=$(realpath -e "$want_lib") || conf_die "$want_lib does not exist"
conf_note "library under test: $lib ($want_real)"

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

# Dynamic proof: sample the maps of every process started from the build during the run.
audit_log=$(mktemp "$top/audit.XXXXXX")
rm -f "$audit_log"
python3 "$conf_repo/scripts/conformance/maps-audit.py" "$suite_build" "$want_real" \
	"$audit_log" &
audit_pid=$!
# It creates its log when it starts watching; a run begun before that could go unsampled.
for _ in $(seq 100); do
	[ ! -e "$audit_log" ] || break
	kill -0 "$audit_pid" 2>/dev/null || conf_die "maps-audit.py did not start"
	sleep 0.1
done
[ -e "$audit_log" ] || conf_die "maps-audit.py did not start watching within 10 s"

# ---------------------------------------------------------------- run
run_dir=$top/runs/$lib-$(date +%y%m%d%H%M%S)-$$
mkdir -p "$top/runs"
# Failed runs keep their logs there; keep the ten newest.
find "$top/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +11 |
	cut -d' ' -f2- | while read -r old; do rm -rf --one-file-system "$old"; done
out=$(mktemp)
conf_note "running ${#selected[@]} tests (-j$jobs); logs of failures stay in $run_dir"
# FUSE_TESTS_UNDER_SCOPE: the runner's own marker that it has already re-executed itself under
# `systemd-run --user --scope`, which fails where there is no user manager (CI, containers).
"${env_cmd[@]}" FUSE_TESTS_UNDER_SCOPE=1 timeout -k 30 "$total_timeout" \
	python3 "$runner" --build-dir "$suite_build" --run-dir "$run_dir" -j "$jobs" \
	"${selected[@]/#/-t}" 2>&1 | tee "$out" && rc=0 || rc=${PIPESTATUS[0]}

kill "$audit_pid" 2>/dev/null || true
wait "$audit_pid" 2>/dev/null || true
audit_pid=

# Tests that pass while a filesystem process lives long enough to be sampled (not the
# unit test, nor printcap, which mount and exit within milliseconds).
mounted_passed=$(grep -cE '^\+ *[0-9.]+s PASS +(examples|mount|ctests|notify|misc/hello-uds)' "$out" || true)
summary=$(grep -E '^[0-9]+ tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$out" | tail -1 || true)
rm -f "$out"
passed=0 failed=0 skipped=0
if [ -n "$summary" ]; then
	read -r passed failed skipped < <(sed -E \
		's/^[0-9]+ tests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' \
		<<<"$summary")
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	conf_note "run-tests.py did not finish within $total_timeout s"
	failed=$((failed + 1))
elif [ -z "$summary" ]; then
	conf_note "run-tests.py exited $rc without a summary"
	failed=$((failed + 1))
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	conf_note "run-tests.py exited $rc with no failed test"
	failed=1
fi

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
elif [ "${seen:-0}" -eq 0 ]; then
	conf_note "no filesystem process lived long enough to be sampled (no mounting case passed)"
else
	conf_note "verified: ${seen:-0} processes seen mapping $want_real, none another libfuse3"
fi

echo "libfuse-suite: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
