//! FUSE passthrough (issue 7): c-examples/mirror_pt.c, built against our headers, registers
//! each opened source file as the kernel's backing file. Reads and writes must then reach the
//! source without READ or WRITE requests reaching the daemon, the data must be right, and every
//! backing id must be released on close (10,000 open/close cycles, none left).
//!
//! Then where passthrough cannot be had, mirror_pt built against libfuse 3.18.3's headers runs
//! on 3.18.3's library and on ours, and the two must come out the same: an unprivileged user
//! (BACKING_OPEN refused with EPERM), a source that is itself a passthrough mount (ELOOP beyond
//! the negotiated stacking depth; allowed with `max_backing_stack_depth` 1; a depth the kernel
//! does not support), the writeback cache asked for too (the kernel then refuses passthrough),
//! and `direct_io` with a backing id (the kernel sends reads and writes to the daemon). In each
//! the data must be right, the open falls back to the daemon or passes through, the library
//! logs the refusal, and nothing hangs.

mod common;

use common::cbuild::{Pc, STRICT, build_c};
use common::mount::{Lib, MountGuard, with_timeout};
use common::{libfuse_318_build, repo_root, run, run_ok, scratch_dir};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

fn mirror_pt() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = scratch_dir("passthrough-build").join("mirror_pt");
        build_c(Pc::Ours, &STRICT, &repo_root().join("c-examples/mirror_pt.c"), &out).unwrap()
    })
}

/// The counters mirror_pt prints when it exits.
fn counters(stderr: &str) -> BTreeMap<String, u64> {
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
    passthrough_io("passthrough-io", &[]);
}

#[test]
fn passthrough_over_io_uring() {
    // The same over FUSE-over-io_uring: OPEN arrives through a ring entry and registers its
    // backing file on the session's device fd; the rings must carry the 10,000 opens.
    let param = common::uring::UringParam::set(true);
    let completions = passthrough_io("passthrough-io-uring", &["-o", "io_uring"]);
    drop(param);
    assert!(completions >= 20_000, "the rings carried only {completions} requests");
}

/// Sum of the completion-queue tails of `pid`'s io_uring descriptors.
fn ring_completions(pid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else { return 0 };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .flat_map(|t| {
            t.lines()
                .filter_map(|l| {
                    l.strip_prefix("CqTail:").and_then(|v| v.trim().parse::<u64>().ok())
                })
                .collect::<Vec<_>>()
        })
        .sum()
}

/// Mount mirror_pt with `extra`, read, write and open/close through it, unmount, and check
/// the counters. Returns the daemon's io_uring completions seen just before unmounting.
fn passthrough_io(name: &str, extra: &[&str]) -> u64 {
    let dir = scratch_dir(name);
    let (src, mnt) = (dir.join("src"), dir.join("mnt"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&mnt).unwrap();
    let original: Vec<u8> =
        (0..4u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    std::fs::write(src.join("data"), &original).unwrap();
    let mut cmd = Command::new(mirror_pt());
    cmd.arg("-f").arg("-o").arg(format!("source={}", src.display())).args(extra).arg(&mnt);
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
    let completions = g.pid().map_or(0, ring_completions);
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
    // An open that finds the inode still open (RELEASE is asynchronous) reuses its backing id.
    assert_eq!(
        c["backing_open"] + c["backing_reuse"],
        opens,
        "every open got a backing id, new or reused: {c:?}"
    );
    assert!(c["backing_open"] >= 1, "{c:?}");
    assert_eq!(c["backing_close"], c["backing_open"], "every backing id was released: {c:?}");
    completions
}

// ---------------------------------------------------------------------------------------------
// Where passthrough is unavailable or restricted: libfuse 3.18.3 and ours side by side

const MOUNT_T: Duration = Duration::from_secs(20);
const IO_T: Duration = Duration::from_secs(60);
const USER: &str = "ferrofuse-test";

/// mirror_pt built against libfuse 3.18.3's headers with a RUNPATH to its library: without
/// LD_LIBRARY_PATH ([`Lib::System`]) it runs on 3.18.3, with ours ([`Lib::Ours`]) on ours.
/// In a directory the test user can reach.
fn mirror_pt_318() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let build = libfuse_318_build();
        let tree = common::libfuse_318_tree().unwrap_or_else(|e| panic!("{e}"));
        let dir = scratch_dir("passthrough-build-318");
        let out = dir.join("mirror_pt");
        run_ok(
            Command::new("gcc")
                .args(["-O2", "-Wall", "-Wextra", "-Werror"])
                .arg(format!("-I{}", build.display()))
                .arg(format!("-I{}", tree.join("include").display()))
                .arg(repo_root().join("c-examples/mirror_pt.c"))
                .arg("-o")
                .arg(&out)
                .arg(format!("-L{}", build.join("lib").display()))
                .arg(format!("-Wl,-rpath,{}", build.join("lib").display()))
                .args(["-lfuse3", "-lpthread"]),
            Duration::from_secs(120),
        )
        .unwrap();
        open_up(&dir);
        out
    })
}

