//! Request decoding and dispatch: arbitrary bytes handed to the session as kernel messages,
//! after (usually) a valid INIT, against a filesystem that records what reaches it and answers
//! in odd ways: correctly, with the wrong reply type, twice, never, with absurd errno values,
//! huge payloads, directory entries with illegal names, answers to made-up handles.
//!
//! Two filesystems, picked by the first input byte:
//! - a Rust [`Filesystem`] that records each request and replies through the session and
//!   through the C `fuse_reply_*` entry points with its handle;
//! - a C-style `fuse_lowlevel_ops` table (Rust `extern "C"` callbacks) behind
//!   `fuse_session_new`, so the library's own dispatch layer converts every argument.
//!
//! Every message written to the "kernel" is checked: its header length matches its bytes, its
//! error is 0 or a negated errno, and no request is answered twice.
//!
//! Input: byte 0 flags (bit 0: C table; bit 1: no automatic INIT; bit 2: keep the header's
//! own `len`; bit 3: debug output on; bit 4: the C table has write_buf; bit 5: messages processed in place,
//! in a big receive buffer, as the loops do), byte 1 the length of the reply script, the script
//! (one byte per decision), then messages, each a little-endian u16 length and its bytes.
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CStr;
use std::io::IoSlice;
use std::ptr;
use std::sync::Arc;

use fuse3::capi::abi::ConnInfo;
use fuse3::capi::fuse_common::{
    fuse_buf_flags, fuse_bufvec, fuse_conn_info, fuse_file_info, fuse_pollhandle,
};
use fuse3::capi::fuse_lowlevel::*;
use fuse3::capi::fuse_opt::fuse_args;
use fuse3::capi::ll_reply::*;
use fuse3::capi::ll_session::{fuse_session_destroy, fuse_session_new, session};
use fuse3::codec::request::Request;
use fuse3::session::req::{self, InterruptHook};
use fuse3::session::{Channel, Errno, Filesystem, Implemented, ReqHandle, Session};
use libc::{c_char, c_int, c_uint, c_void, dev_t, flock, mode_t, off_t, size_t, stat};
use libfuzzer_sys::fuzz_target;
use parking_lot::Mutex;

#[path = "../common/mod.rs"]
mod common;

// ------------------------------------------------------------------------------ the script

