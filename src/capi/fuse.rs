//! Mirrors <fuse.h>: the high-level API. Types (`fuse_operations`, `fuse_config`,
//! `fuse_context`), creating and running a `struct fuse`, and the calls a filesystem makes
//! while it serves a request.
//!
//! The high-level filesystem sits on our low-level session as one more [`Filesystem`]: requests
//! come in by inode number, `hl_dispatch.rs` turns them into paths through the node table in
//! `crate::highlevel` and calls the program's operations through the `fuse_fs_*` calls.
//!
//! [`Filesystem`]: crate::session::Filesystem
#![allow(non_camel_case_types)]

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ffi::CStr;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use libc::{
    c_char, c_double, c_int, c_uint, c_void, dev_t, flock, gid_t, mode_t, off_t, pid_t, size_t,
    ssize_t, stat, statvfs, timespec, uid_t,
};
use parking_lot::{Mutex, RwLock};

use super::abi::{ConnInfo, FillDirFlags, ReaddirFlags};
use super::cmdline::fuse_cmdline_opts;
use super::fuse_common::{
    fuse_bufvec, fuse_conn_info, fuse_file_info, fuse_loop_config, fuse_loop_config_v1,
    fuse_pollhandle, fuse_session, libfuse_version,
};
use super::fuse_opt::fuse_args;
use super::hl_fs::{FuseFs, fuse_fs};
use crate::highlevel::config::{self, Config};
use crate::highlevel::nodes::NodeTable;
use crate::session::{ReqHandle, Session};

/// `readdir`'s flags: what the kernel asked for.
#[repr(C)]
pub enum fuse_readdir_flags {
    /// A plain listing.
    FUSE_READDIR_DEFAULTS = 0,
    /// READDIRPLUS: attributes wanted too; the filler may pass `FUSE_FILL_DIR_PLUS`.
    FUSE_READDIR_PLUS = 1 << 0,
}

/// The filler's flags.
#[repr(C)]
pub enum fuse_fill_dir_flags {
    /// Only the type bits of the attributes count.
    FUSE_FILL_DIR_DEFAULTS = 0,
    /// The attributes are complete: READDIRPLUS may hand them to the kernel.
    FUSE_FILL_DIR_PLUS = 1 << 1,
}

/// Adds one directory entry inside `readdir`; returns 1 when the buffer is full.
pub type fuse_fill_dir_t = Option<
    unsafe extern "C" fn(
        buf: *mut c_void,
        name: *const c_char,
        stbuf: *const stat,
        off: off_t,
        flags: FillDirFlags,
    ) -> c_int,
>;

/// The library's configuration, as `init` sees (and may change) it. This is the layout of
/// libfuse 3.17 and later; programs built against 3.11 to 3.16 (our `libfuse3.so.3`) get the
/// layout of their headers, which has `no_rofd_flush` after `auto_cache`.
#[repr(C)]
pub struct fuse_config {
    /// Use `gid` as every file's group.
    pub set_gid: i32,
    /// The group for `set_gid`.
    pub gid: u32,
    /// Use `uid` as every file's owner.
    pub set_uid: i32,
    /// The owner for `set_uid`.
    pub uid: u32,
    /// Apply `umask` to every file's permissions.
    pub set_mode: i32,
    /// The mask for `set_mode`.
    pub umask: u32,
    /// Seconds names stay cached.
    pub entry_timeout: c_double,
    /// Seconds a failed lookup stays cached (0: not cached).
    pub negative_timeout: c_double,
    /// Seconds attributes stay cached.
    pub attr_timeout: c_double,
    /// Interrupt requests with a signal to the thread serving them.
    pub intr: i32,
    /// The signal for `intr`.
    pub intr_signal: i32,
    /// Seconds to keep forgotten inodes (-1: forever).
    pub remember: i32,
    /// Remove unlinked open files at once instead of hiding them.
    pub hard_remove: i32,
    /// Pass the filesystem's own `st_ino` to the kernel.
    pub use_ino: i32,
    /// Fill `d_ino` in readdir from known nodes without `use_ino`.
    pub readdir_ino: i32,
    /// Open every file with direct I/O.
    pub direct_io: i32,
    /// Keep file contents cached across opens.
    pub kernel_cache: i32,
    /// Keep file contents cached while mtime and size are unchanged.
    pub auto_cache: i32,
    /// `ac_attr_timeout` is set.
    pub ac_attr_timeout_set: i32,
    /// Attribute timeout for `auto_cache` checks.
    pub ac_attr_timeout: c_double,
    /// Operations on open files may get a NULL path.
    pub nullpath_ok: i32,
    /// Set by `-h`.
    pub show_help: i32,
    /// `modules=` (not supported here).
    pub modules: *mut c_char,
    /// `-d`.
    pub debug: i32,
    /// Permission mask for files.
    pub fmask: u32,
    /// Permission mask for directories.
    pub dmask: u32,
    /// Do not flush read-only file descriptors on close.
    pub no_rofd_flush: i32,
    /// Allow parallel direct writes.
    pub parallel_direct_writes: i32,
    /// Reserved flags.
    pub flags: u32,
    /// Reserved.
    pub reserved: [u64; 48],
}

/// The layout of `struct fuse_config` in libfuse 3.11 to 3.16 (Debian 12's 3.14).
#[repr(C)]
struct Config314 {
    set_gid: i32,
    gid: u32,
    set_uid: i32,
    uid: u32,
    set_mode: i32,
    umask: u32,
    entry_timeout: f64,
    negative_timeout: f64,
    attr_timeout: f64,
    intr: i32,
    intr_signal: i32,
    remember: i32,
    hard_remove: i32,
    use_ino: i32,
    readdir_ino: i32,
    direct_io: i32,
    kernel_cache: i32,
    auto_cache: i32,
    no_rofd_flush: i32,
    ac_attr_timeout_set: i32,
    ac_attr_timeout: f64,
    nullpath_ok: i32,
    show_help: i32,
    modules: *mut c_char,
    debug: i32,
}

const _: () = assert!(std::mem::size_of::<fuse_config>() == 520);
const _: () = assert!(std::mem::size_of::<Config314>() == 128);
// Offsets measured by the ABI probe against Debian 12's 3.14.0 <fuse.h>.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(Config314, auto_cache) == 80);
    assert!(offset_of!(Config314, no_rofd_flush) == 84);
    assert!(offset_of!(Config314, ac_attr_timeout_set) == 88);
    assert!(offset_of!(Config314, ac_attr_timeout) == 96);
    assert!(offset_of!(Config314, nullpath_ok) == 104);
    assert!(offset_of!(Config314, modules) == 112);
    assert!(offset_of!(Config314, debug) == 120);
    assert!(offset_of!(fuse_config, ac_attr_timeout) == 88);
    assert!(offset_of!(fuse_config, no_rofd_flush) == 124);
    assert!(offset_of!(fuse_config, reserved) == 136);
};

