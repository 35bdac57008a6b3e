//! Mirrors libfuse's fuse_loop_mt.c: the multithreaded loop. Workers are started on demand
//! (when none is idle, up to `max_threads`), idle ones beyond `max_idle` leave, and with
//! `clone_fd` each worker reads and answers on its own clone of the device fd.
//!
//! Workers block in read(2) on the device: the kernel hands each request to exactly one
//! waiting reader, so an idle pool costs nothing and no request wakes the whole pool.
//! Where the device can be cloned and there are two or more CPUs, the loop runs in
//! "spinning" mode instead (see `spin`): one thread reads at a time, on a non-blocking clone,
//! and keeps looking for the next request for a few tens of microseconds after answering one
//! before it sleeps; requests are handled by the thread that read them, and parked workers are
//! called in when a callback is slow or requests queue up. A sleeping reader woken for every
//! request is what a FUSE round trip mostly costs on a virtual machine.
//!
//! Stopping: on unmount every read fails with ENODEV by itself; for an exit request
//! (`fuse_session_exit`, a signal handler) the loop interrupts the workers that sit in read(2)
//! with a private signal (no-op handler, no SA_RESTART), so every thread is joined before the
//! loop returns and Ctrl-C never hangs.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use parking_lot::Mutex;

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

/// One worker as the loop sees it.
struct Worker {
    handle: JoinHandle<()>,
    thread: libc::pthread_t,
    /// In (or about to enter) read(2): safe to interrupt.
    reading: Arc<AtomicBool>,
}

pub(super) struct State {
    pub(super) workers: usize,
    pub(super) avail: usize,
    pub(super) done: bool,
    pub(super) error: i32,
    handles: Vec<Worker>,
    /// Spinning mode: workers parked (standby not counted), wake-ups owed to them, and
    /// whether a standby watches for stalls.
    pub(super) parked: usize,
    pub(super) tokens: usize,
    pub(super) standby: bool,
}

pub(super) struct Shared {
    pub(super) se: usize,
    pub(super) cfg: MtConfig,
    pub(super) state: Mutex<State>,
    /// `state.done`, readable without the lock: a worker looks at it before every read, and a
    /// third lock round per request made workers finishing at once park on each other.
    pub(super) done: AtomicBool,
    /// Spinning mode's state (None: the classic loop).
    pub(super) spin: Option<super::spin::Spin>,
}

impl Shared {
    pub(super) fn session(&self) -> &Session {
        // SAFETY: the loop joins every worker before `run` returns, and the caller keeps the
        // session alive for the duration of `run`.
        unsafe { &*(self.se as *const Session) }
    }

    pub(super) fn stop(&self, error: i32) {
        let mut st = self.state.lock();
        if !st.done {
            st.done = true;
            self.done.store(true, Ordering::SeqCst);
            if error != 0 && st.error == 0 {
                st.error = error;
            }
        }
        if let Some(sp) = &self.spin {
            sp.wake_all();
        }
        self.session().wake_exit_waiters();
    }
}

pub(super) fn start_worker(sh: &Arc<Shared>, st: &mut State) {
    let s2 = Arc::clone(sh);
    let reading = Arc::new(AtomicBool::new(false));
    let r2 = Arc::clone(&reading);
    st.workers += 1;
    st.avail += 1;
    // Not waiting for the new thread to run: the caller is a worker holding a request.
    let spawned = std::thread::Builder::new().name("fuse-worker".into()).spawn(move || {
        if s2.spin.is_some() { super::spin::worker(&s2, &r2) } else { worker(&s2, &r2) }
    });
    match spawned {
        Ok(handle) => {
            let thread = std::os::unix::thread::JoinHandleExt::as_pthread_t(&handle);
            st.handles.push(Worker { handle, thread, reading });
        }
        Err(e) => {
            st.workers -= 1;
            st.avail -= 1;
            crate::log::err(&format!("fuse: error creating thread: {e}\n"));
        }
    }
}

