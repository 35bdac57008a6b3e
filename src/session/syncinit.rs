//! Synchronous FUSE_INIT (Linux 6.18, libfuse 3.19): the device is armed with
//! FUSE_DEV_IOC_SYNC_INIT before mounting, so the kernel sends INIT (and whatever else it needs,
//! such as a root getattr) while the mount call is still running, and a failing INIT fails the
//! mount instead of leaving a dead one behind. A worker thread answers those requests until
//! the mount call returns; then the normal loop takes over.
//!
//! As root the mount is made in-process with fsopen/fsmount/move_mount; otherwise (EPERM) the
//! helper's `--sync-init` protocol is used. A kernel without the ioctl (ENOTTY) or a helper
//! without `--sync-init` means the classic flow: the caller gets `Ok(None)`.

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::Session;
use crate::mount::{self, MountError};

/// When to use synchronous INIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// libfuse's default: only for programs that use the early-daemonize API.
    Auto,
    /// Always (when the kernel and helper can).
    On,
    /// Never.
    Off,
}

/// The environment override: `FERROFUSE_SYNC_INIT=1` or `0`.
pub const ENV: &str = "FERROFUSE_SYNC_INIT";

/// The mode in effect: the environment wins over the program's (or its options') choice.
pub fn effective(mode: Mode) -> Mode {
    match std::env::var(ENV).as_deref() {
        Ok("1") | Ok("yes") | Ok("on") => Mode::On,
        Ok("0") | Ok("no") | Ok("off") => Mode::Off,
        _ => mode,
    }
}

/// Answer requests on `fd` until `wake` becomes readable, `stop` is set (and the thread is
/// interrupted), or the device fails.
fn worker(se: &Session, fd: i32, wake: i32, stop: &AtomicBool) {
    let mut buf = Vec::new();
    while !stop.load(Ordering::Acquire) {
        match crate::sys::poll2(fd, wake) {
            Ok((_, true)) => break,
            Ok((true, _)) => {}
            Ok((false, false)) | Err(libc::EINTR) => continue,
            Err(_) => break,
        }
        let n = se.receive_fd(&mut buf, fd);
        if n == -(libc::EINTR as isize) || n == -(libc::EAGAIN as isize) {
            continue;
        }
        if n <= 0 {
            break;
        }
        se.process(&buf[..n as usize], -1);
    }
}

/// Run `mount_call` while a worker answers requests on `fd`. Returns the mount call's result;
/// fails if the session exited (INIT refused) meanwhile.
fn with_worker<T>(
    se: &Session,
    fd: i32,
    mount_call: impl FnOnce() -> Result<T, MountError>,
) -> Result<T, MountError> {
    let wake: OwnedFd = match nix::sys::eventfd::EventFd::from_value_and_flags(
        0,
        nix::sys::eventfd::EfdFlags::EFD_CLOEXEC,
    ) {
        Ok(e) => e.into(),
        Err(e) => {
            let m = format!("fuse: failed to create eventfd for init worker: {e}\n");
            crate::log::err(&m);
            return Err(MountError { needs_helper: false, errno: Some(e), message: Some(m) });
        }
    };
    // Until a mount attaches the armed device, poll(2) and read(2) on it wait inside the
    // kernel where neither the eventfd nor a timeout reaches them: when the mount fails
    // before that (no privilege, a helper that gave up, a refused option), the worker has to
    // be interrupted with a signal.
    let intr = match crate::sys::Interrupter::install() {
        Ok(i) => i,
        Err(e) => {
            let m = format!(
                "fuse: cannot set up the init worker's signal: {}\n",
                crate::sys::strerror(e)
            );
            crate::log::err(&m);
            return Err(MountError { needs_helper: false, errno: None, message: Some(m) });
        }
    };
    // Non-blocking reads, so the worker never sleeps in read(2) past the wake-up.
    let was = crate::sys::set_nonblocking(fd, true);
    let stop = AtomicBool::new(false);
    let res = std::thread::scope(|s| {
        let wfd = wake.as_raw_fd();
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, intr) = (&stop, &intr);
        let h = s.spawn(move || {
            intr.arm_current_thread();
            let _ = tx.send(crate::sys::current_thread());
            worker(se, fd, wfd, stop)
        });
        let thread = rx.recv().ok();
        let r = mount_call();
        stop.store(true, Ordering::Release);
        let _ = nix::unistd::write(&wake, &1u64.to_ne_bytes());
        // Give the eventfd a moment, then interrupt until the worker is gone (a signal sent
        // just before it enters poll(2) would be missed, hence the repetition).
        let mut waited = 0;
        while !h.is_finished() {
            if waited >= 20
                && let Some(t) = thread
            {
                intr.interrupt(t);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
            waited += 1;
        }
        r
    });
    if matches!(was, Ok(false)) {
        let _ = crate::sys::set_nonblocking(fd, false);
    }
    if res.is_ok() && se.exited() {
        let m = "FUSE_INIT failed: session exited\n".to_string();
        crate::log::err(&m);
        return Err(MountError { needs_helper: false, errno: None, message: Some(m) });
    }
    res
}

