//! The FUSE program under test: started on one libfuse, checked through `/proc/PID/maps`,
//! measured through `/proc/PID/stat` and `/proc/PID/status`, unmounted with `fusermount3 -u`.
//! Dropping a [`Daemon`] unmounts lazily and kills its process group, whatever happened.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::workdir::{force_unmount, is_fuse_mounted, stopped};

/// How long a mount or an unmount may take before the run gives up.
const MOUNT_TIMEOUT: Duration = Duration::from_secs(15);

/// Which libfuse the program runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lib {
    /// Whatever the dynamic loader finds without `LD_LIBRARY_PATH` (Debian's libfuse).
    Libfuse,
    /// Ours: `LD_LIBRARY_PATH` set to the library directory.
    Ours,
}

impl Lib {
    pub fn name(self) -> &'static str {
        match self {
            Lib::Libfuse => "libfuse",
            Lib::Ours => "ours",
        }
    }
}

pub struct Daemon {
    child: Option<Child>,
    pid: i32,
    mnt: PathBuf,
    log: PathBuf,
    /// From spawn to the mount showing in `/proc/self/mountinfo`.
    pub mount_latency: Duration,
    /// The libfuse file(s) the daemon mapped, as `/proc/PID/maps` names them.
    pub mapped: Vec<PathBuf>,
}

impl Daemon {
    /// Start `program extra_args args` on `lib` and wait for its mount on `mnt`; then check that
    /// the daemon mapped the libfuse it was meant to (refuse to measure otherwise). The libfuse
    /// side loads the system's library, or the one in `libfuse_dir` if given.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        program: &Path,
        extra_args: &[&str],
        args: &[String],
        dev_fuse: bool,
        lib: Lib,
        lib_dir: &Path,
        libfuse_dir: Option<&Path>,
        src: &Path,
        mnt: &Path,
        log: &Path,
    ) -> Result<Daemon, String> {
        force_unmount(mnt);
        let mut cmd = Command::new(program);
        cmd.args(extra_args);
        for a in args {
            cmd.arg(
                a.replace("{src}", &src.to_string_lossy()).replace("{mnt}", &mnt.to_string_lossy()),
            );
        }
        cmd.env_remove("LD_PRELOAD");
        // /dev/fuse variants opt out of io_uring explicitly: ours takes it by default in the
        // multithreaded loop where the kernel offers it (libfuse reads the variable too).
        // Otherwise the variant's options decide, not the caller's environment.
        if dev_fuse {
            cmd.env("FUSE_URING_ENABLE", "0");
        } else {
            cmd.env_remove("FUSE_URING_ENABLE");
        }
        match (lib, libfuse_dir) {
            (Lib::Libfuse, None) => cmd.env_remove("LD_LIBRARY_PATH"),
            (Lib::Libfuse, Some(dir)) => cmd.env("LD_LIBRARY_PATH", dir),
            (Lib::Ours, _) => cmd.env("LD_LIBRARY_PATH", lib_dir),
        };
        let logf = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let logf2 = logf.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null()).stdout(logf).stderr(logf2);
        // Its own process group: a terminal's Ctrl-C reaches us, and we unmount first.
        cmd.process_group(0);
        let t0 = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let pid = child.id() as i32;
        let mut d = Daemon {
            child: Some(child),
            pid,
            mnt: mnt.to_path_buf(),
            log: log.to_path_buf(),
            mount_latency: Duration::ZERO,
            mapped: Vec::new(),
        };
        loop {
            if is_fuse_mounted(mnt) {
                d.mount_latency = t0.elapsed();
                break;
            }
            if let Some(st) = d.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                d.child = None;
                return Err(format!(
                    "{} on {} exited ({st}) before mounting:\n{}",
                    program.display(),
                    lib.name(),
                    d.log_tail()
                ));
            }
            if t0.elapsed() > MOUNT_TIMEOUT || stopped() {
                return Err(format!(
                    "{} on {}: no mount on {} after {:?}:\n{}",
                    program.display(),
                    lib.name(),
                    mnt.display(),
                    t0.elapsed(),
                    d.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        d.mapped = mapped_libfuse(pid)?;
        check_library(lib, lib_dir, libfuse_dir, &d.mapped)?;
        Ok(d)
    }

    /// The daemon's user+system CPU time so far, all threads (including exited ones), in µs.
    pub fn cpu_us(&self) -> Result<f64, String> {
        let path = format!("/proc/{}/stat", self.pid);
        let text = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        // Fields after the parenthesised command name, which may itself contain spaces.
        let rest = text.rsplit_once(')').map(|(_, r)| r).ok_or("bad /proc/PID/stat")?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
        let ticks: u64 = f
            .get(11..13)
            .ok_or("short /proc/PID/stat")?
            .iter()
            .map(|v| v.parse::<u64>().unwrap_or(0))
            .sum();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Ok(ticks as f64 * 1e6 / hz)
    }

    /// The daemon's io_uring instances and the completions they have posted (the sum of their
    /// `CqTail:` in `/proc/PID/fdinfo`).
    pub fn rings(&self) -> Result<(usize, u64), String> {
        let dir = format!("/proc/{}/fdinfo", self.pid);
        let mut found = (0, 0);
        for e in fs::read_dir(&dir).map_err(|e| format!("{dir}: {e}"))?.flatten() {
            let Ok(text) = fs::read_to_string(e.path()) else { continue };
            let tail = text.lines().find_map(|l| l.strip_prefix("CqTail:"));
            if let Some(t) = tail.and_then(|t| t.trim().parse::<u64>().ok()) {
                found.0 += 1;
                found.1 += t;
            }
        }
        Ok(found)
    }

    /// Peak resident set size (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.pid);
        let text = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        text.lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no VmHWM in {path}"))
    }

    /// A function that kills the daemon's process group: the kernel then aborts the
    /// connection and every client blocked on the mount gets an error.
    pub fn killer(&self) -> impl Fn() + Send + Sync + 'static {
        let pid = self.pid;
        move || {
            // SAFETY: kill(2) on the process group we created; no memory involved.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }

    /// `fusermount3 -u` and wait for the daemon to exit; returns how long that took.
    pub fn unmount(mut self) -> Result<Duration, String> {
        let t0 = Instant::now();
        let out = Command::new("fusermount3")
            .arg("-u")
            .arg(&self.mnt)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("fusermount3: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "fusermount3 -u {} failed: {}",
                self.mnt.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let child = self.child.as_mut().expect("running");
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if t0.elapsed() < MOUNT_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(None) => {
                    return Err(format!(
                        "the daemon did not exit within {MOUNT_TIMEOUT:?} of its unmount:\n{}",
                        self.log_tail()
                    ));
                }
                Err(e) => return Err(format!("waiting for the daemon: {e}")),
            }
        }
        let took = t0.elapsed();
        self.child = None;
        Ok(took)
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        force_unmount(&self.mnt);
        if let Some(mut child) = self.child.take() {
            (self.killer())();
            let _ = child.wait();
        }
    }
}