thread_local! {
    static SCRIPT: RefCell<(Vec<u8>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// The next decision byte (cycling through the script; 0 when it is empty).
fn next() -> u8 {
    SCRIPT.with(|s| {
        let mut s = s.borrow_mut();
        if s.0.is_empty() {
            return 0;
        }
        let i = s.1 % s.0.len();
        s.1 += 1;
        s.0[i]
    })
}

fn next_u32() -> u32 {
    u32::from_le_bytes([next(), next(), next(), next()])
}

// ------------------------------------------------------------------------------ the kernel side

#[derive(Default)]
struct Kernel {
    /// Per unique: messages sent with it minus answers seen (an answer too many is a bug).
    pending: Mutex<HashMap<u64, i64>>,
    messages: Mutex<usize>,
}

struct Rec(Arc<Kernel>);

impl Channel for Rec {
    fn read(&self, _fd: i32, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(libc::ENODEV)
    }
    fn writev(&self, _fd: i32, iov: &[IoSlice<'_>]) -> Result<usize, Errno> {
        let msg: Vec<u8> = iov.iter().flat_map(|s| s.iter().copied()).collect();
        assert!(msg.len() >= 16, "message shorter than its header");
        let len = u32::from_le_bytes(msg[0..4].try_into().unwrap()) as usize;
        let error = i32::from_le_bytes(msg[4..8].try_into().unwrap());
        let unique = u64::from_le_bytes(msg[8..16].try_into().unwrap());
        assert_eq!(len, msg.len(), "header length disagrees with the bytes sent");
        assert!(error <= 0 && error > -4096, "error {error} on the wire");
        if unique != 0 {
            let mut p = self.0.pending.lock();
            let n = p.entry(unique).or_insert(0);
            *n -= 1;
            assert!(*n >= 0, "request {unique} answered more often than it was sent");
        }
        *self.0.messages.lock() += 1;
        // The kernel sometimes refuses a reply (interrupted request, bad size).
        match next() {
            0xfe => Err(libc::ENOENT),
            0xff => Err(libc::EINVAL),
            _ => Ok(msg.len()),
        }
    }
}

// ------------------------------------------------------------------------------ odd answers

fn zstat() -> stat {
    // SAFETY: all-zero is a valid stat.
    let mut st: stat = unsafe { std::mem::zeroed() };
    st.st_ino = next() as u64;
    st.st_mode = if next() & 1 != 0 { libc::S_IFDIR | 0o755 } else { libc::S_IFREG | 0o644 };
    st.st_size = next_u32() as i64;
    st
}

fn entry() -> fuse_entry_param {
    // SAFETY: all-zero is a valid entry.
    let mut e: fuse_entry_param = unsafe { std::mem::zeroed() };
    e.ino = next() as u64;
    e.attr = zstat();
    e.entry_timeout = f64::from(next()) - 10.0;
    e.attr_timeout = if next() == 0 { f64::NAN } else { 1e300 };
    e
}

fn absurd_errno() -> c_int {
    match next() % 6 {
        0 => 0,
        1 => next() as c_int,
        2 => -(next() as c_int),
        3 => c_int::MAX,
        4 => c_int::MIN,
        _ => next_u32() as c_int,
    }
}

/// A directory listing packed with fuse_add_direntry(_plus), names legal and not.
fn dir_listing(req: fuse_req_t, plus: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut used = 0;
    for i in 0..(next() % 8) {
        let len = match next() % 4 {
            0 => 0,
            1 => 255,
            2 => 256 + next() as usize * 8,
            _ => 1 + next() as usize % 32,
        };
        let mut name = vec![b'a' + i; len];
        name.push(0);
        let st = zstat();
        let e = entry();
        let rem = buf.len() - used;
        let p = buf[used..].as_mut_ptr().cast::<c_char>();
        // SAFETY: `rem` writable bytes at `p`; a C string; valid stat and entry.
        let n = unsafe {
            if plus {
                fuse_add_direntry_plus(req, p, rem, name.as_ptr().cast(), &e, i as off_t + 1)
            } else {
                fuse_add_direntry(req, p, rem, name.as_ptr().cast(), &st, i as off_t + 1)
            }
        };
        if n > rem {
            break;
        }
        used += n;
    }
    buf.truncate(used);
    buf
}

/// A file of 300,000 patterned bytes to answer reads from (made once per process).
fn data_fd() -> c_int {
    static FD: std::sync::OnceLock<c_int> = std::sync::OnceLock::new();
    *FD.get_or_init(|| {
        // SAFETY: memfd_create with a C string name; the fd is kept for the process's life.
        let fd = unsafe { libc::memfd_create(c"fuzz-data".as_ptr(), 0) };
        assert!(fd >= 0, "memfd_create");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        // SAFETY: writing our own buffer to our own fd.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        assert_eq!(n, data.len() as isize);
        fd
    })
}

/// Answer `req` somehow. The answer may be right, wrong, repeated or missing.
fn answer(req: fuse_req_t) {
    let times = match next() % 8 {
        0 => 0, // never answered
        1 => 2, // answered twice
        _ => 1,
    };
    for _ in 0..times {
        answer_once(req);
    }
    if next() == 0x42 {
        // An answer to a made-up handle and to NULL.
        // SAFETY: the library takes any value as a handle and refuses what is not one.
        unsafe {
            assert_eq!(fuse_reply_err(0x1234 as fuse_req_t, libc::EIO), -libc::EINVAL);
            assert_eq!(fuse_reply_err(ptr::null_mut(), libc::EIO), -libc::EINVAL);
        }
    }
}

fn answer_once(req: fuse_req_t) {
    // Questions about the request first: all must work on a live or a dead handle.
    // SAFETY: any handle value is accepted by these.
    unsafe {
        let _ = fuse_req_ctx(req);
        let _ = fuse_req_interrupted(req);
        let mut groups = [0 as libc::gid_t; 4];
        let _ = fuse_req_getgroups(req, (next() % 6) as c_int, groups.as_mut_ptr());
        let _ = fuse_req_userdata(req);
    }
    let big = vec![b'x'; (next() as usize) << (next() % 12)];
    // SAFETY: every pointer passed is valid for the call; the handle may be dead.
    let rc = unsafe {
        match next() % 25 {
            0 => fuse_reply_err(req, absurd_errno()),
            1 => fuse_reply_err(req, libc::ENOENT),
            2 => fuse_reply_entry(req, &entry()),
            3 => {
                // SAFETY: all-zero is a valid fuse_file_info of either layout.
                let fi: fuse_file_info = std::mem::zeroed();
                fuse_reply_create(req, &entry(), &fi)
            }
            4 => fuse_reply_attr(req, &zstat(), f64::from(next())),
            5 => {
                let mut link = big.clone();
                link.push(0);
                fuse_reply_readlink(req, link.as_ptr().cast())
            }
            6 => {
                let fi: fuse_file_info = std::mem::zeroed();
                fuse_reply_open(req, &fi)
            }
            7 => fuse_reply_write(req, next_u32() as size_t),
            8 => fuse_reply_buf(req, big.as_ptr().cast(), big.len()),
            9 => fuse_reply_buf(req, ptr::null(), next() as size_t),
            10 => {
                let sv: libc::statvfs = std::mem::zeroed();
                fuse_reply_statfs(req, &sv)
            }
            11 => fuse_reply_xattr(req, next_u32() as size_t),
            12 => {
                let mut l: flock = std::mem::zeroed();
                l.l_type = next() as i16;
                l.l_start = -(next() as i64);
                fuse_reply_lock(req, &l)
            }
            13 => fuse_reply_bmap(req, next_u32() as u64),
            14 => {
                let d = dir_listing(req, next() & 1 != 0);
                fuse_reply_buf(req, d.as_ptr().cast(), d.len())
            }
            15 => {
                let one = libc::iovec { iov_base: big.as_ptr() as *mut c_void, iov_len: big.len() };
                let iov = [one, one];
                fuse_reply_ioctl_retry(
                    req,
                    iov.as_ptr(),
                    (next() % 3) as size_t,
                    iov.as_ptr(),
                    (next() % 3) as size_t,
                )
            }
            16 => fuse_reply_ioctl(req, absurd_errno(), big.as_ptr().cast(), big.len()),
            17 => fuse_reply_poll(req, next() as c_uint),
            18 => fuse_reply_lseek(req, next_u32() as off_t - 5),
            19 => {
                fuse_reply_none(req);
                0
            }
            20 => {
                let iov = [
                    libc::iovec { iov_base: big.as_ptr() as *mut c_void, iov_len: big.len() },
                    libc::iovec { iov_base: ptr::null_mut(), iov_len: 0 },
                ];
                fuse_reply_iov(req, iov.as_ptr(), (next() % 3) as c_int)
            }
            21 => {
                let iov =
                    [libc::iovec { iov_base: big.as_ptr() as *mut c_void, iov_len: big.len() }];
                fuse_reply_ioctl_iov(req, next() as c_int, iov.as_ptr(), (next() % 2) as c_int)
            }
            22 => {
                let sx: libc::statx = std::mem::zeroed();
                fuse_reply_statx(req, 0, &sx, 1.0)
            }
            23 => {
                // Data from a file descriptor: the library moves it through the loop's spare
                // receive buffer (process_in_place) or a pipe, or copies it.
                let fd = data_fd();
                libc::lseek(fd, i64::from(next()) * 1000, libc::SEEK_SET);
                let mut bv: fuse_bufvec = std::mem::zeroed();
                bv.count = 1;
                bv.buf[0].size = (next() as usize) << (next() % 12);
                bv.buf[0].flags = fuse_buf_flags::FUSE_BUF_IS_FD;
                bv.buf[0].fd = if next() == 7 { -1 } else { fd };
                bv.off = next() as usize % 3;
                fuse_reply_data(req, &mut bv, c_int::from(next() % 8))
            }
            _ => {
                let fi: fuse_file_info = std::mem::zeroed();
                let _ = fuse_passthrough_open(req, -1);
                let _ = fuse_passthrough_close(req, next() as c_int);
                fuse_reply_open(req, &fi)
            }
        }
    };
    assert!(rc <= 0, "a reply returned {rc}");
}

// ------------------------------------------------------------------------------ the Rust fs

struct Recording {
    seen: Arc<Mutex<Vec<(u32, u64)>>>,
}

impl Filesystem for Recording {
    fn implemented(&self) -> Implemented {
        Implemented {
            write_buf: false,
            posix_locks: true,
            flock: true,
            readdirplus: true,
            readdir: true,
        }
    }
    fn init(&self, conn: *mut ConnInfo) -> bool {
        // SAFETY: the session's own connection info, valid during init.
        let c = unsafe { &mut *conn };
        if next() & 0x80 != 0 {
            c.want = next_u32();
        }
        if next() & 0x80 != 0 {
            c.want_ext = u64::from(next_u32()) << (next() % 33);
        }
        c.max_write = next_u32();
        c.max_readahead = next_u32();
        true
    }
    fn destroy(&self) {}
    fn dispatch(&self, se: &Session, h: ReqHandle, request: &Request<'_>, _raw: &[u8]) {
        self.seen.lock().push((request.header.opcode, request.header.unique));
        match next() % 4 {
            0 => {
                // Through the session directly, with any error value and payload.
                if let Some(d) = req::take(h) {
                    let payload = vec![0u8; next() as usize * 4];
                    let _ = se.reply_raw(&d, absurd_errno(), &[&payload]);
                }
                assert!(req::take(h).is_none(), "a handle answered twice");
            }
            1 => {} // never answered: dropped when the session goes
            2 => {
                req::with(h, |d| *d.hook.lock() = Some(InterruptHook { func: 0, data: 0 }));
                answer(h.0 as fuse_req_t)
            }
            _ => answer(h.0 as fuse_req_t),
        }
    }
    fn interrupt(&self, _hook: InterruptHook, h: ReqHandle) {
        if next() & 1 != 0 {
            answer(h.0 as fuse_req_t);
        }
    }
}

// ------------------------------------------------------------------------------ the C table

unsafe extern "C" fn c_init(_u: *mut c_void, conn: *mut fuse_conn_info) {
    let c = conn.cast::<ConnInfo>();
    // SAFETY: the library's connection info, valid during init.
    unsafe {
        if next() & 0x80 != 0 {
            (*c).want = next_u32();
        }
        (*c).max_background = next_u32();
    }
}
unsafe extern "C" fn c_destroy(_u: *mut c_void) {}
unsafe extern "C" fn c_name(req: fuse_req_t, _p: fuse_ino_t, name: *const c_char) {
    // SAFETY: the library passes a C string from the message.
    let _ = unsafe { CStr::from_ptr(name) }.to_bytes().len();
    answer(req)
}
unsafe extern "C" fn c_forget(req: fuse_req_t, _ino: fuse_ino_t, _n: u64) {
    if next() & 1 != 0 {
        // SAFETY: any handle value is accepted.
        unsafe { fuse_reply_none(req) }
    } else {
        answer(req)
    }
}
unsafe extern "C" fn c_fi(req: fuse_req_t, _ino: fuse_ino_t, fi: *mut fuse_file_info) {
    if !fi.is_null() {
        // SAFETY: the library's fuse_file_info; the first word (flags) exists in every layout.
        unsafe { fi.cast::<c_int>().write(next() as c_int) };
    }
    answer(req)
}
unsafe extern "C" fn c_setattr(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    attr: *mut stat,
    _s: c_int,
    _fi: *mut fuse_file_info,
) {
    // SAFETY: the library's stat.
    let _ = unsafe { (*attr).st_mode };
    answer(req)
}
unsafe extern "C" fn c_ino(req: fuse_req_t, _ino: fuse_ino_t) {
    answer(req)
}
unsafe extern "C" fn c_mknod(
    req: fuse_req_t,
    _p: fuse_ino_t,
    _n: *const c_char,
    _m: mode_t,
    _r: dev_t,
) {
    answer(req)
}
unsafe extern "C" fn c_mkdir(req: fuse_req_t, _p: fuse_ino_t, _n: *const c_char, _m: mode_t) {
    answer(req)
}
unsafe extern "C" fn c_symlink(
    req: fuse_req_t,
    link: *const c_char,
    _p: fuse_ino_t,
    name: *const c_char,
) {
    // SAFETY: C strings from the message.
    let _ =
        unsafe { (CStr::from_ptr(link).to_bytes().len(), CStr::from_ptr(name).to_bytes().len()) };
    answer(req)
}
unsafe extern "C" fn c_rename(
    req: fuse_req_t,
    _p: fuse_ino_t,
    _n: *const c_char,
    _np: fuse_ino_t,
    nn: *const c_char,
    _f: c_uint,
) {
    // SAFETY: a C string from the message.
    let _ = unsafe { CStr::from_ptr(nn) }.to_bytes().len();
    answer(req)
}
unsafe extern "C" fn c_link(req: fuse_req_t, _i: fuse_ino_t, _np: fuse_ino_t, _nn: *const c_char) {
    answer(req)
}
unsafe extern "C" fn c_rw(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _size: size_t,
    _off: off_t,
    _fi: *mut fuse_file_info,
) {
    answer(req)
}
unsafe extern "C" fn c_write(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    buf: *const c_char,
    size: size_t,
    _off: off_t,
    _fi: *mut fuse_file_info,
) {
    // SAFETY: the library hands `size` bytes of the message.
    let data = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), size) };
    let _ = data.iter().fold(0u8, |a, b| a ^ b);
    answer(req)
}
unsafe extern "C" fn c_sync(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _d: c_int,
    _fi: *mut fuse_file_info,
) {
    answer(req)
}
unsafe extern "C" fn c_readdir(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    size: size_t,
    _off: off_t,
    _fi: *mut fuse_file_info,
) {
    let d = dir_listing(req, false);
    let n = d.len().min(size);
    // SAFETY: `n` bytes of `d`.
    match next() % 3 {
        0 => unsafe { fuse_reply_buf(req, d.as_ptr().cast(), n) },
        1 => unsafe { fuse_reply_buf(req, d.as_ptr().cast(), d.len()) },
        _ => {
            answer(req);
            0
        }
    };
}
unsafe extern "C" fn c_readdirplus(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    size: size_t,
    _off: off_t,
    _fi: *mut fuse_file_info,
) {
    let d = dir_listing(req, true);
    let n = d.len().min(size);
    // SAFETY: `n` bytes of `d`.
    unsafe { fuse_reply_buf(req, d.as_ptr().cast(), n) };
}
unsafe extern "C" fn c_setxattr(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _n: *const c_char,
    v: *const c_char,
    size: size_t,
    _f: c_int,
) {
    // SAFETY: `size` bytes of the message.
    let _ = unsafe { std::slice::from_raw_parts(v.cast::<u8>(), size) }.len();
    answer(req)
}
unsafe extern "C" fn c_getxattr(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _n: *const c_char,
    _size: size_t,
) {
    answer(req)
}
unsafe extern "C" fn c_listxattr(req: fuse_req_t, _ino: fuse_ino_t, _size: size_t) {
    answer(req)
}
unsafe extern "C" fn c_access(req: fuse_req_t, _ino: fuse_ino_t, _m: c_int) {
    answer(req)
}
unsafe extern "C" fn c_create(
    req: fuse_req_t,
    _p: fuse_ino_t,
    _n: *const c_char,
    _m: mode_t,
    _fi: *mut fuse_file_info,
) {
    answer(req)
}
unsafe extern "C" fn c_lock(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _fi: *mut fuse_file_info,
    l: *mut flock,
) {
    // SAFETY: the library's flock.
    let _ = unsafe { (*l).l_type };
    answer(req)
}
unsafe extern "C" fn c_setlk(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _fi: *mut fuse_file_info,
    _l: *mut flock,
    _s: c_int,
) {
    answer(req)
}
unsafe extern "C" fn c_bmap(req: fuse_req_t, _ino: fuse_ino_t, _b: size_t, _i: u64) {
    answer(req)
}
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn c_ioctl(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _cmd: c_uint,
    _arg: *mut c_void,
    _fi: *mut fuse_file_info,
    _flags: c_uint,
    in_buf: *const c_void,
    in_bufsz: size_t,
    _out: size_t,
) {
    if in_bufsz > 0 {
        // SAFETY: `in_bufsz` bytes of the message.
        let _ = unsafe { std::slice::from_raw_parts(in_buf.cast::<u8>(), in_bufsz) }.len();
    }
    answer(req)
}
unsafe extern "C" fn c_poll(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _fi: *mut fuse_file_info,
    ph: *mut fuse_pollhandle,
) {
    if !ph.is_null() {
        // SAFETY: the handle is ours to destroy.
        unsafe { fuse3::capi::fuse_common::fuse_pollhandle_destroy(ph) };
    }
    answer(req)
}
unsafe extern "C" fn c_forget_multi(req: fuse_req_t, count: size_t, f: *mut fuse_forget_data) {
    // SAFETY: `count` entries.
    let _ = unsafe { std::slice::from_raw_parts(f, count) }.len();
    // SAFETY: any handle value is accepted.
    unsafe { fuse_reply_none(req) }
}
unsafe extern "C" fn c_flock(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _fi: *mut fuse_file_info,
    _op: c_int,
) {
    answer(req)
}
unsafe extern "C" fn c_fallocate(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    _m: c_int,
    _o: off_t,
    _l: off_t,
    _fi: *mut fuse_file_info,
) {
    answer(req)
}
unsafe extern "C" fn c_write_buf(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    bufv: *mut fuse_bufvec,
    _off: off_t,
    _fi: *mut fuse_file_info,
) {
    // SAFETY: the library's bufvec.
    let _ = unsafe { fuse3::capi::fuse_common::fuse_buf_size(bufv) };
    answer(req)
}