/// Who made the current request, and the filesystem's private data.
#[repr(C)]
pub struct fuse_context {
    /// The `struct fuse` serving it.
    pub fuse: *mut fuse,
    /// The caller's user id.
    pub uid: uid_t,
    /// The caller's group id.
    pub gid: gid_t,
    /// The caller's process id.
    pub pid: pid_t,
    /// What `init` returned (or `fuse_new`'s `user_data`).
    pub private_data: *mut c_void,
    /// The caller's umask (0 when the kernel does not send it).
    pub umask: mode_t,
}

/// A high-level filesystem's operations. Every member may be NULL.
#[repr(C)]
pub struct fuse_operations {
    /// Attributes of a file (`fi` is NULL unless the file is open).
    pub getattr: Option<
        unsafe extern "C" fn(path: *const c_char, st: *mut stat, fi: *mut fuse_file_info) -> c_int,
    >,
    /// Target of a symbolic link, NUL-terminated, truncated to the buffer.
    pub readlink:
        Option<unsafe extern "C" fn(path: *const c_char, buf: *mut c_char, size: size_t) -> c_int>,
    /// Create a file node.
    pub mknod:
        Option<unsafe extern "C" fn(path: *const c_char, mode: mode_t, rdev: dev_t) -> c_int>,
    /// Create a directory.
    pub mkdir: Option<unsafe extern "C" fn(path: *const c_char, mode: mode_t) -> c_int>,
    /// Remove a file.
    pub unlink: Option<unsafe extern "C" fn(path: *const c_char) -> c_int>,
    /// Remove a directory.
    pub rmdir: Option<unsafe extern "C" fn(path: *const c_char) -> c_int>,
    /// Create a symbolic link `path` pointing at `target`.
    pub symlink: Option<unsafe extern "C" fn(target: *const c_char, path: *const c_char) -> c_int>,
    /// Rename (`flags`: RENAME_NOREPLACE, RENAME_EXCHANGE).
    pub rename: Option<
        unsafe extern "C" fn(from: *const c_char, to: *const c_char, flags: c_uint) -> c_int,
    >,
    /// Create a hard link.
    pub link: Option<unsafe extern "C" fn(from: *const c_char, to: *const c_char) -> c_int>,
    /// Change permissions.
    pub chmod: Option<
        unsafe extern "C" fn(path: *const c_char, mode: mode_t, fi: *mut fuse_file_info) -> c_int,
    >,
    /// Change owner and group (-1: unchanged).
    pub chown: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            uid: uid_t,
            gid: gid_t,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Change the size.
    pub truncate: Option<
        unsafe extern "C" fn(path: *const c_char, size: off_t, fi: *mut fuse_file_info) -> c_int,
    >,
    /// Open a file.
    pub open: Option<unsafe extern "C" fn(path: *const c_char, fi: *mut fuse_file_info) -> c_int>,
    /// Read data; returns the byte count.
    pub read: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            buf: *mut c_char,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Write data; returns the byte count.
    pub write: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            buf: *const c_char,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Filesystem statistics.
    pub statfs: Option<unsafe extern "C" fn(path: *const c_char, st: *mut statvfs) -> c_int>,
    /// Called on every close of a file descriptor.
    pub flush: Option<unsafe extern "C" fn(path: *const c_char, fi: *mut fuse_file_info) -> c_int>,
    /// The last close of an open file.
    pub release:
        Option<unsafe extern "C" fn(path: *const c_char, fi: *mut fuse_file_info) -> c_int>,
    /// Synchronize file contents.
    pub fsync: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            datasync: c_int,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Set an extended attribute.
    pub setxattr: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            name: *const c_char,
            value: *const c_char,
            size: size_t,
            flags: c_int,
        ) -> c_int,
    >,
    /// Get an extended attribute.
    pub getxattr: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            name: *const c_char,
            value: *mut c_char,
            size: size_t,
        ) -> c_int,
    >,
    /// List extended attributes.
    pub listxattr:
        Option<unsafe extern "C" fn(path: *const c_char, list: *mut c_char, size: size_t) -> c_int>,
    /// Remove an extended attribute.
    pub removexattr:
        Option<unsafe extern "C" fn(path: *const c_char, name: *const c_char) -> c_int>,
    /// Open a directory.
    pub opendir:
        Option<unsafe extern "C" fn(path: *const c_char, fi: *mut fuse_file_info) -> c_int>,
    /// List a directory through the filler.
    pub readdir: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            buf: *mut c_void,
            filler: fuse_fill_dir_t,
            off: off_t,
            fi: *mut fuse_file_info,
            flags: ReaddirFlags,
        ) -> c_int,
    >,
    /// Close a directory.
    pub releasedir:
        Option<unsafe extern "C" fn(path: *const c_char, fi: *mut fuse_file_info) -> c_int>,
    /// Synchronize directory contents.
    pub fsyncdir: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            datasync: c_int,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Start: returns the private data of `fuse_context`.
    pub init: Option<
        unsafe extern "C" fn(conn: *mut fuse_conn_info, cfg: *mut fuse_config) -> *mut c_void,
    >,
    /// End: gets the private data.
    pub destroy: Option<unsafe extern "C" fn(private_data: *mut c_void)>,
    /// Check access permissions.
    pub access: Option<unsafe extern "C" fn(path: *const c_char, mask: c_int) -> c_int>,
    /// Create and open a file.
    pub create: Option<
        unsafe extern "C" fn(path: *const c_char, mode: mode_t, fi: *mut fuse_file_info) -> c_int,
    >,
    /// POSIX record locks (F_GETLK, F_SETLK, F_SETLKW).
    pub lock: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            fi: *mut fuse_file_info,
            cmd: c_int,
            lock: *mut flock,
        ) -> c_int,
    >,
    /// Set access and modification times (nanoseconds; UTIME_NOW, UTIME_OMIT).
    pub utimens: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            tv: *const timespec,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Map a block index (block devices only).
    pub bmap: Option<
        unsafe extern "C" fn(path: *const c_char, blocksize: size_t, idx: *mut u64) -> c_int,
    >,
    /// ioctl, API levels before 35: `cmd` is an int.
    #[cfg(not(fuse_api_35))]
    pub ioctl: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            cmd: c_int,
            arg: *mut c_void,
            fi: *mut fuse_file_info,
            flags: c_uint,
            data: *mut c_void,
        ) -> c_int,
    >,
    /// ioctl; `cmd` is unsigned from API level 35 on.
    #[cfg(fuse_api_35)]
    pub ioctl: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            cmd: c_uint,
            arg: *mut c_void,
            fi: *mut fuse_file_info,
            flags: c_uint,
            data: *mut c_void,
        ) -> c_int,
    >,
    /// Poll for I/O readiness; keep `ph` to notify later.
    pub poll: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            fi: *mut fuse_file_info,
            ph: *mut fuse_pollhandle,
            reventsp: *mut c_uint,
        ) -> c_int,
    >,
    /// Write from a buffer vector.
    pub write_buf: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            buf: *mut fuse_bufvec,
            off: off_t,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Read into a buffer vector the filesystem allocates.
    pub read_buf: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            bufp: *mut *mut fuse_bufvec,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// BSD file locks.
    pub flock: Option<
        unsafe extern "C" fn(path: *const c_char, fi: *mut fuse_file_info, op: c_int) -> c_int,
    >,
    /// Allocate space.
    pub fallocate: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            mode: c_int,
            off: off_t,
            len: off_t,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Copy a range between open files.
    pub copy_file_range: Option<
        unsafe extern "C" fn(
            path_in: *const c_char,
            fi_in: *mut fuse_file_info,
            off_in: off_t,
            path_out: *const c_char,
            fi_out: *mut fuse_file_info,
            off_out: off_t,
            size: size_t,
            flags: c_int,
        ) -> ssize_t,
    >,
    /// Find data or holes (SEEK_DATA, SEEK_HOLE).
    pub lseek: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            off: off_t,
            whence: c_int,
            fi: *mut fuse_file_info,
        ) -> off_t,
    >,
    /// Extended attributes (statx).
    pub statx: Option<
        unsafe extern "C" fn(
            path: *const c_char,
            flags: c_int,
            mask: c_int,
            stxbuf: *mut libc::statx,
            fi: *mut fuse_file_info,
        ) -> c_int,
    >,
    /// Synchronize the whole filesystem.
    pub syncfs: Option<unsafe extern "C" fn(path: *const c_char) -> c_int>,
}

