#!/bin/bash
# libfuse 3.14's own pytest suite (Debian 12's source tree: test/test_examples.py,
# test/test_ctests.py, test/test_custom_io.py), run over the examples and tests built from the
# same tree, against the library of choice.
#
# Usage: scripts/conformance/libfuse314-pytest.sh [--lib system|ours] [-k EXPR]
#                                                 [--total-timeout SECS] [FILE...]
#   --lib system  Debian 12's /usr/lib/x86_64-linux-gnu/libfuse3.so.3 (the reference; default,
#                 or $FUSE_UNDER_TEST)
#   --lib ours    ours: ${FERROFUSE_LIB_DIR:-<repo>/target/debug}/libfuse3.so.3
#   -k EXPR       pytest's -k (e.g. 'notify or poll or ioctl or null'); default: every case
#   --total-timeout SECS  bound on the whole pytest run (default 900)
#   FILE...       test files relative to the tree's test/ (default: test_examples.py
#                 test_ctests.py test_custom_io.py, i.e. the whole suite)
#
# Either way the programs run from a copy of the build's example/ test/ util/ whose ../lib
# (their RUNPATH is $ORIGIN/../lib) holds only the library under test, with LD_LIBRARY_PATH
# pointing there too; meson's own libfuse3.so.3 is unreachable from the copy. The script proves
# which library was loaded: ldd over every copied program that needs libfuse3.so.3, and
# maps-audit.py sampling /proc/PID/maps of every process started from the copy during the run.
#
# Output: one line per case, `case: <outcome> <test id>` (outcome passed, failed or skipped; a
# case with an error in setup or teardown counts as failed), then always, last:
# "libfuse314-pytest: N passed, M failed, K skipped". Exit 0 only when M is 0 and the library
# was verified; 1 on failures; 2 when it could not run at all.
#
# Builds (cached in ${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}/libfuse-3.14.0/build) the
# whole 3.14 tree with meson + ninja. Needs root, /dev/fuse, gcc, g++ (passthrough_hp), meson,
# ninja, and a python3 with pytest (Debian 12: apt-get install python3-pytest; the suite also
# imports distutils, in python3-distutils). The suite wants fusectl: the script mounts it on
# /sys/fs/fuse/connections when it is not, and unmounts it again afterwards.
set -euo pipefail
conf_name=libfuse314-pytest
. "$(dirname "$0")/lib.sh"

lib=${FUSE_UNDER_TEST:-system}
kexpr=
total_timeout=900
files=()
while [ $# -gt 0 ]; do
	case $1 in
	--lib) lib=${2:-}; shift 2 || conf_die "--lib needs system or ours" ;;
	--lib=*) lib=${1#--lib=}; shift ;;
	-k) kexpr=${2:-}; shift 2 || conf_die "-k needs an expression" ;;
	--total-timeout) total_timeout=${2:-}; shift 2 || conf_die "--total-timeout needs seconds" ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) conf_die "unknown option '$1' (see --help)" ;;
	*) files+=("$1"); shift ;;
	esac
