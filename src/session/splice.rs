//! Replies written with splice(2): the payload moves from the filesystem's file descriptor
//! into a pipe of the calling thread and from there into the device, so file pages never pass
//! through a user buffer (what libfuse calls FUSE_CAP_SPLICE_WRITE, with SPLICE_F_MOVE for
//! FUSE_CAP_SPLICE_MOVE).
//!
//! Each thread owns one pipe, grown on demand to hold a whole reply (the device takes a reply
//! in one piece). Anything that goes wrong before the reply reaches the device leaves nothing
//! half-sent: the pipe is thrown away and the caller answers by copying instead.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::codec::as_bytes;
use crate::kernel::fuse_out_header;

use super::Session;
use super::req::ReqData;

/// One piece of a reply payload, in order.
#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    /// Bytes in memory.
    Mem(&'a [u8]),
    /// Up to `len` bytes of `fd`, from `pos` (or from the fd's own position when None).
    Fd { fd: i32, pos: Option<i64>, len: usize },
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match self {
            Piece::Mem(m) => m.len(),
            Piece::Fd { len, .. } => *len,
        }
    }
}

/// How a spliced reply went.
#[derive(Debug, PartialEq, Eq)]
pub enum Spliced {
    /// The reply reached the device (`n` bytes, header included).
    Sent(usize),
    /// Nothing was sent and no input was consumed: answer by copying.
    Fallback,
    /// The reply failed (-errno for the caller); the error was logged where libfuse logs it.
    Failed(i32),
}

struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
    size: usize,
    can_grow: bool,
}

thread_local! {
    static PIPE: RefCell<Option<Pipe>> = const { RefCell::new(None) };
}

/// Largest pipe we ask for: a reply of 1 MiB (max_write) plus header, rounded to pages.
const MAX_PIPE: usize = 32 << 20;

impl Pipe {
    fn new() -> Result<Pipe, i32> {
        let (r, w) = crate::sys::pipe_cloexec()?;
        let size = crate::sys::pipe_size(r.as_raw_fd())?;
        Ok(Pipe { r, w, size, can_grow: true })
    }

    /// Make room for `need` bytes; false when the pipe cannot hold that much.
    fn reserve(&mut self, need: usize) -> bool {
        if self.size >= need {
            return true;
        }
        if !self.can_grow || need > MAX_PIPE {
            return false;
        }
        match crate::sys::set_pipe_size(self.r.as_raw_fd(), need) {
            Ok(n) => {
                self.size = n;
                n >= need
            }
            Err(_) => {
                // Over /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE: stay as large as
                // we are and copy replies that do not fit.
                self.can_grow = false;
                false
            }
        }
    }
}