fn ops(write_buf: bool) -> fuse_lowlevel_ops {
    // SAFETY: all-NULL is a valid ops table (every callback absent).
    let mut o: fuse_lowlevel_ops = unsafe { std::mem::zeroed() };
    o.init = Some(c_init);
    o.destroy = Some(c_destroy);
    o.lookup = Some(c_name);
    o.forget = Some(c_forget);
    o.getattr = Some(c_fi);
    o.setattr = Some(c_setattr);
    o.readlink = Some(c_ino);
    o.mknod = Some(c_mknod);
    o.mkdir = Some(c_mkdir);
    o.unlink = Some(c_name);
    o.rmdir = Some(c_name);
    o.symlink = Some(c_symlink);
    o.rename = Some(c_rename);
    o.link = Some(c_link);
    o.open = Some(c_fi);
    o.read = Some(c_rw);
    o.write = Some(c_write);
    o.flush = Some(c_fi);
    o.release = Some(c_fi);
    o.fsync = Some(c_sync);
    o.opendir = Some(c_fi);
    o.readdir = Some(c_readdir);
    o.releasedir = Some(c_fi);
    o.fsyncdir = Some(c_sync);
    o.statfs = Some(c_ino);
    o.setxattr = Some(c_setxattr);
    o.getxattr = Some(c_getxattr);
    o.listxattr = Some(c_listxattr);
    o.removexattr = Some(c_name);
    o.access = Some(c_access);
    o.create = Some(c_create);
    o.getlk = Some(c_lock);
    o.setlk = Some(c_setlk);
    o.bmap = Some(c_bmap);
    o.ioctl = Some(c_ioctl);
    o.poll = Some(c_poll);
    o.forget_multi = Some(c_forget_multi);
    o.flock = Some(c_flock);
    o.fallocate = Some(c_fallocate);
    o.readdirplus = Some(c_readdirplus);
    if write_buf {
        o.write_buf = Some(c_write_buf);
    }
    o
}

