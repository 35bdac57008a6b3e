//! The high-level filesystem behind the session: each request by inode number becomes calls of
//! the program's path-based operations (through the `fuse_fs_*` calls), answered with the
//! low-level replies. What libfuse's lib/fuse.c does, in our own shape:
//! - paths come from the node table (`crate::highlevel::nodes`), whose lock is never held
//!   while a program's callback runs;
//! - every request sets the thread's `fuse_context` first;
//! - an unlinked file that is still open is renamed to `.fuse_hidden...` (unless
//!   `hard_remove`) and removed at its last release;
//! - directories are listed through a filler that either buffers the whole listing (the
//!   program passes offset 0) or fills one reply at a time (it passes offsets).

use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use libc::{c_char, c_int, c_uint, c_void, off_t, stat};
use parking_lot::Mutex;

use super::abi::{ConnInfo, FileInfo, FillDirFlags};
use super::fuse::{ContextScope, DirEntry, DirHandle, Inner};
use super::fuse_common::{fuse_file_info, fuse_pollhandle};
use super::fuse_lowlevel::{fuse_entry_param, fuse_req_t};
use super::hl_fs as fs;
use super::ll_reply as rep;
use crate::codec::reply as enc;
use crate::codec::request::{Operation, Request};
use crate::highlevel::UNKNOWN_INO;
use crate::highlevel::nodes::PathLocks;
use crate::kernel::flags::*;
use crate::session::req::{self, InterruptHook};
use crate::session::{Filesystem, Implemented, ReqHandle, Session};

/// The session's filesystem for a `struct fuse`.
pub struct HlFs(pub(crate) Arc<Inner>);

/// Path locks held for one operation; given back (and waiters woken) on drop.
struct PathGuard<'a> {
    inner: &'a Inner,
    locks: PathLocks,
}

impl Drop for PathGuard<'_> {
    fn drop(&mut self) {
        self.inner.nodes.lock().unlock(&self.locks);
        self.inner.path_cv.notify_all();
    }
}

/// A path whose nodes stay read-locked while it lives.
struct LockedPath<'a> {
    path: CString,
    _guard: PathGuard<'a>,
}

impl std::ops::Deref for LockedPath<'_> {
    type Target = CStr;
    fn deref(&self) -> &CStr {
        &self.path
    }
}

fn r(h: ReqHandle) -> fuse_req_t {
    h.0 as fuse_req_t
}

fn fip(fi: &mut FileInfo) -> *mut fuse_file_info {
    ptr::from_mut(fi).cast()
}

fn fi_fh(fh: u64) -> FileInfo {
    FileInfo { fh, ..Default::default() }
}

fn zero_stat() -> stat {
    // SAFETY: all-zero is a valid `struct stat`.
    unsafe { std::mem::zeroed() }
}

fn cpath(p: Vec<u8>) -> Result<CString, i32> {
    CString::new(p).map_err(|_| libc::EINVAL)
}

/// Answer with an error (positive errno; 0 is success without data).
fn err(h: ReqHandle, e: i32) {
    // SAFETY: a live handle; answered once.
    unsafe { rep::fuse_reply_err(r(h), e) };
}

/// Answer with the result of an operation that returns 0 or -errno.
fn status(h: ReqHandle, res: c_int) {
    err(h, if res < 0 { -res } else { 0 });
}

const FI_DIRECT_IO: u32 = 1 << 1;
const FI_KEEP_CACHE: u32 = 1 << 2;
const FI_FLUSH: u32 = 1 << 3;
const FI_NOFLUSH: u32 = 1 << 7;
const FI_PARALLEL_DW: u32 = 1 << 8;

impl HlFs {
    fn fs(&self) -> *mut fs::fuse_fs {
        self.0.fs_ptr()
    }

