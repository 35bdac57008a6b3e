#!/bin/sh
# Install ferrofuse under a prefix: libraries, headers, a pkg-config file, and our mount helper
# as $prefix/bin/fusermount3 (setuid root when run as root, so users can mount; the library
# finds it there before any fusermount3 on PATH).
#   scripts/install.sh [--prefix /usr/local] [--libdir LIBDIR] [--destdir STAGING] [--profile release]
# Afterwards `PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs fuse3` is all a
# consumer needs. DESTDIR-style staging: files go to $destdir$prefix, paths inside name $prefix.
set -eu
prefix=/usr/local
libdir=
destdir=${DESTDIR:-}
profile=release
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--libdir) libdir=$2; shift 2 ;;
	--libdir=*) libdir=${1#*=}; shift ;;
	--destdir) destdir=$2; shift 2 ;;
	--destdir=*) destdir=${1#*=}; shift ;;
	--profile) profile=$2; shift 2 ;;
	--profile=*) profile=${1#*=}; shift ;;
	-h|--help) sed -n '2,5p' "$0"; exit 0 ;;
	*) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$libdir" ] || libdir=$prefix/lib
top=$(cd "$(dirname "$0")/.." && pwd)
built=$top/target/$profile
for f in libfuse3.so libfuse3_abi3.so; do
	[ -f "$built/$f" ] || { echo "install.sh: $built/$f is missing: run cargo build (--release for the release profile) first" >&2; exit 1; }
done

install -d "$destdir$libdir/pkgconfig" "$destdir$prefix/include/fuse3"
install -m 0755 "$built/libfuse3.so" "$destdir$libdir/libfuse3.so.4"
install -m 0755 "$built/libfuse3_abi3.so" "$destdir$libdir/libfuse3.so.3"
ln -sf libfuse3.so.4 "$destdir$libdir/libfuse3.so"
install -m 0644 "$top"/include/fuse3/*.h "$destdir$prefix/include/fuse3/"
sed -e "s|^includedir=.*|includedir=$prefix/include|" -e "s|^libdir=.*|libdir=$libdir|" \
	"$built/fuse3.pc" > "$destdir$libdir/pkgconfig/fuse3.pc"
chmod 0644 "$destdir$libdir/pkgconfig/fuse3.pc"
if [ -f "$built/fusermount3" ]; then
	install -d "$destdir$prefix/bin"
	install -m 0755 "$built/fusermount3" "$destdir$prefix/bin/fusermount3"
	if [ "$(id -u)" = 0 ]; then
		chown root:root "$destdir$prefix/bin/fusermount3"
		chmod 4755 "$destdir$prefix/bin/fusermount3"
	else
		echo "install.sh: not root: $prefix/bin/fusermount3 is not setuid (users cannot mount with it)" >&2
	fi
fi
echo "installed ferrofuse into $destdir$prefix (libraries in $libdir)"