/// `dir` and its ancestors searchable by everyone (the test user runs what is inside).
fn open_up(dir: &Path) {
    for d in dir.ancestors() {
        if d == Path::new("/") {
            break;
        }
        let mode = std::fs::metadata(d).unwrap().permissions().mode();
        if mode & 0o005 != 0o005 {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o005)).unwrap();
        }
    }
}

/// `/dev/fuse` at mode 0666 while this lives (unprivileged mounts need it); the mode found is
/// put back on drop.
struct DevFuseOpen {
    old: u32,
}

impl DevFuseOpen {
    fn new() -> DevFuseOpen {
        let old = std::fs::metadata("/dev/fuse").expect("stat /dev/fuse").permissions().mode();
        std::fs::set_permissions("/dev/fuse", std::fs::Permissions::from_mode(0o666))
            .expect("chmod 0666 /dev/fuse");
        DevFuseOpen { old: old & 0o7777 }
    }
}

impl Drop for DevFuseOpen {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions("/dev/fuse", std::fs::Permissions::from_mode(self.old));
    }
}

/// The test user's uid and gid, creating the user if needed.
fn test_user() -> (u32, u32) {
    static IDS: OnceLock<(u32, u32)> = OnceLock::new();
    *IDS.get_or_init(|| {
        let script =
            format!("id -u {USER} >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin {USER}");
        run_ok(Command::new("sh").arg("-c").arg(&script), Duration::from_secs(15)).unwrap();
        let id = |flag: &str| -> u32 {
            let r = run_ok(Command::new("id").arg(flag).arg(USER), Duration::from_secs(15));
            r.unwrap().stdout.trim().parse().expect("numeric id")
        };
        (id("-u"), id("-g"))
    })
}

/// `prog` run as the test user.
fn as_user(prog: impl AsRef<std::ffi::OsStr>) -> Command {
    let (_, gid) = test_user();
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={USER}")).arg(format!("--regid={gid}")).arg("--init-groups").arg(prog);
    c
}

const MARK: &[u8] = b"written-through";
const MARK_AT: usize = 1000;

/// The source file's contents (1 MiB, not all zeroes).
fn original() -> Vec<u8> {
    (0..1u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect()
}

/// What one mirror_pt run came to: the same on libfuse 3.18.3 and on ours.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// Reading the file gave the source's bytes, a write through the mount read back right and
    /// reached the source.
    io: Result<(), String>,
    /// The daemon asked for passthrough and the kernel offered it.
    negotiated: bool,
    /// READ / WRITE requests reached the daemon (passthrough not in effect for I/O).
    daemon_reads: bool,
    daemon_writes: bool,
    /// Some open got a backing id; some open's BACKING_OPEN was refused.
    backed: bool,
    refused: bool,
    /// The library's distinct `fuse: ...` lines.
    log: Vec<String>,
    exit_ok: bool,
}

