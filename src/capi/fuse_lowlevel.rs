//! Mirrors <fuse_lowlevel.h>: the low-level API types, the operations table, replies,
//! notifications and session calls.
//!
//! Functions not implemented yet are declared in the `extern "C"` block at the end so that the
//! header has their prototypes; tests/symbols.rs lists them as missing until they move here.
#![allow(non_camel_case_types)]

use libc::{
    c_char, c_double, c_int, c_uint, c_void, dev_t, flock, gid_t, iovec, mode_t, off_t, pid_t,
    size_t, ssize_t, stat, uid_t,
};

use super::fuse_common::{
    fuse_bufvec, fuse_conn_info, fuse_file_info, fuse_pollhandle, fuse_session,
};

/// The inode number of the filesystem's root.
pub const FUSE_ROOT_ID: c_int = 1;

/// setattr `to_set` bit: mode changes.
pub const FUSE_SET_ATTR_MODE: c_int = 1 << 0;
/// setattr `to_set` bit: owner changes.
pub const FUSE_SET_ATTR_UID: c_int = 1 << 1;
/// setattr `to_set` bit: group changes.
pub const FUSE_SET_ATTR_GID: c_int = 1 << 2;
/// setattr `to_set` bit: size changes (truncate).
pub const FUSE_SET_ATTR_SIZE: c_int = 1 << 3;
/// setattr `to_set` bit: access time is set.
pub const FUSE_SET_ATTR_ATIME: c_int = 1 << 4;
/// setattr `to_set` bit: modification time is set.
pub const FUSE_SET_ATTR_MTIME: c_int = 1 << 5;
/// setattr `to_set` bit: access time becomes "now".
pub const FUSE_SET_ATTR_ATIME_NOW: c_int = 1 << 7;
/// setattr `to_set` bit: modification time becomes "now".
pub const FUSE_SET_ATTR_MTIME_NOW: c_int = 1 << 8;
/// setattr `to_set` bit: forced change.
pub const FUSE_SET_ATTR_FORCE: c_int = 1 << 9;
/// setattr `to_set` bit: change time is set.
pub const FUSE_SET_ATTR_CTIME: c_int = 1 << 10;
/// setattr `to_set` bit: clear the setuid bit.
pub const FUSE_SET_ATTR_KILL_SUID: c_int = 1 << 11;
/// setattr `to_set` bit: clear the setgid bit.
pub const FUSE_SET_ATTR_KILL_SGID: c_int = 1 << 12;
/// setattr `to_set` bit: the request came through an open file.
pub const FUSE_SET_ATTR_FILE: c_int = 1 << 13;
/// setattr `to_set` bit: clear privileges (suid, sgid, capabilities).
pub const FUSE_SET_ATTR_KILL_PRIV: c_int = 1 << 14;
/// setattr `to_set` bit: the request is part of an open.
pub const FUSE_SET_ATTR_OPEN: c_int = 1 << 15;
/// setattr `to_set` bit: times set explicitly.
pub const FUSE_SET_ATTR_TIMES_SET: c_int = 1 << 16;
/// setattr `to_set` bit: times set to now.
pub const FUSE_SET_ATTR_TOUCH: c_int = 1 << 17;

/// An inode number as the filesystem sees it.
pub type fuse_ino_t = u64;

/// Opaque: one request from the kernel.
pub struct fuse_req {
    _opaque: [u8; 0],
}

/// A request handle, answered by exactly one `fuse_reply_*` call.
pub type fuse_req_t = *mut fuse_req;

/// What lookup, mknod, mkdir, symlink, link and create answer with.
#[repr(C)]
pub struct fuse_entry_param {
    /// Inode number (0 means a negative, cacheable entry).
    pub ino: fuse_ino_t,
    /// Generation number; (ino, generation) is unique for the filesystem's life.
    pub generation: u64,
    /// The inode's attributes.
    pub attr: stat,
    /// Seconds the attributes stay valid.
    pub attr_timeout: c_double,
    /// Seconds the name stays valid.
    pub entry_timeout: c_double,
}

/// Who sent a request.
#[repr(C)]
pub struct fuse_ctx {
    /// Caller's user id.
    pub uid: uid_t,
    /// Caller's group id.
    pub gid: gid_t,
    /// Caller's thread id.
    pub pid: pid_t,
    /// Caller's umask.
    pub umask: mode_t,
}

/// One entry of a batched forget.
#[repr(C)]
pub struct fuse_forget_data {
    /// The inode.
    pub ino: fuse_ino_t,
    /// How many lookups to forget.
    pub nlookup: u64,
}