// ------------------------------------------------------------------------------ the driver

fn init_message(flags: u32, flags2: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(104);
    m.extend_from_slice(&104u32.to_le_bytes());
    m.extend_from_slice(&26u32.to_le_bytes()); // FUSE_INIT
    m.extend_from_slice(&1u64.to_le_bytes()); // unique
    m.extend_from_slice(&0u64.to_le_bytes()); // nodeid
    m.extend_from_slice(&[0; 16]); // uid, gid, pid, total_extlen + padding
    m.extend_from_slice(&7u32.to_le_bytes());
    m.extend_from_slice(&45u32.to_le_bytes());
    m.extend_from_slice(&(128u32 * 1024).to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&flags2.to_le_bytes());
    m.extend_from_slice(&[0; 44]);
    m
}

/// Note a message's unique as waiting for an answer.
fn note_sent(kernel: &Kernel, msg: &[u8]) {
    if msg.len() >= 16 {
        let unique = u64::from_le_bytes(msg[8..16].try_into().unwrap());
        *kernel.pending.lock().entry(unique).or_insert(0) += 1;
    }
}

/// Hand one message to the session, noting its unique as waiting for an answer.
fn send(se: &Session, kernel: &Kernel, msg: &[u8]) {
    note_sent(kernel, msg);
    se.process(msg, -1);
}

