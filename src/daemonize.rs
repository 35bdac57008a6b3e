//! Mirrors libfuse 3.19's early daemonization (`fuse_daemonize_early_*`): the program forks
//! before mounting, the parent waits, and exits with the child's verdict: 0 once the filesystem
//! is mounted and INIT answered, the error otherwise. A child whose parent dies exits too.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

/// `FUSE_DAEMONIZE_NO_CHDIR`: stay in the current directory.
pub const NO_CHDIR: u32 = 1 << 0;
/// `FUSE_DAEMONIZE_NO_BACKGROUND`: do not fork.
pub const NO_BACKGROUND: u32 = 1 << 1;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static DAEMONIZED: AtomicBool = AtomicBool::new(false);
static MOUNTED: AtomicBool = AtomicBool::new(false);
static GOT_INIT: AtomicBool = AtomicBool::new(false);

struct Pipes {
    /// Our end of the pipe the parent reads the verdict from.
    signal_wr: Option<OwnedFd>,
    /// The parent's death shows as hangup here.
    death_rd: Option<OwnedFd>,
    /// Stops the watcher thread.
    stop_wr: Option<OwnedFd>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

static PIPES: Mutex<Pipes> =
    Mutex::new(Pipes { signal_wr: None, death_rd: None, stop_wr: None, watcher: None });

/// Whether the early API is in use (a fork happened or is under way).
pub fn early_is_used() -> bool {
    DAEMONIZED.load(Ordering::Acquire) || ACTIVE.load(Ordering::Acquire)
}

/// Whether the parent still waits for a verdict.
pub fn early_is_active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

/// The session mounted the filesystem.
pub fn set_mounted() {
    MOUNTED.store(true, Ordering::Release);
}

/// The session answered INIT.
pub fn set_got_init() {
    GOT_INIT.store(true, Ordering::Release);
}

fn report(e: nix::errno::Errno, what: &str) -> i32 {
    crate::log::err(&format!("fuse_daemonize_start: {what}: {}\n", crate::sys::strerror(e as i32)));
    -(e as i32)
}

/// `fuse_daemonize_early_start`: fork (unless NO_BACKGROUND); the parent never returns.
/// 0 in the child (or without forking), -errno on failure.
pub fn early_start(flags: u32) -> i32 {
    if ACTIVE.load(Ordering::Acquire) {
        return 0;
    }
    if flags & NO_CHDIR == 0 {
        let _ = nix::unistd::chdir("/");
    }
    if flags & NO_BACKGROUND != 0 {
        return 0;
    }
    ACTIVE.store(true, Ordering::Release);
    let (sig_rd, sig_wr) = match nix::unistd::pipe() {
        Ok(p) => p,
        Err(e) => return report(e, "signal pipe"),
    };
    let (death_rd, death_wr) = match nix::unistd::pipe() {
        Ok(p) => p,
        Err(e) => return report(e, "death pipe"),
    };
    // SAFETY: the early API is called at startup, before the program starts threads; the child
    // only continues the program.
    match unsafe { nix::unistd::fork() } {
        Err(e) => report(e, "fork"),
        Ok(nix::unistd::ForkResult::Parent { .. }) => {
            drop(sig_wr);
            drop(death_rd);
            let mut status = [0u8; 4];
            let got = nix::unistd::read(&sig_rd, &mut status);
            drop(death_wr);
            let code = match got {
                Ok(4) => i32::from_ne_bytes(status),
                _ => 1,
            };
            // SAFETY: the parent's job is done; _exit skips the program's atexit handlers, as
            // libfuse does.
            unsafe { libc::_exit(code) }
        }
        Ok(nix::unistd::ForkResult::Child) => {
            drop(sig_rd);
            drop(death_wr);
            child_setup(sig_wr, death_rd)
        }
    }
}

fn child_setup(sig_wr: OwnedFd, death_rd: OwnedFd) -> i32 {
    let (stop_rd, stop_wr) = match nix::unistd::pipe() {
        Ok(p) => p,
        Err(e) => return report(e, "stop pipe"),
    };
    if let Err(e) = nix::unistd::setsid() {
        return report(e, "setsid");
    }
    crate::sys::stdin_to_null();
    let death = death_rd.as_raw_fd();
    let watcher = std::thread::spawn(move || {
        let _keep = stop_rd;
        loop {
            match crate::sys::poll2(death, _keep.as_fd().as_raw_fd()) {
                Ok((true, _)) => {
                    // The parent is gone: nobody will report for us.
                    // SAFETY: _exit ends the process without unwinding into C frames.
                    unsafe { libc::_exit(1) }
                }
                Ok((_, true)) => break,
                _ => continue,
            }
        }
    });
    let mut p = PIPES.lock();
    p.signal_wr = Some(sig_wr);
    p.death_rd = Some(death_rd);
    p.stop_wr = Some(stop_wr);
    p.watcher = Some(watcher);
    DAEMONIZED.store(true, Ordering::Release);
    0
}

fn signal(status: i32) {
    if !ACTIVE.load(Ordering::Acquire) {
        crate::log::err("fuse_daemonize_early_signal: not active and cannot signal status\n");
        return;
    }
    if status == 0 && (!MOUNTED.load(Ordering::Acquire) || !GOT_INIT.load(Ordering::Acquire)) {
        return;
    }
    ACTIVE.store(false, Ordering::Release);
    let mut p = PIPES.lock();
    if let Some(stop) = p.stop_wr.take() {
        let _ = nix::unistd::write(&stop, &[0u8]);
        if let Some(w) = p.watcher.take() {
            let _ = w.join();
        }
    }
    if let Some(w) = p.signal_wr.take() {
        let _ = nix::unistd::write(&w, &status.to_ne_bytes());
    }
    p.death_rd = None;
    if status == 0 && DAEMONIZED.load(Ordering::Acquire) {
        crate::sys::stdout_stderr_to_null();
    }
}

/// `fuse_daemonize_early_success`: tell the parent to exit 0 (once mounted and initialised).
pub fn early_success() {
    if early_is_used() {
        signal(0);
    }
}

/// `fuse_daemonize_early_fail`: tell the parent to exit with `err`.
pub fn early_fail(err: i32) {
    signal(err);
}
