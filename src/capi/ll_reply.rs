//! <fuse_lowlevel.h>, part 2: answering requests (`fuse_reply_*`, directory entries) and
//! asking about them (`fuse_req_*`).
//!
//! A `fuse_req_t` is a handle into the session's request table (see `session::req`): an
//! answer takes the request out, so a second answer is refused with `-EINVAL` and a log line
//! instead of touching freed memory.

use std::ffi::CStr;
use std::ptr;

use libc::{
    c_char, c_double, c_int, c_uint, c_void, flock, gid_t, iovec, off_t, size_t, stat, statvfs,
};

use super::abi::BufCopyFlags;
use super::abi::FileInfo;
use super::fuse_common::{
    FUSE_CAP_SPLICE_MOVE, FUSE_CAP_SPLICE_WRITE, fuse_buf_copy_flags, fuse_bufvec, fuse_file_info,
};
use super::fuse_lowlevel::{fuse_ctx, fuse_entry_param, fuse_interrupt_func_t, fuse_req_t};
use crate::codec::{as_bytes, reply as enc};
use crate::kernel::*;
use crate::session::req::{self, InterruptHook, ReqData};
use crate::session::splice::Spliced;
use crate::session::{ReqHandle, Session};

fn handle(req: fuse_req_t) -> ReqHandle {
    ReqHandle(req as usize)
}

/// The session a live request belongs to.
///
/// # Safety
/// `d` is a request taken from (or found in) the table: its session is alive, because a
/// session drops all of its requests before it is freed.
unsafe fn session_of<'a>(d: &ReqData) -> &'a Session {
    // SAFETY: the function's contract.
    unsafe { &*(d.session as *const Session) }
}

fn refused(what: &str) -> c_int {
    crate::log::err(&format!(
        "fuse: {what}: request already answered or not a request; reply ignored\n"
    ));
    -libc::EINVAL
}

/// Whether the typed reply `what` can answer a request with `opcode`. The kernel expects a
/// fixed answer size for each of these; any other pairing it refuses (the write fails and the
/// caller sees EIO), so the library catches it first. Errors, `fuse_reply_buf`, `_data` and
/// `_iov` answer anything.
fn reply_fits(what: &str, opcode: u32) -> bool {
    use crate::kernel::opcode::*;
    match what {
        "fuse_reply_entry" => {
            matches!(opcode, FUSE_LOOKUP | FUSE_MKNOD | FUSE_MKDIR | FUSE_SYMLINK | FUSE_LINK)
        }
        "fuse_reply_create" => matches!(opcode, FUSE_CREATE | FUSE_TMPFILE),
        "fuse_reply_attr" => matches!(opcode, FUSE_GETATTR | FUSE_SETATTR),
        "fuse_reply_readlink" => opcode == FUSE_READLINK,
        "fuse_reply_open" => matches!(opcode, FUSE_OPEN | FUSE_OPENDIR),
        "fuse_reply_write" => {
            matches!(opcode, FUSE_WRITE | FUSE_COPY_FILE_RANGE | FUSE_COPY_FILE_RANGE_64)
        }
        "fuse_reply_statfs" => opcode == FUSE_STATFS,
        "fuse_reply_xattr" => matches!(opcode, FUSE_GETXATTR | FUSE_LISTXATTR),
        "fuse_reply_lock" => opcode == FUSE_GETLK,
        "fuse_reply_bmap" => opcode == FUSE_BMAP,
        "fuse_reply_ioctl" | "fuse_reply_ioctl_iov" | "fuse_reply_ioctl_retry" => {
            opcode == FUSE_IOCTL
        }
        "fuse_reply_poll" => opcode == FUSE_POLL,
        "fuse_reply_lseek" => opcode == FUSE_LSEEK,
        "fuse_reply_statx" => opcode == FUSE_STATX,
        _ => true,
    }
}

/// Take the request and send `error` (already negated) with `parts`. A successful answer of
/// the wrong type for the request is not sent: the request gets EIO, the caller -EINVAL.
fn reply_parts(req: fuse_req_t, what: &str, error: i32, parts: &[&[u8]]) -> c_int {
    let Some(d) = req::take(handle(req)) else { return refused(what) };
    // SAFETY: the request was in the table, so its session is alive.
    let se = unsafe { session_of(&d) };
    if error == 0 && !reply_fits(what, d.opcode) {
        crate::log::err(&format!(
            "fuse: {what}: not an answer to a {} request; answering EIO instead\n",
            crate::kernel::opcode::name(d.opcode)
        ));
        se.reply_raw(&d, -libc::EIO, &[]);
        return -libc::EINVAL;
    }
    se.reply_raw(&d, error, parts)
}

