#!/bin/bash
# Fetch the libfuse source trees the ABI tests compare against, once, into a cache directory:
#   ${FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}/sid       libfuse 3.18.3 (Debian unstable, .so.4 ABI)
#   ${FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}/bookworm  libfuse 3.14.0 (Debian 12, .so.3 ABI)
# A tree that is already unpacked is kept. Prints the tree paths, one per line, on stdout.
# The trees are references to build and test against; nothing from them goes into the project.
#
# The sid version is pinned (tests/abi/known-3.18-differences.txt is written against it); set
# FERROFUSE_SID_FUSE3=fuse3=VERSION to fetch another one.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fetch=${FERROFUSE_DEBIAN_SOURCE:-$here/../../shared/tools/debian-source.sh}
[ -x "$fetch" ] || fetch=/work/shared/tools/debian-source.sh
root=${FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}

# suite  package[=version]  directory the tree unpacks to
get() {
	local suite=$1 pkg=$2 tree=$3
	local dest=$root/$suite
	if [ -f "$dest/$tree/include/fuse_lowlevel.h" ]; then
		echo "$dest/$tree"
		return 0
	fi
	echo "fetch-reference: fetching $pkg from Debian $suite into $dest" >&2
	mkdir -p "$dest"
	if ! "$fetch" "$suite" "$pkg" "$dest" >&2; then
		echo "fetch-reference: could not fetch $pkg from $suite (is deb.debian.org reachable?" \
			"has $suite moved past that version? then set FERROFUSE_SID_FUSE3)" >&2
		return 1
	fi
	if [ ! -f "$dest/$tree/include/fuse_lowlevel.h" ]; then
		echo "fetch-reference: $dest/$tree/include/fuse_lowlevel.h missing after unpacking" >&2
		return 1
	fi
	echo "$dest/$tree"
}

sid_pkg=${FERROFUSE_SID_FUSE3:-fuse3=3.18.3-1}
sid_ver=${sid_pkg#*=}
sid_ver=${sid_ver%-*}
get sid "$sid_pkg" "fuse3-$sid_ver"
get bookworm fuse3=3.14.0-4 fuse3-3.14.0
