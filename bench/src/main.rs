//! The `ferrofuse-bench` command; `scripts/bench.sh` is the documented way to run it.
fn main() {
    std::process::exit(ferrofuse_bench::main_with(std::env::args().skip(1).collect()));
}