/// Run `f` with the request's session and data, without answering it.
fn peek<R>(req: fuse_req_t, f: impl FnOnce(&Session, &ReqData) -> R) -> Option<R> {
    let (sess, _) = req::with(handle(req), |d| (d.session, ()))?;
    // SAFETY: the request is in the table, so its session is alive.
    let se = unsafe { &*(sess as *const Session) };
    // Re-enter the table only for the short read; `f` itself may not call C.
    req::with(handle(req), |d| f(se, d))
}

fn proto_minor(req: fuse_req_t) -> u32 {
    peek(req, |se, _| se.proto_minor()).unwrap_or(FUSE_KERNEL_MINOR_VERSION)
}

/// Read a C `fuse_file_info` of the caller's layout into our mirror.
///
/// # Safety
/// `fi` is NULL or a valid `fuse_file_info` of the caller's ABI.
pub unsafe fn read_fi(fi: *const fuse_file_info) -> FileInfo {
    let mut out = FileInfo::default();
    if fi.is_null() {
        return out;
    }
    let n = if super::image_pre_317() {
        super::abi::FILE_INFO_SIZE_PRE_317
    } else {
        std::mem::size_of::<FileInfo>()
    };
    // SAFETY: the caller's struct has at least `n` bytes (its ABI's size).
    unsafe { ptr::copy_nonoverlapping(fi.cast::<u8>(), (&raw mut out).cast::<u8>(), n) };
    if super::image_pre_317() {
        // Byte 36 is tail padding before 3.17, not a backing id.
        out.backing_id = 0;
    }
    out
}

/// The `fuse_open_out` libfuse builds from a `fuse_file_info`.
pub fn open_out(fi: &FileInfo, _pre_317: bool) -> fuse_open_out {
    let mut o = fuse_open_out { fh: fi.fh, open_flags: 0, backing_id: 0 };
    if fi.backing_id > 0 {
        o.backing_id = fi.backing_id;
        o.open_flags |= flags::FOPEN_PASSTHROUGH;
    }
    let bit = |n: u32| fi.bits & (1 << n) != 0;
    if bit(1) {
        o.open_flags |= flags::FOPEN_DIRECT_IO;
    }
    if bit(2) {
        o.open_flags |= flags::FOPEN_KEEP_CACHE;
    }
    if bit(6) {
        o.open_flags |= flags::FOPEN_CACHE_DIR;
    }
    if bit(4) {
        o.open_flags |= flags::FOPEN_NONSEEKABLE;
    }
    if bit(7) {
        o.open_flags |= flags::FOPEN_NOFLUSH;
    }
    if bit(8) {
        o.open_flags |= flags::FOPEN_PARALLEL_DIRECT_WRITES;
    }
    o
}

/// # Safety
/// `e` is a valid `fuse_entry_param`.
unsafe fn entry_from(e: *const fuse_entry_param) -> fuse_entry_out {
    // SAFETY: the caller's contract.
    let e = unsafe { &*e };
    enc::entry_out(e.ino, e.generation, e.entry_timeout, e.attr_timeout, &e.attr)
}

/// Answers with an error: `err` is a positive errno, or 0 for success without data.
///
/// # Safety
/// `req` is a request handle the library gave the filesystem.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_err(req: fuse_req_t, err: c_int) -> c_int {
    crate::ffi_guard!(-libc::EIO, { reply_parts(req, "fuse_reply_err", err.wrapping_neg(), &[]) })
}
crate::symver!(fuse_reply_err, "FUSE_3.0");

/// Finishes a request that gets no answer (forget).
///
/// # Safety
/// `req` is a request handle the library gave the filesystem.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_none(req: fuse_req_t) {
    crate::ffi_guard!((), {
        if req::take(handle(req)).is_none() {
            refused("fuse_reply_none");
        }
    })
}
crate::symver!(fuse_reply_none, "FUSE_3.0");

/// Answers a lookup-type request with an entry.
///
/// # Safety
/// `req` is a live request handle; `e` is NULL or a valid entry.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_entry(req: fuse_req_t, e: *const fuse_entry_param) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if e.is_null() {
            return reply_parts(req, "fuse_reply_entry", -libc::EINVAL, &[]);
        }
        // SAFETY: non-NULL, by the contract valid.
        let out = unsafe { entry_from(e) };
        let size = if proto_minor(req) < 9 { FUSE_COMPAT_ENTRY_OUT_SIZE } else { 128 };
        reply_parts(req, "fuse_reply_entry", 0, &[&as_bytes(&out)[..size]])
    })
}
crate::symver!(fuse_reply_entry, "FUSE_3.0");

