//! <fuse_lowlevel.h>, part 4: notifications the filesystem sends the kernel unasked
//! (invalidations, deletions, cache store and retrieve, poll wakeups, prune, epoch).

use std::collections::HashMap;
use std::ffi::c_void;

use libc::{c_char, c_int, off_t, size_t};
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::abi::BufCopyFlags;
use super::dispatch::PollHandle;
use super::fuse_common::{fuse_bufvec, fuse_pollhandle, fuse_session};
use super::fuse_lowlevel::fuse_ino_t;
use super::ll_session::session;
use crate::codec::as_bytes;
use crate::kernel::notify::*;
use crate::kernel::*;
use crate::session::Session;

/// Send one notification. 0 or -errno.
fn notify(se: &Session, code: i32, parts: &[&[u8]]) -> c_int {
    if !se.got_init() {
        return -libc::ENOTCONN;
    }
    let mut h = fuse_out_header { len: 0, error: code, unique: 0 };
    match se.send(-1, &mut h, parts) {
        Ok(()) => 0,
        Err(e) => -e,
    }
}

/// # Safety
/// `name` holds `namelen` bytes followed by a NUL (libfuse sends the NUL too).
unsafe fn name_bytes<'a>(name: *const c_char, namelen: size_t) -> Option<&'a [u8]> {
    if name.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    Some(unsafe { std::slice::from_raw_parts(name.cast::<u8>(), namelen + 1) })
}

/// Tells a poller its file is ready; the handle stays the caller's to destroy.
///
/// # Safety
/// `ph` is NULL or a handle the library passed to `poll`, not yet destroyed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_poll(ph: *mut fuse_pollhandle) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: NULL or our PollHandle, by the contract.
        let Some(p) = (unsafe { ph.cast::<PollHandle>().as_ref() }) else { return 0 };
        // SAFETY: a poll handle's session outlives it (the program destroys handles first).
        let se = unsafe { &*(p.session as *const Session) };
        let out = fuse_notify_poll_wakeup_out { kh: p.kh };
        notify(se, FUSE_NOTIFY_POLL, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_lowlevel_notify_poll, "FUSE_3.0");

/// Drops the kernel's cached data (from `off`, `len` bytes; `len` 0 means to the end, a
/// negative `off` only the attributes) of an inode.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_inval_inode(
    se: *mut fuse_session,
    ino: fuse_ino_t,
    off: off_t,
    len: off_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return -libc::EINVAL };
        if s.proto_minor() < 12 {
            return -libc::ENOSYS;
        }
        let out = fuse_notify_inval_inode_out { ino, off, len };
        notify(s, FUSE_NOTIFY_INVAL_INODE, &[as_bytes(&out)])
    })
}
crate::symver!(fuse_lowlevel_notify_inval_inode, "FUSE_3.0");

/// Makes every cached dentry of the mount stale (protocol 7.44).
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_increment_epoch(se: *mut fuse_session) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return -libc::EINVAL };
        if s.proto_minor() < 44 {
            return -libc::ENOSYS;
        }
        notify(s, FUSE_NOTIFY_INC_EPOCH, &[])
    })
}
crate::symver!(fuse_lowlevel_notify_increment_epoch, "FUSE_3.18");

fn notify_entry(s: &Session, parent: u64, name: &[u8], expire: bool) -> c_int {
    if s.proto_minor() < 12 {
        return -libc::ENOSYS;
    }
    let out = fuse_notify_inval_entry_out {
        parent,
        namelen: (name.len() - 1) as u32,
        flags: if expire { flags::FUSE_EXPIRE_ONLY } else { 0 },
    };
    notify(s, FUSE_NOTIFY_INVAL_ENTRY, &[as_bytes(&out), name])
}

/// Drops a cached directory entry (and the kernel's lookup count stays).
///
/// # Safety
/// `se` is a live session; `name` holds `namelen` bytes and a NUL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_inval_entry(
    se: *mut fuse_session,
    parent: fuse_ino_t,
    name: *const c_char,
    namelen: size_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let (Some(s), Some(n)) = (unsafe { session(se) }, unsafe { name_bytes(name, namelen) })
        else {
            return -libc::EINVAL;
        };
        notify_entry(s, parent, n, false)
    })
}
crate::symver!(fuse_lowlevel_notify_inval_entry, "FUSE_3.0");

/// Marks a cached directory entry expired (kept for lookups in progress).
///
/// Programs built against libfuse before 3.17 pass a fifth argument (the flags); this entry
/// treats every such call as an expire, which is what a caller asking for expiry means.
///
/// # Safety
/// `se` is a live session; `name` holds `namelen` bytes and a NUL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_expire_entry(
    se: *mut fuse_session,
    parent: fuse_ino_t,
    name: *const c_char,
    namelen: size_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let (Some(s), Some(n)) = (unsafe { session(se) }, unsafe { name_bytes(name, namelen) })
        else {
            return -libc::EINVAL;
        };
        if s.conn().capable_ext & super::fuse_common::FUSE_CAP_EXPIRE_ONLY == 0 {
            return -libc::ENOSYS;
        }
        notify_entry(s, parent, n, true)
    })
}
crate::symver!(fuse_lowlevel_notify_expire_entry, "FUSE_3.12");