fuzz_target!(|data: &[u8]| {
    common::quiet();
    if data.len() < 2 {
        return;
    }
    let flags = data[0];
    let slen = (data[1] as usize).min(data.len() - 2);
    let script = data[2..2 + slen].to_vec();
    let mut rest = &data[2 + slen..];
    SCRIPT.with(|s| *s.borrow_mut() = (script, 0));

    let kernel = Arc::new(Kernel::default());
    let c_table = flags & 1 != 0;
    let ops = ops(flags & 16 != 0);
    let mut argv0 = *b"fuzz\0";
    let mut argv = [argv0.as_mut_ptr().cast::<c_char>(), ptr::null_mut()];
    let mut args = fuse_args { argc: 1, argv: argv.as_mut_ptr(), allocated: 0 };
    let (owned, raw_se): (Option<Box<Session>>, *mut fuse3::capi::fuse_common::fuse_session) =
        if c_table {
            // SAFETY: a valid argument vector and a full ops table.
            let se = unsafe {
                fuse_session_new(&mut args, &ops, std::mem::size_of_val(&ops), ptr::null_mut())
            };
            assert!(!se.is_null());
            (None, se)
        } else {
            let (so, mo, _) =
                fuse3::session::opts::parse_session_args(&[b"fuzz".to_vec()]).expect("options");
            let se = Session::new(&so, mo, false, (3, 19, 0), 0);
            (Some(se), ptr::null_mut())
        };
    // SAFETY: the session just made, alive until destroyed below.
    let se: &Session = match &owned {
        Some(s) => s,
        None => unsafe { session(raw_se) }.expect("session"),
    };
    se.set_channel(Box::new(Rec(Arc::clone(&kernel))), 1000);
    let seen = Arc::new(Mutex::new(Vec::new()));
    if !c_table {
        se.set_filesystem(Box::new(Recording { seen: Arc::clone(&seen) }));
    }
    if flags & 8 != 0 {
        se.set_debug();
    }
    if flags & 2 == 0 {
        let (f1, f2) = (next_u32(), next_u32());
        send(se, &kernel, &init_message(f1 | 1 << 30, f2));
    }
    let mut count = 0;
    while rest.len() >= 2 && count < 64 {
        let len = (u16::from_le_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
        let mut msg = rest[2..2 + len].to_vec();
        rest = &rest[2 + len..];
        if flags & 4 == 0 && msg.len() >= 4 {
            let l = msg.len() as u32;
            msg[..4].copy_from_slice(&l.to_le_bytes());
        }
        if flags & 32 != 0 {
            // As the loops do: the message at the start of a big receive buffer whose tail
            // replies may borrow.
            let mut big = vec![0u8; msg.len() + 256 * 1024];
            big[..msg.len()].copy_from_slice(&msg);
            note_sent(&kernel, &msg);
            se.process_in_place(&mut big, msg.len(), -1);
        } else {
            send(se, &kernel, &msg);
        }
        count += 1;
    }
    // Nothing the filesystem saw came without a header.
    for &(op, _) in seen.lock().iter() {
        assert!(op != 26, "INIT reached the filesystem's dispatch");
    }
    match owned {
        Some(s) => {
            s.teardown();
            drop(s);
        }
        // SAFETY: made by fuse_session_new above, destroyed once.
        None => unsafe { fuse_session_destroy(raw_se) },
    }
});
