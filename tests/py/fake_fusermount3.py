#!/usr/bin/python3
"""A misbehaving fusermount3 for ferrofuse's fault tests (tests/mounting.rs).

The library runs it as its helper (FUSERMOUNT_PROG names a copy made executable at test
time), as `fake_fusermount3 [--sync-init] -o OPTS -- MOUNTPOINT`, with the socket's descriptor
number in `_FUSE_COMMFD`. What it does is chosen by `FAKE_HELPER_MODE`:

  fail                print a message on stderr and exit 1 without sending anything
  nofd                exit 0 without sending anything
  die-before-proceed  (--sync-init) open /dev/fuse, send it, exit without waiting for "proceed"
  status-eperm        (--sync-init) open /dev/fuse, send it, read the proceed byte, answer the
                      int32 status -EPERM, exit

It never mounts anything. A sync mode called without --sync-init fails loudly (exit 2), so a
test notices that the library did not take the path it meant to exercise. Each call appends
one line `PID ARGS...` to the file named by `FAKE_HELPER_LOG`, if set.
"""

import errno
import os
import socket
import struct
import sys


def main() -> int:
    mode = os.environ.get("FAKE_HELPER_MODE", "")
    args = sys.argv[1:]
    log = os.environ.get("FAKE_HELPER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {' '.join(args)}\n")
    sync = "--sync-init" in args

    if mode == "fail":
        print("fake_fusermount3: failing on purpose", file=sys.stderr)
        return 1
    if mode == "nofd":
        return 0
    if mode not in ("die-before-proceed", "status-eperm"):
        print(f"fake_fusermount3: unknown FAKE_HELPER_MODE {mode!r}", file=sys.stderr)
        return 2
    if not sync:
        print(f"fake_fusermount3: mode {mode} expects --sync-init, got {args}", file=sys.stderr)
        return 2

    commfd = int(os.environ["_FUSE_COMMFD"])
    sock = socket.socket(fileno=commfd)
    dev = os.open("/dev/fuse", os.O_RDWR)
    socket.send_fds(sock, [b"\0"], [dev])
    os.close(dev)
    if mode == "die-before-proceed":
        return 0
    # status-eperm: wait for "proceed", then report a failed mount.
    proceed = sock.recv(1)
    if len(proceed) != 1:
        print("fake_fusermount3: no proceed byte", file=sys.stderr)
        return 3
    sock.sendall(struct.pack("<i", -errno.EPERM))
    return 0


if __name__ == "__main__":
    sys.exit(main())
