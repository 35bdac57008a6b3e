# Shared by the conformance scripts: which library is under test, where the caches are, and
# how to prove which libfuse a process really mapped. Sourced, not run.
#
#   FERROFUSE_LIB_DIR     our cdylibs (default <repo>/target/debug)
#   FERROFUSE_CONF_CACHE  builds of libfuse's own programs (default /var/tmp/ferrofuse-conf)
#   FERROFUSE_REF_DIR     the Debian source trees tests/fetch-reference.sh unpacks

conf_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
conf_cache=${FERROFUSE_CONF_CACHE:-/var/tmp/ferrofuse-conf}
conf_ref=${FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}

conf_die()
{
	echo "$conf_name: error: $*" >&2
	exit 2
}

conf_note()
{
	echo "$conf_name: $*" >&2
}

# conf_need_tools <cmd>...: fail early, naming what is missing.
conf_need_tools()
{
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		conf_die "missing tools: ${missing[*]} (see scripts/conformance/README.md for what CI installs)"
}

# conf_lib_dir: our build's directory, checked to hold both sonames.
conf_lib_dir()
{
	local dir=${FERROFUSE_LIB_DIR:-$conf_repo/target/debug}
	local so
	for so in libfuse3.so.3 libfuse3.so.4; do
		[ -e "$dir/$so" ] ||
			conf_die "$dir/$so not found: run 'cargo build --workspace' (or set FERROFUSE_LIB_DIR)"
	done
	(cd "$dir" && pwd -P)
}

# conf_ref_tree <suite> <dir>: a Debian source tree, fetched (once) if missing.
conf_ref_tree()
{
	local tree=$conf_ref/$1/$2
	if [ ! -f "$tree/include/fuse_lowlevel.h" ]; then
		conf_note "fetching the reference trees (tests/fetch-reference.sh)"
		bash "$conf_repo/tests/fetch-reference.sh" >/dev/null ||
			conf_die "tests/fetch-reference.sh failed"
	fi
	[ -f "$tree/include/fuse_lowlevel.h" ] || conf_die "$tree is missing after fetching"
	echo "$tree"
}

# conf_fuse_maps <pid>: the real paths of every libfuse3 the process has mapped, one a line.
conf_fuse_maps()
{
	local path
	# Field 6 of /proc/PID/maps is the mapped file; the kernel prints it resolved.
	awk '$6 ~ /\/libfuse3(_abi3)?\.so/ { print $6 }' "/proc/$1/maps" 2>/dev/null | sort -u |
		while read -r path; do
			realpath -e "$path" 2>/dev/null || echo "$path"
		done
}

# conf_verify_maps <pid> <expected-file>: the process maps exactly that libfuse3 and no other.
conf_verify_maps()
{
	local pid=$1 want maps
	want=$(realpath -e "$2") || conf_die "$2 does not exist"
	maps=$(conf_fuse_maps "$pid")
	if [ -z "$maps" ]; then
		echo "$conf_name: VERIFY FAILED: process $pid maps no libfuse3 at all (wanted $want)" >&2
		return 1
	fi
	if [ "$maps" != "$want" ]; then
		echo "$conf_name: VERIFY FAILED: process $pid maps" $maps "instead of $want" >&2
		return 1
	fi
	conf_note "verified: process $pid ($(readlink "/proc/$pid/exe")) maps $want"
}

