//! Mirrors <fuse_lowlevel.h>: the low-level API types, the operations table, replies,
//! notifications and session calls.
//!
//! Functions not implemented yet are declared in the `extern "C"` block at the end so that the
//! header has their prototypes; tests/symbols.rs lists them as missing until they move here.
#![allow(non_camel_case_types)]

use libc::{
    c_char, c_double, c_int, c_uint, c_void, dev_t, flock, gid_t, iovec, mode_t, off_t, pid_t,
    size_t, ssize_t, stat, statvfs, uid_t,
};

use super::fuse_common::{
    fuse_buf, fuse_buf_copy_flags, fuse_bufvec, fuse_conn_info, fuse_file_info, fuse_pollhandle,
    fuse_session, libfuse_version,
};
use super::fuse_opt::fuse_args;

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
    /// Answers with an error (`err` is a positive errno, or 0 for success without data).
    pub fn fuse_reply_err(req: fuse_req_t, err: c_int) -> c_int;
    /// Answers without any reply (forget-type requests).
    pub fn fuse_reply_none(req: fuse_req_t);
    /// Answers a lookup-type request with an entry.
    pub fn fuse_reply_entry(req: fuse_req_t, e: *const fuse_entry_param) -> c_int;
    /// Answers create with an entry and an open file.
    pub fn fuse_reply_create(
        req: fuse_req_t,
        e: *const fuse_entry_param,
        fi: *const fuse_file_info,
    ) -> c_int;
    /// Answers with attributes.
    pub fn fuse_reply_attr(req: fuse_req_t, attr: *const stat, attr_timeout: c_double) -> c_int;
    /// Answers readlink.
    pub fn fuse_reply_readlink(req: fuse_req_t, link: *const c_char) -> c_int;
    /// Registers `fd` as a passthrough backing file; returns its backing id or -errno.
    pub fn fuse_passthrough_open(req: fuse_req_t, fd: c_int) -> c_int;
    /// Releases a backing id from `fuse_passthrough_open`.
    pub fn fuse_passthrough_close(req: fuse_req_t, backing_id: c_int) -> c_int;
    /// Answers open or opendir.
    pub fn fuse_reply_open(req: fuse_req_t, fi: *const fuse_file_info) -> c_int;
    /// Answers write with the byte count written.
    pub fn fuse_reply_write(req: fuse_req_t, count: size_t) -> c_int;
    /// Answers with a data buffer.
    pub fn fuse_reply_buf(req: fuse_req_t, buf: *const c_char, size: size_t) -> c_int;
    /// Answers with data from a buffer vector.
    pub fn fuse_reply_data(
        req: fuse_req_t,
        bufv: *mut fuse_bufvec,
        flags: fuse_buf_copy_flags,
    ) -> c_int;
    /// Answers with data gathered from an iovec array.
    pub fn fuse_reply_iov(req: fuse_req_t, iov: *const iovec, count: c_int) -> c_int;
    /// Answers statfs.
    pub fn fuse_reply_statfs(req: fuse_req_t, stbuf: *const statvfs) -> c_int;
    /// Answers getxattr/listxattr size queries.
    pub fn fuse_reply_xattr(req: fuse_req_t, count: size_t) -> c_int;
    /// Answers getlk.
    pub fn fuse_reply_lock(req: fuse_req_t, lock: *const flock) -> c_int;
    /// Answers bmap.
    pub fn fuse_reply_bmap(req: fuse_req_t, idx: u64) -> c_int;
    /// Packs one directory entry into `buf`; returns the space it needs (written only if it fits).
    pub fn fuse_add_direntry(
        req: fuse_req_t,
        buf: *mut c_char,
        bufsize: size_t,
        name: *const c_char,
        stbuf: *const stat,
        off: off_t,
    ) -> size_t;
    /// As `fuse_add_direntry`, with a full entry for readdirplus.
    pub fn fuse_add_direntry_plus(
        req: fuse_req_t,
        buf: *mut c_char,
        bufsize: size_t,
        name: *const c_char,
        e: *const fuse_entry_param,
        off: off_t,
    ) -> size_t;
    /// Asks the kernel to retry an unrestricted ioctl with these buffers.
    pub fn fuse_reply_ioctl_retry(
        req: fuse_req_t,
        in_iov: *const iovec,
        in_count: size_t,
        out_iov: *const iovec,
        out_count: size_t,
    ) -> c_int;
    /// Answers ioctl.
    pub fn fuse_reply_ioctl(
        req: fuse_req_t,
        result: c_int,
        buf: *const c_void,
        size: size_t,
    ) -> c_int;
    /// Answers ioctl with data gathered from an iovec array.
    pub fn fuse_reply_ioctl_iov(
        req: fuse_req_t,
        result: c_int,
        iov: *const iovec,
        count: c_int,
    ) -> c_int;
    /// Answers poll.
    pub fn fuse_reply_poll(req: fuse_req_t, revents: c_uint) -> c_int;
    /// Answers lseek.
    pub fn fuse_reply_lseek(req: fuse_req_t, off: off_t) -> c_int;
    /// Answers statx.
    pub fn fuse_reply_statx(
        req: fuse_req_t,
        flags: c_int,
        statx: *const libc::statx,
        attr_timeout: c_double,
    ) -> c_int;
    /// Tells a poller that the file is ready.
    pub fn fuse_lowlevel_notify_poll(ph: *mut fuse_pollhandle) -> c_int;
    /// Drops cached data and attributes of an inode.
    pub fn fuse_lowlevel_notify_inval_inode(
        se: *mut fuse_session,
        ino: fuse_ino_t,
        off: off_t,
        len: off_t,
    ) -> c_int;
    /// Makes every cached entry of the mount stale.
    pub fn fuse_lowlevel_notify_increment_epoch(se: *mut fuse_session) -> c_int;
    /// Drops a cached directory entry.
    pub fn fuse_lowlevel_notify_inval_entry(
        se: *mut fuse_session,
        parent: fuse_ino_t,
        name: *const c_char,
        namelen: size_t,
    ) -> c_int;
    /// Marks a cached directory entry expired.
    pub fn fuse_lowlevel_notify_expire_entry(
        se: *mut fuse_session,
        parent: fuse_ino_t,
        name: *const c_char,
        namelen: size_t,
    ) -> c_int;
    /// Tells the kernel an entry was deleted.
    pub fn fuse_lowlevel_notify_delete(
        se: *mut fuse_session,
        parent: fuse_ino_t,
        child: fuse_ino_t,
        name: *const c_char,
        namelen: size_t,
    ) -> c_int;
    /// Pushes data into the kernel's page cache.
    pub fn fuse_lowlevel_notify_store(
        se: *mut fuse_session,
        ino: fuse_ino_t,
        offset: off_t,
        bufv: *mut fuse_bufvec,
        flags: fuse_buf_copy_flags,
    ) -> c_int;
    /// Asks the kernel for cached data; the answer arrives through `retrieve_reply`.
    pub fn fuse_lowlevel_notify_retrieve(
        se: *mut fuse_session,
        ino: fuse_ino_t,
        size: size_t,
        offset: off_t,
        cookie: *mut c_void,
    ) -> c_int;
    /// Asks the kernel to forget unused inodes.
    pub fn fuse_lowlevel_notify_prune(
        se: *mut fuse_session,
        nodeids: *mut fuse_ino_t,
        count: u32,
    ) -> c_int;
    /// The `userdata` given to `fuse_session_new`.
    pub fn fuse_req_userdata(req: fuse_req_t) -> *mut c_void;
    /// Who sent the request.
    pub fn fuse_req_ctx(req: fuse_req_t) -> *const fuse_ctx;
    /// Number of security contexts the request carries.
    pub fn fuse_req_secctx_count(req: fuse_req_t) -> u32;
    /// Restarts iteration over the request's security contexts.
    pub fn fuse_req_secctx_reset(req: fuse_req_t);
    /// The next security context of the request.
    pub fn fuse_req_secctx_next(
        req: fuse_req_t,
        name: *mut *const c_char,
        value: *mut *const c_char,
        value_len: *mut u32,
    ) -> c_int;
    /// The caller's supplementary groups; returns their number or -errno.
    pub fn fuse_req_getgroups(req: fuse_req_t, size: c_int, list: *mut gid_t) -> c_int;
    /// Registers a function called when the request is interrupted.
    pub fn fuse_req_interrupt_func(req: fuse_req_t, func: fuse_interrupt_func_t, data: *mut c_void);
    /// Whether the request was interrupted.
    pub fn fuse_req_interrupted(req: fuse_req_t) -> c_int;
    /// Creates a session (3.17+ entry point, reached through the `fuse_session_new` wrapper).
    pub fn fuse_session_new_versioned(
        args: *mut fuse_args,
        op: *const fuse_lowlevel_ops,
        op_size: size_t,
        version: *const libfuse_version,
        userdata: *mut c_void,
    ) -> *mut fuse_session;
    /// Replaces the session's device I/O (`op_size` bytes of `io` are read).
    pub fn fuse_session_custom_io_317(
        se: *mut fuse_session,
        io: *const fuse_custom_io,
        op_size: size_t,
        fd: c_int,
    ) -> c_int;
    /// Mounts the session's filesystem on `mountpoint`.
    pub fn fuse_session_mount(se: *mut fuse_session, mountpoint: *const c_char) -> c_int;
    /// Serves requests on the calling thread until the session ends.
    pub fn fuse_session_loop(se: *mut fuse_session) -> c_int;
    /// Ends the session's loop.
    pub fn fuse_session_exit(se: *mut fuse_session);
    /// Clears the exited state.
    pub fn fuse_session_reset(se: *mut fuse_session);
    /// Whether the session has exited.
    pub fn fuse_session_exited(se: *mut fuse_session) -> c_int;
    /// Unmounts the filesystem.
    pub fn fuse_session_unmount(se: *mut fuse_session);
    /// Frees the session.
    pub fn fuse_session_destroy(se: *mut fuse_session);
    /// Starts a watchdog that calls `cb` if teardown takes longer than `timeout_sec`.
    pub fn fuse_session_start_teardown_watchdog(
        se: *mut fuse_session,
        timeout_sec: c_int,
        cb: fuse_timeout_cb,
        cb_data: *mut c_void,
    ) -> *mut c_void;
    /// Stops a teardown watchdog.
    pub fn fuse_session_stop_teardown_watchdog(data: *mut c_void);
    /// The session's /dev/fuse file descriptor.
    pub fn fuse_session_fd(se: *const fuse_session) -> c_int;
    /// Handles one request read with `fuse_session_receive_buf`.
    pub fn fuse_session_process_buf(se: *mut fuse_session, buf: *const fuse_buf);
    /// Reads one request; returns its size, 0 at unmount, or -errno.
    pub fn fuse_session_receive_buf(se: *mut fuse_session, buf: *mut fuse_buf) -> c_int;
    /// Chooses synchronous INIT (answered while the mount call runs).
    pub fn fuse_session_set_sync_init(se: *mut fuse_session, enable: bool);
    /// Whether the connection was set up with synchronous INIT.
    pub fn fuse_conn_is_sync_init(conn: *const fuse_conn_info) -> bool;
    /// Turns on debug output for the session.
    pub fn fuse_session_set_debug(se: *mut fuse_session);
    /// Whether the request arrived over io_uring.
    pub fn fuse_req_is_uring(req: fuse_req_t) -> bool;
    /// The request's payload buffer (io_uring transport).
    pub fn fuse_req_get_payload(
        req: fuse_req_t,
        payload: *mut *mut c_char,
        payload_sz: *mut size_t,
        mr: *mut *mut c_void,
    ) -> c_int;
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