/// Opaque: a high-level filesystem session.
pub struct fuse {
    _opaque: [u8; 0],
}

// ------------------------------------------------------------------ the Rust side

/// One entry of a listing the program gave without offsets, kept until the kernel asks.
pub(crate) struct DirEntry {
    pub name: std::ffi::CString,
    pub st: stat,
    /// The filler was given `FUSE_FILL_DIR_PLUS` (complete attributes).
    pub plus: bool,
}

/// One open directory: the program's handle and the listing being served.
#[derive(Default)]
pub(crate) struct DirHandle {
    /// The program's own `fi->fh`.
    pub fh: u64,
    /// Offset mode: the entries encoded for the current reply.
    pub contents: Vec<u8>,
    /// Buffered mode: the whole listing, served by index (entry `i` has offset `i + 1`) and
    /// encoded per request, as READDIR or READDIRPLUS asks.
    pub entries: Vec<DirEntry>,
    /// The listing came without offsets (buffered whole).
    pub filled: bool,
    /// The reply size the kernel asked for (offset mode fills up to it).
    pub needlen: usize,
    /// An error the filler ran into.
    pub error: i32,
    /// The directory's inode.
    pub nodeid: u64,
}

/// What a `struct fuse` owns; the session's filesystem holds it too.
pub(crate) struct Inner {
    /// The program's operations (a `struct fuse_fs`, boxed so its address is stable).
    pub fs: *mut FuseFs,
    pub conf: RwLock<Config>,
    pub nodes: Mutex<NodeTable>,
    /// Signalled whenever path locks are given back.
    pub path_cv: parking_lot::Condvar,
    pub dirs: Mutex<HashMap<u64, Arc<Mutex<DirHandle>>>>,
    pub next_dir: AtomicU64,
    /// The `struct fuse` address C sees (for `fuse_context.fuse`).
    pub handle: AtomicUsize,
    pub session: AtomicUsize,
    pub destroyed: AtomicBool,
    pub cleanup: Mutex<Option<(std::thread::JoinHandle<()>, Arc<AtomicBool>)>>,
    /// `-o intr`: the thread serving each outstanding request (by handle). A worker removes
    /// its entry before it leaves the request, under this lock, so a signal sent while holding
    /// it always reaches a live thread still serving that request.
    pub intr_threads: Mutex<HashMap<u64, libc::pthread_t>>,
}

// SAFETY: `fs` points at a FuseFs this Inner owns (freed in Drop); the program's callbacks and
// data are, as with libfuse, the program's to make safe on the loop's threads.
unsafe impl Send for Inner {}
// SAFETY: as above; all other state is behind locks or atomics.
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.fs.is_null() {
            // SAFETY: made by Box::into_raw in new_fuse, freed only here.
            drop(unsafe { Box::from_raw(self.fs) });
        }
    }
}

impl Inner {
    pub fn fs_ptr(&self) -> *mut fuse_fs {
        self.fs.cast()
    }
    pub fn private_data(&self) -> *mut c_void {
        // SAFETY: `fs` is alive as long as self; user_data is written only by init, which runs
        // before any other request.
        unsafe { (*self.fs).user_data }
    }
    pub fn ops(&self) -> &fuse_operations {
        // SAFETY: as above; the table is never written after construction.
        unsafe { &(*self.fs).op }
    }
}

/// What a `struct fuse` pointer points at.
pub(crate) struct Fuse {
    pub inner: Arc<Inner>,
    pub se: *mut fuse_session,
}

// ------------------------------------------------------------------ the request context

struct Current {
    ctx: UnsafeCell<fuse_context>,
    req: std::cell::Cell<Option<ReqHandle>>,
    /// Inside a request, `init` or `destroy`: only then is there a context (NULL otherwise,
    /// as with libfuse).
    active: std::cell::Cell<bool>,
}

const NO_CONTEXT: fuse_context = fuse_context {
    fuse: ptr::null_mut(),
    uid: 0,
    gid: 0,
    pid: 0,
    private_data: ptr::null_mut(),
    umask: 0,
};

thread_local! {
    static CURRENT: Current = const {
        Current {
            ctx: UnsafeCell::new(NO_CONTEXT),
            req: std::cell::Cell::new(None),
            active: std::cell::Cell::new(false),
        }
    };
}

/// Sets this thread's `fuse_context` for one request (or for init/destroy); clears it on drop.
pub(crate) struct ContextScope;

impl ContextScope {
    pub fn enter(inner: &Inner, req: Option<ReqHandle>) -> ContextScope {
        let (uid, gid, pid, umask) = req
            .and_then(|h| crate::session::req::with(h, |d| d.ctx))
            .map_or((0, 0, 0, 0), |c| (c.uid, c.gid, c.pid, c.umask));
        let fuse = inner.handle.load(Ordering::Acquire) as *mut fuse;
        let private_data = inner.private_data();
        CURRENT.with(|c| {
            // SAFETY: this thread's own context; no reference to it is alive across this write
            // (C only reads it through the pointer fuse_get_context returned, on this thread).
            unsafe {
                *c.ctx.get() = fuse_context { fuse, uid, gid, pid, private_data, umask };
            }
            c.req.set(req);
            c.active.set(true);
        });
        ContextScope
    }
}

