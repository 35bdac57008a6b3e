//! Mirrors libfuse 3.19's teardown watchdog (`fuse_session_start_teardown_watchdog`): a thread
//! that notices when the kernel connection of a session goes away (`umount -f`, a write to
//! `/sys/fs/fuse/connections/N/abort`, or the unmount itself), asks the session to exit, and,
//! if the watchdog has not been stopped `timeout` later, runs the program's callback (or
//! exits the process with status 1).
//!
//! The thread polls its own duplicate of the session's device fd, so the session may close
//! its fd (or be destroyed) while the watchdog runs; the session itself is only reached
//! through the `exit_session` closure, under a lock that [`session_gone`] takes before the
//! session is freed.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::sys::DeviceWatch;

/// What a running watchdog shares with its thread and with the session registry.
struct Shared {
    /// The session's address while it lives; None once destroyed.
    session: Mutex<Option<usize>>,
}

/// A running watchdog; [`Watchdog::stop`] ends it.
pub struct Watchdog {
    shared: Arc<Shared>,
    wake: OwnedFd,
    thread: Option<JoinHandle<()>>,
}

/// Watchdogs by session address: at most one per session, as in libfuse.
static RUNNING: Mutex<Vec<(usize, Arc<Shared>)>> = Mutex::new(Vec::new());

/// Why a watchdog was not started (already logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotStarted;

impl Watchdog {
    /// Start watching session `session` (its address) on device fd `dev`. `exit_session` is
    /// called with the address, under the registry's lock, when the connection goes; then
    /// `on_timeout` runs if the watchdog is still running `timeout` later.
    pub fn start(
        session: usize,
        dev: i32,
        timeout: Duration,
        exit_session: fn(usize),
        on_timeout: Box<dyn FnOnce() + Send>,
    ) -> Result<Watchdog, NotStarted> {
        if timeout.is_zero() {
            crate::log::err("fuse: teardown watchdog: the timeout must be at least 1 s\n");
            return Err(NotStarted);
        }
        if dev < 0 {
            crate::log::err(
                "fuse: teardown watchdog: the session has no device fd (mount first)\n",
            );
            return Err(NotStarted);
        }
        let fail = |what: &str, e: i32| {
            crate::log::err(&format!(
                "fuse: teardown watchdog: {what}: {}\n",
                crate::sys::strerror(e)
            ));
            NotStarted
        };
        let mut running = RUNNING.lock();
        if running.iter().any(|(s, _)| *s == session) {
            crate::log::err("fuse: teardown watchdog: this session already has one\n");
            return Err(NotStarted);
        }
        let own_dev = crate::sys::dup_cloexec(dev).map_err(|e| fail("duplicating the fd", e))?;
        let (wake_rd, wake_wr) =
            crate::sys::pipe_cloexec().map_err(|e| fail("creating its pipe", e))?;
        let shared = Arc::new(Shared { session: Mutex::new(Some(session)) });
        let for_thread = Arc::clone(&shared);
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let thread = std::thread::Builder::new()
            .name("fuse-watchdog".into())
            .spawn(move || watch(for_thread, own_dev, wake_rd, ms, exit_session, on_timeout))
            .map_err(|e| fail("creating its thread", e.raw_os_error().unwrap_or(libc::EAGAIN)))?;
        running.push((session, Arc::clone(&shared)));
        Ok(Watchdog { shared, wake: wake_wr, thread: Some(thread) })
    }