/// Write all of `data` into the pipe (it has room: `reserve` succeeded).
fn fill_mem(w: i32, mut data: &[u8]) -> Result<(), i32> {
    while !data.is_empty() {
        match crate::sys::write_fd(w, data) {
            Ok(0) => return Err(libc::EIO),
            Ok(n) => data = &data[n..],
            Err(libc::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Move up to `len` bytes of `fd` into the pipe; stops early only at end of file.
/// Returns the bytes moved, or the errno with the count moved before it.
fn fill_fd(w: i32, fd: i32, pos: Option<i64>, len: usize) -> Result<usize, (i32, usize)> {
    let mut moved = 0usize;
    let mut off = pos.unwrap_or(0);
    while moved < len {
        let r = crate::sys::splice_fd(
            fd,
            if pos.is_some() { Some(&mut off) } else { None },
            w,
            len - moved,
            libc::SPLICE_F_MOVE,
        );
        match r {
            Ok(0) => break,
            Ok(n) => moved += n,
            Err(libc::EINTR) => continue,
            Err(e) => return Err((e, moved)),
        }
    }
    Ok(moved)
}

impl Session {
    /// Answer `data` successfully with `pieces` as payload through the thread's pipe.
    /// `move_pages` asks the device to take the pages instead of copying them.
    pub fn reply_spliced(&self, data: &ReqData, pieces: &[Piece<'_>], move_pages: bool) -> Spliced {
        if data.no_reply {
            return Spliced::Sent(0);
        }
        if self.has_custom_io() {
            return Spliced::Fallback;
        }
        let hsize = std::mem::size_of::<fuse_out_header>();
        let Some(payload) = pieces.iter().try_fold(0usize, |a, p| a.checked_add(p.len())) else {
            return Spliced::Fallback;
        };
        let Some(total) = payload.checked_add(hsize).filter(|t| *t <= u32::MAX as usize) else {
            return Spliced::Fallback;
        };
        PIPE.with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else { return Spliced::Fallback };
            if slot.is_none() {
                match Pipe::new() {
                    Ok(p) => *slot = Some(p),
                    Err(_) => return Spliced::Fallback,
                }
            }
            let pipe = slot.as_mut().expect("set above");
            if !pipe.reserve(total) {
                return Spliced::Fallback;
            }
            let outcome = self.splice_through(pipe, data, pieces, total, move_pages);
            if !matches!(outcome, Spliced::Sent(_)) {
                // Whatever is left in the pipe belongs to no reply: start over with a new one.
                *slot = None;
            }
            outcome
        })
    }

    fn splice_through(
        &self,
        pipe: &Pipe,
        data: &ReqData,
        pieces: &[Piece<'_>],
        total: usize,
        move_pages: bool,
    ) -> Spliced {
        let w = pipe.w.as_raw_fd();
        let mut h = fuse_out_header { len: total as u32, error: 0, unique: data.unique };
        if fill_mem(w, as_bytes(&h)).is_err() {
            return Spliced::Fallback;
        }
        let mut consumed_unseekable = false;
        let mut short = false;
        let mut actual = std::mem::size_of::<fuse_out_header>();
        for p in pieces {
            match *p {
                Piece::Mem(m) => {
                    if short {
                        // Data after a short read would land at the wrong offset; libfuse
                        // stops at the first short buffer as well.
                        break;
                    }
                    if fill_mem(w, m).is_err() {
                        return if consumed_unseekable {
                            Spliced::Failed(-libc::EIO)
                        } else {
                            Spliced::Fallback
                        };
                    }
                    actual += m.len();
                }
                Piece::Fd { fd, pos, len } => {
                    if short {
                        break;
                    }
                    match fill_fd(w, fd, pos, len) {
                        Ok(n) => {
                            consumed_unseekable |= pos.is_none() && n > 0;
                            actual += n;
                            short = n < len;
                        }
                        Err((e, n)) => {
                            consumed_unseekable |= pos.is_none() && n > 0;
                            if consumed_unseekable {
                                crate::log::err(&format!(
                                    "fuse: splicing reply data: {}\n",
                                    crate::sys::strerror(e)
                                ));
                                return Spliced::Failed(-libc::EIO);
                            }
                            return Spliced::Fallback;
                        }
                    }
                }
            }
        }
        let fd = if data.fd >= 0 { data.fd } else { self.fd() };
        if actual != total {
            // A short read: the header in the pipe has the wrong length. Take the message
            // back out and send it as a copy with the right one (rare: end of file).
            let mut msg = vec![0u8; actual];
            let mut got = 0;
            while got < actual {
                match crate::sys::read_fd(pipe.r.as_raw_fd(), &mut msg[got..]) {
                    Ok(0) => return Spliced::Failed(-libc::EIO),
                    Ok(n) => got += n,
                    Err(libc::EINTR) => continue,
                    Err(_) => return Spliced::Failed(-libc::EIO),
                }
            }
            let hsize = std::mem::size_of::<fuse_out_header>();
            h.len = 0;
            return match self.send(data.fd, &mut h, &[&msg[hsize..]]) {
                Ok(()) => Spliced::Sent(actual),
                Err(e) => Spliced::Failed(-e),
            };
        }
        self.log_reply(&h);
        let flags = if move_pages { libc::SPLICE_F_MOVE } else { 0 };
        loop {
            match crate::sys::splice_fd(pipe.r.as_raw_fd(), None, fd, total, flags) {
                Ok(n) if n == total => return Spliced::Sent(n),
                Ok(_) => {
                    crate::log::err("fuse: short splice to the device\n");
                    return Spliced::Failed(-libc::EIO);
                }
                Err(libc::EINTR) => continue,
                Err(e) => {
                    if !self.exited() && e != libc::ENOENT {
                        crate::log::err(&format!(
                            "fuse: writing device: {}\n",
                            crate::sys::strerror(e)
                        ));
                    }
                    return Spliced::Failed(-e);
                }
            }
        }
    }
}