# conf_is_mounted <path>: a mount point right now (by /proc/self/mountinfo, no stat of the
# mount itself, so a wedged daemon cannot hang the check).
conf_is_mounted()
{
	local p
	p=$(realpath -m "$1")
	awk -v p="$p" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# conf_wait_mount <path> <pid> <seconds>: until mounted; fails when the daemon exits first.
conf_wait_mount()
{
	local path=$1 pid=$2 deadline=$((SECONDS + $3))
	while [ $SECONDS -lt "$deadline" ]; do
		conf_is_mounted "$path" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			conf_is_mounted "$path" && return 0
			echo "$conf_name: the filesystem process exited before mounting $path" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "$conf_name: $path did not come up within $3 s" >&2
	return 1
}

# conf_lazy_umount <path>: the give-up path; never fails.
conf_lazy_umount()
{
	conf_is_mounted "$1" || return 0
	timeout -k 5 20 fusermount3 -u -z "$1" >/dev/null 2>&1 ||
		timeout -k 5 20 umount -l "$1" >/dev/null 2>&1 || true
}

# conf_stop_pid <pid>: TERM, then KILL after 3 s; never fails.
conf_stop_pid()
{
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# conf_build_libfuse318 [--no-hold] <ninja-target>...: libfuse 3.18.3 (Debian unstable's tree)
# configured and built with meson under $conf_cache/libfuse-3.18.3/build (cached; only the
# targets asked for; none means everything). Sets conf_318_tree, conf_318_top and
# conf_318_build, and leaves fd 9 holding $conf_318_top/.lock: one build (and one run of its
# copies) at a time; close fd 9 to let others in. --no-hold (for users of the library alone:
# the benchmark, tests): when the targets are already up to date, return at once without the
# lock, whose holder may be a suite run of half an hour.
conf_build_libfuse318()
{
	local no_hold=0
	if [ "${1:-}" = --no-hold ]; then
		no_hold=1
		shift
	fi
	conf_need_tools meson ninja gcc
	conf_318_tree=$(conf_ref_tree sid fuse3-3.18.3)
	conf_318_top=$conf_cache/libfuse-3.18.3
	conf_318_build=$conf_318_top/build
	mkdir -p "$conf_318_top"
	if [ "$no_hold" = 1 ] && [ -f "$conf_318_build/build.ninja" ] && [ $# -gt 0 ] &&
		ninja -C "$conf_318_build" -n "$@" 2>/dev/null | grep -q '^ninja: no work to do'; then
		return 0
	fi
	exec 9>"$conf_318_top/.lock"
	flock -w 900 9 || conf_die "another run holds $conf_318_top/.lock for 15 minutes"
	if [ ! -f "$conf_318_build/build.ninja" ]; then
		rm -rf "$conf_318_build"
		conf_note "configuring libfuse 3.18.3 in $conf_318_build"
		# custom-io for hello_ll_uds; io-uring off (its cases are a run mode we do not use).
		meson setup "$conf_318_build" "$conf_318_tree" -Dbuildtype=debugoptimized \
			-Dexamples=true -Dtests=true -Dutils=true -Denable-custom-io=true \
			-Denable-io-uring=false >"$conf_318_top/meson-setup.log" 2>&1 || {
			tail -n 30 "$conf_318_top/meson-setup.log" >&2
			rm -rf "$conf_318_build"
			conf_die "meson setup failed (log: $conf_318_top/meson-setup.log)"
		}
	fi
	conf_note "building ${*:-everything}"
	timeout -k 10 1200 ninja -C "$conf_318_build" -j "${FERROFUSE_CONF_BUILD_JOBS:-2}" "$@" \
		>"$conf_318_top/ninja.log" 2>&1 || {
		tail -n 30 "$conf_318_top/ninja.log" >&2
		conf_die "ninja failed (log: $conf_318_top/ninja.log)"
	}
}

# conf_build_libfuse318_uring <ninja-target>...: libfuse 3.18.3 again, this time with its own
# FUSE-over-io_uring support (needs liburing-dev and libnuma-dev), in
# $conf_cache/libfuse-3.18.3-uring/build (cached; only the targets asked for). Refuses a build
# whose configuration lacks HAVE_URING (meson turns io_uring off quietly when a dependency is
# missing). Sets conf_318u_build; holds $conf_cache/libfuse-3.18.3-uring/.lock on fd 9 while
# building, and closes it again.
conf_build_libfuse318_uring()
{
	conf_need_tools meson ninja gcc pkg-config
	local tree top log
	tree=$(conf_ref_tree sid fuse3-3.18.3)
	top=$conf_cache/libfuse-3.18.3-uring
	conf_318u_build=$top/build
	log=$top/meson-setup.log
	mkdir -p "$top"
	pkg-config --exists liburing numa ||
		conf_die "libfuse's io_uring needs liburing and libnuma: apt-get install liburing-dev libnuma-dev"
	exec 9>"$top/.lock"
	flock -w 900 9 || conf_die "another run holds $top/.lock for 15 minutes"
	if [ ! -f "$conf_318u_build/build.ninja" ]; then
		rm -rf "$conf_318u_build"
		conf_note "configuring libfuse 3.18.3 with io_uring in $conf_318u_build"
		meson setup "$conf_318u_build" "$tree" -Dbuildtype=debugoptimized -Dexamples=true \
			-Dtests=false -Dutils=false -Denable-io-uring=true >"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			rm -rf "$conf_318u_build"
			conf_die "meson setup failed (log: $log)"
		}
	fi
	# meson's own words (setup log) and the configuration the library is compiled with.
	grep -q 'liburing linking and SQE128 support.*: YES' "$log" &&
		grep -q '^#define HAVE_URING' "$conf_318u_build/fuse_config.h" ||
		conf_die "libfuse 3.18.3 was configured without io_uring (see $log)"
	conf_note "building ${*:-everything} (libfuse 3.18.3 with io_uring)"
	timeout -k 10 1200 ninja -C "$conf_318u_build" -j "${FERROFUSE_CONF_BUILD_JOBS:-2}" "$@" \
		>"$top/ninja.log" 2>&1 || {
		tail -n 30 "$top/ninja.log" >&2
		conf_die "ninja failed (log: $top/ninja.log)"
	}
	exec 9>&-
}

# conf_build_libfuse319: libfuse 3.19.0-rc0 (the git mirror's pinned commit, archived into
# $conf_cache/libfuse-3.19/src) configured with io_uring (liburing-dev) and built whole under
# $conf_cache/libfuse-3.19/build, once. Sets conf_319_top, conf_319_src, conf_319_build and
# conf_319_commit, and leaves fd 9 holding $conf_319_top/.lock (one build, and one run of its
# copies, at a time).
#   FERROFUSE_LIBFUSE319_GIT     the git directory to archive from (default: the mirror)
#   FERROFUSE_LIBFUSE319_COMMIT  the commit (default: the one the README's counts are from)
conf_build_libfuse319()
{
	conf_need_tools meson ninja gcc g++ git pkg-config
	local git=${FERROFUSE_LIBFUSE319_GIT:-/work/.mirror/libfuse+libfuse/repo}
	conf_319_commit=${FERROFUSE_LIBFUSE319_COMMIT:-e8d407ce93bf0d87efe7bbfafdfbd3c471597a02}
	conf_319_top=$conf_cache/libfuse-3.19
	conf_319_src=$conf_319_top/src
	conf_319_build=$conf_319_top/build
	mkdir -p "$conf_319_top"
	exec 9>"$conf_319_top/.lock"
	flock -w 900 9 || conf_die "another run holds $conf_319_top/.lock for 15 minutes"
	if [ "$(cat "$conf_319_src/.commit" 2>/dev/null)" != "$conf_319_commit" ]; then
		git -C "$git" cat-file -e "$conf_319_commit^{commit}" 2>/dev/null ||
			conf_die "libfuse commit $conf_319_commit not found in $git (set FERROFUSE_LIBFUSE319_GIT to a libfuse git directory that has it)"
		conf_note "extracting libfuse $conf_319_commit from $git"
		rm -rf --one-file-system "$conf_319_src" "$conf_319_build"
		mkdir -p "$conf_319_src"
		git -C "$git" archive "$conf_319_commit" | tar -x -C "$conf_319_src" ||
			conf_die "git archive of $conf_319_commit failed"
		echo "$conf_319_commit" >"$conf_319_src/.commit"
	fi
	if [ ! -f "$conf_319_build/build.ninja" ]; then
		pkg-config --exists liburing ||
			conf_die "liburing's development files are missing (apt-get install liburing-dev): libfuse's io_uring mode needs them"
		rm -rf "$conf_319_build"
		conf_note "configuring libfuse 3.19 in $conf_319_build"
		meson setup "$conf_319_build" "$conf_319_src" -Dbuildtype=debugoptimized \
			-Dexamples=true -Dtests=true -Dutils=true -Denable-io-uring=true \
			>"$conf_319_top/meson-setup.log" 2>&1 || {
			tail -n 30 "$conf_319_top/meson-setup.log" >&2
			rm -rf "$conf_319_build"
			conf_die "meson setup failed (log: $conf_319_top/meson-setup.log)"
		}
		grep -q HAVE_URING "$conf_319_build/fuse_config.h" ||
			conf_die "meson did not enable io_uring (log: $conf_319_top/meson-setup.log)"
	fi
	if ! ninja -C "$conf_319_build" -n 2>/dev/null | grep -q '^ninja: no work to do'; then
		conf_note "building libfuse 3.19 (about a minute on two cores)"
		timeout -k 10 1200 ninja -C "$conf_319_build" -j "${FERROFUSE_CONF_BUILD_JOBS:-2}" \
			>"$conf_319_top/ninja.log" 2>&1 || {
			tail -n 30 "$conf_319_top/ninja.log" >&2
			conf_die "ninja failed (log: $conf_319_top/ninja.log)"
		}
	fi
}