/// Replacement I/O functions for a session that does not talk to /dev/fuse directly.
#[repr(C)]
pub struct fuse_custom_io {
    /// Writes a reply.
    pub writev: Option<
        unsafe extern "C" fn(
            fd: c_int,
            iov: *mut iovec,
            count: c_int,
            userdata: *mut c_void,
        ) -> ssize_t,
    >,
    /// Reads a request.
    pub read: Option<
        unsafe extern "C" fn(
            fd: c_int,
            buf: *mut c_void,
            buf_len: size_t,
            userdata: *mut c_void,
        ) -> ssize_t,
    >,
    /// Splices a request in.
    pub splice_receive: Option<
        unsafe extern "C" fn(
            fdin: c_int,
            offin: *mut off_t,
            fdout: c_int,
            offout: *mut off_t,
            len: size_t,
            flags: c_uint,
            userdata: *mut c_void,
        ) -> ssize_t,
    >,
    /// Splices a reply out.
    pub splice_send: Option<
        unsafe extern "C" fn(
            fdin: c_int,
            offin: *mut off_t,
            fdout: c_int,
            offout: *mut off_t,
            len: size_t,
            flags: c_uint,
            userdata: *mut c_void,
        ) -> ssize_t,
    >,
    /// Clones the device fd for a worker thread.
    pub clone_fd: Option<unsafe extern "C" fn(master_fd: c_int) -> c_int>,
}

/// Flags of an entry notification.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fuse_notify_entry_flags {
    /// Drop the entry.
    FUSE_LL_INVALIDATE = 0,
    /// Only mark the entry expired.
    FUSE_LL_EXPIRE_ONLY = 1 << 0,
}

/// Called when the kernel interrupts a request.
pub type fuse_interrupt_func_t = Option<unsafe extern "C" fn(req: fuse_req_t, data: *mut c_void)>;

/// Called by the teardown watchdog when it fires.
pub type fuse_timeout_cb = Option<unsafe extern "C" fn(data: *mut c_void)>;

/// The filesystem's operations. Every member may be NULL: the library then answers as libfuse
/// does (usually ENOSYS). Newer members are appended, so the library reads only `op_size` bytes.
#[repr(C)]
pub struct fuse_lowlevel_ops {
    /// The connection is set up; adjust `conn`.
    pub init: Option<unsafe extern "C" fn(userdata: *mut c_void, conn: *mut fuse_conn_info)>,
    /// The filesystem is going away.
    pub destroy: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// Look up `name` in `parent`.
    pub lookup:
        Option<unsafe extern "C" fn(req: fuse_req_t, parent: fuse_ino_t, name: *const c_char)>,
    /// Drop `nlookup` lookups of an inode.
    pub forget: Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, nlookup: u64)>,
    /// Get attributes.
    pub getattr:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info)>,
    /// Set the attributes selected by `to_set` (FUSE_SET_ATTR_*).
    pub setattr: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            attr: *mut stat,
            to_set: c_int,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Read a symlink.
    pub readlink: Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t)>,
    /// Create a node.
    pub mknod: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            parent: fuse_ino_t,
            name: *const c_char,
            mode: mode_t,
            rdev: dev_t,
        ),
    >,
    /// Create a directory.
    pub mkdir: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            parent: fuse_ino_t,
            name: *const c_char,
            mode: mode_t,
        ),
    >,
    /// Remove a file.
    pub unlink:
        Option<unsafe extern "C" fn(req: fuse_req_t, parent: fuse_ino_t, name: *const c_char)>,
    /// Remove a directory.
    pub rmdir:
        Option<unsafe extern "C" fn(req: fuse_req_t, parent: fuse_ino_t, name: *const c_char)>,
    /// Create a symlink `name` in `parent` pointing at `link`.
    pub symlink: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            link: *const c_char,
            parent: fuse_ino_t,
            name: *const c_char,
        ),
    >,
    /// Rename, with RENAME_* `flags`.
    pub rename: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            parent: fuse_ino_t,
            name: *const c_char,
            newparent: fuse_ino_t,
            newname: *const c_char,
            flags: c_uint,
        ),
    >,
    /// Create a hard link.
    pub link: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            newparent: fuse_ino_t,
            newname: *const c_char,
        ),
    >,
    /// Open a file.
    pub open:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info)>,
    /// Read data.
    pub read: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Write data.
    pub write: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            buf: *const c_char,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// A file descriptor is being closed.
    pub flush:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info)>,
    /// The last reference to an open file is gone.
    pub release:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info)>,
    /// Sync file contents (only data if `datasync`).
    pub fsync: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            datasync: c_int,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Open a directory.
    pub opendir:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info)>,
    /// Read directory entries.
    pub readdir: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Close a directory.
    pub releasedir:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info)>,
    /// Sync a directory.
    pub fsyncdir: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            datasync: c_int,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Filesystem statistics.
    pub statfs: Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t)>,
    /// Set an extended attribute.
    pub setxattr: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            name: *const c_char,
            value: *const c_char,
            size: size_t,
            flags: c_int,
        ),
    >,
    /// Get an extended attribute.
    pub getxattr: Option<
        unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, name: *const c_char, size: size_t),
    >,
    /// List extended attributes.
    pub listxattr: Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, size: size_t)>,
    /// Remove an extended attribute.
    pub removexattr:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, name: *const c_char)>,
    /// Check access permissions.
    pub access: Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, mask: c_int)>,
    /// Create and open a file.
    pub create: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            parent: fuse_ino_t,
            name: *const c_char,
            mode: mode_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Test for a POSIX lock.
    pub getlk: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            fi: *mut fuse_file_info,
            lock: *mut flock,
        ),
    >,
    /// Take or release a POSIX lock.
    pub setlk: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            fi: *mut fuse_file_info,
            lock: *mut flock,
            sleep: c_int,
        ),
    >,
    /// Map a block index (block devices only).
    pub bmap:
        Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, blocksize: size_t, idx: u64)>,
    /// ioctl, API levels before 35: `cmd` is an int.
    #[cfg(not(fuse_api_35))]
    pub ioctl: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            cmd: c_int,
            arg: *mut c_void,
            fi: *mut fuse_file_info,
            flags: c_uint,
            in_buf: *const c_void,
            in_bufsz: size_t,
            out_bufsz: size_t,
        ),
    >,
    /// ioctl; `cmd` is unsigned from API level 35 on.
    #[cfg(fuse_api_35)]
    pub ioctl: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            cmd: c_uint,
            arg: *mut c_void,
            fi: *mut fuse_file_info,
            flags: c_uint,
            in_buf: *const c_void,
            in_bufsz: size_t,
            out_bufsz: size_t,
        ),
    >,
    /// Poll for I/O readiness.
    pub poll: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            fi: *mut fuse_file_info,
            ph: *mut fuse_pollhandle,
        ),
    >,
    /// Write data handed over as a buffer vector.
    pub write_buf: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            bufv: *mut fuse_bufvec,
            off: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// The answer to `fuse_lowlevel_notify_retrieve`.
    pub retrieve_reply: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            cookie: *mut c_void,
            ino: fuse_ino_t,
            offset: off_t,
            bufv: *mut fuse_bufvec,
        ),
    >,
    /// Forget several inodes at once.
    pub forget_multi: Option<
        unsafe extern "C" fn(req: fuse_req_t, count: size_t, forgets: *mut fuse_forget_data),
    >,
    /// Take or release a BSD lock.
    pub flock: Option<
        unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t, fi: *mut fuse_file_info, op: c_int),
    >,
    /// Allocate or punch file space.
    pub fallocate: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            mode: c_int,
            offset: off_t,
            length: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Read directory entries with their attributes.
    pub readdirplus: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Copy a range between two open files.
    pub copy_file_range: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino_in: fuse_ino_t,
            off_in: off_t,
            fi_in: *mut fuse_file_info,
            ino_out: fuse_ino_t,
            off_out: off_t,
            fi_out: *mut fuse_file_info,
            len: size_t,
            flags: c_int,
        ),
    >,
    /// Find data or holes (SEEK_DATA, SEEK_HOLE).
    pub lseek: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            off: off_t,
            whence: c_int,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Create an unnamed temporary file.
    pub tmpfile: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            parent: fuse_ino_t,
            mode: mode_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Extended attributes (statx).
    pub statx: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            ino: fuse_ino_t,
            flags: c_int,
            mask: c_int,
            fi: *mut fuse_file_info,
        ),
    >,
    /// Sync the whole filesystem.
    pub syncfs: Option<unsafe extern "C" fn(req: fuse_req_t, ino: fuse_ino_t)>,
}

