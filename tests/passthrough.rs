//! FUSE passthrough (issue 7): c-examples/mirror_pt.c, built against our headers, registers
//! each opened source file as the kernel's backing file. Reads and writes must then reach the
//! source without READ or WRITE requests reaching the daemon, the data must be right, and every
//! backing id must be released on close (10,000 open/close cycles, none left).

mod common;

use common::mount::{Lib, MountGuard, with_timeout};
use common::{repo_root, run_ok, scratch_dir, target_profile_dir};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

fn mirror_pt() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let lib = target_profile_dir();
        let flags = run_ok(
            Command::new("pkg-config")
                .args(["--cflags", "--libs", "fuse3"])
                .env("PKG_CONFIG_PATH", &lib),
            Duration::from_secs(60),
        )
        .unwrap();
        let out = scratch_dir("passthrough-build").join("mirror_pt");
        run_ok(
            Command::new("gcc")
                .args(["-Wall", "-Wextra", "-Werror"])
                .arg(repo_root().join("c-examples/mirror_pt.c"))
                .arg("-o")
                .arg(&out)
                .args(flags.stdout.split_whitespace()),
            Duration::from_secs(120),
        )
        .unwrap();
        out
    })
}

/// The counters mirror_pt prints when it exits.
fn counters(stderr: &str) -> std::collections::BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("mirror_pt: "))
        .unwrap_or_else(|| panic!("no counter line in:\n{stderr}"));
    line["mirror_pt: ".len()..]
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(u64::MAX)))
        .collect()
}

#[test]
fn reads_and_writes_bypass_the_daemon_and_backing_ids_are_released() {
    let dir = scratch_dir("passthrough-io");
    let (src, mnt) = (dir.join("src"), dir.join("mnt"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&mnt).unwrap();
    let original: Vec<u8> =
        (0..4u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    std::fs::write(src.join("data"), &original).unwrap();
    let mut cmd = Command::new(mirror_pt());
    cmd.arg("-f").arg("-o").arg(format!("source={}", src.display())).arg(&mnt);
    let g = MountGuard::start(&mut cmd, &mnt, Lib::Ours, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    let m = mnt.clone();
    let orig = original.clone();
    let io =
        with_timeout("passthrough I/O", Duration::from_secs(120), move || -> Result<(), String> {
            let p = m.join("data");
            let got = std::fs::read(&p).map_err(|e| format!("read: {e}"))?;
            if got != orig {
                return Err(format!("read {} bytes differing from the source", got.len()));
            }
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&p)
                .map_err(|e| e.to_string())?;
            f.seek(SeekFrom::Start(1_000_000)).map_err(|e| e.to_string())?;
            f.write_all(b"written through passthrough").map_err(|e| e.to_string())?;
            f.seek(SeekFrom::Start(1_000_000)).map_err(|e| e.to_string())?;
            let mut back = [0u8; 27];
            f.read_exact(&mut back).map_err(|e| e.to_string())?;
            if &back != b"written through passthrough" {
                return Err(format!("read back {back:?}"));
            }
            drop(f);
            for i in 0..10_000 {
                let f =
                    std::fs::File::open(&p).map_err(|e| format!("open/close cycle {i}: {e}"))?;
                drop(f);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _o, err) = g.unmount().unwrap_or_else(|e| panic!("{e}"));
    io.unwrap_or_else(|e| panic!("{e}\ndaemon:\n{err}"));
    assert!(status.success(), "daemon exit {status}\n{err}");
    // The source holds what was written through the mount.
    let on_disk = std::fs::read(src.join("data")).unwrap();
    assert_eq!(&on_disk[1_000_000..1_000_027], b"written through passthrough");
    assert_eq!(on_disk.len(), original.len());
    let c = counters(&err);
    assert_eq!(c.get("passthrough"), Some(&1), "passthrough not negotiated: {c:?}\n{err}");
    assert_eq!(c.get("reads"), Some(&0), "READ requests reached the daemon: {c:?}");
    assert_eq!(c.get("writes"), Some(&0), "WRITE requests reached the daemon: {c:?}");
    assert_eq!(c.get("backing_fail"), Some(&0), "{c:?}\n{err}");
    let opens = c["opens"];
    assert!(opens >= 10_002, "{c:?}");
    assert_eq!(c["backing_open"], opens, "every open got a backing id: {c:?}");
    assert_eq!(c["backing_close"], opens, "every backing id was released: {c:?}");
}