/// Tells the kernel `child` was deleted from `parent` under `name`.
///
/// # Safety
/// `se` is a live session; `name` holds `namelen` bytes and a NUL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_delete(
    se: *mut fuse_session,
    parent: fuse_ino_t,
    child: fuse_ino_t,
    name: *const c_char,
    namelen: size_t,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let (Some(s), Some(n)) = (unsafe { session(se) }, unsafe { name_bytes(name, namelen) })
        else {
            return -libc::EINVAL;
        };
        if s.proto_minor() < 18 {
            return -libc::ENOSYS;
        }
        let out = fuse_notify_delete_out { parent, child, namelen: namelen as u32, padding: 0 };
        notify(s, FUSE_NOTIFY_DELETE, &[as_bytes(&out), n])
    })
}
crate::symver!(fuse_lowlevel_notify_delete, "FUSE_3.0");

/// Pushes data into the kernel's page cache for `ino` at `offset`.
///
/// # Safety
/// `se` is a live session; `bufv` is a valid buffer vector.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_store(
    se: *mut fuse_session,
    ino: fuse_ino_t,
    offset: off_t,
    bufv: *mut fuse_bufvec,
    flags: BufCopyFlags,
) -> c_int {
    let _ = flags; // splice hints: data is always copied
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return -libc::EINVAL };
        if bufv.is_null() {
            return -libc::EINVAL;
        }
        if s.proto_minor() < 15 {
            return -libc::ENOSYS;
        }
        // SAFETY: valid by the contract.
        unsafe {
            super::buf::with_gathered(bufv, |data| match data {
                Ok(data) => {
                    let out = fuse_notify_store_out {
                        nodeid: ino,
                        offset: offset as u64,
                        size: data.len() as u32,
                        padding: 0,
                    };
                    notify(s, FUSE_NOTIFY_STORE, &[as_bytes(&out), data])
                }
                Err(e) => -e,
            })
        }
    })
}
crate::symver!(fuse_lowlevel_notify_store, "FUSE_3.0");

/// Outstanding retrieve requests: (session, notify unique) → cookie.
type RetrieveTable = (u64, HashMap<(usize, u64), usize>);
static RETRIEVES: Lazy<Mutex<RetrieveTable>> = Lazy::new(|| Mutex::new((1, HashMap::new())));

/// The cookie of the retrieve the kernel answers with NOTIFY_REPLY `unique`, if any.
pub fn take_retrieve(session: usize, unique: u64) -> Option<*mut c_void> {
    RETRIEVES.lock().1.remove(&(session, unique)).map(|c| c as *mut c_void)
}

/// Asks the kernel for `size` bytes of its cached data of `ino` at `offset`; the data arrives
/// through the filesystem's `retrieve_reply` with `cookie`.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_retrieve(
    se: *mut fuse_session,
    ino: fuse_ino_t,
    size: size_t,
    offset: off_t,
    cookie: *mut c_void,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return -libc::EINVAL };
        if s.proto_minor() < 15 {
            return -libc::ENOSYS;
        }
        let unique = {
            let mut r = RETRIEVES.lock();
            let u = r.0;
            r.0 += 1;
            r.1.insert((s.id(), u), cookie as usize);
            u
        };
        let out = fuse_notify_retrieve_out {
            notify_unique: unique,
            nodeid: ino,
            offset: offset as u64,
            size: size as u32,
            padding: 0,
        };
        let rc = notify(s, FUSE_NOTIFY_RETRIEVE, &[as_bytes(&out)]);
        if rc != 0 {
            RETRIEVES.lock().1.remove(&(s.id(), unique));
        }
        rc
    })
}
crate::symver!(fuse_lowlevel_notify_retrieve, "FUSE_3.0");

/// Asks the kernel to forget the given inodes if unused (protocol 7.45).
///
/// # Safety
/// `se` is a live session; `nodeids` holds `count` ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_notify_prune(
    se: *mut fuse_session,
    nodeids: *mut fuse_ino_t,
    count: u32,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return -libc::EINVAL };
        if s.proto_minor() < 45 {
            return -libc::ENOSYS;
        }
        if count > 0 && nodeids.is_null() {
            return -libc::EINVAL;
        }
        let ids: &[u8] = if count == 0 {
            &[]
        } else {
            // SAFETY: the array holds `count` ids by the contract.
            unsafe { std::slice::from_raw_parts(nodeids.cast::<u8>(), count as usize * 8) }
        };
        let out = fuse_notify_prune_out { count, padding: 0, spare: 0 };
        notify(s, FUSE_NOTIFY_PRUNE, &[as_bytes(&out), ids])
    })
}
crate::symver!(fuse_lowlevel_notify_prune, "FUSE_3.19");
