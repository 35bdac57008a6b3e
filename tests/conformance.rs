//! libfuse's own conformance tests, run on libfuse and then on ours, which must pass as many.
//!
//! - scripts/conformance/test-syscalls.sh: libfuse 3.14's test_syscalls over Debian's
//!   passthrough_ll and its high-level passthrough, passthrough --plus and passthrough_fh (the
//!   .so.3 ABI).
//! - scripts/conformance/libfuse-suite.sh: libfuse 3.18.3's run-tests.py suite over the examples
//!   built from the same tree (the .so.4 ABI): the low-level, notification and high-level cases.
//!
//! Each test runs the script with `--lib system` first (the reference: it must pass something
//! on this machine, or the environment is at fault) and then with `--lib ours`, and requires
//! ours to pass, fail (and, for the suite, skip) exactly as many. The counts
//! observed with the reference libraries are in scripts/conformance/README.md. The scripts
//! verify from /proc/PID/maps which libfuse3 the daemons really mapped. They mount: run as root.

mod common;

use common::{repo_root, run, target_profile_dir};
use std::process::Command;
use std::time::Duration;

/// Per script run; the scripts bound their own steps well within this.
const T: Duration = Duration::from_secs(15 * 60);

/// The numbers of the script's last line `<prefix>: N passed, M failed[, K skipped]`.
fn counts(output: &str, prefix: &str) -> Option<Vec<u64>> {
    let line = output.lines().rev().find_map(|l| l.strip_prefix(prefix))?;
    let nums: Vec<u64> = line
        .split(',')
        .map(|part| part.split_whitespace().next().and_then(|n| n.parse().ok()))
        .collect::<Option<_>>()?;
    Some(nums)
}

/// The last `n` lines of `text`, for failure messages.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Run `script --lib <lib> args...` and return its counts, or a message with its output.
fn run_script(script: &str, lib: &str, args: &[&str], prefix: &str) -> Result<Vec<u64>, String> {
    let path = repo_root().join("scripts/conformance").join(script);
    let mut cmd = Command::new("bash");
    cmd.arg(&path).args(["--lib", lib]).args(args);
    // Ours is this profile's build unless FERROFUSE_LIB_DIR names another directory (with a
    // directory holding copies of libfuse's own libraries, every test here passes: that is
    // how the harness itself was checked).
    if std::env::var_os("FERROFUSE_LIB_DIR").is_none() {
        cmd.env("FERROFUSE_LIB_DIR", target_profile_dir());
    }
    let ran = run(&mut cmd, T)?;
    let all = format!("{}{}", ran.stdout, ran.stderr);
    let c = counts(&ran.stdout, prefix).ok_or_else(|| {
        format!(
            "{script} --lib {lib} {args:?} printed no `{prefix}` line ({}):\n{}",
            ran.status,
            tail(&all, 80)
        )
    })?;
    if !ran.ok() && c.get(1) == Some(&0) {
        return Err(format!(
            "{script} --lib {lib} {args:?} failed ({}) with no failed test:\n{}",
            ran.status,
            tail(&all, 80)
        ));
    }
    if c.get(1) != Some(&0) {
        return Err(format!(
            "{script} --lib {lib} {args:?}: {prefix}{:?}\n{}",
            c,
            tail(&all, if lib == "ours" { 120 } else { 80 })
        ));
    }
    Ok(c)
}

/// The reference must be clean; ours must match it count for count.
fn compare(script: &str, args: &[&str], prefix: &str) {
    let reference = run_script(script, "system", args, prefix).unwrap_or_else(|e| {
        panic!("the reference run failed, so this machine cannot judge ours:\n{e}")
    });
    assert!(reference[0] > 0, "the reference run passed nothing: {reference:?}");
    let ours = run_script(script, "ours", args, prefix).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ours, reference,
        "{script} {args:?}: ours {prefix}{ours:?}, libfuse {prefix}{reference:?} \
         (passed, failed[, skipped])"
    );
}

#[test]
fn test_syscalls_over_passthrough_ll() {
    // As libfuse 3.14's test_examples.py runs it: passthrough_ll's default multi-threaded loop.
    compare("test-syscalls.sh", &[], "test_syscalls:");
}

#[test]
fn test_syscalls_over_passthrough_ll_single_threaded() {
    compare("test-syscalls.sh", &["--single-thread"], "test_syscalls:");
}