/// Answers create with an entry and the open file.
///
/// # Safety
/// `req` is a live request handle; `e` and `fi` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_create(
    req: fuse_req_t,
    e: *const fuse_entry_param,
    fi: *const fuse_file_info,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if e.is_null() || fi.is_null() {
            return reply_parts(req, "fuse_reply_create", -libc::EINVAL, &[]);
        }
        // SAFETY: non-NULL, valid by the contract.
        let (entry, f) = unsafe { (entry_from(e), read_fi(fi)) };
        let size = if proto_minor(req) < 9 { FUSE_COMPAT_ENTRY_OUT_SIZE } else { 128 };
        let open = open_out(&f, super::image_pre_317());
        reply_parts(req, "fuse_reply_create", 0, &[&as_bytes(&entry)[..size], as_bytes(&open)])
    })
}
crate::symver!(fuse_reply_create, "FUSE_3.0");

/// Answers with attributes valid for `attr_timeout` seconds.
///
/// # Safety
/// `req` is a live request handle; `attr` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_attr(
    req: fuse_req_t,
    attr: *const stat,
    attr_timeout: c_double,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: NULL-checked; valid by the contract.
        let Some(st) = (unsafe { attr.as_ref() }) else {
            return reply_parts(req, "fuse_reply_attr", -libc::EINVAL, &[]);
        };
        let out = fuse_attr_out {
            attr_valid: enc::timeout_sec(attr_timeout),
            attr_valid_nsec: enc::timeout_nsec(attr_timeout),
            dummy: 0,
            attr: enc::attr_from_stat(st),
        };
        let size = if proto_minor(req) < 9 { FUSE_COMPAT_ATTR_OUT_SIZE } else { 104 };
        reply_parts(req, "fuse_reply_attr", 0, &[&as_bytes(&out)[..size]])
    })
}
crate::symver!(fuse_reply_attr, "FUSE_3.0");

/// Answers readlink with the link's target. A target longer than the kernel accepts (a page
/// less one byte) is answered with ENAMETOOLONG instead, and -ENAMETOOLONG returned.
///
/// # Safety
/// `req` is a live request handle; `link` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_readlink(req: fuse_req_t, link: *const c_char) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if link.is_null() {
            return reply_parts(req, "fuse_reply_readlink", -libc::EINVAL, &[]);
        }
        // SAFETY: non-NULL C string by the contract.
        let s = unsafe { CStr::from_ptr(link) };
        // The kernel takes at most a page less one byte and refuses the whole answer beyond.
        let max = crate::session::page_size() - 1;
        if s.to_bytes().len() > max {
            crate::log::err(&format!(
                "fuse: fuse_reply_readlink: target of {} bytes is longer than the kernel's limit \
                 of {max}; answering ENAMETOOLONG\n",
                s.to_bytes().len()
            ));
            let rc = reply_parts(req, "fuse_reply_readlink", -libc::ENAMETOOLONG, &[]);
            return if rc == 0 { -libc::ENAMETOOLONG } else { rc };
        }
        reply_parts(req, "fuse_reply_readlink", 0, &[s.to_bytes()])
    })
}
crate::symver!(fuse_reply_readlink, "FUSE_3.0");

/// Answers open or opendir.
///
/// # Safety
/// `req` is a live request handle; `fi` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_open(req: fuse_req_t, fi: *const fuse_file_info) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if fi.is_null() {
            return reply_parts(req, "fuse_reply_open", -libc::EINVAL, &[]);
        }
        // SAFETY: non-NULL, valid by the contract.
        let f = unsafe { read_fi(fi) };
        let out = open_out(&f, super::image_pre_317());
        reply_parts(req, "fuse_reply_open", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_open, "FUSE_3.0");

/// Answers write (and copy_file_range) with the number of bytes written.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_write(req: fuse_req_t, count: size_t) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let wide = req::with(handle(req), |d| d.copy_64).unwrap_or(false);
        if wide {
            let out = fuse_copy_file_range_out { bytes_copied: count as u64 };
            reply_parts(req, "fuse_reply_write", 0, &[as_bytes(&out)])
        } else {
            let out = fuse_write_out { size: count as u32, padding: 0 };
            reply_parts(req, "fuse_reply_write", 0, &[as_bytes(&out)])
        }
    })
}
crate::symver!(fuse_reply_write, "FUSE_3.0");

/// Answers with `size` bytes of data.
///
/// # Safety
/// `req` is a live request handle; `buf` holds `size` bytes (or `size` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_buf(
    req: fuse_req_t,
    buf: *const c_char,
    size: size_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let data: &[u8] = if size == 0 || buf.is_null() {
            &[]
        } else {
            // SAFETY: the caller's buffer holds `size` bytes.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), size) }
        };
        reply_parts(req, "fuse_reply_buf", 0, &[data])
    })
}
crate::symver!(fuse_reply_buf, "FUSE_3.0");