impl Drop for ContextScope {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            c.req.set(None);
            c.active.set(false);
            // SAFETY: as in enter; the scope that used it is over.
            unsafe { *c.ctx.get() = NO_CONTEXT };
        });
    }
}

fn current_req() -> Option<ReqHandle> {
    CURRENT.with(|c| c.req.get())
}

/// The `Fuse` behind a C pointer.
///
/// # Safety
/// `f` is NULL or a live `struct fuse` from `fuse_new`.
unsafe fn fuse_ref<'a>(f: *mut fuse) -> Option<&'a Fuse> {
    // SAFETY: the caller's contract.
    unsafe { f.cast::<Fuse>().as_ref() }
}

fn session_of(f: &Fuse) -> Option<&Session> {
    // SAFETY: `se` is the session fuse_new made; it lives until fuse_destroy.
    unsafe { super::ll_session::session(f.se) }
}

// ------------------------------------------------------------------ configuration <-> C

/// Fill the C `fuse_config` the caller's headers describe, at `out`.
///
/// # Safety
/// `out` holds a zeroed `fuse_config` of the layout `pre_317` names.
unsafe fn config_to_c(c: &Config, out: *mut c_void, pre_317: bool) {
    let b = |v: bool| i32::from(v);
    if pre_317 {
        let o = Config314 {
            set_gid: b(c.set_gid),
            gid: c.gid,
            set_uid: b(c.set_uid),
            uid: c.uid,
            set_mode: b(c.set_mode),
            umask: c.umask,
            entry_timeout: c.entry_timeout,
            negative_timeout: c.negative_timeout,
            attr_timeout: c.attr_timeout,
            intr: b(c.intr),
            intr_signal: c.intr_signal,
            remember: c.remember,
            hard_remove: b(c.hard_remove),
            use_ino: b(c.use_ino),
            readdir_ino: b(c.readdir_ino),
            direct_io: b(c.direct_io),
            kernel_cache: b(c.kernel_cache),
            auto_cache: b(c.auto_cache),
            no_rofd_flush: b(c.no_rofd_flush),
            ac_attr_timeout_set: b(c.ac_attr_timeout_set),
            ac_attr_timeout: c.ac_attr_timeout,
            nullpath_ok: b(c.nullpath_ok),
            show_help: b(c.show_help),
            modules: ptr::null_mut(),
            debug: b(c.debug),
        };
        // SAFETY: `out` holds a Config314 by the contract.
        unsafe { out.cast::<Config314>().write(o) };
    } else {
        let o = fuse_config {
            set_gid: b(c.set_gid),
            gid: c.gid,
            set_uid: b(c.set_uid),
            uid: c.uid,
            set_mode: b(c.set_mode),
            umask: c.umask,
            entry_timeout: c.entry_timeout,
            negative_timeout: c.negative_timeout,
            attr_timeout: c.attr_timeout,
            intr: b(c.intr),
            intr_signal: c.intr_signal,
            remember: c.remember,
            hard_remove: b(c.hard_remove),
            use_ino: b(c.use_ino),
            readdir_ino: b(c.readdir_ino),
            direct_io: b(c.direct_io),
            kernel_cache: b(c.kernel_cache),
            auto_cache: b(c.auto_cache),
            ac_attr_timeout_set: b(c.ac_attr_timeout_set),
            ac_attr_timeout: c.ac_attr_timeout,
            nullpath_ok: b(c.nullpath_ok),
            show_help: b(c.show_help),
            modules: ptr::null_mut(),
            debug: b(c.debug),
            fmask: c.fmask,
            dmask: c.dmask,
            no_rofd_flush: b(c.no_rofd_flush),
            parallel_direct_writes: b(c.parallel_direct_writes),
            flags: c.flags,
            reserved: [0; 48],
        };
        // SAFETY: `out` holds a fuse_config by the contract.
        unsafe { out.cast::<fuse_config>().write(o) };
    }
}

/// Read back what `init` changed.
///
/// # Safety
/// `inp` holds a `fuse_config` of the layout `pre_317` names.
unsafe fn config_from_c(c: &mut Config, inp: *const c_void, pre_317: bool) {
    let t = |v: i32| v != 0;
    if pre_317 {
        // SAFETY: the contract.
        let o = unsafe { &*inp.cast::<Config314>() };
        c.no_rofd_flush = t(o.no_rofd_flush);
        macro_rules! take {
            ($($f:ident),*) => { $( c.$f = o.$f as _; )* };
        }
        take!(gid, uid, umask, entry_timeout, negative_timeout, attr_timeout, intr_signal);
        take!(remember, ac_attr_timeout);
        c.set_gid = t(o.set_gid);
        c.set_uid = t(o.set_uid);
        c.set_mode = t(o.set_mode);
        c.intr = t(o.intr);
        c.hard_remove = t(o.hard_remove);
        c.use_ino = t(o.use_ino);
        c.readdir_ino = t(o.readdir_ino);
        c.direct_io = t(o.direct_io);
        c.kernel_cache = t(o.kernel_cache);
        c.auto_cache = t(o.auto_cache);
        c.ac_attr_timeout_set = t(o.ac_attr_timeout_set);
        c.nullpath_ok = t(o.nullpath_ok);
        c.debug = t(o.debug);
    } else {
        // SAFETY: the contract.
        let o = unsafe { &*inp.cast::<fuse_config>() };
        macro_rules! take {
            ($($f:ident),*) => { $( c.$f = o.$f as _; )* };
        }
        take!(gid, uid, umask, entry_timeout, negative_timeout, attr_timeout, intr_signal);
        take!(remember, ac_attr_timeout, fmask, dmask, flags);
        c.set_gid = t(o.set_gid);
        c.set_uid = t(o.set_uid);
        c.set_mode = t(o.set_mode);
        c.intr = t(o.intr);
        c.hard_remove = t(o.hard_remove);
        c.use_ino = t(o.use_ino);
        c.readdir_ino = t(o.readdir_ino);
        c.direct_io = t(o.direct_io);
        c.kernel_cache = t(o.kernel_cache);
        c.auto_cache = t(o.auto_cache);
        c.ac_attr_timeout_set = t(o.ac_attr_timeout_set);
        c.nullpath_ok = t(o.nullpath_ok);
        c.debug = t(o.debug);
        c.no_rofd_flush = t(o.no_rofd_flush);
        c.parallel_direct_writes = t(o.parallel_direct_writes);
    }
}

