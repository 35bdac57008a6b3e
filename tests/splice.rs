//! Splice (issue 8): a filesystem that asks for FUSE_CAP_SPLICE_WRITE and answers reads with a
//! file-descriptor buffer gets its replies moved file -> pipe -> device, never through a user
//! buffer; without the capability, or when splice is refused, the reply is copied and still
//! right. tests/c/splice_ll.c is the filesystem (direct_io, so a 1 MiB read(2) is one 1 MiB
//! READ). What the daemon did is read from strace attached to it: a reply spliced to the
//! device fd shows as `splice(pipe, NULL, devfd, NULL, 1048592, ...) = 1048592`.
//!
//! A 1 MiB reply plus its header needs a pipe larger than the default
//! /proc/sys/fs/pipe-max-size (1 MiB) and this machine has no CAP_SYS_RESOURCE, so the tests
//! that expect splicing raise the limit to 4 MiB for their duration (root) and put it back;
//! one test keeps it at 1 MiB and shows the copy fallback. Debian's libfuse runs the same
//! program as the reference.

mod common;

use common::cbuild::{Pc, build_c};
use common::mount::{Lib, MountGuard, UnmountOnDrop};
use common::{repo_root, run_ok, scratch_dir};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;
const PIPE_MAX: &str = "/proc/sys/fs/pipe-max-size";

/// Tests here change a system-wide limit: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Sets pipe-max-size for the guard's life.
struct PipeMax(String);

impl PipeMax {
    fn set(bytes: usize) -> PipeMax {
        let old = std::fs::read_to_string(PIPE_MAX).expect("read pipe-max-size");
        std::fs::write(PIPE_MAX, bytes.to_string())
            .unwrap_or_else(|e| panic!("cannot set {PIPE_MAX} (root needed): {e}"));
        PipeMax(old.trim().to_string())
    }
}

impl Drop for PipeMax {
    fn drop(&mut self) {
        let _ = std::fs::write(PIPE_MAX, &self.0);
    }
}

