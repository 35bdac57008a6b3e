#!/bin/sh
# Run every test: fetch the reference libfuse sources the ABI tests compare against (once,
# cached), build both libraries, then the Rust unit tests and the C-level integration tests.
set -eu
cd "$(dirname "$0")/.."
bash tests/fetch-reference.sh >/dev/null
cargo build --workspace
cargo test --workspace "$@"