done
case $lib in
system|ours) ;;
*) conf_die "--lib must be system or ours, not '$lib'" ;;
esac
[[ $total_timeout =~ ^[1-9][0-9]*$ ]] || conf_die "--total-timeout needs seconds, not '$total_timeout'"
[ ${#files[@]} -gt 0 ] || files=(test_examples.py test_ctests.py test_custom_io.py)

conf_need_tools meson ninja gcc g++ timeout realpath awk ldd flock mount umount
[ -e /dev/fuse ] || conf_die "/dev/fuse does not exist"
[ "$(id -u)" -eq 0 ] || conf_die "run as root (the suite mounts, and its fusectl needs mounting)"
# pytest from Debian's python3-pytest: prefer Debian's interpreter over one earlier in PATH
# (pyenv and the like) that lacks it.
python=
for p in ${FERROFUSE_PYTHON:-} /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import pytest, distutils.version' 2>/dev/null; then
		python=$(command -v "$p")
		break
	fi
done
[ -n "$python" ] || conf_die "no python3 with pytest and distutils (apt-get install python3-pytest python3-distutils)"

# ---------------------------------------------------------------- build (cached)
tree=$(conf_ref_tree bookworm fuse3-3.14.0)
[ -f "$tree/test/test_examples.py" ] || conf_die "$tree/test/test_examples.py not found"
for f in "${files[@]}"; do
	[ -f "$tree/test/$f" ] || conf_die "no test file $f in $tree/test"
done
top=$conf_cache/libfuse-3.14.0
build=$top/build
mkdir -p "$top"
exec 9>"$top/.lock"
# One build, and one run (it edits the shared view and maybe fusectl), at a time.
flock -w 1200 9 || conf_die "another run holds $top/.lock for 20 minutes"
if [ ! -f "$build/build.ninja" ]; then
	rm -rf "$build"
	conf_note "configuring libfuse 3.14.0 in $build"
	# Nothing is installed from this build: keep meson away from /etc and udev.
	meson setup "$build" "$tree" -Dbuildtype=debugoptimized -Dexamples=true -Dtests=true \
		-Dutils=true -Duseroot=false -Dinitscriptdir= -Dudevrulesdir="$top/udev" \
		>"$top/meson-setup.log" 2>&1 || {
		tail -n 30 "$top/meson-setup.log" >&2
		rm -rf "$build"
		conf_die "meson setup failed (log: $top/meson-setup.log)"
	}
fi
conf_note "building libfuse 3.14.0's examples and tests"
timeout -k 10 1200 ninja -C "$build" -j "${FERROFUSE_CONF_BUILD_JOBS:-2}" >"$top/ninja.log" 2>&1 || {
	tail -n 30 "$top/ninja.log" >&2
	conf_die "ninja failed (log: $top/ninja.log)"
}

# ---------------------------------------------------------------- library under test
if [ "$lib" = ours ]; then
	libdir=$(conf_lib_dir)
	want_lib=$libdir/libfuse3.so.3
else
	want_lib=/usr/lib/x86_64-linux-gnu/libfuse3.so.3
	[ -e "$want_lib" ] || conf_die "$want_lib not found (apt-get install libfuse3-3)"
	# A directory holding that one library, to be the copy's ../lib.
	libdir=$top/system-lib
	rm -rf "$libdir"
	mkdir "$libdir"
	ln -s "$(realpath -e "$want_lib")" "$libdir/libfuse3.so.3"
fi
want_real=$(realpath -e "$want_lib") || conf_die "$want_lib does not exist"
conf_note "library under test: $lib ($want_real)"

# The copy: the suite finds everything relative to test/.. (its `basename`), and puts util/
# and example/ on PATH. Remade by every run, under the lock; left in place for reruns by hand.
view=$top/view-$lib
rm -rf --one-file-system "$view"
mkdir -m 755 "$view"
for d in example test util; do
	mkdir "$view/$d"
	find "$build/$d" -maxdepth 1 -type f \( -perm -u+x -o -name '*.py' -o -name '*.ini' \) \
		-exec cp -p {} "$view/$d/" \;
done
ln -s "$libdir" "$view/lib"
# FUSE_URING_ENABLE=0: /dev/fuse, as libfuse 3.14 (no io_uring) uses, whatever the kernel's
# io_uring switch says (ours makes io_uring the multithreaded loop's default where offered).
env_cmd=(env "FUSE_URING_ENABLE=0" "LD_LIBRARY_PATH=$libdir")

checked=0
for f in "$view"/example/* "$view"/test/* "$view"/util/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	resolved=$("${env_cmd[@]}" ldd "$f" 2>/dev/null | awk '$1 == "libfuse3.so.3" { print $3 }' || true)
	[ -n "$resolved" ] || continue
	if [ "$(realpath -e "$resolved" 2>/dev/null)" != "$want_real" ]; then
		conf_die "VERIFY FAILED: $f resolves libfuse3.so.3 to $resolved, not $want_real"
	fi
	checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || conf_die "VERIFY FAILED: no copied program links libfuse3.so.3"
conf_note "verified: $checked programs resolve libfuse3.so.3 to $want_real"

# ---------------------------------------------------------------- run
run_dir=$top/runs/$lib-$(date +%y%m%d%H%M%S)-$$
mkdir -p "$run_dir"
find "$top/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +11 |
	cut -d' ' -f2- | while read -r old; do rm -rf --one-file-system "$old"; done
audit_pid=
fusectl_mounted=
mounts_before=$(awk '$9 ~ /^fuse/ { print $5 }' /proc/self/mountinfo | sort)
cleanup()
{
	local rc=$?
	set +e
	[ -z "$audit_pid" ] || { kill "$audit_pid" 2>/dev/null; wait "$audit_pid" 2>/dev/null; }
	# A case that is killed (total timeout) leaves its mount: under pytest's basetemp, or a
	# tempfile.mkdtemp() directory (/tmp/tmpXXXXXXXX) for the passthrough cases.
	local m
	awk '$9 ~ /^fuse/ { print $5 }' /proc/self/mountinfo | sort |
		comm -13 <(echo "$mounts_before") - | while read -r m; do
			case $m in
			"$run_dir"/* | /tmp/tmp*)
				conf_note "warning: unmounting leftover $m"
				conf_lazy_umount "$m" ;;
			esac
		done
	[ -z "$fusectl_mounted" ] || umount /sys/fs/fuse/connections 2>/dev/null
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! awk '$5 == "/sys/fs/fuse/connections" { f = 1 } END { exit !f }' /proc/self/mountinfo; then
	mount -t fusectl none /sys/fs/fuse/connections ||
		conf_die "cannot mount fusectl on /sys/fs/fuse/connections"
	fusectl_mounted=1
fi

audit_log=$run_dir/maps-audit.log
"$python" "$conf_repo/scripts/conformance/maps-audit.py" "$view" "$want_real" "$audit_log" &
audit_pid=$!
for _ in $(seq 100); do
	[ ! -e "$audit_log" ] || break
	kill -0 "$audit_pid" 2>/dev/null || conf_die "maps-audit.py did not start"
	sleep 0.1
done
[ -e "$audit_log" ] || conf_die "maps-audit.py did not start watching within 10 s"

junit=$run_dir/junit.xml
log=$run_dir/pytest.log
conf_note "running pytest ${files[*]}${kexpr:+ -k '$kexpr'}; log: $log"
k_args=()
[ -z "$kexpr" ] || k_args=(-k "$kexpr")
# pytest.ini adds -x: --maxfail overrides it so one failure does not hide the rest.
rc=0
(cd "$view/test" && "${env_cmd[@]}" timeout -k 30 "$total_timeout" "$python" -m pytest \
	"${files[@]}" --maxfail=100000 -p no:cacheprovider --basetemp="$run_dir/tmp" \
	--junitxml="$junit" "${k_args[@]}") >"$log" 2>&1 || rc=$?

kill "$audit_pid" 2>/dev/null || true
wait "$audit_pid" 2>/dev/null || true
audit_pid=

passed=0 failed=0 skipped=0
if [ -s "$junit" ]; then
	# Per case: a <failure> or <error> (setup/teardown) makes it failed, <skipped> skipped.
	cases=$("$python" - "$junit" <<-'EOF'
		import sys, xml.etree.ElementTree as ET
		res = {}
		for tc in ET.parse(sys.argv[1]).iter('testcase'):
		    tid = tc.get('classname', '').replace('.', '/') + '.py::' + tc.get('name', '')
		    tags = {c.tag for c in tc}
		    out = 'failed' if tags & {'failure', 'error'} else 'skipped' if 'skipped' in tags else 'passed'
		    if res.get(tid) != 'failed':
		        res[tid] = out
		for tid, out in res.items():
		    print(f'{out} {tid}')
	EOF
	) || cases=
	while read -r out tid; do
		[ -n "$out" ] || continue
		echo "case: $out $tid"
		case $out in
		passed) passed=$((passed + 1)) ;;
		failed) failed=$((failed + 1)) ;;
		skipped) skipped=$((skipped + 1)) ;;
		esac
	done <<<"$cases"
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	conf_note "pytest did not finish within $total_timeout s"
	failed=$((failed + 1))
elif [ "$rc" -eq 5 ]; then
	conf_note "pytest collected no case${kexpr:+ matching -k '$kexpr'}"
	failed=$((failed + 1))
elif [ $((passed + failed + skipped)) -eq 0 ]; then
	conf_note "pytest exited $rc without results"
	failed=$((failed + 1))
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	conf_note "pytest exited $rc with no failed case"
	failed=$((failed + 1))
fi
if [ "$failed" -gt 0 ]; then
	echo "--- pytest output (failures) ---" >&2
	sed -n '/^=* \(ERRORS\|FAILURES\) =*$/,/^=* \(warnings summary\|short test summary info\) =*$/p' \
		"$log" | tail -n 200 >&2
	echo "--- end (full log: $log) ---" >&2
fi

seen=$(grep -c '^ok ' "$audit_log" 2>/dev/null || true)
wrong=$(grep '^WRONG ' "$audit_log" 2>/dev/null || true)
if [ -n "$wrong" ]; then
	conf_note "VERIFY FAILED: processes mapped another libfuse3:"
	echo "$wrong" >&2
	failed=$((failed + 1))
elif [ "${seen:-0}" -eq 0 ] && [ "$passed" -gt 0 ]; then
	conf_note "VERIFY FAILED: no process of the run was seen mapping $want_real"
	failed=$((failed + 1))
else
	conf_note "verified: ${seen:-0} processes seen mapping $want_real, none another libfuse3"
fi
[ "$failed" -gt 0 ] || rm -rf --one-file-system "$run_dir"

echo "libfuse314-pytest: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