/// Run the filesystem's `init` with the session's connection and the configuration.
pub(crate) fn run_init(inner: &Inner, conn: *mut ConnInfo) {
    let pre_317 = super::image_pre_317();
    let mut cfg = std::mem::MaybeUninit::<fuse_config>::zeroed();
    let snapshot = inner.conf.read().clone();
    // SAFETY: `cfg` is zeroed and large enough for either layout.
    unsafe { config_to_c(&snapshot, cfg.as_mut_ptr().cast(), pre_317) };
    {
        let _scope = ContextScope::enter(inner, None);
        // SAFETY: our fs, the session's connection info and our config buffer.
        unsafe {
            super::hl_fs::fuse_fs_init(inner.fs_ptr(), conn.cast(), cfg.as_mut_ptr());
        }
    }
    let mut conf = inner.conf.write();
    // SAFETY: the buffer holds the layout written above, as init left it.
    unsafe { config_from_c(&mut conf, cfg.as_ptr().cast(), pre_317) };
    if conf.intr {
        install_intr_handler(conf.intr_signal);
    }
}

extern "C" fn intr_handler(_sig: c_int) {
    // Nothing: the signal only interrupts the blocking call the filesystem is in (EINTR).
}

/// `-o intr`: make the interrupt signal harmless (it must not kill the process) unless the
/// program handles it itself, as libfuse does.
fn install_intr_handler(sig: c_int) {
    // SAFETY: all-zero is a valid sigaction to read into; sig is the configured signal.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: querying the current disposition only.
    if unsafe { libc::sigaction(sig, ptr::null(), &raw mut old) } != 0 {
        return;
    }
    if old.sa_sigaction != libc::SIG_DFL {
        return;
    }
    // SAFETY: as above.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = intr_handler as *const () as usize;
    // SAFETY: sa_mask is ours to clear; the handler does nothing, so it is async-signal-safe.
    unsafe {
        libc::sigemptyset(&raw mut sa.sa_mask);
        libc::sigaction(sig, &raw const sa, ptr::null_mut());
    }
}

/// Run the filesystem's `destroy`, once.
pub(crate) fn run_destroy(inner: &Inner) {
    if inner.destroyed.swap(true, Ordering::AcqRel) {
        return;
    }
    let _scope = ContextScope::enter(inner, None);
    if let Some(op) = inner.ops().destroy {
        // SAFETY: the program's destroy with its private data.
        unsafe { op(inner.private_data()) };
    }
}

// ------------------------------------------------------------------ creating a struct fuse

fn prog_args(args: *mut fuse_args) -> Option<(&'static mut fuse_args, Vec<Vec<u8>>)> {
    // SAFETY: NULL or a valid vector, by the exports' contract.
    let a = unsafe { args.as_mut() }?;
    if a.argc <= 0 || a.argv.is_null() {
        return None;
    }
    // SAFETY: argv holds argc C strings.
    let v = unsafe { super::fuse_opt::read_args(a) }.ok()?;
    Some((a, v))
}

/// Replace the caller's argument vector with `new` (libfuse's parsers rewrite it in place).
pub(crate) fn store_args(a: &mut fuse_args, new: &[Vec<u8>]) -> bool {
    let mut fresh = fuse_args { argc: 0, argv: ptr::null_mut(), allocated: 0 };
    {
        // SAFETY: `fresh` is an empty vector we own.
        let mut c = unsafe { super::fuse_opt::CArgs::new(&mut fresh) };
        for arg in new {
            if crate::opt::ArgVec::push(&mut c, arg).is_err() {
                // SAFETY: ours, built above.
                unsafe { super::fuse_opt::free_args(&mut fresh) };
                return false;
            }
        }
    }
    // SAFETY: the caller's vector; freed only if the library allocated it.
    unsafe { super::fuse_opt::free_args(a) };
    *a = fresh;
    true
}

/// `_fuse_new_31` and everything that ends in it.
///
/// # Safety
/// `args` is a valid vector; `op` holds `op_size` bytes.
unsafe fn new_fuse(
    args: *mut fuse_args,
    op: *const fuse_operations,
    op_size: size_t,
    version: (u32, u32, u32),
    user_data: *mut c_void,
) -> *mut fuse {
    let Some((a, input)) = prog_args(args) else {
        crate::log::err("fuse: empty argv passed to fuse_new().\n");
        return ptr::null_mut();
    };
    if op.is_null() {
        crate::log::err("fuse: fuse_new: NULL operations\n");
        return ptr::null_mut();
    }
    let mut conf = Config::default();
    let Ok(rest) = config::parse_lib_args(&input, &mut conf) else { return ptr::null_mut() };
    if !store_args(a, &rest) {
        return ptr::null_mut();
    }
    if let Some(m) = &conf.modules {
        crate::log::err(&format!(
            "fuse: modules are not supported by ferrofuse (modules={})\n",
            String::from_utf8_lossy(m)
        ));
        return ptr::null_mut();
    }
    // SAFETY: forwarded contract.
    let mut fs = unsafe { FuseFs::from_c(op, op_size, user_data) };
    fs.debug = conf.debug;
    let (so, mo, _) = match crate::session::opts::parse_session_args(&rest) {
        Ok(v) => v,
        Err(_) => return ptr::null_mut(),
    };
    let keep = conf.remember != 0;
    let inner = Arc::new(Inner {
        fs: Box::into_raw(Box::new(fs)),
        conf: RwLock::new(conf),
        nodes: Mutex::new(NodeTable::new(keep)),
        path_cv: parking_lot::Condvar::new(),
        dirs: Mutex::new(HashMap::new()),
        next_dir: AtomicU64::new(1),
        handle: AtomicUsize::new(0),
        session: AtomicUsize::new(0),
        destroyed: AtomicBool::new(false),
        cleanup: Mutex::new(None),
        intr_threads: Mutex::new(HashMap::new()),
    });
    let se = Session::new(&so, mo, super::image_pre_317(), version, 0);
    se.set_filesystem(Box::new(super::hl_dispatch::HlFs(inner.clone())));
    if so.debug {
        crate::log::debug("FUSE library version: 3.19.0\n");
    }
    let se = super::ll_session::register(se);
    inner.session.store(se as usize, Ordering::Release);
    let f = Box::into_raw(Box::new(Fuse { inner: inner.clone(), se }));
    inner.handle.store(f as usize, Ordering::Release);
    f.cast::<fuse>()
}

/// Creates a high-level filesystem (3.17+ entry, called by the `fuse_new` inline wrapper).
///
/// # Safety
/// `args` is a valid argument vector; `op` holds `op_size` bytes; `version` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _fuse_new_31(
    args: *mut fuse_args,
    op: *const fuse_operations,
    op_size: size_t,
    version: *mut libfuse_version,
    user_data: *mut c_void,
) -> *mut fuse {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: NULL or valid by the contract.
        let v = unsafe { version.as_ref() }.map_or((0, 0, 0), |v| (v.major, v.minor, v.hotfix));
        // SAFETY: forwarded contract.
        unsafe { new_fuse(args, op, op_size, v, user_data) }
    })
}
crate::symver!(_fuse_new_31, "FUSE_3.17");

