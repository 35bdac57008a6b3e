//! ferrofuse-bench: one FUSE program run on Debian's libfuse and on ferrofuse (the identical
//! binary, only `LD_LIBRARY_PATH` differs), interleaved across rounds, with the backing tmpfs
//! measured alongside as the physical limit.
//!
//! - [`cli`]: the command line and its defaults (full and quick mode).
//! - [`plan`]: the daemon variants (`-s`, `-o clone_fd`, …), the client workloads, the table rows.
//! - [`workdir`]: the tmpfs source, the mountpoint, and cleanup on every exit path.
//! - [`daemon`]: starting the FUSE program, checking which libfuse it mapped, its CPU time and
//!   RSS from `/proc`, unmounting.
//! - [`load`]: the client workloads, run with threads in this process.
//! - [`report`]: medians, ratios, the Markdown table and the CSV files.
//! - [`run`]: the rounds.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod cli;
pub mod daemon;
pub mod load;
pub mod plan;
pub mod report;
pub mod run;
pub mod workdir;

/// Run the command line `args` (without the program name); returns the exit status.
pub fn main_with(args: Vec<String>) -> i32 {
    let cfg = match cli::parse(args) {
        Ok(cli::Parsed::Run(cfg)) => cfg,
        Ok(cli::Parsed::Help) => {
            print!("{}", cli::USAGE);
            return 0;
        }
        Err(e) => {
            eprintln!("ferrofuse-bench: {e}\n{}", cli::USAGE);
            return 2;
        }
    };
    workdir::install_stop_handlers();
    match run::run(&cfg) {
        Ok(results) => {
            let table = report::markdown(&results);
            print!("{table}");
            if let Some(out) = &cfg.out {
                if let Err(e) = report::write_files(&results, out) {
                    eprintln!("ferrofuse-bench: cannot write results to {}: {e}", out.display());
                    return 1;
                }
                eprintln!(
                    "ferrofuse-bench: wrote results.md, results.csv, raw.csv to {}",
                    out.display()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("ferrofuse-bench: {e}");
            1
        }
    }
}
