//! CI's short run of the fuzz targets in fuzz/ (issue 10): `scripts/fuzz.sh --time 5` builds
//! them with libFuzzer and AddressSanitizer (installing cargo-fuzz first if it is missing) and
//! runs each one for a few seconds on a fresh corpus. Any crash, leak or sanitizer report
//! fails the test, with the script's summary and the target's log.
//!
//! The long runs the README records use the same script: `scripts/fuzz.sh --time 1800
//! --runs 10000000`.

mod common;

use common::{repo_root, run, scratch_dir};
use std::process::Command;
use std::time::Duration;

/// Installing cargo-fuzz and building the targets with ASan dominate; the runs take seconds.
const T: Duration = Duration::from_secs(1500);
const TARGETS: [&str; 4] = ["request_dispatch", "opt_parse", "mount_opts", "dirent_pack"];

#[test]
fn every_fuzz_target_runs_briefly_without_a_crash() {
    let work = scratch_dir("fuzz-smoke");
    let mut cmd = Command::new(repo_root().join("scripts/fuzz.sh"));
    cmd.args(["--time", "5", "--jobs", "2", "--work"]).arg(&work);
    // The outer cargo's build settings are not the fuzz build's.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME") || k.starts_with("RUSTFLAGS") {
            cmd.env_remove(&k);
        }
    }
    let ran = run(&mut cmd, T).unwrap_or_else(|e| panic!("{e}"));
    let logs = |t: &str| std::fs::read_to_string(work.join(format!("logs/{t}.log")));
    let tail = |t: &str| {
        let l = logs(t).unwrap_or_default();
        let lines: Vec<&str> = l.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    };
    let mut problems = Vec::new();
    for t in TARGETS {
        let line = ran.stdout.lines().find(|l| l.starts_with(&format!("{t}: ")));
        match line {
            Some(l) if l.ends_with(", ok") => {
                // "TARGET: N runs in S s, ok": the target really ran.
                let n: u64 = l.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
                if n < 100 {
                    problems.push(format!("{t}: only {n} runs:\n{}", tail(t)));
                }
            }
            _ => problems.push(format!("{t}: {line:?}\n{}", tail(t))),
        }
    }
    assert!(
        ran.ok() && problems.is_empty(),
        "scripts/fuzz.sh: {}\nstdout:\n{}\nstderr (end):\n{}\n{}",
        ran.status,
        ran.stdout,
        ran.stderr.lines().rev().take(40).collect::<Vec<_>>().join("\n"),
        problems.join("\n\n")
    );
}