/// As `_fuse_new_31`, first handling `-h`/`--help` as libfuse 3.0's `fuse_new` did (prints the
/// library's help and returns NULL).
///
/// # Safety
/// As for `_fuse_new_31`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _fuse_new_30(
    args: *mut fuse_args,
    op: *const fuse_operations,
    op_size: size_t,
    version: *mut libfuse_version,
    user_data: *mut c_void,
) -> *mut fuse {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: forwarded contract.
        if unsafe { wants_help(args) } {
            // SAFETY: valid by the contract.
            unsafe { fuse_lib_help(args) };
            return ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        unsafe { _fuse_new_31(args, op, op_size, version, user_data) }
    })
}
crate::symver!(_fuse_new_30, "FUSE_3.17", "_fuse_new@FUSE_3.0");

/// # Safety
/// `args` is NULL or a valid vector.
unsafe fn wants_help(args: *mut fuse_args) -> bool {
    let Some((a, input)) = prog_args(args) else { return false };
    let mut c = Config::default();
    match config::parse_help(&input, &mut c) {
        Ok(rest) => {
            let _ = store_args(a, &rest);
            c.show_help
        }
        Err(_) => false,
    }
}

/// `fuse_new@@FUSE_3.1` in `libfuse3.so.3` (pre-3.17 programs), `fuse_new@FUSE_3.1` in
/// `libfuse3.so.4` (3.17+ headers call `_fuse_new_31`): no version information.
///
/// # Safety
/// As for `_fuse_new_31`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_new_31(
    args: *mut fuse_args,
    op: *const fuse_operations,
    op_size: size_t,
    user_data: *mut c_void,
) -> *mut fuse {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: forwarded contract.
        unsafe { new_fuse(args, op, op_size, (0, 0, 0), user_data) }
    })
}
crate::symver!(fuse_new_31, "FUSE_3.1");
crate::image_symver!(fuse_new_31, so3 = "fuse_new@@FUSE_3.1", so4 = "fuse_new@FUSE_3.1");

/// `fuse_new@FUSE_3.0`: handles `-h`/`--help` itself, as 3.0 did.
///
/// # Safety
/// As for `_fuse_new_31`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_new_30(
    args: *mut fuse_args,
    op: *const fuse_operations,
    op_size: size_t,
    user_data: *mut c_void,
) -> *mut fuse {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: forwarded contract.
        if unsafe { wants_help(args) } {
            // SAFETY: valid by the contract.
            unsafe { fuse_lib_help(args) };
            return ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        unsafe { new_fuse(args, op, op_size, (0, 0, 0), user_data) }
    })
}
crate::symver!(fuse_new_30, "FUSE_3.1", "fuse_new@FUSE_3.0");

/// Prints the library's options (and the session's) to stdout.
///
/// # Safety
/// `args` is NULL or a valid vector.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lib_help(args: *mut fuse_args) {
    crate::ffi_guard!((), {
        let _ = args; // modules are not supported, so no module help to look for
        super::cmdline::c_print(config::LIB_HELP);
        // SAFETY: prints to stdout only.
        unsafe { super::cmdline::fuse_lowlevel_help() };
    })
}
crate::symver!(fuse_lib_help, "FUSE_3.1");

/// Mounts the filesystem at `mountpoint`. Returns 0 or -1.
///
/// # Safety
/// `f` is a live `struct fuse`; `mountpoint` a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_mount(f: *mut fuse, mountpoint: *const c_char) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fuse_ref(f) }) else { return -1 };
        // SAFETY: our session; the mountpoint is checked there.
        unsafe { super::ll_session::fuse_session_mount(f.se, mountpoint) }
    })
}
crate::symver!(fuse_mount, "FUSE_3.0");

/// Unmounts the filesystem.
///
/// # Safety
/// `f` is a live `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_unmount(f: *mut fuse) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fuse_ref(f) }) else { return };
        // SAFETY: our session.
        unsafe { super::ll_session::fuse_session_unmount(f.se) }
    })
}
crate::symver!(fuse_unmount, "FUSE_3.0");

/// Destroys the filesystem: its `destroy` runs if it has not yet, then everything is freed.
///
/// # Safety
/// `f` is NULL or a `struct fuse` not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_destroy(f: *mut fuse) {
    crate::ffi_guard!((), {
        if f.is_null() {
            return;
        }
        // SAFETY: made by Box::into_raw in new_fuse; ownership returns here.
        let f = unsafe { Box::from_raw(f.cast::<Fuse>()) };
        stop_cleanup(&f.inner);
        // SAFETY: our session, destroyed once.
        unsafe { super::ll_session::fuse_session_destroy(f.se) };
        f.inner.session.store(0, Ordering::Release);
        run_destroy(&f.inner);
        f.inner.dirs.lock().clear();
    })
}
crate::symver!(fuse_destroy, "FUSE_3.0");

/// Asks the loop to stop.
///
/// # Safety
/// `f` is a live `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_exit(f: *mut fuse) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        if let Some(s) = unsafe { fuse_ref(f) }.and_then(session_of) {
            s.exit();
        }
    })
}
crate::symver!(fuse_exit, "FUSE_3.0");

/// The low-level session under the filesystem.
///
/// # Safety
/// `f` is NULL or a live `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_get_session(f: *mut fuse) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: the caller's contract.
        unsafe { fuse_ref(f) }.map_or(ptr::null_mut(), |f| f.se)
    })
}
crate::symver!(fuse_get_session, "FUSE_3.0");

/// Serves requests on this thread until unmounted or told to exit.
///
/// # Safety
/// `f` is a live, mounted `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop(f: *mut fuse) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract; our session.
        unsafe { serve(f, |se| super::ll_session::fuse_session_loop(se)) }
    })
}
crate::symver!(fuse_loop, "FUSE_3.0");

/// The multithreaded loop with an opaque configuration (3.12 and later).
///
/// # Safety
/// `f` is a live, mounted `struct fuse`; `config` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_mt_312(f: *mut fuse, config: *mut fuse_loop_config) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract; our session and the caller's configuration.
        unsafe { serve(f, |se| super::ll_session::loop_mt_312(se, config)) }
    })
}
crate::symver!(fuse_loop_mt_312, "FUSE_3.12", "fuse_loop_mt@@FUSE_3.12");

/// The multithreaded loop with the public 3.2 configuration struct.
///
/// # Safety
/// `f` is a live, mounted `struct fuse`; `config` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_mt_32(f: *mut fuse, config: *mut fuse_loop_config_v1) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract; our session and the caller's configuration.
        unsafe { serve(f, |se| super::ll_session::loop_mt_32(se, config.cast())) }
    })
}
crate::symver!(fuse_loop_mt_32, "FUSE_3.12", "fuse_loop_mt@FUSE_3.2");