/// splice_ll built with Debian's headers (runs on Debian's libfuse and our .so.3) and with
/// ours (our .so.4).
fn binaries() -> &'static [(PathBuf, &'static str); 2] {
    static BINS: OnceLock<[(PathBuf, &'static str); 2]> = OnceLock::new();
    BINS.get_or_init(|| {
        let dir = scratch_dir("splice-build");
        let src = repo_root().join("tests/c/splice_ll.c");
        let build = |out: &Path, pc: Pc| {
            build_c(pc, &["-Wall", "-Wextra", "-Werror", "-O2"], &src, out).unwrap();
        };
        let debian = dir.join("splice_ll-debian");
        let ours = dir.join("splice_ll-ours");
        build(&debian, Pc::Debian);
        build(&ours, Pc::Ours);
        [(debian, "Debian's headers"), (ours, "our headers")]
    })
}

/// What one mount saw.
#[derive(Debug)]
struct Seen {
    /// Replies of `reply_len` bytes spliced into the device.
    spliced: usize,
    /// Replies of `reply_len` bytes written with writev.
    written: usize,
    trace: String,
}

/// The daemon's /dev/fuse descriptor number.
/// The daemon's /dev/fuse fds: the session's, and the clones its loop reads (ours reads a
/// non-blocking clone and answers on it).
fn device_fds(pid: u32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    dir.flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.as_os_str() == "/dev/fuse"))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// strace attached to every thread of `pid`, killed on drop.
struct Tracer(Child, PathBuf);

impl Tracer {
    fn attach(pid: u32, out: &Path) -> Tracer {
        let child = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=splice,writev", "-o"])
            .arg(out)
            .arg("-p")
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("strace (apt-get install strace)");
        // Attached when the daemon's threads show a tracer.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let traced = std::fs::read_dir(format!("/proc/{pid}/task"))
                .map(|d| {
                    d.flatten().all(|t| {
                        std::fs::read_to_string(t.path().join("status"))
                            .map(|s| {
                                s.lines()
                                    .any(|l| l.starts_with("TracerPid:") && l != "TracerPid:\t0")
                            })
                            .unwrap_or(true)
                    })
                })
                .unwrap_or(false);
            if traced {
                break;
            }
            assert!(Instant::now() < deadline, "strace did not attach to {pid}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Tracer(child, out.to_path_buf())
    }

    fn finish(mut self) -> String {
        // SAFETY: signalling our own child process; no memory is involved.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let _ = self.0.wait();
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Mount `bin` on `lib` over a backing file of `mib` MiB, read it through the mount in 1 MiB
/// read(2)s under strace, check the data, and count how the 1 MiB replies went out.
fn read_through(bin: &Path, lib: Lib, extra: &[&str], tag: &str, mib: usize) -> Seen {
    let dir = scratch_dir(&format!("splice-{tag}"));
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let _unmount = UnmountOnDrop(mnt.clone());
    let backing = dir.join("backing");
    let data: Vec<u8> = (0..mib * MIB).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&backing, &data).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(extra).arg(&backing).arg(&mnt).arg("-f");
    let g = MountGuard::start(&mut cmd, &mnt, lib, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = g.pid().expect("daemon pid");
    let devfds = device_fds(pid);
    assert!(!devfds.is_empty(), "{tag}: the daemon has no /dev/fuse open");
    let tracer = Tracer::attach(pid, &dir.join("trace"));
    // dd reads with a page-aligned 1 MiB buffer, so each read(2) is exactly one 1 MiB READ.
    let copy = dir.join("copy");
    let ran = run_ok(
        Command::new("dd")
            .arg(format!("if={}", mnt.join("data").display()))
            .arg(format!("of={}", copy.display()))
            .args(["bs=1M", "status=none"]),
        Duration::from_secs(60),
    );
    let trace = tracer.finish();
    if let Err(e) = ran {
        panic!("{tag}: reading through the mount: {e}");
    }
    let got = std::fs::read(&copy).unwrap();
    let (status, _out, err) = g.unmount().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{tag}: daemon exited with {status}: {err}");
    assert!(got == data, "{tag}: read {} bytes that differ from the backing file", got.len());
    let reply = (MIB + 16).to_string();
    let spliced = trace
        .lines()
        .filter(|l| {
            l.contains("splice(")
                && devfds.iter().any(|d| l.contains(&format!(", NULL, {d}, NULL, {reply},")))
                && l.trim_end().ends_with(&format!("= {reply}"))
        })
        .count();
    let written = trace
        .lines()
        .filter(|l| {
            devfds.iter().any(|d| l.contains(&format!("writev({d},")))
                && l.trim_end().ends_with(&format!("= {reply}"))
        })
        .count();
    Seen { spliced, written, trace }
}

fn short(trace: &str) -> String {
    trace.lines().take(40).map(|l| format!("{}\n", &l[..l.len().min(160)])).collect()
}

impl Seen {
    /// Every 1 MiB reply was written by copying (at least `n` of them), none spliced.
    fn assert_copied(&self, tag: &str, n: usize) {
        assert!(
            self.spliced == 0 && self.written >= n,
            "{tag}: expected copies, saw {} spliced and {} written:\n{}",
            self.spliced,
            self.written,
            short(&self.trace)
        );
    }
}

#[test]
fn one_mib_read_replies_move_through_a_pipe() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _limit = PipeMax::set(4 * MIB);
    let [(debian, _), (ours_bin, _)] = binaries();
    // Reference: Debian's libfuse with the same program.
    let reference = read_through(debian, Lib::System, &[], "ref", 4);
    for (bin, lib, tag) in [(debian, Lib::Ours, "so3"), (ours_bin, Lib::Ours, "so4")] {
        let seen = read_through(bin, lib, &[], tag, 4);
        assert!(
            seen.spliced >= 4 && seen.written == 0,
            "{tag}: expected the four 1 MiB replies spliced into the device, saw {} spliced and \
             {} written (Debian's libfuse: {} spliced, {} written); trace:\n{}",
            seen.spliced,
            seen.written,
            reference.spliced,
            reference.written,
            short(&seen.trace)
        );
        assert_eq!(
            (seen.spliced > 0, seen.written > 0),
            (reference.spliced > 0, reference.written > 0),
            "{tag}: Debian's libfuse sends these replies differently (ref {reference:?})"
        );
    }
}

#[test]
fn without_the_capability_replies_are_copied() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _limit = PipeMax::set(4 * MIB);
    let [(debian, _), (ours_bin, _)] = binaries();
    for (bin, tag) in [(debian, "nosplice-so3"), (ours_bin, "nosplice-so4")] {
        read_through(bin, Lib::Ours, &["--nosplice"], tag, 2).assert_copied(tag, 2);
    }
}

#[test]
fn refused_splice_falls_back_to_copying() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let [(debian, _), (ours_bin, _)] = binaries();
    // A pipe cannot grow past 1 MiB here: 1 MiB + header does not fit, so the reply is copied.
    {
        let _limit = PipeMax::set(MIB);
        let reference = read_through(debian, Lib::System, &[], "small-pipe-ref", 2);
        read_through(ours_bin, Lib::Ours, &[], "small-pipe", 2).assert_copied("small pipe", 2);
        assert!(reference.spliced == 0, "Debian's libfuse spliced with a 1 MiB pipe limit?");
    }
    // An O_DIRECT backing file: splice works from it on this kernel (as on Debian's libfuse),
    // and the copy path must read it into page-aligned memory (O_DIRECT refuses others).
    let _limit = PipeMax::set(4 * MIB);
    let reference = read_through(debian, Lib::System, &["--odirect"], "odirect-ref", 2);
    for (bin, tag) in [(debian, "odirect-so3"), (ours_bin, "odirect-so4")] {
        let seen = read_through(bin, Lib::Ours, &["--odirect"], tag, 2);
        assert_eq!(
            (seen.spliced > 0, seen.written > 0),
            (reference.spliced > 0, reference.written > 0),
            "{tag}: Debian's libfuse sends these replies differently (ref {} spliced, {} \
             written; ours {} spliced, {} written)",
            reference.spliced,
            reference.written,
            seen.spliced,
            seen.written
        );
        let copy_tag = format!("{tag}-copy");
        read_through(bin, Lib::Ours, &["--odirect", "--nosplice"], &copy_tag, 2)
            .assert_copied(&copy_tag, 2);
    }
}
