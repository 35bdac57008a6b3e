//! The kernel's FUSE-over-io_uring switch, for the tests that need it on (or off).
//!
//! `/sys/module/fuse/parameters/enable_uring` is one switch for the whole machine. A test that
//! sets it holds a [`UringParam`]: one such test at a time in this process (a static lock) and
//! on this machine (the same `flock` file scripts/conformance/test-syscalls.sh and
//! scripts/bench.sh take), and the value found is put back when the guard drops, panic or not.
//! The other tests are unaffected whatever the switch says: every daemon the harness starts
//! gets `FUSE_URING_ENABLE=0` unless its test chose otherwise ([`super::mount::pin_dev_fuse`]).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const URING_PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

/// Holds the switch at a value for its life; puts back what it found.
pub struct UringParam {
    old: String,
    _machine: nix::fcntl::Flock<std::fs::File>,
    _serial: MutexGuard<'static, ()>,
}

impl UringParam {
    /// Set the switch (root needed), waiting up to 10 minutes for another holder.
    pub fn set(on: bool) -> UringParam {
        static SERIAL: Mutex<()> = Mutex::new(());
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let dir = std::env::var_os("TMPDIR").unwrap_or_else(|| "/tmp".into());
        let path = std::path::Path::new(&dir).join("ferrofuse-enable-uring.lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let deadline = Instant::now() + Duration::from_secs(600);
        let machine = loop {
            match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
                Ok(l) => break l,
                Err((f, _)) if Instant::now() < deadline => {
                    file = f;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err((_, e)) => panic!("{} held by another run for 10 minutes: {e}", path.display()),
            }
        };
        let old = std::fs::read_to_string(URING_PARAM)
            .unwrap_or_else(|e| panic!("{URING_PARAM}: {e} (a kernel with FUSE io_uring needed)"));
        std::fs::write(URING_PARAM, if on { "Y" } else { "N" })
            .unwrap_or_else(|e| panic!("cannot set {URING_PARAM} (root needed): {e}"));
        UringParam { old: old.trim().to_string(), _machine: machine, _serial: serial }
    }
}

impl Drop for UringParam {
    fn drop(&mut self) {
        let _ = std::fs::write(URING_PARAM, &self.old);
    }
}
