#!/usr/bin/env python3
"""Watch which libfuse3 the processes of one directory tree really map.

Usage: maps-audit.py WATCH_DIR EXPECTED_LIB OUT_FILE

Until SIGTERM, every 50 ms: each process whose /proc/PID/exe lies under WATCH_DIR is looked at
once it has mapped a libfuse3, and one line goes to OUT_FILE:
    ok <pid> <exe> <mapped file>            it maps EXPECTED_LIB (resolved) and nothing else
    WRONG <pid> <exe> <mapped files>        it maps some other libfuse3
OUT_FILE is created (empty) as soon as the watch begins. A process that exits before its libraries are mapped, or between two looks, goes unseen: the
audit samples, so the caller also checks the link-time resolution statically (ldd).
"""

import os
import signal
import sys
import time


def fuse_maps(pid):
    found = set()
    with open(f'/proc/{pid}/maps') as fh:
        for line in fh:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and ('/libfuse3.so' in fields[5] or '/libfuse3_abi3.so' in fields[5]):
                found.add(os.path.realpath(fields[5].strip()))
    return found


def main():
    watch, expected, out_path = sys.argv[1:4]
    watch = os.path.realpath(watch) + '/'
    expected = os.path.realpath(expected)
    seen = set()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(out_path, 'a', buffering=1) as out:
        while not stop:
            for entry in os.listdir('/proc'):
                if not entry.isdigit() or entry in seen:
                    continue
                try:
                    exe = os.readlink(f'/proc/{entry}/exe')
                    if not exe.startswith(watch):
                        continue
                    libs = fuse_maps(entry)
                except OSError:
                    continue
                if not libs:
                    continue        # not loaded yet, or linked without libfuse
                seen.add(entry)
                verdict = 'ok' if libs == {expected} else 'WRONG'
                out.write(f'{verdict} {entry} {exe} {" ".join(sorted(libs))}\n')
            time.sleep(0.05)


if __name__ == '__main__':
    main()