/// The multithreaded loop of 3.0 and 3.1 (`clone_fd` only).
///
/// # Safety
/// `f` is a live, mounted `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_mt_31(f: *mut fuse, clone_fd: c_int) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract; our session.
        unsafe { serve(f, |se| super::ll_session::loop_mt_31(se, clone_fd)) }
    })
}
crate::symver!(fuse_loop_mt_31, "FUSE_3.2", "fuse_loop_mt@FUSE_3.0");

/// What every `fuse_loop*` does around its session loop `run`: start the cleanup thread
/// (`remember=`), run, stop it. -1 for a NULL `f` or a cleanup thread that cannot start.
///
/// # Safety
/// `f` is NULL or a live, mounted `struct fuse`.
unsafe fn serve(f: *mut fuse, run: impl FnOnce(*mut fuse_session) -> c_int) -> c_int {
    // SAFETY: the caller's contract.
    let Some(fr) = (unsafe { fuse_ref(f) }) else { return -1 };
    if start_cleanup(&fr.inner) != 0 {
        return -1;
    }
    let res = run(fr.se);
    stop_cleanup(&fr.inner);
    res
}

fn start_cleanup(inner: &Arc<Inner>) -> c_int {
    let remember = inner.conf.read().remember;
    if remember <= 0 {
        return 0;
    }
    let mut slot = inner.cleanup.lock();
    if slot.is_some() {
        return 0;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (weak, s2) = (Arc::downgrade(inner), stop.clone());
    let period = std::time::Duration::from_secs((remember as u64 / 10).clamp(1, 3600));
    let spawned = std::thread::Builder::new().name("fuse-cleanup".into()).spawn(move || {
        let mut waited = std::time::Duration::ZERO;
        while !s2.load(Ordering::Acquire) {
            std::thread::sleep(std::time::Duration::from_millis(100));
            waited += std::time::Duration::from_millis(100);
            if waited >= period {
                waited = std::time::Duration::ZERO;
                let Some(i) = weak.upgrade() else { return };
                i.nodes.lock().prune();
            }
        }
    });
    match spawned {
        Ok(h) => {
            *slot = Some((h, stop));
            0
        }
        Err(_) => {
            crate::log::err("fuse: error creating thread\n");
            -1
        }
    }
}

fn stop_cleanup(inner: &Inner) {
    let t = inner.cleanup.lock().take();
    if let Some((h, stop)) = t {
        stop.store(true, Ordering::Release);
        let _ = h.join();
    }
}

/// Starts the thread that drops remembered nodes (with `remember=T`). Returns 0 or -1.
///
/// # Safety
/// `f` is a live `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_start_cleanup_thread(f: *mut fuse) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract.
        let Some(fr) = (unsafe { fuse_ref(f) }) else { return -1 };
        start_cleanup(&fr.inner)
    })
}
crate::symver!(fuse_start_cleanup_thread, "FUSE_3.0");

/// Stops the cleanup thread.
///
/// # Safety
/// `f` is a live `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_stop_cleanup_thread(f: *mut fuse) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        if let Some(fr) = unsafe { fuse_ref(f) } {
            stop_cleanup(&fr.inner);
        }
    })
}
crate::symver!(fuse_stop_cleanup_thread, "FUSE_3.0");

/// Drops the nodes no one holds; returns the seconds until it is worth calling again.
///
/// # Safety
/// `f` is a live `struct fuse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_clean_cache(f: *mut fuse) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract.
        let Some(fr) = (unsafe { fuse_ref(f) }) else { return -1 };
        fr.inner.nodes.lock().prune();
        let remember = fr.inner.conf.read().remember;
        if remember > 0 { (remember / 10).clamp(1, 3600) } else { 3600 }
    })
}
crate::symver!(fuse_clean_cache, "FUSE_3.0");

/// The context of the request (or `init`/`destroy`) this thread serves; NULL outside of one,
/// as with libfuse.
///
/// # Safety
/// The pointer is this thread's, valid while the callback runs; use it on this thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_get_context() -> *mut fuse_context {
    crate::ffi_guard!(ptr::null_mut(), {
        CURRENT.with(|c| if c.active.get() { c.ctx.get() } else { ptr::null_mut() })
    })
}
crate::symver!(fuse_get_context, "FUSE_3.0");

/// The current caller's supplementary groups (see `fuse_req_getgroups`).
///
/// # Safety
/// `list` holds `size` writable entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_getgroups(size: c_int, list: *mut gid_t) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let Some(h) = current_req() else { return -libc::EINVAL };
        // SAFETY: a live request handle of this thread; the caller's list.
        unsafe { super::ll_reply::fuse_req_getgroups(h.0 as _, size, list) }
    })
}
crate::symver!(fuse_getgroups, "FUSE_3.0");

/// Whether the current request was interrupted.
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_interrupted() -> c_int {
    crate::ffi_guard!(0, {
        let Some(h) = current_req() else { return 0 };
        crate::session::req::with(h, |d| c_int::from(d.is_interrupted())).unwrap_or(0)
    })
}
crate::symver!(fuse_interrupted, "FUSE_3.0");

/// Tells the kernel to drop the cached data and attributes of `path`.
///
/// # Safety
/// `f` is a live `struct fuse`; `path` a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_invalidate_path(f: *mut fuse, path: *const c_char) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(fr) = (unsafe { fuse_ref(f) }) else { return -libc::EINVAL };
        if path.is_null() {
            return -libc::EINVAL;
        }
        // SAFETY: a C string by the contract.
        let p = unsafe { CStr::from_ptr(path) }.to_bytes();
        let Some(ino) = fr.inner.nodes.lock().resolve(p) else { return -libc::ENOENT };
        // SAFETY: our session.
        unsafe { super::ll_notify::fuse_lowlevel_notify_inval_inode(fr.se, ino, 0, 0) }
    })
}
crate::symver!(fuse_invalidate_path, "FUSE_3.1");

/// Wakes up a poller (the handle `poll` got).
///
/// # Safety
/// `ph` is NULL or a live poll handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_notify_poll(ph: *mut fuse_pollhandle) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: forwarded contract.
        unsafe { super::ll_notify::fuse_lowlevel_notify_poll(ph) }
    })
}
crate::symver!(fuse_notify_poll, "FUSE_3.0");

// ------------------------------------------------------------------ fuse_main