/// Ours over io_uring against Debian's libfuse over /dev/fuse (it has no io_uring). The script
/// turns the kernel's io_uring parameter on for the run and fails unless the rings carried the
/// requests.
fn compare_io_uring(args: &[&str]) {
    let prefix = "test_syscalls:";
    let reference = run_script("test-syscalls.sh", "system", args, prefix)
        .unwrap_or_else(|e| panic!("the reference run failed:\n{e}"));
    assert!(reference[0] > 0, "the reference run passed nothing: {reference:?}");
    let mut with = args.to_vec();
    with.push("--io-uring");
    let ours =
        run_script("test-syscalls.sh", "ours", &with, prefix).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ours, reference, "test_syscalls {with:?}: ours {ours:?}, libfuse {reference:?}");
}

#[test]
fn test_syscalls_over_passthrough_ll_io_uring() {
    compare_io_uring(&[]);
}

#[test]
fn test_syscalls_over_passthrough_ll_single_threaded_io_uring() {
    compare_io_uring(&["--single-thread"]);
}

#[test]
fn test_syscalls_over_high_level_passthrough_io_uring() {
    // The high-level API (fuse_main) over io_uring: its session takes `-o io_uring` too.
    compare_io_uring(&["--example", "passthrough"]);
}

/// Ours with the kernel switch on and no choice made: the default decides. The script fails
/// unless the rings carried the requests (multithreaded) or none were set up (`-s`).
fn compare_io_uring_default(args: &[&str]) {
    let prefix = "test_syscalls:";
    let reference = run_script("test-syscalls.sh", "system", args, prefix)
        .unwrap_or_else(|e| panic!("the reference run failed:\n{e}"));
    assert!(reference[0] > 0, "the reference run passed nothing: {reference:?}");
    let mut with = args.to_vec();
    with.push("--io-uring-default");
    let ours =
        run_script("test-syscalls.sh", "ours", &with, prefix).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ours, reference, "test_syscalls {with:?}: ours {ours:?}, libfuse {reference:?}");
}

#[test]
fn test_syscalls_over_high_level_passthrough_io_uring_by_default() {
    // fuse_main without -s runs fuse_loop_mt: io_uring by default where the kernel offers it.
    compare_io_uring_default(&["--example", "passthrough"]);
}

#[test]
fn test_syscalls_over_high_level_passthrough_single_threaded_keeps_dev_fuse_by_default() {
    // fuse_main -s runs fuse_loop: /dev/fuse although the kernel offers io_uring.
    compare_io_uring_default(&["--example", "passthrough", "--single-thread"]);
}

#[test]
fn test_syscalls_over_high_level_passthrough() {
    // The high-level (fuse_main) examples, as test_examples.py::test_passthrough runs them.
    compare("test-syscalls.sh", &["--example", "passthrough"], "test_syscalls:");
}

#[test]
fn test_syscalls_over_high_level_passthrough_plus() {
    compare("test-syscalls.sh", &["--example", "passthrough_plus"], "test_syscalls:");
}

#[test]
fn test_syscalls_over_high_level_passthrough_fh() {
    compare("test-syscalls.sh", &["--example", "passthrough_fh"], "test_syscalls:");
}

#[test]
fn test_syscalls_over_high_level_passthrough_fh_single_threaded() {
    compare(
        "test-syscalls.sh",
        &["--example", "passthrough_fh", "--single-thread"],
        "test_syscalls:",
    );
}

#[test]
fn libfuse_suite_lowlevel_single_threaded() {
    compare("libfuse-suite.sh", &["--select", "st", "--total-timeout", "600"], "libfuse-suite:");
}

#[test]
fn libfuse_suite_lowlevel_multi_threaded() {
    compare("libfuse-suite.sh", &["--select", "mt", "--total-timeout", "600"], "libfuse-suite:");
}

#[test]
fn libfuse_suite_high_level() {
    // fuse_main/fuse_new programs: hello (direct, mount.fuse3, dropcaps, clone_fd), the
    // passthrough family, null, ioctl, poll, release-unlink-race, invalidate_path.
    compare(
        "libfuse-suite.sh",
        &["--select", "highlevel", "--total-timeout", "900"],
        "libfuse-suite:",
    );
}

#[test]
fn libfuse_suite_notifications() {
    compare(
        "libfuse-suite.sh",
        &["--select", "notify", "--total-timeout", "600"],
        "libfuse-suite:",
    );
}

#[test]
fn counts_parse_the_last_summary_line() {
    let out = "x\ntest_syscalls: 3 passed, 1 failed\ntest_syscalls: 58 passed, 0 failed\n";
    assert_eq!(counts(out, "test_syscalls:"), Some(vec![58, 0]));
    let out = "libfuse-suite: 19 passed, 0 failed, 2 skipped\n";
    assert_eq!(counts(out, "libfuse-suite:"), Some(vec![19, 0, 2]));
    assert_eq!(counts("nothing here", "libfuse-suite:"), None);
}