    /// Stop the thread and wait for it (a callback already running is waited for too).
    pub fn stop(mut self) {
        if let Err(e) = crate::sys::write_fd(self.wake.as_raw_fd(), &[1]) {
            crate::log::err(&format!(
                "fuse: teardown watchdog: waking its thread: {}\n",
                crate::sys::strerror(e)
            ));
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        RUNNING.lock().retain(|(_, s)| !Arc::ptr_eq(s, &self.shared));
    }
}

/// The session at `session` is being destroyed: its watchdog (if any) must not reach it.
pub fn session_gone(session: usize) {
    let mut running = RUNNING.lock();
    running.retain(|(s, shared)| {
        if *s == session {
            *shared.session.lock() = None;
            false
        } else {
            true
        }
    });
}

fn watch(
    shared: Arc<Shared>,
    dev: OwnedFd,
    wake: OwnedFd,
    timeout_ms: i32,
    exit_session: fn(usize),
    on_timeout: Box<dyn FnOnce() + Send>,
) {
    let mut dev = Some(dev);
    let mut limit = -1;
    loop {
        match crate::sys::poll_device_or_wake(
            dev.as_ref().map(|d| d.as_raw_fd()),
            wake.as_raw_fd(),
            limit,
        ) {
            Err(libc::EINTR) => continue,
            Err(e) => {
                crate::log::err(&format!(
                    "fuse: teardown watchdog: poll: {}; stopping\n",
                    crate::sys::strerror(e)
                ));
                return;
            }
            Ok(DeviceWatch::DeviceError) => {
                // The connection is gone: end the session, and from now on give the process
                // `timeout` to stop the watchdog.
                if let Some(se) = *shared.session.lock() {
                    exit_session(se);
                }
                dev = None;
                limit = timeout_ms;
            }
            Ok(DeviceWatch::Woken) => return,
            Ok(DeviceWatch::TimedOut) => {
                on_timeout();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static EXITED: AtomicUsize = AtomicUsize::new(0);

    fn note_exit(se: usize) {
        EXITED.store(se, Ordering::SeqCst);
    }

    #[test]
    fn refuses_a_zero_timeout_a_missing_fd_and_a_second_watchdog() {
        let (rd, _wr) = crate::sys::pipe_cloexec().unwrap();
        let fd = rd.as_raw_fd();
        assert!(Watchdog::start(1, fd, Duration::ZERO, note_exit, Box::new(|| ())).is_err());
        assert!(
            Watchdog::start(1, -1, Duration::from_secs(1), note_exit, Box::new(|| ())).is_err()
        );
        let w = Watchdog::start(0x5a5a, fd, Duration::from_secs(1), note_exit, Box::new(|| ()))
            .unwrap();
        assert!(
            Watchdog::start(0x5a5a, fd, Duration::from_secs(1), note_exit, Box::new(|| ()))
                .is_err()
        );
        w.stop();
        // Stopped: the session may have another.
        Watchdog::start(0x5a5a, fd, Duration::from_secs(1), note_exit, Box::new(|| ()))
            .unwrap()
            .stop();
    }

    #[test]
    fn a_dead_device_exits_the_session_then_the_callback_runs_after_the_timeout() {
        // A pipe whose other end is closed stands in for an aborted connection: poll reports
        // POLLERR on a write end whose reader is gone.
        let (rd, wr) = crate::sys::pipe_cloexec().unwrap();
        drop(rd);
        let fired = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&fired);
        let t0 = std::time::Instant::now();
        let w = Watchdog::start(
            0x7777,
            wr.as_raw_fd(),
            Duration::from_secs(1),
            note_exit,
            Box::new(move || {
                f.store(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
        while fired.load(Ordering::SeqCst) == 0 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(EXITED.load(Ordering::SeqCst), 0x7777, "the session was not told to exit");
        assert_eq!(fired.load(Ordering::SeqCst), 1, "the callback did not run");
        assert!(t0.elapsed() >= Duration::from_millis(900), "the callback came before the timeout");
        w.stop();
    }

    #[test]
    fn a_destroyed_session_is_not_reached_and_stop_ends_a_quiet_watchdog() {
        let (rd, wr) = crate::sys::pipe_cloexec().unwrap();
        let w = Watchdog::start(
            0x8888,
            rd.as_raw_fd(),
            Duration::from_secs(1),
            note_exit,
            Box::new(|| panic!("no timeout without a dead device")),
        )
        .unwrap();
        session_gone(0x8888);
        assert!(w.shared.session.lock().is_none());
        w.stop();
        drop(wr);
    }
}