/// Answers with the data of a buffer vector (memory or file descriptors).
///
/// # Safety
/// `req` is a live request handle; `bufv` is a valid buffer vector.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_data(
    req: fuse_req_t,
    bufv: *mut fuse_bufvec,
    flags: BufCopyFlags,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if bufv.is_null() {
            return reply_parts(req, "fuse_reply_data", -libc::EINVAL, &[]);
        }
        let Some(d) = req::take(handle(req)) else { return refused("fuse_reply_data") };
        // SAFETY: the request was in the table, so its session is alive.
        let se = unsafe { session_of(&d) };
        let want = se.want_ext();
        // As libfuse: splice only when the filesystem asked for it, the caller allows it and
        // there is a file descriptor to take the data from.
        // Over io_uring the answer goes into the ring entry: there is no device to splice to.
        let splice_ok = d.ring.is_none()
            && want & FUSE_CAP_SPLICE_WRITE != 0
            && flags & fuse_buf_copy_flags::FUSE_BUF_NO_SPLICE as c_int == 0
            // SAFETY: `bufv` is valid by the contract.
            && unsafe { super::buf::has_fd(bufv) };
        let pieces = if splice_ok {
            // SAFETY: `bufv` is valid by the contract and outlives the pieces.
            unsafe { super::buf::splice_pieces(bufv) }
        } else {
            None
        };
        if let Some(pieces) = pieces {
            let move_pages = flags & fuse_buf_copy_flags::FUSE_BUF_SPLICE_MOVE as c_int != 0
                && want & FUSE_CAP_SPLICE_MOVE != 0;
            match se.reply_spliced(&d, &pieces, move_pages) {
                Spliced::Sent(_) => return 0,
                Spliced::Failed(e) => return e,
                Spliced::Fallback => {}
            }
        }
        // Over io_uring, gather straight into the entry's payload buffer (no second copy).
        if let Some((p, cap)) = d.ring.and_then(|s| se.ring_pool()?.payload(s)) {
            // SAFETY: `bufv` is valid by the contract.
            let total = unsafe { super::buf::buf_size(bufv) }.min(cap);
            // SAFETY: the request was taken out of the table, so this thread alone owns its
            // ring entry until the commit below; `p` is that entry's payload buffer, `cap`
            // bytes long, and the kernel does not touch it before the commit.
            let dst = unsafe { std::slice::from_raw_parts_mut(p, total) };
            // SAFETY: `bufv` is valid by the contract; `dst` is writable memory.
            return match unsafe { super::buf::gather_into(bufv, dst) } {
                Ok(n) => se.reply_raw(&d, 0, &[&dst[..n]]),
                Err(e) => se.reply_raw(&d, -e, &[]),
            };
        }
        // SAFETY: valid by the contract.
        unsafe {
            super::buf::with_gathered(bufv, |data| match data {
                Ok(data) => se.reply_raw(&d, 0, &[data]),
                Err(e) => se.reply_raw(&d, -e, &[]),
            })
        }
    })
}
crate::symver!(fuse_reply_data, "FUSE_3.0");

/// # Safety
/// `iov` holds `count` valid iovecs (or is NULL with count 0).
unsafe fn iov_slices<'a>(iov: *const iovec, count: c_int) -> Option<Vec<&'a [u8]>> {
    if count < 0 || (count > 0 && iov.is_null()) {
        return None;
    }
    let mut v = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        // SAFETY: i < count.
        let e = unsafe { &*iov.add(i) };
        if e.iov_len == 0 {
            continue;
        }
        if e.iov_base.is_null() {
            return None;
        }
        // SAFETY: the caller's iovec describes readable memory.
        v.push(unsafe { std::slice::from_raw_parts(e.iov_base.cast::<u8>(), e.iov_len) });
    }
    Some(v)
}

/// Answers with data gathered from an iovec array.
///
/// # Safety
/// `req` is a live request handle; `iov` holds `count` valid iovecs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_iov(req: fuse_req_t, iov: *const iovec, count: c_int) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: forwarded contract.
        match unsafe { iov_slices(iov, count) } {
            Some(parts) => reply_parts(req, "fuse_reply_iov", 0, &parts),
            None => reply_parts(req, "fuse_reply_iov", -libc::EINVAL, &[]),
        }
    })
}
crate::symver!(fuse_reply_iov, "FUSE_3.0");

/// Answers statfs.
///
/// # Safety
/// `req` is a live request handle; `stbuf` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_statfs(req: fuse_req_t, stbuf: *const statvfs) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: NULL-checked, valid by the contract.
        let Some(st) = (unsafe { stbuf.as_ref() }) else {
            return reply_parts(req, "fuse_reply_statfs", -libc::EINVAL, &[]);
        };
        let out = fuse_statfs_out { st: enc::kstatfs_from_statvfs(st) };
        let size = if proto_minor(req) < 4 { FUSE_COMPAT_STATFS_SIZE } else { 80 };
        reply_parts(req, "fuse_reply_statfs", 0, &[&as_bytes(&out)[..size]])
    })
}
crate::symver!(fuse_reply_statfs, "FUSE_3.0");

