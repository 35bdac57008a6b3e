//! Logging, version and loop-configuration calls: one C driver, built against Debian's
//! headers, run on Debian's libfuse and on ours; the outputs must match. The 3.17.3
//! feature-flag calls, which Debian's 3.14 lacks, are checked by a build against our headers.

mod common;

use common::{repo_root, run, run_ok, scratch_dir, target_profile_dir};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

fn ours() -> std::path::PathBuf {
    let dir = target_profile_dir();
    assert!(
        dir.join("libfuse3.so.3").exists() && dir.join("libfuse3.so.4").exists(),
        "ferrofuse's libraries are missing from {} (run `cargo build --workspace`)",
        dir.display()
    );
    dir
}

fn compile(out: &Path, include: &str, extra: &[&str], lib: Option<&Path>) {
    let mut cmd = Command::new("gcc");
    cmd.args(["-Wall", "-Wextra", "-Werror", "-D_FILE_OFFSET_BITS=64", "-I", include]);
    cmd.args(extra);
    cmd.arg("-o").arg(out).arg(repo_root().join("tests/c/misc_driver.c"));
    match lib {
        Some(dir) => {
            cmd.arg("-L").arg(dir).arg("-lfuse3");
        }
        None => {
            cmd.arg("-lfuse3");
        }
    }
    run_ok(&mut cmd, T).unwrap();
}

#[test]
fn logging_and_loop_config_match_debian() {
    let dir = scratch_dir("misc_compare");
    let exe = dir.join("misc_driver");
    compile(&exe, "/usr/include/fuse3", &[], None);

    // cargo test puts target/<profile> on LD_LIBRARY_PATH: clear it for Debian's run.
    let system = run(Command::new(&exe).env_remove("LD_LIBRARY_PATH"), T).unwrap();
    let ours = run(Command::new(&exe).env("LD_LIBRARY_PATH", ours()), T).unwrap();
    assert!(system.ok(), "driver failed on Debian's libfuse: {system:?}");
    assert!(system.stdout.starts_with("library 3.14"), "not Debian's: {}", system.stdout);
    assert!(ours.stdout.starts_with("library 3.19"), "not ours: {}", ours.stdout);
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(system.status.code(), ours.status.code(), "exit status differs");
    assert_eq!(body(&system.stdout), body(&ours.stdout), "stdout differs (left: Debian)");
    assert_eq!(system.stderr, ours.stderr, "stderr differs (left: Debian, right: ferrofuse)");
    assert!(ours.stdout.contains("too many: [3] Ignoring invalid"), "{}", ours.stdout);
    assert!(ours.stderr.contains("to stderr 42 ok"), "{}", ours.stderr);
}

#[test]
fn feature_flags_on_ours() {
    let dir = scratch_dir("misc_flags");
    let exe = dir.join("misc_driver_flags");
    let lib = ours();
    let include = repo_root().join("include/fuse3");
    compile(&exe, include.to_str().unwrap(), &["-DFEATURE_FLAGS"], Some(&lib));
    let ran = run(Command::new(&exe).env("LD_LIBRARY_PATH", &lib), T).unwrap();
    assert!(ran.ok() && ran.stdout.contains("feature flags: ok"), "{ran:?}");
    // libfuse 3.19's loop-configuration checks.
    for expect in [
        "set_idle_threads 8 > max: [4] fuse: max_idle_threads 8 is greater than max_threads 2",
        "set_max_threads 1 < idle: [4] fuse: max_threads 1 is less than max_idle_threads 8",
        "set_idle_threads UINT_MAX: (nothing)",
        "set_idle_threads NULL: [3]",
    ] {
        assert!(ran.stdout.contains(expect), "missing {expect:?} in:\n{}", ran.stdout);
    }
}