/// # Safety
/// `argv` holds `argc` C strings; `op` holds `op_size` bytes.
unsafe fn main_common(
    argc: c_int,
    argv: *mut *mut c_char,
    op: *const fuse_operations,
    op_size: size_t,
    version: *mut libfuse_version,
    user_data: *mut c_void,
) -> c_int {
    let mut args = fuse_args { argc, argv, allocated: 0 };
    // SAFETY: zeroed is a valid empty options struct.
    let mut opts: fuse_cmdline_opts = unsafe { std::mem::zeroed() };
    // SAFETY: the caller's vector; our options struct.
    if unsafe { super::cmdline::parse_cmdline_312(&mut args, &mut opts) } != 0 {
        return 1;
    }
    // Whether fuse_main itself forked (the program had not started daemonizing early).
    let mut self_daemonize = false;
    let res = 'run: {
        if opts.show_version != 0 {
            // SAFETY: a static C string.
            let v = unsafe { CStr::from_ptr(super::fuse_common::fuse_pkgversion()) };
            super::cmdline::c_print(&format!("FUSE library version {}\n", v.to_string_lossy()));
            // SAFETY: prints only.
            unsafe { super::fuse_lowlevel::fuse_lowlevel_version() };
            break 'run 0;
        }
        if opts.show_help != 0 {
            // SAFETY: argv[0] is a C string (parse_cmdline succeeded on the vector).
            let prog = unsafe { CStr::from_ptr(*args.argv) }.to_string_lossy().into_owned();
            if !prog.is_empty() {
                super::cmdline::c_print(&format!("usage: {prog} [options] <mountpoint>\n\n"));
            }
            super::cmdline::c_print("FUSE options:\n");
            // SAFETY: prints only.
            unsafe { super::cmdline::fuse_cmdline_help() };
            // SAFETY: our vector.
            unsafe { fuse_lib_help(&mut args) };
            break 'run 0;
        }
        if opts.mountpoint.is_null() {
            crate::log::err("error: no mountpoint specified\n");
            break 'run 2;
        }
        // As libfuse 3.19: daemonize before creating anything (the parent waits until the
        // filesystem is mounted and INIT answered, which makes the mount synchronous, so what
        // INIT logs still reaches the caller's stderr), unless the program started that itself.
        self_daemonize = !crate::daemonize::early_is_used();
        if self_daemonize {
            let flags = if opts.foreground != 0 {
                super::fuse_daemonize::FUSE_DAEMONIZE_NO_BACKGROUND
            } else {
                0
            };
            let r = crate::daemonize::early_start(flags);
            if r != 0 {
                crate::log::err("fuse: daemonize_early_start failed\n");
                break 'run 5;
            }
        }
        // SAFETY: our vector; the caller's operations.
        let f = unsafe { _fuse_new_31(&mut args, op, op_size, version, user_data) };
        if f.is_null() {
            break 'run 3;
        }
        let res = 'mounted: {
            // SAFETY: our fuse; the parsed mountpoint.
            if unsafe { fuse_mount(f, opts.mountpoint) } != 0 {
                break 'mounted 4;
            }
            let res = 'serving: {
                // SAFETY: our fuse.
                let se = unsafe { fuse_get_session(f) };
                // SAFETY: our session.
                if unsafe { super::fuse_common::fuse_set_signal_handlers(se) } != 0 {
                    break 'serving 6;
                }
                if self_daemonize {
                    crate::daemonize::early_success();
                }
                let r = if opts.singlethread != 0 {
                    // SAFETY: our fuse.
                    unsafe { fuse_loop(f) }
                } else {
                    // SAFETY: creates a config we free below.
                    let cfg = unsafe { super::fuse_common::fuse_loop_cfg_create() };
                    if cfg.is_null() {
                        break 'serving 7;
                    }
                    // SAFETY: our config.
                    unsafe {
                        super::fuse_common::fuse_loop_cfg_set_clone_fd(
                            cfg,
                            opts.clone_fd as c_uint,
                        );
                        super::fuse_common::fuse_loop_cfg_set_idle_threads(
                            cfg,
                            opts.max_idle_threads,
                        );
                        super::fuse_common::fuse_loop_cfg_set_max_threads(cfg, opts.max_threads);
                    }
                    // SAFETY: our fuse and config.
                    let r = unsafe { fuse_loop_mt_312(f, cfg) };
                    // SAFETY: ours, freed once.
                    unsafe { super::fuse_common::fuse_loop_cfg_destroy(cfg) };
                    r
                };
                // SAFETY: our session.
                unsafe { super::fuse_common::fuse_remove_signal_handlers(se) };
                if r != 0 { 8 } else { 0 }
            };
            // SAFETY: our fuse.
            unsafe { fuse_unmount(f) };
            res
        };
        // SAFETY: our fuse, not used afterwards.
        unsafe { fuse_destroy(f) };
        res
    };
    // A failure before the mount was reported: the waiting parent exits with this code (3 for
    // setup, 4 for the mount, as a foreground run returns), where libfuse 3.19's parent only
    // sees the pipe close and exits 1.
    if res != 0 && self_daemonize && crate::daemonize::early_is_active() {
        crate::daemonize::early_fail(res);
    }
    // SAFETY: malloc'd by fuse_parse_cmdline (or NULL).
    unsafe { libc::free(opts.mountpoint.cast()) };
    // SAFETY: our vector (freed only where the library allocated it).
    unsafe { super::fuse_opt::free_args(&mut args) };
    res
}

/// What `fuse_main` does (3.17+ programs reach it through the inline wrappers): parse the
/// command line, handle `-h` and `-V`, create, mount, daemonize, install signal handlers, run
/// the single- or multithreaded loop, then unmount and destroy. Returns 0 or libfuse's codes
/// (1 bad arguments, 2 no mountpoint, 3 setup, 4 mount, 5 daemonize, 6 signals, 7/8 loop).
///
/// # Safety
/// `argv` holds `argc` C strings; `op` holds `op_size` bytes; `version` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_main_real_versioned(
    argc: c_int,
    argv: *mut *mut c_char,
    op: *const fuse_operations,
    op_size: size_t,
    version: *mut libfuse_version,
    user_data: *mut c_void,
) -> c_int {
    crate::ffi_guard!(1, {
        // SAFETY: forwarded contract.
        unsafe { main_common(argc, argv, op, op_size, version, user_data) }
    })
}
crate::symver!(fuse_main_real_versioned, "FUSE_3.17");

/// `fuse_main` of programs built against libfuse before 3.17.
///
/// # Safety
/// As for `fuse_main_real_versioned`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_main_real(
    argc: c_int,
    argv: *mut *mut c_char,
    op: *const fuse_operations,
    op_size: size_t,
    user_data: *mut c_void,
) -> c_int {
    crate::ffi_guard!(1, {
        // SAFETY: forwarded contract.
        unsafe { main_common(argc, argv, op, op_size, ptr::null_mut(), user_data) }
    })
}
crate::symver!(fuse_main_real, "FUSE_3.0");