/// Answers a getxattr/listxattr size query.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_xattr(req: fuse_req_t, count: size_t) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let out = fuse_getxattr_out { size: count as u32, padding: 0 };
        reply_parts(req, "fuse_reply_xattr", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_xattr, "FUSE_3.0");

/// Answers getlk.
///
/// # Safety
/// `req` is a live request handle; `lock` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_lock(req: fuse_req_t, lock: *const flock) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: NULL-checked, valid by the contract.
        let Some(l) = (unsafe { lock.as_ref() }) else {
            return reply_parts(req, "fuse_reply_lock", -libc::EINVAL, &[]);
        };
        let out = fuse_lk_out { lk: enc::wire_from_flock(l) };
        reply_parts(req, "fuse_reply_lock", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_lock, "FUSE_3.0");

/// Answers bmap.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_bmap(req: fuse_req_t, idx: u64) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let out = fuse_bmap_out { block: idx };
        reply_parts(req, "fuse_reply_bmap", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_bmap, "FUSE_3.0");

/// Whether `name` can be a directory entry: the kernel fails the whole listing for an empty
/// name or one over its limit, and programs cannot use names over NAME_MAX (255 bytes). Such
/// an entry is left out (size 0, so callers move on to the next) with one log line, written
/// when the entry is packed rather than for a size probe (a NULL buffer).
fn dirent_name_ok(what: &str, name: &[u8], packing: bool) -> bool {
    if !name.is_empty() && name.len() <= libc::NAME_MAX as usize {
        return true;
    }
    if packing {
        crate::log::err(&format!(
            "fuse: {what}: entry name of {} bytes (0 or over NAME_MAX {}) left out\n",
            name.len(),
            libc::NAME_MAX
        ));
    }
    false
}

/// Packs one directory entry into `buf`; returns the space it needs. The entry is written only
/// if it fits (a NULL `buf` just asks for the size). An empty name or one longer than
/// NAME_MAX is left out: 0 is returned and the packing call logs it.
///
/// # Safety
/// `buf` is NULL or holds `bufsize` writable bytes; `name` is a C string; `stbuf` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_add_direntry(
    req: fuse_req_t,
    buf: *mut c_char,
    bufsize: size_t,
    name: *const c_char,
    stbuf: *const stat,
    off: off_t,
) -> size_t {
    let _ = req; // entries do not depend on the request
    crate::ffi_guard!(0, {
        if name.is_null() {
            return 0;
        }
        // SAFETY: a C string by the contract.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        if !dirent_name_ok("fuse_add_direntry", name, !buf.is_null()) {
            return 0;
        }
        let need = enc::dirent_size(name.len());
        if buf.is_null() || need > bufsize {
            return need;
        }
        // SAFETY: NULL-checked; valid by the contract.
        let Some(st) = (unsafe { stbuf.as_ref() }) else { return need };
        // SAFETY: buf holds bufsize >= need bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), need) };
        enc::add_direntry(out, name, st, off as u64)
    })
}
crate::symver!(fuse_add_direntry, "FUSE_3.0");

/// As `fuse_add_direntry`, with a whole entry (readdirplus).
///
/// # Safety
/// As for `fuse_add_direntry`; `e` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_add_direntry_plus(
    req: fuse_req_t,
    buf: *mut c_char,
    bufsize: size_t,
    name: *const c_char,
    e: *const fuse_entry_param,
    off: off_t,
) -> size_t {
    let _ = req; // entries do not depend on the request
    crate::ffi_guard!(0, {
        if name.is_null() {
            return 0;
        }
        // SAFETY: a C string by the contract.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        if !dirent_name_ok("fuse_add_direntry_plus", name, !buf.is_null()) {
            return 0;
        }
        let need = enc::direntplus_size(name.len());
        if buf.is_null() || need > bufsize || e.is_null() {
            return need;
        }
        // SAFETY: non-NULL, valid by the contract.
        let entry = unsafe { entry_from(e) };
        // SAFETY: buf holds bufsize >= need bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), need) };
        enc::add_direntry_plus(out, name, &entry, off as u64)
    })
}
crate::symver!(fuse_add_direntry_plus, "FUSE_3.0");

