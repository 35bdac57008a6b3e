#!/bin/bash
# Build ferrofuse, compile our C example filesystem (c-examples/notes_ll.c) against its headers
# with pkg-config, mount it through ferrofuse's library, use it, and unmount it.
# Needs root (or a usable /dev/fuse and fusermount3) and a kernel with FUSE.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace
lib=$PWD/target/release
out=$PWD/target/c-examples
mkdir -p "$out"
cc -Wall -Wextra -Werror -o "$out/notes_ll" c-examples/notes_ll.c \
	$(PKG_CONFIG_PATH=$lib pkg-config --cflags --libs fuse3)
mnt=$(mktemp -d /tmp/ferrofuse-demo.XXXXXX)
cleanup() {
	if grep -qs " $mnt " /proc/self/mounts; then fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"; fi
	rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
run() { echo "\$ $*"; "$@"; }

echo "\$ notes_ll $mnt      # built against ferrofuse's headers, running on ferrofuse"
LD_LIBRARY_PATH=$lib "$out/notes_ll" "$mnt"
pid=$(pgrep -n -f "notes_ll $mnt")
echo "daemon $pid maps: $(grep -o '/[^ ]*libfuse3[^ ]*' /proc/"$pid"/maps | sort -u)"
run grep " $mnt " /proc/self/mounts
echo "\$ echo 'hello from ferrofuse' > $mnt/greeting"
echo 'hello from ferrofuse' > "$mnt/greeting"
echo "\$ seq 1 1000 > $mnt/numbers"
seq 1 1000 > "$mnt/numbers"
run ls -l "$mnt"
run cat "$mnt/greeting"
run mv "$mnt/greeting" "$mnt/hello.txt"
run tail -n 2 "$mnt/numbers"
run rm "$mnt/numbers"
run ls "$mnt"
run fusermount3 -u "$mnt"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "daemon $pid still running after unmount" >&2; exit 1; fi
echo "unmounted; daemon $pid has exited"