pub(super) fn clone_device(master: i32) -> Option<OwnedFd> {
    let fd = nix::fcntl::open(
        "/dev/fuse",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    match crate::sys::ioctl_clone(fd.as_raw_fd(), master) {
        Ok(()) => Some(fd),
        Err(e) => {
            crate::log::err(&format!(
                "fuse: failed to clone device fd: {}; using the shared one\n",
                crate::sys::strerror(e)
            ));
            None
        }
    }
}

fn worker(sh: &Arc<Shared>, reading: &AtomicBool) {
    crate::sys::unblock_interrupt_signal();
    let se = sh.session();
    let own = if sh.cfg.clone_fd && !se.has_custom_io() { clone_device(se.fd()) } else { None };
    let fd = own.as_ref().map_or(se.fd(), |f| f.as_raw_fd());
    let mut buf = Vec::new();
    loop {
        // SeqCst pairs with the loop's store of `done` before it looks at `reading`; a reader
        // that slips past is interrupted on the loop's next look anyway.
        reading.store(true, Ordering::SeqCst);
        if se.exited() || sh.done.load(Ordering::SeqCst) {
            reading.store(false, Ordering::Release);
            break;
        }
        let res = se.receive_fd(&mut buf, fd);
        reading.store(false, Ordering::Release);
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
        se.process_in_place(&mut buf, len, if own.is_some() { fd } else { -1 });
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
    let intr = match crate::sys::Interrupter::install() {
        Ok(i) => i,
        Err(e) => {
            crate::log::err(&format!(
                "fuse: cannot set up the loop's wake-up signal: {}\n",
                crate::sys::strerror(e)
            ));
            return -e;
        }
    };
    // Before the first worker reads INIT: it decides io_uring's default on this.
    se.set_loop_kind(super::uring::LoopKind::Multi);
    let cfg = MtConfig { max_threads: cfg.max_threads.max(1), ..cfg };
    let spin = super::spin::Spin::new(se);
    let sh = Arc::new(Shared {
        se: se as *const Session as usize,
        cfg,
        state: Mutex::new(State {
            workers: 0,
            avail: 0,
            done: false,
            error: 0,
            handles: Vec::new(),
            parked: 0,
            tokens: 0,
            standby: false,
        }),
        done: AtomicBool::new(false),
        spin,
    });
    {
        let mut st = sh.state.lock();
        start_worker(&sh, &mut st);
        // Spinning mode: a second worker, the standby, from the start.
        if sh.spin.is_some() && sh.cfg.max_threads > 1 {
            start_worker(&sh, &mut st);
        }
        // Wait for the end: a worker's `stop` or an exit request (`fuse_session_exit`, from
        // a signal handler too) wakes this thread through the session's exit counter.
        while !st.done {
            if se.exited() {
                st.done = true;
                sh.done.store(true, Ordering::SeqCst);
                if let Some(sp) = &sh.spin {
                    sp.wake_all();
                }
                break;
            }
            let seen = se.exit_seq();
            if st.done || se.exited() {
                continue;
            }
            parking_lot::MutexGuard::unlocked(&mut st, || se.wait_exit_change(seen));
        }
    }
    // Wake the readers and join everyone, workers started meanwhile included.
    loop {
        let workers: Vec<Worker> = std::mem::take(&mut sh.state.lock().handles);
        if workers.is_empty() {
            break;
        }
        for w in workers {
            let mut rounds = 0u32;
            while !w.handle.is_finished() {
                // After an unmount every reader is already on its way out (ENODEV): look
                // again soon before interrupting anyone.
                if rounds >= 4 && w.reading.load(Ordering::Acquire) && w.thread != 0 {
                    intr.interrupt(w.thread);
                }
                rounds += 1;
                let pause = match rounds {
                    0..=50 => std::time::Duration::from_micros(50),
                    51..=100 => std::time::Duration::from_millis(1),
                    _ => std::time::Duration::from_millis(5),
                };
                std::thread::sleep(pause);
            }
            let _ = w.handle.join();
        }
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
