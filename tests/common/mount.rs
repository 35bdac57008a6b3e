//! Running a FUSE daemon under test: start it, wait for its mount, and always clean up.
//!
//! `MountGuard::start` spawns the daemon in its own process group, polls
//! `/proc/self/mountinfo` until the mountpoint shows up as a FUSE mount (never a fixed
//! sleep), and on Drop unmounts lazily, kills the group and reaps it, so a failing test
//! leaves no mount behind. Which libfuse the daemon loads is chosen with [`Lib`]; the guard
//! checks `/proc/PID/maps` so a test cannot silently run on the wrong library.
#![allow(dead_code)]

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which libfuse a daemon runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    /// The system's libfuse (Debian's, or whatever the binary's own lookup finds).
    System,
    /// Ours: `LD_LIBRARY_PATH` at target/<profile>.
    Ours,
}

impl Lib {
    /// Both, ours last (so a reference run exists when ours is compared with it).
    pub const BOTH: [Lib; 2] = [Lib::System, Lib::Ours];

    pub fn name(self) -> &'static str {
        match self {
            Lib::System => "system",
            Lib::Ours => "ours",
        }
    }

    /// Set up `cmd`'s environment for this library, and pin its transport: see
    /// [`pin_dev_fuse`].
    pub fn apply(self, cmd: &mut Command) {
        match self {
            Lib::System => {
                cmd.env_remove("LD_LIBRARY_PATH");
            }
            Lib::Ours => {
                cmd.env("LD_LIBRARY_PATH", super::target_profile_dir());
            }
        }
        pin_dev_fuse(cmd);
    }
}

/// The variable that opts a session out of io_uring (libfuse's; ours honours it too).
pub const URING_ENV: &str = "FUSE_URING_ENABLE";

/// Unless the test decided itself (set or removed `FUSE_URING_ENABLE` on `cmd`), give the
/// daemon `FUSE_URING_ENABLE=0`. Ours makes io_uring the multithreaded loop's default when
/// the kernel offers it (`/sys/module/fuse/parameters/enable_uring` = Y): the io_uring tests
/// turn that switch on, and it is one switch for the whole machine, so without this every
/// daemon started meanwhile (by a parallel test of the same binary, or by anyone's run on
/// this machine) would change transport under its test. `-o io_uring` still wins (the command
/// line beats the environment); libfuse reads the variable the same way (3.14 ignores it).
pub fn pin_dev_fuse(cmd: &mut Command) {
    if !cmd.get_envs().any(|(k, _)| k == URING_ENV) {
        cmd.env(URING_ENV, "0");
    }
}

/// Is `path` currently a mountpoint of a FUSE filesystem? Returns its fstype if so.
pub fn fuse_mount_type(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let want = path.to_string_lossy();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else { continue };
        if fields.len() < 5 || sep + 1 >= fields.len() {
            continue;
        }
        let mp = unescape_mountinfo(fields[4]);
        let fstype = fields[sep + 1];
        if mp == want && (fstype.starts_with("fuse") || fstype == "fuseblk") {
            return Some(fstype.to_string());
        }
    }
    None
}

fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| c.is_ascii_digit()) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lazily unmount `path` if it is a FUSE mount (ignores errors).
pub fn force_unmount(path: &Path) {
    if fuse_mount_type(path).is_some() {
        let _ = Command::new("umount").arg("-l").arg(path).stderr(Stdio::null()).status();
    }
}

