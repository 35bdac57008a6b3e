#!/bin/bash
# Run every test: fetch the reference libfuse sources the ABI tests compare against (once,
# cached), build both libraries, then the Rust unit tests and the C-level integration tests.
# Every test binary runs even when an earlier one fails; ends with one summary line,
# "N passed, N failed", over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/fetch-reference.sh >/dev/null
cargo build --workspace
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# A shell started in the background (`cmd &`, nohup) passes SIGINT and SIGQUIT on ignored, and
# bash cannot undo that: the daemons the tests signal (Ctrl-C tests, interrupted requests)
# would inherit it and never see the signal. Start the tests with default dispositions.
env --default-signal=INT,QUIT,TERM,HUP \
	cargo test --workspace --exclude ferrofuse-abi3 --lib --tests --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
