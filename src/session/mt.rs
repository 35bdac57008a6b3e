//! Mirrors libfuse's fuse_loop_mt.c: the multithreaded loop. Workers are started on demand
//! (when none is idle, up to `max_threads`), idle ones beyond `max_idle` leave, and with
//! `clone_fd` each worker reads and answers on its own clone of the device fd.
//!
//! Stopping: a worker that sees the end (unmount, error, exit request) wakes every other one
//! through an eventfd the workers poll together with the device, so nobody stays blocked in
//! read(2) and every thread is joined before the loop returns. For that the device is read in
//! non-blocking mode while the loop runs: one request wakes every polling worker, and the ones
//! that lose the race for it must get EAGAIN and go back to polling, not sleep in read(2)
//! where the eventfd cannot reach them.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use super::Session;

/// The loop's settings (libfuse's `fuse_loop_config`).
#[derive(Debug, Clone, Copy)]
pub struct MtConfig {
    /// Read and answer on a cloned device fd per worker.
    pub clone_fd: bool,
    /// Idle workers kept (-1: never let idle workers go).
    pub max_idle: i32,
    /// Most workers.
    pub max_threads: u32,
}

struct State {
    workers: usize,
    avail: usize,
    done: bool,
    error: i32,
    handles: Vec<JoinHandle<()>>,
}

struct Shared {
    se: usize,
    cfg: MtConfig,
    state: Mutex<State>,
    finished: Condvar,
    wake: OwnedFd,
}

impl Shared {
    fn session(&self) -> &Session {
        // SAFETY: the loop joins every worker before `run` returns, and the caller keeps the
        // session alive for the duration of `run`.
        unsafe { &*(self.se as *const Session) }
    }

    fn stop(&self, error: i32) {
        let mut st = self.state.lock();
        if !st.done {
            st.done = true;
            if error != 0 && st.error == 0 {
                st.error = error;
            }
        }
        let _ = nix::unistd::write(&self.wake, &1u64.to_ne_bytes());
        self.finished.notify_all();
    }
}

fn start_worker(sh: &Arc<Shared>, st: &mut State) {
    let s2 = Arc::clone(sh);
    st.workers += 1;
    st.avail += 1;
    match std::thread::Builder::new().name("fuse-worker".into()).spawn(move || worker(&s2)) {
        Ok(h) => st.handles.push(h),
        Err(e) => {
            st.workers -= 1;
            st.avail -= 1;
            crate::log::err(&format!("fuse: error creating thread: {e}\n"));
        }
    }
}

fn clone_device(master: i32) -> Option<OwnedFd> {
    let fd = nix::fcntl::open(
        "/dev/fuse",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    match crate::sys::ioctl_clone(fd.as_raw_fd(), master) {
        Ok(()) => Some(fd),
        Err(e) => {
            crate::log::err(&format!(
                "fuse: failed to clone device fd: {}\n",
                crate::sys::strerror(e)
            ));
            None
        }
    }
}

fn worker(sh: &Arc<Shared>) {
    let se = sh.session();
    let own = if sh.cfg.clone_fd && !se.has_custom_io() { clone_device(se.fd()) } else { None };
    let fd = own.as_ref().map_or(se.fd(), |f| f.as_raw_fd());
    let mut buf = Vec::new();
    loop {
        if se.exited() || sh.state.lock().done {
            break;
        }
        // Wait for a request or the wake-up; custom I/O is read directly.
        if !se.has_custom_io() {
            match crate::sys::poll2(fd, sh.wake.as_fd().as_raw_fd()) {
                Ok((_, true)) => break,
                Ok((true, _)) => {}
                Ok((false, false)) => continue,
                Err(libc::EINTR) => continue,
                Err(e) => {
                    sh.stop(-e);
                    break;
                }
            }
        }
        let res = se.receive_fd(&mut buf, fd);
        if res == -(libc::EINTR as isize) || res == -(libc::EAGAIN as isize) {
            continue;
        }
        if res <= 0 {
            if res < 0 {
                se.exit();
            }
            sh.stop(res as i32);
            break;
        }
        let len = res as usize;
        let opcode = crate::codec::decode_header(&buf[..len]).map_or(0, |h| h.opcode);
        let is_forget = matches!(
            opcode,
            crate::kernel::opcode::FUSE_FORGET | crate::kernel::opcode::FUSE_BATCH_FORGET
        );
        {
            let mut st = sh.state.lock();
            if st.done {
                break;
            }
            if !is_forget {
                st.avail -= 1;
            }
            if st.avail == 0 && (st.workers as u64) < sh.cfg.max_threads as u64 {
                start_worker(sh, &mut st);
            }
        }
        se.process(&buf[..len], if own.is_some() { fd } else { -1 });
        let mut st = sh.state.lock();
        if !is_forget {
            st.avail += 1;
        }
        if sh.cfg.max_idle >= 0 && st.avail > sh.cfg.max_idle as usize && st.workers > 1 {
            st.avail -= 1;
            st.workers -= 1;
            return;
        }
    }
    if se.exited() {
        sh.stop(0);
    }
}

/// Run the multithreaded loop until the filesystem is unmounted or the session told to exit.
/// Returns 0, the session's recorded error, or -errno.
pub fn run(se: &Session, cfg: MtConfig) -> i32 {
    let wake = match nix::sys::eventfd::EventFd::from_value_and_flags(
        0,
        nix::sys::eventfd::EfdFlags::EFD_CLOEXEC,
    ) {
        Ok(e) => OwnedFd::from(e),
        Err(e) => return -(e as i32),
    };
    let cfg = MtConfig { max_threads: cfg.max_threads.max(1), ..cfg };
    // Non-blocking reads for the loop's lifetime (see the module comment); restored after.
    let device = (!se.has_custom_io()).then(|| se.fd()).filter(|fd| *fd >= 0);
    let was_nonblocking = device.map(|fd| crate::sys::set_nonblocking(fd, true));
    let sh = Arc::new(Shared {
        se: se as *const Session as usize,
        cfg,
        state: Mutex::new(State {
            workers: 0,
            avail: 0,
            done: false,
            error: 0,
            handles: Vec::new(),
        }),
        finished: Condvar::new(),
        wake,
    });
    {
        let mut st = sh.state.lock();
        start_worker(&sh, &mut st);
        #[allow(clippy::while_let_loop)]
        // Wait for the end, noticing an exit request made from outside (a signal handler
        // cannot wake us, so look now and then).
        while !st.done {
            if se.exited() {
                drop(st);
                sh.stop(0);
                break;
            }
            sh.finished.wait_for(&mut st, std::time::Duration::from_millis(200));
        }
    }
    // Join every worker (including ones started while we waited).
    loop {
        let handles: Vec<_> = std::mem::take(&mut sh.state.lock().handles);
        if handles.is_empty() {
            break;
        }
        for h in handles {
            let _ = h.join();
        }
    }
    if let (Some(fd), Some(Ok(false))) = (device, was_nonblocking) {
        let _ = crate::sys::set_nonblocking(fd, false);
    }
    let err = sh.state.lock().error;
    if se.error() != 0 {
        se.error()
    } else if err < 0 {
        err
    } else {
        0
    }
}