/// Mount `mnt` with synchronous INIT. `Ok(Some(fd))`: mounted, INIT answered, `fd` is the
/// session's device. `Ok(None)`: not possible here (old kernel or helper); nothing was
/// mounted, use the classic flow. `Err`: mounting failed (logged); nothing is left mounted.
pub fn mount(se: &Session, mnt: &[u8]) -> Result<Option<i32>, MountError> {
    let mo = &se.mount_opts;
    let debug = se.debug();
    // auto_unmount needs the helper to stay on a socket: mount through it directly.
    if !mo.auto_unmount {
        match mount_in_process(se, mnt)? {
            InProcess::Mounted(fd) => return Ok(Some(fd)),
            InProcess::NoSyncInit => return Ok(None),
            InProcess::NeedsHelper => {
                if debug {
                    crate::log::debug(
                        "fuse: privileged mount failed with EPERM, falling back to fusermount3\n",
                    );
                }
            }
        }
    }
    let opts = mount::helper::helper_opts(mo, true);
    let Some(h) = mount::helper::sync_init_start(mnt, &opts) else {
        if debug {
            crate::log::debug("fuse: helper lacks --sync-init, classic mount\n");
        }
        return Ok(None);
    };
    let hfd = h.fd.as_raw_fd();
    match crate::sys::ioctl_sync_init(hfd) {
        Ok(()) => {
            if debug {
                crate::log::debug("fuse: synchronous FUSE_INIT enabled (through the helper)\n");
            }
            se.set_sync_init(true)
        }
        Err(libc::ENOTTY) => {}
        Err(e) => crate::log::err(&format!(
            "fuse: failed to enable sync init: {}\n",
            crate::sys::strerror(e)
        )),
    }
    se.set_fd(hfd);
    match with_worker(se, hfd, || h.proceed(mo.auto_unmount)) {
        Ok(fd) => Ok(Some(fd.into_raw_fd())),
        Err(e) => {
            se.set_fd(-1);
            se.set_sync_init(false);
            Err(e)
        }
    }
}

enum InProcess {
    Mounted(i32),
    NoSyncInit,
    NeedsHelper,
}

/// The in-process attempt: prepare, arm, fsmount with a worker answering INIT.
fn mount_in_process(se: &Session, mnt: &[u8]) -> Result<InProcess, MountError> {
    let prep = mount::fsmount::prepare(mnt)?;
    let fd = prep.fd.as_raw_fd();
    match crate::sys::ioctl_sync_init(fd) {
        Ok(()) => {}
        Err(libc::ENOTTY) => {
            if se.debug() {
                crate::log::debug("fuse: kernel doesn't support sync init\n");
            }
            return Ok(InProcess::NoSyncInit);
        }
        Err(e) => {
            let m = format!("fuse: failed to enable sync init: {}\n", crate::sys::strerror(e));
            crate::log::err(&m);
            return Err(MountError { needs_helper: false, errno: None, message: Some(m) });
        }
    }
    if se.debug() {
        crate::log::debug("fuse: synchronous FUSE_INIT enabled\n");
    }
    se.set_fd(fd);
    se.set_sync_init(true);
    match with_worker(se, fd, || mount::fsmount::fsmount(mnt, &se.mount_opts, &prep)) {
        Ok(()) => Ok(InProcess::Mounted(prep.fd.into_raw_fd())),
        Err(e) => {
            se.set_fd(-1);
            se.set_sync_init(false);
            if e.needs_helper { Ok(InProcess::NeedsHelper) } else { Err(e) }
        }
    }
}