    /// Take path locks (waiting while they conflict; the table's mutex is released meanwhile).
    fn lock_nodes(&self, read: &[u64], write: &[u64]) -> PathGuard<'_> {
        let mut t = self.0.nodes.lock();
        loop {
            if let Some(locks) = t.try_lock(read, write) {
                return PathGuard { inner: &self.0, locks };
            }
            self.0.path_cv.wait(&mut t);
        }
    }

    /// The path of `ino`, read-locked (with its ancestors) until the result is dropped: a
    /// rename or unlink of any of them waits for the operation to finish.
    fn path(&self, ino: u64) -> Result<LockedPath<'_>, i32> {
        let guard = self.lock_nodes(&[ino], &[]);
        let path = cpath(self.0.nodes.lock().path(ino)?)?;
        Ok(LockedPath { path, _guard: guard })
    }

    /// A path for an operation on an open file: with `nullpath_ok`, NULL when it has none.
    fn path_nullok(&self, ino: u64) -> Result<Option<LockedPath<'_>>, i32> {
        match self.path(ino) {
            Ok(p) => Ok(Some(p)),
            Err(e) if self.0.conf.read().nullpath_ok => {
                let _ = e;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The path of `name` in `parent`, the parent read-locked (creating, looking up).
    fn child(&self, parent: u64, name: &CStr) -> Result<LockedPath<'_>, i32> {
        let guard = self.lock_nodes(&[parent], &[]);
        let path = cpath(self.0.nodes.lock().child_path(parent, name.to_bytes())?)?;
        Ok(LockedPath { path, _guard: guard })
    }

    /// Paths for a change of names (unlink, rmdir, rename): the parents read-locked and the
    /// named nodes (if known) write-locked, so nothing runs on them meanwhile.
    fn paths_for_change(
        &self,
        names: &[(u64, &CStr)],
    ) -> Result<(Vec<CString>, PathGuard<'_>), i32> {
        let targets: Vec<u64> = {
            let t = self.0.nodes.lock();
            names.iter().filter_map(|(d, n)| t.find(*d, n.to_bytes())).collect()
        };
        let parents: Vec<u64> = names.iter().map(|(d, _)| *d).collect();
        let guard = self.lock_nodes(&parents, &targets);
        let t = self.0.nodes.lock();
        let paths = names
            .iter()
            .map(|(d, n)| t.child_path(*d, n.to_bytes()).and_then(cpath))
            .collect::<Result<Vec<_>, _>>()?;
        drop(t);
        Ok((paths, guard))
    }

    /// getattr `path`, count a lookup of `name` in `parent`, and build the entry to answer.
    fn lookup_path(
        &self,
        parent: u64,
        name: &[u8],
        path: &CStr,
        fi: *mut fuse_file_info,
    ) -> Result<fuse_entry_param, i32> {
        let mut st = zero_stat();
        // SAFETY: our fs, a C path, our stat buffer and the caller's fi (or NULL).
        let res = unsafe { fs::fuse_fs_getattr(self.fs(), path.as_ptr(), &raw mut st, fi) };
        if res < 0 {
            return Err(-res);
        }
        let (ino, generation) = self.0.nodes.lock().lookup(parent, name);
        let conf = self.0.conf.read();
        conf.apply_to_stat(&mut st);
        if !conf.use_ino {
            st.st_ino = ino;
        }
        Ok(fuse_entry_param {
            ino,
            generation,
            attr: st,
            attr_timeout: conf.attr_timeout,
            entry_timeout: conf.entry_timeout,
        })
    }

    fn reply_entry(&self, h: ReqHandle, res: Result<fuse_entry_param, i32>) {
        match res {
            Ok(e) => {
                // SAFETY: a live handle and a complete entry.
                if unsafe { rep::fuse_reply_entry(r(h), &raw const e) } == -libc::ENOENT {
                    // The caller went away: the kernel never saw this lookup.
                    self.0.nodes.lock().forget(e.ino, 1);
                }
            }
            Err(e) => err(h, e),
        }
    }

    fn reply_attr(&self, h: ReqHandle, ino: u64, mut st: stat) {
        if st.st_nlink > 0 && self.0.nodes.lock().is_hidden(ino) {
            st.st_nlink -= 1;
        }
        let conf = self.0.conf.read();
        conf.apply_to_stat(&mut st);
        if !conf.use_ino {
            st.st_ino = ino;
        }
        let t = conf.attr_timeout;
        drop(conf);
        // SAFETY: a live handle and our stat.
        unsafe { rep::fuse_reply_attr(r(h), &raw const st, t) };
    }

    fn getattr(&self, ino: u64, fi: *mut fuse_file_info) -> Result<stat, i32> {
        let path = if fi.is_null() { self.path(ino).map(Some)? } else { self.path_nullok(ino)? };
        let mut st = zero_stat();
        let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
        // SAFETY: our fs, a C path or NULL, our stat buffer, the fi or NULL.
        let res = unsafe { fs::fuse_fs_getattr(self.fs(), p, &raw mut st, fi) };
        if res < 0 { Err(-res) } else { Ok(st) }
    }

    /// Settings from the configuration on an opened file.
    fn open_flags(&self, ino: u64, path: &CStr, fi: &mut FileInfo) {
        let conf = self.0.conf.read().clone();
        if conf.direct_io {
            fi.bits |= FI_DIRECT_IO;
        }
        if conf.kernel_cache {
            fi.bits |= FI_KEEP_CACHE;
        }
        if fi.flags & libc::O_ACCMODE == libc::O_RDONLY && conf.no_rofd_flush {
            fi.bits |= FI_NOFLUSH;
        }
        if conf.parallel_direct_writes && !super::image_pre_317() {
            fi.bits |= FI_PARALLEL_DW;
        }
        if conf.auto_cache {
            let mut st = zero_stat();
            // SAFETY: our fs, a C path, our stat buffer, the open file.
            let res =
                unsafe { fs::fuse_fs_getattr(self.fs(), path.as_ptr(), &raw mut st, fip(fi)) };
            if res == 0 {
                let same =
                    self.0.nodes.lock().stamp(ino, (st.st_mtime, st.st_mtime_nsec, st.st_size));
                if same {
                    fi.bits |= FI_KEEP_CACHE;
                }
            }
        }
    }

    /// Release an open file: flush first if asked, then release, then remove its hidden name.
    fn do_release(&self, ino: u64, path: Option<&CStr>, fi: &mut FileInfo) {
        let p = path.map_or(ptr::null(), CStr::as_ptr);
        if fi.bits & FI_FLUSH != 0 {
            // SAFETY: our fs, a C path or NULL, the file.
            unsafe { fs::fuse_fs_flush(self.fs(), p, fip(fi)) };
        }
        // SAFETY: as above.
        unsafe { fs::fuse_fs_release(self.fs(), p, fip(fi)) };
        let hidden = self.0.nodes.lock().released(ino);
        if let Some(hp) = hidden {
            if let Ok(c) = cpath(hp) {
                // SAFETY: our fs and the hidden file's path.
                unsafe { fs::fuse_fs_unlink(self.fs(), c.as_ptr()) };
            }
        }
    }

    /// Rename `name` in `dir` (a file still open) to a fresh hidden name.
    fn hide(&self, dir: u64, name: &[u8], ino: u64, path: &CStr) -> Result<(), i32> {
        for _ in 0..10 {
            let (newname, newpath) = {
                let mut t = self.0.nodes.lock();
                let n = t.hidden_name(dir, ino);
                let p = t.child_path(dir, &n)?;
                (n, cpath(p)?)
            };
            let mut st = zero_stat();
            // SAFETY: our fs, a C path, our stat buffer.
            let exists = unsafe {
                fs::fuse_fs_getattr(self.fs(), newpath.as_ptr(), &raw mut st, ptr::null_mut())
            };
            if exists != -libc::ENOENT {
                continue;
            }
            // SAFETY: our fs and two C paths.
            let res = unsafe { fs::fuse_fs_rename(self.fs(), path.as_ptr(), newpath.as_ptr(), 0) };
            if res < 0 {
                return Err(-res);
            }
            let orphan = {
                let mut t = self.0.nodes.lock();
                t.rename(dir, name, dir, &newname, false);
                t.set_hidden(ino)
            };
            if let Some(p) = orphan.and_then(|p| cpath(p).ok()) {
                // Released while we renamed it: remove the hidden name now.
                // SAFETY: our fs and the hidden file's path.
                unsafe { fs::fuse_fs_unlink(self.fs(), p.as_ptr()) };
            }
            return Ok(());
        }
        Err(libc::EBUSY)
    }

    /// Encode one directory entry for the kernel if it fits in `room` bytes. For READDIRPLUS an
    /// entry with complete attributes counts a lookup (given back if it does not fit).
    #[allow(clippy::too_many_arguments)]
    fn encode_entry(
        &self,
        dir: u64,
        name: &CStr,
        st: &stat,
        complete: bool,
        plus: bool,
        off: u64,
        room: usize,
    ) -> Option<Vec<u8>> {
        let nb = name.to_bytes();
        if !plus {
            let need = enc::dirent_size(nb.len());
            if need > room {
                return None;
            }
            let mut out = vec![0u8; need];
            // SAFETY: `out` holds `need` bytes; the name and stat are valid.
            unsafe {
                rep::fuse_add_direntry(
                    ptr::null_mut(),
                    out.as_mut_ptr().cast(),
                    need,
                    name.as_ptr(),
                    st,
                    off as off_t,
                )
            };
            return Some(out);
        }
        let need = enc::direntplus_size(nb.len());
        if need > room {
            return None;
        }
        let conf = self.0.conf.read().clone();
        let dot = nb == b"." || nb == b"..";
        let e = if complete && !dot {
            let (ino, generation) = self.0.nodes.lock().lookup(dir, nb);
            let mut attr = *st;
            conf.apply_to_stat(&mut attr);
            if !conf.use_ino {
                attr.st_ino = ino;
            }
            fuse_entry_param {
                ino,
                generation,
                attr,
                attr_timeout: conf.attr_timeout,
                entry_timeout: conf.entry_timeout,
            }
        } else {
            let mut attr = if complete { *st } else { zero_stat() };
            attr.st_ino = st.st_ino;
            attr.st_mode = st.st_mode;
            fuse_entry_param { ino: 0, generation: 0, attr, attr_timeout: 0.0, entry_timeout: 0.0 }
        };
        let mut out = vec![0u8; need];
        // SAFETY: `out` holds `need` bytes; the name and entry are valid.
        unsafe {
            rep::fuse_add_direntry_plus(
                ptr::null_mut(),
                out.as_mut_ptr().cast(),
                need,
                name.as_ptr(),
                &e,
                off as off_t,
            )
        };
        Some(out)
    }

    fn dir(&self, fh: u64) -> Option<Arc<Mutex<DirHandle>>> {
        self.0.dirs.lock().get(&fh).cloned()
    }
}

