//! Mirrors the helper's side of libfuse's fusermount3 protocol on the comm socket: the
//! `/dev/fuse` descriptor sent with SCM_RIGHTS and a one-byte payload; for `--sync-init` the
//! one-byte "proceed" the caller sends once its INIT thread runs, and the int32 status
//! (0 or -errno) the helper answers after mounting; for `auto_unmount`, EOF on the socket.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, MsgFlags, recv, send, sendmsg, setsockopt, sockopt};
use nix::sys::stat::{SFlag, fstat};
use nix::sys::time::TimeVal;

/// How long the helper waits for "proceed" (libfuse waits five minutes too).
pub const PROCEED_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The comm socket, as named by `--comm-fd` or `_FUSE_COMMFD`.
#[derive(Debug)]
pub struct CommFd(RawFd);

/// Parse and check the comm fd: a decimal number naming an open socket above stdio.
/// `what` names the source for messages.
pub fn comm_fd(text: &str) -> Result<CommFd, String> {
    let t = text.trim_start();
    let n: i64 = t
        .parse()
        .ok()
        .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
        .ok_or_else(|| format!("invalid _FUSE_COMMFD: {text}"))?;
    let fd = n as RawFd;
    let st = fstat(borrow(fd))
        .map_err(|e| format!("fstat of comm fd {fd} failed: {}", crate::sys::strerror(e as i32)))?;
    if SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT) != SFlag::S_IFSOCK {
        return Err(format!("file descriptor {fd} is not a socket, can't send fuse fd"));
    }
    if fd <= 2 {
        return Err(format!("invalid _FUSE_COMMFD: {text}"));
    }
    Ok(CommFd(fd))
}

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the helper never closes the comm fd (nor stdio) while it runs, and these
    // borrows are only used for single calls.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

impl CommFd {
    pub fn raw(&self) -> RawFd {
        self.0
    }

    /// Send `fd` with one zero byte (SCM_RIGHTS needs at least one byte of data).
    pub fn send_fd(&self, fd: &OwnedFd) -> Result<(), String> {
        let fds = [fd.as_raw_fd()];
        let iov = [IoSlice::new(&[0u8])];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        loop {
            match sendmsg::<()>(self.0, &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None) {
                Err(Errno::EINTR) => continue,
                Ok(1) => return Ok(()),
                Ok(_) => return Err("sending file descriptor: short write".into()),
                Err(e) => {
                    return Err(format!(
                        "sending file descriptor: {}",
                        crate::sys::strerror(e as i32)
                    ));
                }
            }
        }
    }

    /// Wait for the caller's one-byte "proceed" (`--sync-init`), at most [`PROCEED_TIMEOUT`].
    pub fn wait_proceed(&self, timeout: Duration) -> Result<(), String> {
        setsockopt(
            &borrow(self.0),
            sockopt::ReceiveTimeout,
            &TimeVal::from(libc::timeval {
                tv_sec: timeout.as_secs() as libc::time_t,
                tv_usec: timeout.subsec_micros() as libc::suseconds_t,
            }),
        )
        .map_err(|e| format!("failed to set signal timeout: {}", crate::sys::strerror(e as i32)))?;
        let mut b = [0u8; 1];
        loop {
            return match recv(self.0, &mut b, MsgFlags::empty()) {
                Err(Errno::EINTR) => continue,
                Ok(1) => Ok(()),
                Ok(_) => Err("connection closed while waiting for signal".into()),
                Err(Errno::EAGAIN) => {
                    Err(format!("timed out after {} seconds waiting for signal", timeout.as_secs()))
                }
                Err(e) => {
                    Err(format!("error receiving signal: {}", crate::sys::strerror(e as i32)))
                }
            };
        }
    }

    /// Send the mount's status: 0, or -errno.
    pub fn send_status(&self, status: i32) -> Result<(), String> {
        let bytes = status.to_ne_bytes();
        loop {
            return match send(self.0, &bytes, MsgFlags::MSG_NOSIGNAL) {
                Err(Errno::EINTR) => continue,
                Ok(4) => Ok(()),
                Ok(_) => Err("failed to send mount status: short write".into()),
                Err(e) => {
                    Err(format!("failed to send mount status: {}", crate::sys::strerror(e as i32)))
                }
            };
        }
    }

    /// Block until the caller closes its end (anything it sends is ignored).
    pub fn wait_eof(&self) {
        // No timeout: the wait lasts as long as the filesystem's daemon.
        let _ = setsockopt(&borrow(self.0), sockopt::ReceiveTimeout, &TimeVal::new(0, 0));
        let mut buf = [0u8; 16];
        loop {
            match recv(self.0, &mut buf, MsgFlags::empty()) {
                Ok(0) => return,
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(_) => return,
            }
        }
    }
}