/// A running FUSE daemon with its mount.
pub struct MountGuard {
    child: Option<Child>,
    pub mountpoint: PathBuf,
    pub lib: Lib,
    what: String,
    out: Option<std::thread::JoinHandle<Vec<u8>>>,
    err: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl MountGuard {
    /// Start `cmd` (which must mount on `mountpoint`, usually run with `-f`) on `lib`, and
    /// wait up to `timeout` for the mount to appear. The daemon's stdout/stderr are captured.
    pub fn start(
        cmd: &mut Command,
        mountpoint: &Path,
        lib: Lib,
        timeout: Duration,
    ) -> Result<MountGuard, String> {
        let what = super::describe(cmd);
        force_unmount(mountpoint);
        lib.apply(cmd);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start `{what}`: {e}"))?;
        let mut o = child.stdout.take().expect("piped");
        let mut e = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = o.read_to_end(&mut v);
            v
        });
        let err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = e.read_to_end(&mut v);
            v
        });
        let mut g = MountGuard {
            child: Some(child),
            mountpoint: mountpoint.to_path_buf(),
            lib,
            what,
            out: Some(out),
            err: Some(err),
        };
        let deadline = Instant::now() + timeout;
        loop {
            if fuse_mount_type(mountpoint).is_some() {
                break;
            }
            if let Some(status) = g.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                let (o, e) = g.take_output();
                return Err(format!(
                    "`{}` exited ({status}) before mounting {}:\n{o}{e}",
                    g.what,
                    mountpoint.display()
                ));
            }
            if Instant::now() > deadline {
                let (o, e) = g.stop();
                return Err(format!(
                    "`{}` did not mount {} within {timeout:?}:\n{o}{e}",
                    g.what,
                    mountpoint.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        g.check_library()?;
        Ok(g)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Check that the daemon mapped the libfuse it should have.
    pub fn check_library(&mut self) -> Result<(), String> {
        let Some(pid) = self.pid() else { return Ok(()) };
        if let Err(e) = check_maps(pid, self.lib) {
            let (o, er) = self.stop();
            return Err(format!("`{}`: {e}\n{o}{er}", self.what));
        }
        Ok(())
    }

    fn take_output(&mut self) -> (String, String) {
        let o = self.out.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        let e = self.err.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        (String::from_utf8_lossy(&o).into_owned(), String::from_utf8_lossy(&e).into_owned())
    }

    /// Unmount the way a user would, with `fusermount3 -u`, wait for the daemon to exit by
    /// itself (up to 10 s), and return its exit status and output. Err if `fusermount3 -u`
    /// failed (the mount is then cleaned up with `umount -l`) or the daemon did not exit.
    pub fn unmount(mut self) -> Result<(std::process::ExitStatus, String, String), String> {
        let mp = self.mountpoint.clone();
        let ran =
            super::run(Command::new("fusermount3").arg("-u").arg(&mp), Duration::from_secs(10));
        match ran {
            Ok(r) if r.ok() => {}
            other => {
                let (o, e) = self.stop();
                return Err(format!(
                    "`fusermount3 -u {}` failed: {other:?}\ndaemon output:\n{o}{e}",
                    mp.display()
                ));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut child = self.child.take().expect("running");
        let status = loop {
            if let Ok(Some(st)) = child.try_wait() {
                break st;
            }
            if Instant::now() > deadline {
                // SAFETY: signalling our own child's process group; no memory is touched.
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = child.wait();
                force_unmount(&mp);
                let (o, e) = self.take_output();
                return Err(format!("`{}` did not exit after unmount:\n{o}{e}", self.what));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let (o, e) = self.take_output();
        Ok((status, o, e))
    }

    /// Send `sig` to the daemon (not its group).
    pub fn signal(&self, sig: libc::c_int) {
        if let Some(pid) = self.pid() {
            // SAFETY: signalling our own, not yet reaped child; no memory is touched.
            unsafe { libc::kill(pid as libc::pid_t, sig) };
        }
    }

    /// Wait up to `timeout` for the daemon to exit by itself (after a signal, say) and return
    /// its status and output. Err (after killing it and unmounting) if it did not exit. The
    /// mount is left as the daemon left it.
    pub fn wait_exit(
        mut self,
        timeout: Duration,
    ) -> Result<(std::process::ExitStatus, String, String), String> {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                let (o, e) = self.take_output();
                return Ok((st, o, e));
            }
            if Instant::now() > deadline {
                self.child = Some(child);
                let (o, e) = self.stop();
                return Err(format!("`{}` did not exit within {timeout:?}:\n{o}{e}", self.what));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kill the daemon, unmount, and return its output so far.
    pub fn stop(&mut self) -> (String, String) {
        force_unmount(&self.mountpoint);
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child's process group; no memory is touched.
            unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL) };
            let _ = c.wait();
        }
        force_unmount(&self.mountpoint);
        self.take_output()
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
    }
}

/// The `libfuse3` files `pid` has mapped.
pub fn mapped_libfuse(pid: u32) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let mut libs: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.contains("libfuse3"))
        .map(str::to_string)
        .collect();
    libs.dedup();
    libs
}

/// Does process `pid` run on `lib`? Ours means only target/<profile>'s libfuse3 is mapped;
/// system means some libfuse3 is mapped and it is not ours.
pub fn check_maps(pid: u32, lib: Lib) -> Result<(), String> {
    let libs = mapped_libfuse(pid);
    let ours = super::target_profile_dir();
    let ours_dir = std::fs::canonicalize(&ours).unwrap_or(ours);
    let on_ours = libs.iter().any(|p| Path::new(p).starts_with(&ours_dir));
    let on_other = libs.iter().any(|p| !Path::new(p).starts_with(&ours_dir));
    let ok = match lib {
        Lib::Ours => on_ours && !on_other,
        Lib::System => on_other && !on_ours,
    };
    if ok { Ok(()) } else { Err(format!("should run on {} libfuse but maps {libs:?}", lib.name())) }
}

/// A daemon that serves without a mount (e.g. over a socket): started in its own process
/// group on `lib`, output captured, killed and reaped on Drop.
pub struct Daemon {
    child: Option<Child>,
    pub lib: Lib,
    what: String,
    out: Option<std::thread::JoinHandle<Vec<u8>>>,
    err: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Daemon {
    pub fn spawn(cmd: &mut Command, lib: Lib) -> Result<Daemon, String> {
        let what = super::describe(cmd);
        lib.apply(cmd);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start `{what}`: {e}"))?;
        let mut o = child.stdout.take().expect("piped");
        let mut e = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = o.read_to_end(&mut v);
            v
        });
        let err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = e.read_to_end(&mut v);
            v
        });
        Ok(Daemon { child: Some(child), lib, what, out: Some(out), err: Some(err) })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// Has it exited? Returns the status if so.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Wait up to `timeout` for it to exit by itself; returns the status and output, or None
    /// (it is left running, to be killed on Drop).
    pub fn wait_exit(
        &mut self,
        timeout: Duration,
    ) -> Option<(std::process::ExitStatus, String, String)> {
        let deadline = Instant::now() + timeout;
        let c = self.child.as_mut()?;
        let st = loop {
            if let Ok(Some(st)) = c.try_wait() {
                break st;
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.child = None;
        let o = self.out.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        let e = self.err.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        Some((
            st,
            String::from_utf8_lossy(&o).into_owned(),
            String::from_utf8_lossy(&e).into_owned(),
        ))
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL; returns the status (None if killed
    /// with SIGKILL by us) and the output.
    pub fn terminate(
        &mut self,
        grace: Duration,
    ) -> (Option<std::process::ExitStatus>, String, String) {
        let mut status = None;
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child; no memory is touched.
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(st)) = c.try_wait() {
                    status = Some(st);
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if status.is_none() {
                // SAFETY: as above, for the whole process group.
                unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL) };
                let _ = c.wait();
            }
        }
        let o = self.out.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        let e = self.err.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        (status, String::from_utf8_lossy(&o).into_owned(), String::from_utf8_lossy(&e).into_owned())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child's process group; no memory is touched.
            unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL) };
            let _ = c.wait();
        }
    }
}

/// Removes a stray mount on Drop: for runs that must not mount but might, by mistake.
pub struct UnmountOnDrop(pub PathBuf);

impl Drop for UnmountOnDrop {
    fn drop(&mut self) {
        force_unmount(&self.0);
    }
}

/// Run `f` on a separate thread with a deadline: file operations on a broken mount can hang.
pub fn with_timeout<R: Send + 'static>(
    what: &str,
    timeout: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(timeout).map_err(|_| format!("{what}: no result within {timeout:?}"))
}