/// Asks the kernel to retry an unrestricted ioctl with these buffers.
///
/// # Safety
/// `req` is a live request handle; the iovec arrays hold the given counts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_ioctl_retry(
    req: fuse_req_t,
    in_iov: *const iovec,
    in_count: size_t,
    out_iov: *const iovec,
    out_count: size_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let conv = |iov: *const iovec, n: size_t| -> Option<Vec<fuse_ioctl_iovec>> {
            if n > 0 && iov.is_null() {
                return None;
            }
            // SAFETY: the array holds n iovecs by the contract.
            Some(
                (0..n)
                    .map(|i| unsafe {
                        let e = &*iov.add(i);
                        fuse_ioctl_iovec { base: e.iov_base as u64, len: e.iov_len as u64 }
                    })
                    .collect(),
            )
        };
        let (Some(vi), Some(vo)) = (conv(in_iov, in_count), conv(out_iov, out_count)) else {
            return reply_parts(req, "fuse_reply_ioctl_retry", -libc::EINVAL, &[]);
        };
        let out = fuse_ioctl_out {
            result: 0,
            flags: flags::FUSE_IOCTL_RETRY,
            in_iovs: in_count as u32,
            out_iovs: out_count as u32,
        };
        let bytes = |v: &[fuse_ioctl_iovec]| -> Vec<u8> {
            v.iter().flat_map(|e| as_bytes(e).to_vec()).collect()
        };
        let (bi, bo) = (bytes(&vi), bytes(&vo));
        reply_parts(req, "fuse_reply_ioctl_retry", 0, &[as_bytes(&out), &bi, &bo])
    })
}
crate::symver!(fuse_reply_ioctl_retry, "FUSE_3.0");

/// Answers ioctl with a result and output data.
///
/// # Safety
/// `req` is a live request handle; `buf` holds `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_ioctl(
    req: fuse_req_t,
    result: c_int,
    buf: *const c_void,
    size: size_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let out = fuse_ioctl_out { result, ..Default::default() };
        let data: &[u8] = if size == 0 || buf.is_null() {
            &[]
        } else {
            // SAFETY: the caller's buffer holds `size` bytes.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), size) }
        };
        reply_parts(req, "fuse_reply_ioctl", 0, &[as_bytes(&out), data])
    })
}
crate::symver!(fuse_reply_ioctl, "FUSE_3.0");

/// Answers ioctl with a result and data gathered from an iovec array.
///
/// # Safety
/// `req` is a live request handle; `iov` holds `count` valid iovecs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_ioctl_iov(
    req: fuse_req_t,
    result: c_int,
    iov: *const iovec,
    count: c_int,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let out = fuse_ioctl_out { result, ..Default::default() };
        // SAFETY: forwarded contract.
        match unsafe { iov_slices(iov, count) } {
            Some(mut parts) => {
                parts.insert(0, as_bytes(&out));
                reply_parts(req, "fuse_reply_ioctl_iov", 0, &parts)
            }
            None => reply_parts(req, "fuse_reply_ioctl_iov", -libc::EINVAL, &[]),
        }
    })
}
crate::symver!(fuse_reply_ioctl_iov, "FUSE_3.0");

/// Answers poll.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_poll(req: fuse_req_t, revents: c_uint) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let out = fuse_poll_out { revents, padding: 0 };
        reply_parts(req, "fuse_reply_poll", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_poll, "FUSE_3.0");

/// Answers lseek.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_lseek(req: fuse_req_t, off: off_t) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let out = fuse_lseek_out { offset: off as u64 };
        reply_parts(req, "fuse_reply_lseek", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_lseek, "FUSE_3.0");

/// Answers statx.
///
/// # Safety
/// `req` is a live request handle; `statx` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_reply_statx(
    req: fuse_req_t,
    flags: c_int,
    statx: *const libc::statx,
    attr_timeout: c_double,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if statx.is_null() {
            return reply_parts(req, "fuse_reply_statx", -libc::EINVAL, &[]);
        }
        let mut out = fuse_statx_out {
            attr_valid: enc::timeout_sec(attr_timeout),
            attr_valid_nsec: enc::timeout_nsec(attr_timeout),
            flags: flags as u32,
            ..Default::default()
        };
        // SAFETY: `struct statx` and `fuse_statx` share their 256-byte layout.
        unsafe {
            ptr::copy_nonoverlapping(statx.cast::<u8>(), (&raw mut out.stat).cast::<u8>(), 256)
        };
        reply_parts(req, "fuse_reply_statx", 0, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_reply_statx, "FUSE_3.18");

/// The `userdata` the session was created with.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_userdata(req: fuse_req_t) -> *mut c_void {
    // Called by most filesystems several times in every operation, so the common case stays
    // small: the table's lock-free view (integer arithmetic and atomic loads, nothing that can
    // panic, hence no guard here).
    if let Some(sess) = req::session_of(handle(req)) {
        // SAFETY: the request is outstanding, so its session is alive.
        return unsafe { &*(sess as *const Session) }.userdata as *mut c_void;
    }
    userdata_slow(req)
}

/// `fuse_req_userdata` for a slot the lock-free view does not cover, or a dead handle.
#[cold]
#[inline(never)]
fn userdata_slow(req: fuse_req_t) -> *mut c_void {
    crate::ffi_guard!(ptr::null_mut(), {
        match req::with(handle(req), |d| d.session) {
            // SAFETY: the request is in the table, so its session is alive.
            Some(sess) => unsafe { &*(sess as *const Session) }.userdata as *mut c_void,
            None => {
                refused("fuse_req_userdata");
                ptr::null_mut()
            }
        }
    })
}
crate::symver!(fuse_req_userdata, "FUSE_3.0");