/// Every mapped file whose name starts with `libfuse3`.
fn mapped_libfuse(pid: i32) -> Result<Vec<PathBuf>, String> {
    let path = format!("/proc/{pid}/maps");
    let text = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut found: Vec<PathBuf> = Vec::new();
    for line in text.lines() {
        // address perms offset dev inode pathname
        let Some(p) = line.splitn(6, ' ').nth(5).map(str::trim) else { continue };
        let p = Path::new(p);
        if p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libfuse3"))
            && !found.iter().any(|f| f == p)
        {
            found.push(p.to_path_buf());
        }
    }
    Ok(found)
}

/// Ours: every libfuse3 mapping is in `lib_dir`. Libfuse: one is mapped and none is ours, and
/// with `libfuse_dir` every one is in there.
fn check_library(
    lib: Lib,
    lib_dir: &Path,
    libfuse_dir: Option<&Path>,
    mapped: &[PathBuf],
) -> Result<(), String> {
    let ours = |p: &PathBuf| p.starts_with(lib_dir);
    let reference = |p: &PathBuf| libfuse_dir.is_none_or(|d| p.starts_with(d));
    let ok = !mapped.is_empty()
        && match lib {
            Lib::Ours => mapped.iter().all(ours),
            Lib::Libfuse => !mapped.iter().any(ours) && mapped.iter().all(reference),
        };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the daemon meant to run on {} mapped {:?} (ours is in {}, the reference in {}): \
             refusing to report",
            lib.name(),
            mapped,
            lib_dir.display(),
            libfuse_dir.map_or("the system's directories".into(), |d| d.display().to_string())
        ))
    }
}