/// Size of the operations table in libfuse 3.14 (before tmpfile, statx and syncfs).
pub const LOWLEVEL_OPS_SIZE_314: usize = 44 * 8;

const _: () = assert!(std::mem::size_of::<fuse_lowlevel_ops>() == 47 * 8);
const _: () = assert!(std::mem::size_of::<fuse_entry_param>() == 176);

#[allow(improper_ctypes)]
unsafe extern "C" {
    /// Asks the kernel for cached data; the answer arrives through `retrieve_reply`.
    pub fn fuse_lowlevel_notify_retrieve(
        se: *mut fuse_session,
        ino: fuse_ino_t,
        size: size_t,
        offset: off_t,
        cookie: *mut c_void,
    ) -> c_int;
    /// Starts a watchdog that calls `cb` if teardown takes longer than `timeout_sec`.
    pub fn fuse_session_start_teardown_watchdog(
        se: *mut fuse_session,
        timeout_sec: c_int,
        cb: fuse_timeout_cb,
        cb_data: *mut c_void,
    ) -> *mut c_void;
    /// Stops a teardown watchdog.
    pub fn fuse_session_stop_teardown_watchdog(data: *mut c_void);
}

/// Prints the kernel protocol version this library speaks.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_version() {
    crate::ffi_guard!((), {
        crate::sys::c_print(&format!(
            "using FUSE kernel interface version {}.{}\n",
            crate::kernel::FUSE_KERNEL_VERSION,
            crate::kernel::FUSE_KERNEL_MINOR_VERSION
        ));
        crate::sys::print_helper_version();
    })
}
crate::symver!(fuse_lowlevel_version, "FUSE_3.0");
