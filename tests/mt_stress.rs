//! The multithreaded loop under load: Debian's `passthrough_ll` (multithreaded by default) on
//! ours, with and without `-o clone_fd`, and its high-level `passthrough_fh` (fuse_main's
//! multithreaded loop, with the node table and paths in play), while several client processes
//! do mixed
//! create/write/read/rename/unlink for a while (60 s each; `FERROFUSE_STRESS_SECS` overrides),
//! every read checked against the client's model. No error, no deadlock, clean unmount, and
//! the data is verified again on the source directory after unmounting.

mod common;

use common::cbuild::{Pc, build_c};
use common::mount::{Lib, MountGuard};
use common::scratch_dir;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const CLIENTS: u32 = 4;

fn seconds() -> u64 {
    std::env::var("FERROFUSE_STRESS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60)
}

fn build(example: &str) -> PathBuf {
    let src = PathBuf::from(format!("/usr/share/doc/libfuse3-dev/examples/{example}.c"));
    assert!(src.is_file(), "{} missing: apt-get install libfuse3-dev", src.display());
    let out = scratch_dir(&format!("mt_stress-build-{example}")).join(example);
    build_c(Pc::Debian, &["-Wall"], &src, &out).unwrap()
}

fn passthrough_ll() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build("passthrough_ll"))
}

fn passthrough_fh() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build("passthrough_fh"))
}

fn stress(name: &str, extra: &[&str]) {
    stress_with(name, passthrough_ll(), extra, false);
}

/// `mirror`: the program passes `/` through (the high-level passthroughs), so the clients work
/// in the source directory as seen through the mount.
fn stress_with(name: &str, bin: &Path, extra: &[&str], mirror: bool) {
    let dir = scratch_dir(name);
    let (src, mnt) = (dir.join("src"), dir.join("mnt"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&mnt).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-f");
    if !mirror {
        cmd.arg("-o").arg(format!("source={}", src.display()));
    }
    cmd.args(extra).arg(&mnt);
    let guard = MountGuard::start(&mut cmd, &mnt, Lib::Ours, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    let work = if mirror { mnt.join(src.strip_prefix("/").unwrap()) } else { mnt.clone() };
    let secs = seconds();
    let script = common::repo_root().join("tests/py/stress_client.py");
    // Each client under its own deadline: a deadlock shows as a timeout, not a hung test.
    let outcomes: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let script = script.clone();
            let work = work.clone();
            std::thread::spawn(move || {
                common::run(
                    Command::new("/usr/bin/python3")
                        .arg(&script)
                        .arg(&work)
                        .arg(secs.to_string())
                        .arg((i + 1).to_string()),
                    Duration::from_secs(secs + 120),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("client thread"))
        .collect();
    let mut failures = Vec::new();
    for (i, o) in outcomes.iter().enumerate() {
        match o {
            Ok(r) if r.ok() => {}
            Ok(r) => failures.push(format!("client {}: {}{}", i + 1, r.stdout, r.stderr)),
            Err(e) => failures.push(format!("client {}: {e}", i + 1)),
        }
    }
    let (status, out, err) = guard.unmount().unwrap_or_else(|e| panic!("unmount: {e}"));
    assert!(failures.is_empty(), "{name}: {failures:#?}\ndaemon:\n{out}{err}");
    assert!(status.success(), "{name}: daemon exited {status}\n{out}{err}");
    // Every client's directory is intact on the source side too.
    for i in 1..=CLIENTS {
        assert!(src.join(format!("client-{i}")).is_dir(), "client-{i} missing in the source");
    }
}

#[test]
fn passthrough_ll_multithreaded_under_stress() {
    stress("mt_stress-plain", &[]);
}

#[test]
fn passthrough_ll_multithreaded_clone_fd_under_stress() {
    stress("mt_stress-clone", &["-o", "clone_fd"]);
}

#[test]
fn passthrough_fh_high_level_under_stress() {
    stress_with("mt_stress-hl-fh", passthrough_fh(), &[], true);
}

#[test]
fn passthrough_fh_high_level_clone_fd_under_stress() {
    stress_with("mt_stress-hl-fh-clone", passthrough_fh(), &["-o", "clone_fd"], true);
}
