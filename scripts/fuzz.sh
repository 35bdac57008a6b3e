#!/bin/bash
# Run the fuzz targets in fuzz/ (cargo-fuzz layout, its own workspace) with libFuzzer and ASan.
#
#   scripts/fuzz.sh [--time SECS] [--runs N] [--jobs N] [--work DIR] [target...]
#
# Each target runs until SECS seconds (default 60) or N executions (default unlimited),
# whichever comes first, on the corpus in DIR/corpus/TARGET (DIR defaults to fuzz/; a
# libFuzzer log per target goes to DIR/logs/); no target named means all of them. --jobs N
# runs N targets at a time (default 1). A crash leaves its input in fuzz/artifacts/TARGET.
# Ends with one line per target ("TARGET: RUNS runs in SECS s, ok" or "CRASH") and exits
# non-zero if any target crashed.
#
# cargo-fuzz is installed from crates.io if missing. Stable Rust: RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass the sanitizer flags that would otherwise need nightly.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/../fuzz"

time_s=60
runs=-1
jobs=1
work=$PWD
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time) time_s=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--work)
		case "$2" in /*) work=$2 ;; *) work=$here/$2 ;; esac
		mkdir -p "$work"; shift 2 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz.sh: installing cargo-fuzz" >&2
	cargo install cargo-fuzz --locked >&2
fi
if [ ${#targets[@]} -eq 0 ]; then
	mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build -O >&2

mkdir -p "$work/logs"
run_one() {
	local t=$1 log=$work/logs/$1.log
	mkdir -p "$work/corpus/$t"
	local rc=0
	cargo fuzz run -O "$t" "$work/corpus/$t" -- -max_total_time="$time_s" -runs="$runs" \
		-timeout=20 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 || rc=$?
	local done_line n s
	done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
	n=$(echo "$done_line" | awk '{print $2}')
	s=$(echo "$done_line" | awk '{print $5}')
	if [ "$rc" -eq 0 ] && [ -n "$done_line" ]; then
		echo "$t: ${n} runs in ${s} s, ok"
	else
		echo "$t: CRASH (exit $rc), see $log and fuzz/artifacts/$t/"
		grep -E 'panicked at|ERROR: |SUMMARY' "$log" | head -5 | sed 's/^/  /'
	fi
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
active=0
for t in "${targets[@]}"; do
	run_one "$t" >>"$results" &
	active=$((active + 1))
	if [ "$active" -ge "$jobs" ]; then
		wait -n || true
		active=$((active - 1))
	fi
done
wait
cat "$results"
! grep -q CRASH "$results"
