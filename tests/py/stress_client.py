#!/usr/bin/python3
"""One client of the multithreaded-loop stress test: mixed create/write/read/rename/unlink in
its own directory of a mounted filesystem, for a fixed time, checking every read against an
in-memory model of what the directory must hold. Prints a summary line; exits 1 on the first
discrepancy or error (with a message)."""
import hashlib
import os
import random
import sys
import time


def main():
    root, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    mine = os.path.join(root, f"client-{seed}")
    os.makedirs(mine, exist_ok=True)
    model = {}  # name -> bytes
    ops = 0
    deadline = time.monotonic() + seconds
    counter = 0

    def fail(msg):
        print(f"client {seed}: {msg}", file=sys.stderr)
        sys.exit(1)

    while time.monotonic() < deadline:
        op = rnd.random()
        ops += 1
        try:
            if op < 0.25 or not model:
                counter += 1
                name = f"f{counter}"
                data = rnd.randbytes(rnd.randint(0, 256 * 1024))
                with open(os.path.join(mine, name), "wb") as f:
                    f.write(data)
                model[name] = data
            elif op < 0.45:
                name = rnd.choice(list(model))
                extra = rnd.randbytes(rnd.randint(1, 64 * 1024))
                with open(os.path.join(mine, name), "ab") as f:
                    f.write(extra)
                model[name] += extra
            elif op < 0.55:
                name = rnd.choice(list(model))
                off = rnd.randint(0, len(model[name]))
                patch = rnd.randbytes(rnd.randint(1, 8192))
                with open(os.path.join(mine, name), "r+b") as f:
                    f.seek(off)
                    f.write(patch)
                old = model[name]
                new = old[:off] + patch + old[off + len(patch):]
                model[name] = new
            elif op < 0.75:
                name = rnd.choice(list(model))
                with open(os.path.join(mine, name), "rb") as f:
                    got = f.read()
                if got != model[name]:
                    fail(f"{name}: read {len(got)} bytes, expected {len(model[name])} "
                         f"(sha {hashlib.sha256(got).hexdigest()[:12]} vs "
                         f"{hashlib.sha256(model[name]).hexdigest()[:12]})")
            elif op < 0.85:
                name = rnd.choice(list(model))
                counter += 1
                new = f"r{counter}"
                os.rename(os.path.join(mine, name), os.path.join(mine, new))
                model[new] = model.pop(name)
            elif op < 0.95:
                name = rnd.choice(list(model))
                os.unlink(os.path.join(mine, name))
                del model[name]
            else:
                names = sorted(os.listdir(mine))
                if names != sorted(model):
                    fail(f"listing differs: {len(names)} entries, expected {len(model)}")
        except OSError as e:
            fail(f"operation {ops}: {e}")
    # Final check of everything.
    names = sorted(os.listdir(mine))
    if names != sorted(model):
        fail(f"final listing differs: {len(names)} entries, expected {len(model)}")
    for name, data in model.items():
        with open(os.path.join(mine, name), "rb") as f:
            if f.read() != data:
                fail(f"final content of {name} differs")
    print(f"client {seed}: {ops} operations, {len(model)} files verified")


if __name__ == "__main__":
    main()