/// Who sent the request (valid until it is answered).
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_ctx(req: fuse_req_t) -> *const fuse_ctx {
    crate::ffi_guard!(ptr::null(), {
        match req::ctx_ptr(handle(req)) {
            Some(p) => p.cast::<fuse_ctx>(),
            None => {
                refused("fuse_req_ctx");
                ptr::null()
            }
        }
    })
}
crate::symver!(fuse_req_ctx, "FUSE_3.0");

/// The sender's supplementary groups: fills up to `size` of them into `list` and returns how
/// many there are, or -errno.
///
/// # Safety
/// `req` is a live request handle; `list` holds `size` entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_getgroups(
    req: fuse_req_t,
    size: c_int,
    list: *mut gid_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let Some((pid, sent)) = req::with(handle(req), |d| (d.ctx.pid, d.groups.clone())) else {
            return refused("fuse_req_getgroups");
        };
        let groups = match sent {
            Some(g) => g,
            None => match crate::sys::proc_groups(pid) {
                Ok(g) => g,
                Err(e) => return -e,
            },
        };
        let n = usize::try_from(size).unwrap_or(0).min(groups.len());
        if !list.is_null() {
            for (i, g) in groups.iter().take(n).enumerate() {
                // SAFETY: i < size, the caller's array length.
                unsafe { *list.add(i) = *g };
            }
        }
        groups.len() as c_int
    })
}
crate::symver!(fuse_req_getgroups, "FUSE_3.0");

/// Registers `func` to be called when the request is interrupted (at once if it already was).
///
/// # Safety
/// `req` is a live request handle; `func` may be called from the session's threads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_interrupt_func(
    req: fuse_req_t,
    func: fuse_interrupt_func_t,
    data: *mut c_void,
) {
    crate::ffi_guard!((), {
        let hook = func.map(|f| InterruptHook { func: f as usize, data: data as usize });
        let Some(already) = req::with(handle(req), |d| {
            *d.hook.lock() = hook;
            d.is_interrupted()
        }) else {
            refused("fuse_req_interrupt_func");
            return;
        };
        if already && let Some(f) = func {
            // SAFETY: the program's own callback and data.
            unsafe { f(req, data) };
        }
    })
}
crate::symver!(fuse_req_interrupt_func, "FUSE_3.0");

/// Whether the request was interrupted.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_interrupted(req: fuse_req_t) -> c_int {
    crate::ffi_guard!(0, { req::with(handle(req), |d| d.is_interrupted() as c_int).unwrap_or(0) })
}
crate::symver!(fuse_req_interrupted, "FUSE_3.0");

/// Whether the request came over io_uring (false for anything that is not a live request).
///
/// # Safety
/// `req` is a request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_is_uring(req: fuse_req_t) -> bool {
    crate::ffi_guard!(false, { req::with(handle(req), |d| d.ring.is_some()).unwrap_or(false) })
}
crate::symver!(fuse_req_is_uring, "FUSE_3.18");

/// The payload buffer of a request that came over io_uring: the request's data on arrival,
/// and room the answer may be built in (`fuse_reply_buf` with this address copies nothing).
/// -EINVAL for a request that came through `/dev/fuse` (or is not a live request).
///
/// # Safety
/// `req` is a request handle; `payload` and `payload_sz` are writable (or NULL); `mr` is
/// writable or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_get_payload(
    req: fuse_req_t,
    payload: *mut *mut c_char,
    payload_sz: *mut size_t,
    mr: *mut *mut c_void,
) -> c_int {
    crate::ffi_guard!(-libc::EINVAL, {
        let Some(found) = peek(req, |se, d| d.ring.and_then(|s| se.ring_pool()?.payload(s))) else {
            return -libc::EINVAL;
        };
        let Some((p, n)) = found else { return -libc::EINVAL };
        // SAFETY: each pointer is checked for NULL and writable by the contract.
        unsafe {
            if !payload.is_null() {
                *payload = p.cast();
            }
            if !payload_sz.is_null() {
                *payload_sz = n;
            }
            if !mr.is_null() {
                *mr = ptr::null_mut();
            }
        }
        0
    })
}
crate::symver!(fuse_req_get_payload, "FUSE_3.18");

/// Number of security contexts the request carries.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_secctx_count(req: fuse_req_t) -> u32 {
    crate::ffi_guard!(0, {
        req::with(handle(req), |d| d.secctx.as_ref().map_or(0, |s| s.1)).unwrap_or(0)
    })
}
crate::symver!(fuse_req_secctx_count, "FUSE_3.19");

/// Restart iteration over the request's security contexts.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_secctx_reset(req: fuse_req_t) {
    crate::ffi_guard!((), {
        req::with(handle(req), |d| *d.secctx_iter.lock() = (0, 8));
    })
}
crate::symver!(fuse_req_secctx_reset, "FUSE_3.19");