/// Mount `mirror_pt_318 -o source=SRC EXTRA` on `lib` (as the test user if `user`), read and
/// write `data` through it, unmount. `reset` is the real file behind SRC/data, rewritten with
/// [`original`] first.
fn scenario(
    name: &str,
    lib: Lib,
    user: bool,
    src: &Path,
    reset: &Path,
    extra: &[&str],
) -> (Outcome, String) {
    let dir = scratch_dir(&format!("passthrough-{name}-{}", lib.name()));
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let expect = dir.join("expect");
    std::fs::write(&expect, original()).unwrap();
    std::fs::write(reset, original()).unwrap();
    let _dev = user.then(DevFuseOpen::new);
    if user {
        let (uid, gid) = test_user();
        for p in [&mnt, &src.to_path_buf(), &reset.to_path_buf()] {
            std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
        }
        open_up(&dir);
        std::fs::set_permissions(&expect, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let bin = mirror_pt_318();
    let mut cmd = if user { as_user(bin) } else { Command::new(bin) };
    cmd.arg("-f").arg("-o").arg(format!("source={}", src.display()));
    for o in extra {
        cmd.args(["-o", o]);
    }
    cmd.arg(&mnt).env("FUSERMOUNT_PROG", "/usr/bin/fusermount3");
    let g = MountGuard::start(&mut cmd, &mnt, lib, MOUNT_T)
        .unwrap_or_else(|e| panic!("{name} on {}: {e}", lib.name()));
    // The client: a shell, as the user who mounted (only they may use the mount).
    let script = format!(
        "err=$(cat \"$1/data\" 2>&1 >/dev/null) || {{ echo \"read: ${{err##*: }}\"; exit 1; }}
         cmp -s \"$1/data\" \"$2\" || {{ echo 'read through the mount differs'; exit 1; }}
         printf '%s' | dd of=\"$1/data\" bs=1 seek={MARK_AT} conv=notrunc status=none || exit 1
         got=$(dd if=\"$1/data\" bs=1 skip={MARK_AT} count={} status=none) || exit 1
         [ \"$got\" = '%s' ] || {{ echo \"read back '$got'\"; exit 1; }}",
        MARK.len(),
    )
    .replace("%s", std::str::from_utf8(MARK).unwrap());
    let mut client = if user { as_user("sh") } else { Command::new("sh") };
    client.arg("-c").arg(&script).arg("client").arg(&mnt).arg(&expect);
    let mut io = match run(&mut client, IO_T) {
        Ok(r) if r.ok() => Ok(()),
        Ok(r) => Err(format!("client: {}{}", r.stdout, r.stderr)),
        Err(e) => Err(e),
    };
    let (status, _o, err) = g.unmount().unwrap_or_else(|e| panic!("{name} on {}: {e}", lib.name()));
    if io.is_ok() {
        let on_disk = std::fs::read(reset).unwrap();
        if on_disk.get(MARK_AT..MARK_AT + MARK.len()) != Some(MARK) {
            io = Err("the write did not reach the source".into());
        }
    }
    let c = counters(&err);
    let pos = |k: &str| c.get(k).copied().unwrap_or(0) > 0;
    let mut log: Vec<String> =
        err.lines().filter(|l| l.starts_with("fuse: ")).map(str::to_string).collect();
    log.sort();
    log.dedup();
    let o = Outcome {
        io,
        negotiated: pos("passthrough"),
        daemon_reads: pos("reads"),
        daemon_writes: pos("writes"),
        backed: pos("backing_open"),
        refused: pos("backing_fail"),
        log,
        exit_ok: status.success(),
    };
    (o, err)
}

/// Run a scenario on libfuse 3.18.3 and on ours; both must give `want`.
fn on_both(name: &str, user: bool, src: &Path, reset: &Path, extra: &[&str], want: &Outcome) {
    let mut got = Vec::new();
    for lib in Lib::BOTH {
        let (o, err) = scenario(name, lib, user, src, reset, extra);
        eprintln!("{name} on {}: {o:?}", lib.name());
        got.push((lib, o, err));
    }
    for (lib, o, err) in &got {
        let which = if *lib == Lib::System { "libfuse 3.18.3" } else { "ours" };
        assert_eq!(o, want, "{name} on {which}:\n{err}");
    }
}

/// A plain source directory holding `data`.
fn plain_source(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(&format!("passthrough-src-{name}"));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let data = src.join("data");
    std::fs::write(&data, original()).unwrap();
    (src, data)
}

/// The open falls back to the daemon: data right, READ and WRITE served by it, the refusal
/// logged with `errno`'s text.
fn fallback(errno: i32) -> Outcome {
    Outcome {
        io: Ok(()),
        negotiated: true,
        daemon_reads: true,
        daemon_writes: true,
        backed: false,
        refused: true,
        log: vec![format!("fuse: passthrough_open: {}", strerror(errno))],
        exit_ok: true,
    }
}

fn strerror(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn unprivileged_user_falls_back_to_daemon_io() {
    let (src, data) = plain_source("user");
    // BACKING_OPEN needs CAP_SYS_ADMIN: refused with EPERM for the user's daemon.
    on_both("user", true, &src, &data, &[], &fallback(libc::EPERM));
}

#[test]
fn writeback_cache_excludes_passthrough() {
    let (src, data) = plain_source("writeback");
    // Both asked for: the kernel leaves passthrough off, BACKING_OPEN answers EPERM.
    on_both("writeback", false, &src, &data, &["writeback"], &fallback(libc::EPERM));
}

#[test]
fn a_backing_id_the_kernel_does_not_know_fails_the_open() {
    let (src, data) = plain_source("stale-id");
    // With the writeback cache the kernel has passthrough off: an open that claims a backing
    // id anyway (FOPEN_PASSTHROUGH goes out as the library got it) fails with EIO, at once.
    let want = Outcome {
        io: Err("client: read: Input/output error\n".into()),
        negotiated: true,
        daemon_reads: false,
        daemon_writes: false,
        backed: false,
        refused: true,
        log: vec![format!("fuse: passthrough_open: {}", strerror(libc::EPERM))],
        exit_ok: true,
    };
    on_both("stale-id", false, &src, &data, &["writeback", "force_backing_id=1"], &want);
}

#[test]
fn direct_io_with_a_backing_id_sends_io_to_the_daemon() {
    let (src, data) = plain_source("direct-io");
    // FOPEN_DIRECT_IO together with FOPEN_PASSTHROUGH: the kernel keeps the backing file (for
    // mmap) but reads and writes go to the daemon.
    let want = Outcome {
        io: Ok(()),
        negotiated: true,
        daemon_reads: true,
        daemon_writes: true,
        backed: true,
        refused: false,
        log: vec![],
        exit_ok: true,
    };
    on_both("direct-io", false, &src, &data, &["direct_io"], &want);
}

/// An inner passthrough mirror (ours) of a plain directory; the outer mirrors are mounted on
/// it. Returns the guard, the inner mountpoint and the real file behind `data`.
fn inner_mirror(name: &str) -> (MountGuard, PathBuf, PathBuf) {
    let (src, data) = plain_source(name);
    let mnt = src.parent().unwrap().join("inner");
    std::fs::create_dir_all(&mnt).unwrap();
    let mut cmd = Command::new(mirror_pt_318());
    cmd.arg("-f").arg("-o").arg(format!("source={}", src.display())).arg(&mnt);
    let g = MountGuard::start(&mut cmd, &mnt, Lib::Ours, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    (g, mnt, data)
}

#[test]
fn stacking_deeper_than_negotiated_falls_back() {
    let (inner, mnt, data) = inner_mirror("stack-0");
    // Default max_backing_stack_depth 0: a backing file on a FUSE passthrough mount is one
    // level too deep; BACKING_OPEN answers ELOOP.
    on_both("stack-0", false, &mnt, &data, &[], &fallback(libc::ELOOP));
    let (st, _o, err) = inner.unmount().unwrap_or_else(|e| panic!("{e}"));
    assert!(st.success(), "{err}");
}

#[test]
fn stacking_within_the_negotiated_depth_passes_through() {
    let (inner, mnt, data) = inner_mirror("stack-1");
    let want = Outcome {
        io: Ok(()),
        negotiated: true,
        daemon_reads: false,
        daemon_writes: false,
        backed: true,
        refused: false,
        log: vec![],
        exit_ok: true,
    };
    on_both("stack-1", false, &mnt, &data, &["backing_depth=1"], &want);
    // A depth beyond what the kernel stacks (2 levels): it leaves passthrough off.
    on_both("stack-2", false, &mnt, &data, &["backing_depth=2"], &fallback(libc::EPERM));
    let (st, _o, err) = inner.unmount().unwrap_or_else(|e| panic!("{e}"));
    assert!(st.success(), "{err}");
    let c = counters(&err);
    assert_eq!((c["reads"], c["writes"]), (0, 0), "the inner mirror passes through: {c:?}");
}
