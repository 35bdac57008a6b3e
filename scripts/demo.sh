#!/bin/sh
# Build ferrofuse, compile our C example against its headers with pkg-config, and run it on
# ferrofuse's library. (Mounting a filesystem arrives with the low-level session; until then
# the demo shows option parsing, the part of libfuse implemented so far.)
set -eu
cd "$(dirname "$0")/.."
cargo build --release --workspace
lib=$PWD/target/release
out=$PWD/target/c-examples
mkdir -p "$out"
cc -Wall -Wextra -Werror -o "$out/optinfo" c-examples/optinfo.c \
	$(PKG_CONFIG_PATH=$lib pkg-config --cflags --libs fuse3)
echo "\$ optinfo -f -o max_threads=4,allow_other --name=demo --size=42 /tmp"
LD_LIBRARY_PATH=$lib "$out/optinfo" -f -o max_threads=4,allow_other --name=demo --size=42 /tmp
echo "\$ ldd optinfo | grep fuse"
LD_LIBRARY_PATH=$lib ldd "$out/optinfo" | grep fuse