/// The next security context: its name, value and value length. 0, or -ENOENT at the end, or
/// -EIO for a malformed context.
///
/// # Safety
/// `req` is a live request handle; the out pointers are NULL or writable. The strings stay
/// valid until the request is answered.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_req_secctx_next(
    req: fuse_req_t,
    name: *mut *const c_char,
    value: *mut *const c_char,
    value_len: *mut u32,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let r = req::with(handle(req), |d| {
            let Some((buf, count)) = d.secctx.as_ref() else { return Err(-libc::ENOENT) };
            let mut it = d.secctx_iter.lock();
            if it.0 >= *count || it.1 >= buf.len() {
                return Err(-libc::ENOENT);
            }
            let rest = &buf[it.1..];
            if rest.len() < 8 {
                return Err(-libc::EIO);
            }
            let size = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if size == 0 {
                return Err(-libc::EIO);
            }
            let after = &rest[8..];
            let Some(nul) = after.iter().position(|&c| c == 0) else { return Err(-libc::EIO) };
            if nul + 1 + size > after.len() {
                return Err(-libc::EIO);
            }
            let name_p = after.as_ptr();
            // SAFETY: nul + 1 <= after.len().
            let value_p = unsafe { after.as_ptr().add(nul + 1) };
            it.1 += fuse_rec_align(8 + nul + 1 + size);
            it.0 += 1;
            Ok((name_p as usize, value_p as usize, size as u32))
        });
        match r {
            None => refused("fuse_req_secctx_next"),
            Some(Err(e)) => e,
            Some(Ok((n, v, l))) => {
                // SAFETY: out pointers are NULL or writable by the contract.
                unsafe {
                    if !name.is_null() {
                        *name = n as *const c_char;
                    }
                    if !value.is_null() {
                        *value = v as *const c_char;
                    }
                    if !value_len.is_null() {
                        *value_len = l;
                    }
                }
                0
            }
        }
    })
}
crate::symver!(fuse_req_secctx_next, "FUSE_3.19");

/// Registers `fd` as the backing file of a passthrough open; returns the backing id (> 0) to
/// put in `fi->backing_id`, or 0 on failure (logged), as libfuse does.
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_passthrough_open(req: fuse_req_t, fd: c_int) -> c_int {
    crate::ffi_guard!(0, {
        let Some(dev) = peek(req, |se, d| if d.fd >= 0 { d.fd } else { se.fd() }) else {
            refused("fuse_passthrough_open");
            return 0;
        };
        match crate::sys::ioctl_backing_open(dev, fd) {
            Ok(id) if id > 0 => id,
            Ok(_) => 0,
            Err(e) => {
                crate::log::err(&format!("fuse: passthrough_open: {}\n", crate::sys::strerror(e)));
                0
            }
        }
    })
}
crate::symver!(fuse_passthrough_open, "FUSE_3.17");

/// Unregisters a backing id from `fuse_passthrough_open`. 0 or -1 (logged).
///
/// # Safety
/// `req` is a live request handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_passthrough_close(req: fuse_req_t, backing_id: c_int) -> c_int {
    crate::ffi_guard!(-1, {
        let Some(dev) = peek(req, |se, d| if d.fd >= 0 { d.fd } else { se.fd() }) else {
            refused("fuse_passthrough_close");
            return -1;
        };
        match crate::sys::ioctl_backing_close(dev, backing_id) {
            Ok(r) => r,
            Err(e) => {
                crate::log::err(&format!("fuse: passthrough_close: {}\n", crate::sys::strerror(e)));
                -1
            }
        }
    })
}
crate::symver!(fuse_passthrough_close, "FUSE_3.17");

#[cfg(test)]
mod tests {
    use super::*;

    fn add(name: &[u8], buf: &mut [u8]) -> size_t {
        let c = std::ffi::CString::new(name).unwrap();
        // SAFETY: all-zero is a valid stat.
        let st: stat = unsafe { std::mem::zeroed() };
        // SAFETY: `buf` is writable for its length; a C string and a stat.
        unsafe {
            fuse_add_direntry(
                ptr::null_mut(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                c.as_ptr(),
                &st,
                1,
            )
        }
    }

    /// Found by the dirent_pack fuzz target: an empty name was packed (the kernel fails the
    /// whole listing for it), and so were names over NAME_MAX.
    #[test]
    fn empty_and_over_long_names_are_left_out() {
        let mut buf = [0xa5u8; 512];
        assert_eq!(add(b"", &mut buf), 0);
        assert_eq!(add(&[b'n'; 256], &mut buf), 0);
        assert!(buf.iter().all(|&b| b == 0xa5), "nothing written");
        assert_eq!(add(&[b'n'; 255], &mut buf), crate::kernel::fuse_rec_align(24 + 255));
        assert_eq!(add(b"x", &mut buf), 32);
    }
}