/// What the filler writes into: the handle's listing and how to encode entries.
struct Fill<'a> {
    fs: &'a HlFs,
    dh: &'a mut DirHandle,
    plus: bool,
}

/// The `fuse_fill_dir_t` the library passes to `readdir`.
///
/// # Safety
/// `buf` is the `Fill` the library passed with this filler; `name` a C string; `stbuf` NULL or
/// valid.
unsafe extern "C" fn fill_dir(
    buf: *mut c_void,
    name: *const c_char,
    stbuf: *const stat,
    off: off_t,
    flags: FillDirFlags,
) -> c_int {
    crate::ffi_guard!(1, {
        if buf.is_null() || name.is_null() {
            return 1;
        }
        // SAFETY: the library's own Fill, alive for the whole readdir call.
        let fill = unsafe { &mut *buf.cast::<Fill<'_>>() };
        // SAFETY: a C string by the contract.
        let cname = unsafe { CStr::from_ptr(name) };
        let nb = cname.to_bytes();
        // SAFETY: NULL or valid by the contract.
        let mut st = unsafe { stbuf.as_ref() }.copied().unwrap_or_else(|| {
            let mut s = zero_stat();
            s.st_ino = UNKNOWN_INO;
            s
        });
        let conf = fill.fs.0.conf.read().clone();
        if !conf.use_ino {
            st.st_ino = UNKNOWN_INO;
            if conf.readdir_ino {
                if let Some(i) = fill.fs.0.nodes.lock().find(fill.dh.nodeid, nb) {
                    st.st_ino = i;
                }
            }
        }
        let dh = &mut *fill.dh;
        if off == 0 {
            // Buffered mode: keep the entry; it is encoded when the kernel asks for it.
            dh.filled = true;
            dh.entries.push(DirEntry { name: cname.to_owned(), st, plus: flags & 2 != 0 });
            return 0;
        }
        if dh.filled {
            // Offsets after entries without: the program mixed the two modes.
            dh.error = -libc::EIO;
            return 1;
        }
        let room = dh.needlen.saturating_sub(dh.contents.len());
        match fill.fs.encode_entry(
            dh.nodeid,
            cname,
            &st,
            flags & 2 != 0,
            fill.plus,
            off as u64,
            room,
        ) {
            Some(bytes) => {
                dh.contents.extend_from_slice(&bytes);
                0
            }
            None => 1,
        }
    })
}

impl Filesystem for HlFs {
    fn implemented(&self) -> Implemented {
        let o = self.0.ops();
        Implemented {
            write_buf: o.write_buf.is_some(),
            posix_locks: o.lock.is_some(),
            flock: o.flock.is_some(),
            readdirplus: true,
            readdir: true,
        }
    }

    fn init(&self, conn: *mut ConnInfo) -> bool {
        super::fuse::run_init(&self.0, conn);
        true
    }

    fn destroy(&self) {
        super::fuse::run_destroy(&self.0);
    }

    fn interrupt(&self, _hook: InterruptHook, h: ReqHandle) {
        // Only with `-o intr` is a hook registered: signal the thread serving the request, so
        // a blocking call in the filesystem returns EINTR. (`fuse_interrupted()` works without
        // it: it reads the request's flag.)
        let sig = self.0.conf.read().intr_signal;
        let threads = self.0.intr_threads.lock();
        if let Some(t) = threads.get(&(h.0 as u64)) {
            // SAFETY: the thread is alive and still serving this request: it removes its entry
            // under this lock before it moves on.
            unsafe { libc::pthread_kill(*t, sig) };
        }
    }

    #[allow(clippy::too_many_lines)]
    fn dispatch(&self, se: &Session, h: ReqHandle, request: &Request<'_>, _raw: &[u8]) {
        let ino = request.header.nodeid;
        if matches!(request.op, Operation::Forget { .. } | Operation::BatchForget { .. }) {
            match &request.op {
                Operation::Forget { arg } => self.0.nodes.lock().forget(ino, arg.nlookup),
                Operation::BatchForget { entries, .. } => {
                    let mut t = self.0.nodes.lock();
                    for c in entries.chunks_exact(16) {
                        let i = u64::from_ne_bytes(c[..8].try_into().unwrap_or_default());
                        let n = u64::from_ne_bytes(c[8..].try_into().unwrap_or_default());
                        t.forget(i, n);
                    }
                }
                _ => {}
            }
            req::take(h);
            return;
        }
        let _scope = ContextScope::enter(&self.0, Some(h));
        let intr = self.0.conf.read().intr;
        if intr {
            // SAFETY: pthread_self has no preconditions.
            let me = unsafe { libc::pthread_self() };
            self.0.intr_threads.lock().insert(h.0 as u64, me);
            // Interrupts reach this thread through the session's hook for this request.
            req::with(h, |d| *d.hook.lock() = Some(InterruptHook { func: 0, data: 0 }));
        }
        let want_ext = se.want_ext();
        if let Err(e) = self.op(h, ino, request, want_ext) {
            err(h, e);
        }
        if intr {
            self.0.intr_threads.lock().remove(&(h.0 as u64));
        }
    }
}

impl HlFs {
    /// Serve one request; an `Err` is answered by the caller (only before any reply).
    #[allow(clippy::too_many_lines)]
    fn op(&self, h: ReqHandle, ino: u64, request: &Request<'_>, want_ext: u64) -> Result<(), i32> {
        let f = self.fs();
        // SAFETY (for the calls below): each `fuse_fs_*` gets our fs, C paths that outlive the
        // call, and buffers or file infos owned by this frame.
        match &request.op {
            Operation::Lookup { name } => {
                let nb = name.to_bytes();
                let parent = ino;
                if nb == b"." || nb == b".." {
                    let target = if nb == b"." {
                        parent
                    } else {
                        self.0.nodes.lock().parent_of(parent).unwrap_or(parent)
                    };
                    let st = self.getattr(target, ptr::null_mut())?;
                    let conf = self.0.conf.read().clone();
                    let generation = self.0.nodes.lock().count_again(target);
                    let mut attr = st;
                    conf.apply_to_stat(&mut attr);
                    if !conf.use_ino {
                        attr.st_ino = target;
                    }
                    let e = fuse_entry_param {
                        ino: target,
                        generation,
                        attr,
                        attr_timeout: conf.attr_timeout,
                        entry_timeout: conf.entry_timeout,
                    };
                    self.reply_entry(h, Ok(e));
                    return Ok(());
                }
                let path = self.child(parent, name)?;
                match self.lookup_path(parent, nb, &path, ptr::null_mut()) {
                    Err(libc::ENOENT) => {
                        let neg = self.0.conf.read().negative_timeout;
                        if neg != 0.0 {
                            let mut e = fuse_entry_param {
                                ino: 0,
                                generation: 0,
                                attr: zero_stat(),
                                attr_timeout: 0.0,
                                entry_timeout: neg,
                            };
                            e.attr.st_ino = 0;
                            // SAFETY: a live handle and a negative entry.
                            unsafe { rep::fuse_reply_entry(r(h), &raw const e) };
                        } else {
                            err(h, libc::ENOENT);
                        }
                    }
                    other => self.reply_entry(h, other),
                }
            }
            Operation::Getattr { arg } => {
                let mut fi = fi_fh(arg.fh);
                let p = if arg.getattr_flags & FUSE_GETATTR_FH != 0 {
                    fip(&mut fi)
                } else {
                    ptr::null_mut()
                };
                let st = self.getattr(ino, p)?;
                self.reply_attr(h, ino, st);
            }
            Operation::Setattr { arg } => {
                let valid = arg.valid;
                let mut fi = fi_fh(arg.fh);
                let fp = if valid & FATTR_FH != 0 { fip(&mut fi) } else { ptr::null_mut() };
                let path =
                    if fp.is_null() { self.path(ino).map(Some)? } else { self.path_nullok(ino)? };
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let st = enc::stat_from_setattr(arg);
                let mut res = 0;
                if valid & FATTR_MODE != 0 {
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    res = unsafe { fs::fuse_fs_chmod(f, p, st.st_mode, fp) };
                }
                if res == 0 && valid & (FATTR_UID | FATTR_GID) != 0 {
                    let uid = if valid & FATTR_UID != 0 { st.st_uid } else { u32::MAX };
                    let gid = if valid & FATTR_GID != 0 { st.st_gid } else { u32::MAX };
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    res = unsafe { fs::fuse_fs_chown(f, p, uid, gid, fp) };
                }
                if res == 0 && valid & FATTR_SIZE != 0 {
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    res = unsafe { fs::fuse_fs_truncate(f, p, st.st_size, fp) };
                }
                if res == 0 && valid & (FATTR_ATIME | FATTR_MTIME) != 0 {
                    let t = |set: bool, now: bool, s: i64, ns: i64| libc::timespec {
                        tv_sec: if set && !now { s } else { 0 },
                        tv_nsec: if now {
                            libc::UTIME_NOW
                        } else if set {
                            ns
                        } else {
                            libc::UTIME_OMIT
                        },
                    };
                    let tv = [
                        t(
                            valid & FATTR_ATIME != 0,
                            valid & FATTR_ATIME_NOW != 0,
                            st.st_atime,
                            st.st_atime_nsec,
                        ),
                        t(
                            valid & FATTR_MTIME != 0,
                            valid & FATTR_MTIME_NOW != 0,
                            st.st_mtime,
                            st.st_mtime_nsec,
                        ),
                    ];
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    res = unsafe { fs::fuse_fs_utimens(f, p, tv.as_ptr(), fp) };
                }
                if res < 0 {
                    return Err(-res);
                }
                let st = self.getattr(ino, fp)?;
                self.reply_attr(h, ino, st);
            }
            Operation::Readlink => {
                let path = self.path(ino)?;
                let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_readlink(f, path.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
                };
                if res < 0 {
                    return Err(-res);
                }
                let last = buf.len() - 1;
                buf[last] = 0;
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_readlink(r(h), buf.as_ptr().cast()) };
            }
            Operation::Mknod { arg, name } => {
                let path = self.child(ino, name)?;
                let mut res = -libc::ENOSYS;
                let mut entry = Err(libc::ENOSYS);
                if arg.mode & libc::S_IFMT == libc::S_IFREG && self.0.ops().create.is_some() {
                    let mut fi = FileInfo {
                        flags: libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
                        ..Default::default()
                    };
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    res = unsafe { fs::fuse_fs_create(f, path.as_ptr(), arg.mode, fip(&mut fi)) };
                    if res == 0 {
                        entry = self.lookup_path(ino, name.to_bytes(), &path, ptr::null_mut());
                        // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                        unsafe { fs::fuse_fs_release(f, path.as_ptr(), fip(&mut fi)) };
                    }
                }
                if res == -libc::ENOSYS {
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    res = unsafe { fs::fuse_fs_mknod(f, path.as_ptr(), arg.mode, arg.rdev.into()) };
                    if res == 0 {
                        entry = self.lookup_path(ino, name.to_bytes(), &path, ptr::null_mut());
                    }
                }
                if res < 0 {
                    return Err(-res);
                }
                self.reply_entry(h, entry);
            }
            Operation::Mkdir { arg, name } => {
                let path = self.child(ino, name)?;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_mkdir(f, path.as_ptr(), arg.mode) };
                if res < 0 {
                    return Err(-res);
                }
                self.reply_entry(h, self.lookup_path(ino, name.to_bytes(), &path, ptr::null_mut()));
            }
            Operation::Symlink { name, link } => {
                let path = self.child(ino, name)?;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_symlink(f, link.as_ptr(), path.as_ptr()) };
                if res < 0 {
                    return Err(-res);
                }
                self.reply_entry(h, self.lookup_path(ino, name.to_bytes(), &path, ptr::null_mut()));
            }
            Operation::Link { arg, name } => {
                let old = self.path(arg.oldnodeid)?;
                let path = self.child(ino, name)?;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_link(f, old.as_ptr(), path.as_ptr()) };
                if res < 0 {
                    return Err(-res);
                }
                self.reply_entry(h, self.lookup_path(ino, name.to_bytes(), &path, ptr::null_mut()));
            }
            Operation::Unlink { name } => {
                let nb = name.to_bytes();
                let (mut paths, _locks) = self.paths_for_change(&[(ino, name)])?;
                let path = paths.remove(0);
                let open = if self.0.conf.read().hard_remove {
                    None
                } else {
                    self.0.nodes.lock().is_open(ino, nb)
                };
                match open {
                    Some(node) => self.hide(ino, nb, node, &path)?,
                    None => {
                        // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                        let res = unsafe { fs::fuse_fs_unlink(f, path.as_ptr()) };
                        if res < 0 {
                            return Err(-res);
                        }
                        self.0.nodes.lock().remove_name(ino, nb);
                    }
                }
                err(h, 0);
            }
            Operation::Rmdir { name } => {
                let (mut paths, _locks) = self.paths_for_change(&[(ino, name)])?;
                let path = paths.remove(0);
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_rmdir(f, path.as_ptr()) };
                if res < 0 {
                    return Err(-res);
                }
                self.0.nodes.lock().remove_name(ino, name.to_bytes());
                err(h, 0);
            }
            Operation::Rename { newdir, flags, old, new } => {
                let (mut paths, _locks) = self.paths_for_change(&[(ino, old), (*newdir, new)])?;
                let to = paths.pop().ok_or(libc::EIO)?;
                let from = paths.pop().ok_or(libc::EIO)?;
                let exchange = *flags & libc::RENAME_EXCHANGE != 0;
                if !exchange && !self.0.conf.read().hard_remove {
                    let open = self.0.nodes.lock().is_open(*newdir, new.to_bytes());
                    if let Some(node) = open {
                        self.hide(*newdir, new.to_bytes(), node, &to)?;
                    }
                }
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_rename(f, from.as_ptr(), to.as_ptr(), *flags) };
                if res < 0 {
                    return Err(-res);
                }
                self.0.nodes.lock().rename(ino, old.to_bytes(), *newdir, new.to_bytes(), exchange);
                err(h, 0);
            }
            Operation::Open { arg } => {
                let path = self.path(ino)?;
                let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_open(f, path.as_ptr(), fip(&mut fi)) };
                if res < 0 {
                    return Err(-res);
                }
                self.open_flags(ino, &path, &mut fi);
                self.0.nodes.lock().opened(ino);
                // SAFETY: a live request, answered once here; the data outlives the call.
                if unsafe { rep::fuse_reply_open(r(h), fip(&mut fi)) } == -libc::ENOENT {
                    self.do_release(ino, Some(&path), &mut fi);
                }
            }
            Operation::Create { arg, name } => {
                let path = self.child(ino, name)?;
                let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_create(f, path.as_ptr(), arg.mode, fip(&mut fi)) };
                if res < 0 {
                    return Err(-res);
                }
                match self.lookup_path(ino, name.to_bytes(), &path, fip(&mut fi)) {
                    Ok(e) => {
                        self.open_flags(e.ino, &path, &mut fi);
                        self.0.nodes.lock().opened(e.ino);
                        // SAFETY: a live request, answered once here; the data outlives the call.
                        if unsafe { rep::fuse_reply_create(r(h), &raw const e, fip(&mut fi)) }
                            == -libc::ENOENT
                        {
                            self.do_release(e.ino, Some(&path), &mut fi);
                            self.0.nodes.lock().forget(e.ino, 1);
                        }
                    }
                    Err(e) => {
                        // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                        unsafe { fs::fuse_fs_release(f, path.as_ptr(), fip(&mut fi)) };
                        return Err(e);
                    }
                }
            }
            Operation::Read { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                fi.lock_owner = arg.lock_owner;
                fi.flags = arg.flags as i32;
                if self.0.ops().read_buf.is_some() {
                    let mut v = ptr::null_mut();
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    let res = unsafe {
                        fs::fuse_fs_read_buf(
                            f,
                            p,
                            &raw mut v,
                            arg.size as usize,
                            arg.offset as i64,
                            fip(&mut fi),
                        )
                    };
                    if res < 0 {
                        // SAFETY: the filesystem's read_buf result (or NULL), freed once.
                        unsafe { super::buf::free_bufvec(v) };
                        return Err(-res);
                    }
                    if v.is_null() {
                        return Err(libc::EIO);
                    }
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe { rep::fuse_reply_data(r(h), v, 0) };
                    // SAFETY: the filesystem's read_buf result (or NULL), freed once.
                    unsafe { super::buf::free_bufvec(v) };
                } else {
                    let mut buf = vec![0u8; arg.size as usize];
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    let res = unsafe {
                        fs::fuse_fs_read(
                            f,
                            p,
                            buf.as_mut_ptr().cast(),
                            buf.len(),
                            arg.offset as i64,
                            fip(&mut fi),
                        )
                    };
                    if res < 0 {
                        return Err(-res);
                    }
                    let n = (res as usize).min(buf.len());
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe { rep::fuse_reply_buf(r(h), buf.as_ptr().cast(), n) };
                }
            }
            Operation::Write { arg, data } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                if arg.write_flags & FUSE_WRITE_CACHE != 0 {
                    fi.bits |= 1;
                }
                fi.lock_owner = arg.lock_owner;
                fi.flags = arg.flags as i32;
                let res = if self.0.ops().write_buf.is_some() {
                    let mut v =
                        super::abi::BufVec1::mem(data.as_ptr().cast_mut().cast(), data.len());
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    unsafe {
                        fs::fuse_fs_write_buf(
                            f,
                            p,
                            (&raw mut v).cast(),
                            arg.offset as i64,
                            fip(&mut fi),
                        )
                    }
                } else {
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    unsafe {
                        fs::fuse_fs_write(
                            f,
                            p,
                            data.as_ptr().cast(),
                            data.len(),
                            arg.offset as i64,
                            fip(&mut fi),
                        )
                    }
                };
                if res < 0 {
                    return Err(-res);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_write(r(h), res as usize) };
            }
            Operation::Statfs => {
                let locked = self.path(ino).ok();
                let path: &CStr = locked.as_deref().unwrap_or(c"/");
                // SAFETY: all-zero is a valid statvfs.
                let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_statfs(f, path.as_ptr(), &raw mut st) };
                if res < 0 {
                    return Err(-res);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_statfs(r(h), &raw const st) };
            }
            Operation::Flush { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                fi.bits |= FI_FLUSH;
                fi.lock_owner = arg.lock_owner;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let mut res = unsafe { fs::fuse_fs_flush(f, p, fip(&mut fi)) };
                if self.0.ops().lock.is_some() {
                    // SAFETY: all-zero is a valid flock.
                    let mut lk: libc::flock = unsafe { std::mem::zeroed() };
                    lk.l_type = libc::F_UNLCK as i16;
                    lk.l_whence = libc::SEEK_SET as i16;
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    let lr =
                        unsafe { fs::fuse_fs_lock(f, p, fip(&mut fi), libc::F_SETLK, &raw mut lk) };
                    if lr != -libc::ENOSYS && res == -libc::ENOSYS {
                        res = 0;
                    }
                }
                status(h, res);
            }
            Operation::Release { arg } => {
                let path = self.path_nullok(ino).unwrap_or(None);
                let mut fi = FileInfo { flags: arg.flags as i32, fh: arg.fh, ..Default::default() };
                if arg.release_flags & FUSE_RELEASE_FLUSH != 0 {
                    fi.bits |= FI_FLUSH;
                }
                if arg.release_flags & FUSE_RELEASE_FLOCK_UNLOCK != 0 {
                    fi.bits |= 1 << 5;
                }
                fi.lock_owner = arg.lock_owner;
                self.do_release(ino, path.as_deref(), &mut fi);
                err(h, 0);
            }
            Operation::Fsync { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_fsync(f, p, (arg.fsync_flags & 1) as c_int, fip(&mut fi))
                };
                status(h, res);
            }
            Operation::Setxattr { arg, name, value } => {
                let path = self.path(ino)?;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_setxattr(
                        f,
                        path.as_ptr(),
                        name.as_ptr(),
                        value.as_ptr().cast(),
                        value.len(),
                        arg.flags as c_int,
                    )
                };
                status(h, res);
            }
            Operation::Getxattr { arg, name } => {
                let path = self.path(ino)?;
                let size = arg.size as usize;
                let mut buf = vec![0u8; size];
                let vp = if size == 0 { ptr::null_mut() } else { buf.as_mut_ptr().cast() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res =
                    unsafe { fs::fuse_fs_getxattr(f, path.as_ptr(), name.as_ptr(), vp, size) };
                if res < 0 {
                    return Err(-res);
                }
                if size == 0 {
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe { rep::fuse_reply_xattr(r(h), res as usize) };
                } else {
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe {
                        rep::fuse_reply_buf(r(h), buf.as_ptr().cast(), (res as usize).min(size))
                    };
                }
            }
            Operation::Listxattr { arg } => {
                let path = self.path(ino)?;
                let size = arg.size as usize;
                let mut buf = vec![0u8; size];
                let vp = if size == 0 { ptr::null_mut() } else { buf.as_mut_ptr().cast() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_listxattr(f, path.as_ptr(), vp, size) };
                if res < 0 {
                    return Err(-res);
                }
                if size == 0 {
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe { rep::fuse_reply_xattr(r(h), res as usize) };
                } else {
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe {
                        rep::fuse_reply_buf(r(h), buf.as_ptr().cast(), (res as usize).min(size))
                    };
                }
            }
            Operation::Removexattr { name } => {
                let path = self.path(ino)?;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_removexattr(f, path.as_ptr(), name.as_ptr()) };
                status(h, res);
            }
            Operation::Opendir { arg } => {
                let path = self.path(ino)?;
                let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_opendir(f, path.as_ptr(), fip(&mut fi)) };
                if res < 0 {
                    return Err(-res);
                }
                let id = self.0.next_dir.fetch_add(1, Ordering::Relaxed);
                let dh = DirHandle { fh: fi.fh, nodeid: ino, ..Default::default() };
                self.0.dirs.lock().insert(id, Arc::new(Mutex::new(dh)));
                let mut out = fi;
                out.fh = id;
                // SAFETY: a live request, answered once here; the data outlives the call.
                if unsafe { rep::fuse_reply_open(r(h), fip(&mut out)) } == -libc::ENOENT {
                    self.0.dirs.lock().remove(&id);
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    unsafe { fs::fuse_fs_releasedir(f, path.as_ptr(), fip(&mut fi)) };
                }
            }
            Operation::Readdir { arg } | Operation::Readdirplus { arg } => {
                let plus = matches!(request.op, Operation::Readdirplus { .. });
                let Some(dh) = self.dir(arg.fh) else { return Err(libc::EBADF) };
                let mut dh = dh.lock();
                let size = arg.size as usize;
                let off = arg.offset;
                if !dh.filled || off == 0 {
                    dh.contents.clear();
                    dh.entries.clear();
                    dh.error = 0;
                    dh.needlen = size;
                    dh.filled = false;
                    let path = self.path_nullok(ino)?;
                    let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                    let mut fi = fi_fh(dh.fh);
                    let mut fill = Fill { fs: self, dh: &mut dh, plus };
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    let res = unsafe {
                        fs::fuse_fs_readdir(
                            f,
                            p,
                            (&raw mut fill).cast(),
                            Some(fill_dir),
                            off as off_t,
                            fip(&mut fi),
                            c_uint::from(plus),
                        )
                    };
                    let res = if res == 0 { dh.error } else { res };
                    if res < 0 {
                        dh.filled = false;
                        return Err(-res);
                    }
                }
                if dh.filled {
                    let mut out = Vec::with_capacity(size.min(1 << 20));
                    let nodeid = dh.nodeid;
                    for (i, e) in dh.entries.iter().enumerate().skip(off as usize) {
                        let room = size - out.len();
                        match self.encode_entry(
                            nodeid,
                            &e.name,
                            &e.st,
                            e.plus,
                            plus,
                            i as u64 + 1,
                            room,
                        ) {
                            Some(b) => out.extend_from_slice(&b),
                            None => break,
                        }
                    }
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe { rep::fuse_reply_buf(r(h), out.as_ptr().cast(), out.len()) };
                } else {
                    // SAFETY: a live request, answered once here; the data outlives the call.
                    unsafe {
                        rep::fuse_reply_buf(r(h), dh.contents.as_ptr().cast(), dh.contents.len())
                    };
                }
            }
            Operation::Releasedir { arg } => {
                let dh = self.0.dirs.lock().remove(&arg.fh);
                if let Some(dh) = dh {
                    let path = self.path_nullok(ino).unwrap_or(None);
                    let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                    let mut fi = FileInfo {
                        flags: arg.flags as i32,
                        fh: dh.lock().fh,
                        ..Default::default()
                    };
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    unsafe { fs::fuse_fs_releasedir(f, p, fip(&mut fi)) };
                }
                err(h, 0);
            }
            Operation::Fsyncdir { arg } => {
                let Some(dh) = self.dir(arg.fh) else { return Err(libc::EBADF) };
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(dh.lock().fh);
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_fsyncdir(f, p, (arg.fsync_flags & 1) as c_int, fip(&mut fi))
                };
                status(h, res);
            }
            Operation::Access { arg } => {
                let path = self.path(ino)?;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_access(f, path.as_ptr(), arg.mask as c_int) };
                status(h, res);
            }
            Operation::Getlk { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                fi.lock_owner = arg.owner;
                let mut fl = enc::flock_from_wire(&arg.lk);
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res =
                    unsafe { fs::fuse_fs_lock(f, p, fip(&mut fi), libc::F_GETLK, &raw mut fl) };
                if res < 0 {
                    return Err(-res);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_lock(r(h), &raw const fl) };
            }
            Operation::Setlk { arg, sleep } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                fi.lock_owner = arg.owner;
                let res = if arg.lk_flags & FUSE_LK_FLOCK != 0 {
                    let mut op = match arg.lk.typ as i32 {
                        libc::F_RDLCK => libc::LOCK_SH,
                        libc::F_WRLCK => libc::LOCK_EX,
                        _ => libc::LOCK_UN,
                    };
                    if !sleep {
                        op |= libc::LOCK_NB;
                    }
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    unsafe { fs::fuse_fs_flock(f, p, fip(&mut fi), op) }
                } else {
                    let mut fl = enc::flock_from_wire(&arg.lk);
                    let cmd = if *sleep { libc::F_SETLKW } else { libc::F_SETLK };
                    // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                    unsafe { fs::fuse_fs_lock(f, p, fip(&mut fi), cmd, &raw mut fl) }
                };
                status(h, res);
            }
            Operation::Bmap { arg } => {
                let path = self.path(ino)?;
                let mut idx = arg.block;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_bmap(f, path.as_ptr(), arg.blocksize as usize, &raw mut idx)
                };
                if res < 0 {
                    return Err(-res);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_bmap(r(h), idx) };
            }
            Operation::Ioctl { arg, input } => {
                if arg.flags & FUSE_IOCTL_DIR != 0
                    && want_ext & super::fuse_common::FUSE_CAP_IOCTL_DIR == 0
                {
                    return Err(libc::ENOTTY);
                }
                if arg.flags & FUSE_IOCTL_UNRESTRICTED != 0 {
                    return Err(libc::ENOSYS);
                }
                let mut fi = fi_fh(arg.fh);
                if arg.flags & FUSE_IOCTL_DIR != 0 {
                    let Some(dh) = self.dir(arg.fh) else { return Err(libc::EBADF) };
                    fi.fh = dh.lock().fh;
                }
                let in_size = arg.in_size as usize;
                let out_size = arg.out_size as usize;
                let mut buf = vec![0u8; in_size.max(out_size)];
                buf[..in_size].copy_from_slice(&input[..in_size]);
                let data = if buf.is_empty() {
                    ptr::null_mut()
                } else {
                    buf.as_mut_ptr().cast::<c_void>()
                };
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_ioctl(
                        f,
                        p,
                        arg.cmd,
                        arg.arg as usize as *mut c_void,
                        fip(&mut fi),
                        arg.flags,
                        data,
                    )
                };
                if res < 0 {
                    return Err(-res);
                }
                let out = if out_size > 0 { buf.as_ptr().cast::<c_void>() } else { ptr::null() };
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_ioctl(r(h), res, out, out_size) };
            }
            Operation::Poll { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                fi.poll_events = arg.events;
                let ph = if arg.flags & FUSE_POLL_SCHEDULE_NOTIFY != 0 {
                    let sid = self.0.session.load(Ordering::Acquire);
                    Box::into_raw(Box::new(super::dispatch::PollHandle {
                        kh: arg.kh,
                        session: sid,
                    }))
                    .cast::<fuse_pollhandle>()
                } else {
                    ptr::null_mut()
                };
                let mut revents: c_uint = 0;
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe { fs::fuse_fs_poll(f, p, fip(&mut fi), ph, &raw mut revents) };
                if res < 0 {
                    return Err(-res);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_poll(r(h), revents) };
            }
            Operation::Fallocate { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_fallocate(
                        f,
                        p,
                        arg.mode as c_int,
                        arg.offset as i64,
                        arg.length as i64,
                        fip(&mut fi),
                    )
                };
                status(h, res);
            }
            Operation::CopyFileRange { arg, wide } => {
                let pin = self.path_nullok(ino)?;
                let pout = self.path_nullok(arg.nodeid_out)?;
                let mut fi_in = fi_fh(arg.fh_in);
                let mut fi_out = fi_fh(arg.fh_out);
                let len = if *wide { arg.len } else { arg.len.min(0xffff_f000) };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_copy_file_range(
                        f,
                        pin.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                        fip(&mut fi_in),
                        arg.off_in as i64,
                        pout.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                        fip(&mut fi_out),
                        arg.off_out as i64,
                        len as usize,
                        arg.flags as c_int,
                    )
                };
                if res < 0 {
                    return Err(-res as i32);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_write(r(h), res as usize) };
            }
            Operation::Lseek { arg } => {
                let path = self.path_nullok(ino)?;
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                let mut fi = fi_fh(arg.fh);
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_lseek(f, p, arg.offset as i64, arg.whence as c_int, fip(&mut fi))
                };
                if res < 0 {
                    return Err(-res as i32);
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_lseek(r(h), res) };
            }
            Operation::Statx { arg } => {
                if self.0.ops().statx.is_none() {
                    return Err(libc::ENOSYS);
                }
                let mut fi = fi_fh(arg.fh);
                let with_fh = arg.getattr_flags & FUSE_GETATTR_FH != 0;
                let fp = if with_fh { fip(&mut fi) } else { ptr::null_mut() };
                let path = if with_fh { self.path_nullok(ino)? } else { Some(self.path(ino)?) };
                let mut flags = arg.sx_flags as c_int;
                if path.is_none() {
                    flags |= libc::AT_EMPTY_PATH;
                }
                let p = path.as_ref().map_or(ptr::null(), |p| p.as_ptr());
                // SAFETY: all-zero is a valid statx.
                let mut stx: libc::statx = unsafe { std::mem::zeroed() };
                // SAFETY: our fs; paths, buffers and file infos of this frame outlive the call.
                let res = unsafe {
                    fs::fuse_fs_statx(f, p, flags, arg.sx_mask as c_int, &raw mut stx, fp)
                };
                if res < 0 {
                    return Err(-res);
                }
                if stx.stx_nlink > 0 && self.0.nodes.lock().is_hidden(ino) {
                    stx.stx_nlink -= 1;
                }
                let conf = self.0.conf.read().clone();
                if !conf.use_ino {
                    stx.stx_ino = ino;
                }
                stx.stx_mode = conf.masked_mode(u32::from(stx.stx_mode)) as u16;
                if conf.set_uid {
                    stx.stx_uid = conf.uid;
                }
                if conf.set_gid {
                    stx.stx_gid = conf.gid;
                }
                // SAFETY: a live request, answered once here; the data outlives the call.
                unsafe { rep::fuse_reply_statx(r(h), 0, &raw const stx, conf.attr_timeout) };
            }
            Operation::Syncfs { .. } => {
                let path = self.path(ino)?;
                match self.0.ops().syncfs {
                    // SAFETY: the program's syncfs with a C path alive across the call.
                    Some(op) => status(h, unsafe { op(path.as_ptr()) }),
                    None => return Err(libc::ENOSYS),
                }
            }
            Operation::NotifyReply { .. } => {
                req::take(h);
            }
            _ => return Err(libc::ENOSYS),
        }
        Ok(())
    }
}
