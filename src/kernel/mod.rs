//! The kernel protocol: wire structs, opcodes and flags, named as <linux/fuse.h> names them.
//!
//! Everything here is plain data with a pinned size; the kernel speaks protocol 7.45 on Linux
//! 6.18. Structs implement [`Wire`], which lets the codec copy them out of (and into) byte
//! buffers without trusting alignment or length.
#![allow(non_camel_case_types)]

/// Major version of the kernel protocol this library speaks.
pub const FUSE_KERNEL_VERSION: u32 = 7;
/// Minor version of the kernel protocol this library speaks (Linux 6.18).
pub const FUSE_KERNEL_MINOR_VERSION: u32 = 45;
/// The root inode.
pub const FUSE_ROOT_ID: u64 = 1;
/// The smallest read buffer the kernel accepts.
pub const FUSE_MIN_READ_BUFFER: usize = 8192;

/// Plain-old-data kernel structs: every bit pattern is a valid value, no padding bytes hide
/// uninitialised memory (all fields are explicit), so they may be copied from and to bytes.
///
/// # Safety
/// Implement only for `#[repr(C)]` structs of integer fields (or arrays or other `Wire`
/// structs) with no implicit padding.
pub unsafe trait Wire: Copy + Default + 'static {}

/// Declares wire structs: `#[repr(C)]`, `Default`, `Wire`, and a size assertion.
macro_rules! wire {
    ($( $(#[$m:meta])* struct $name:ident [$size:expr] { $( $(#[$fm:meta])* $f:ident : $t:ty ),* $(,)? } )*) => {
        $(
            $(#[$m])*
            #[repr(C)]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $name { $( $(#[$fm])* pub $f: $t ),* }
            // SAFETY: repr(C), integer fields only, size pinned below (no implicit padding:
            // the pinned size equals the sum of the fields, checked by the assertion).
            unsafe impl Wire for $name {}
            const _: () = assert!(::std::mem::size_of::<$name>() == $size);
            const _: () = assert!(0 $( + ::std::mem::size_of::<$t>() )* == $size);
        )*
    };
}

wire! {
    /// Attributes of an inode.
    struct fuse_attr [88] {
        ino: u64, size: u64, blocks: u64, atime: u64, mtime: u64, ctime: u64,
        atimensec: u32, mtimensec: u32, ctimensec: u32, mode: u32, nlink: u32, uid: u32,
        gid: u32, rdev: u32, blksize: u32, flags: u32,
    }
    /// A statx timestamp.
    struct fuse_sx_time [16] { tv_sec: i64, tv_nsec: u32, reserved: i32 }
    /// statx attributes.
    struct fuse_statx [256] {
        mask: u32, blksize: u32, attributes: u64, nlink: u32, uid: u32, gid: u32, mode: u16,
        spare0: u16, ino: u64, size: u64, blocks: u64, attributes_mask: u64,
        atime: fuse_sx_time, btime: fuse_sx_time, ctime: fuse_sx_time, mtime: fuse_sx_time,
        rdev_major: u32, rdev_minor: u32, dev_major: u32, dev_minor: u32, spare2: [u64; 14],
    }
    /// Filesystem statistics.
    struct fuse_kstatfs [80] {
        blocks: u64, bfree: u64, bavail: u64, files: u64, ffree: u64, bsize: u32,
        namelen: u32, frsize: u32, padding: u32, spare: [u32; 6],
    }
    /// A POSIX lock range.
    struct fuse_file_lock [24] { start: u64, end: u64, typ: u32, pid: u32 }
    /// Reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK (and the first part of CREATE).
    struct fuse_entry_out [128] {
        nodeid: u64, generation: u64, entry_valid: u64, attr_valid: u64,
        entry_valid_nsec: u32, attr_valid_nsec: u32, attr: fuse_attr,
    }
    /// FORGET argument.
    struct fuse_forget_in [8] { nlookup: u64 }
    /// One BATCH_FORGET entry.
    struct fuse_forget_one [16] { nodeid: u64, nlookup: u64 }
    /// BATCH_FORGET argument (followed by `count` entries).
    struct fuse_batch_forget_in [8] { count: u32, dummy: u32 }
    /// GETATTR argument.
    struct fuse_getattr_in [16] { getattr_flags: u32, dummy: u32, fh: u64 }
    /// Reply to GETATTR and SETATTR.
    struct fuse_attr_out [104] { attr_valid: u64, attr_valid_nsec: u32, dummy: u32, attr: fuse_attr }
    /// STATX argument.
    struct fuse_statx_in [24] { getattr_flags: u32, reserved: u32, fh: u64, sx_flags: u32, sx_mask: u32 }
    /// Reply to STATX.
    struct fuse_statx_out [288] {
        attr_valid: u64, attr_valid_nsec: u32, flags: u32, spare: [u64; 2], stat: fuse_statx,
    }
    /// MKNOD argument (followed by the name).
    struct fuse_mknod_in [16] { mode: u32, rdev: u32, umask: u32, padding: u32 }
    /// MKDIR argument (followed by the name).
    struct fuse_mkdir_in [8] { mode: u32, umask: u32 }
    /// RENAME argument (followed by two names).
    struct fuse_rename_in [8] { newdir: u64 }
    /// RENAME2 argument (followed by two names).
    struct fuse_rename2_in [16] { newdir: u64, flags: u32, padding: u32 }
    /// LINK argument (followed by the new name).
    struct fuse_link_in [8] { oldnodeid: u64 }
    /// SETATTR argument.
    struct fuse_setattr_in [88] {
        valid: u32, padding: u32, fh: u64, size: u64, lock_owner: u64, atime: u64, mtime: u64,
        ctime: u64, atimensec: u32, mtimensec: u32, ctimensec: u32, mode: u32, unused4: u32,
        uid: u32, gid: u32, unused5: u32,
    }
    /// OPEN and OPENDIR argument.
    struct fuse_open_in [8] { flags: u32, open_flags: u32 }
    /// CREATE and TMPFILE argument (CREATE: followed by the name).
    struct fuse_create_in [16] { flags: u32, mode: u32, umask: u32, open_flags: u32 }
    /// Reply to OPEN, OPENDIR (and the second part of CREATE).
    struct fuse_open_out [16] { fh: u64, open_flags: u32, backing_id: i32 }
    /// RELEASE and RELEASEDIR argument.
    struct fuse_release_in [24] { fh: u64, flags: u32, release_flags: u32, lock_owner: u64 }
    /// FLUSH argument.
    struct fuse_flush_in [24] { fh: u64, unused: u32, padding: u32, lock_owner: u64 }
    /// READ, READDIR and READDIRPLUS argument.
    struct fuse_read_in [40] {
        fh: u64, offset: u64, size: u32, read_flags: u32, lock_owner: u64, flags: u32, padding: u32,
    }
    /// WRITE argument (followed by the data).
    struct fuse_write_in [40] {
        fh: u64, offset: u64, size: u32, write_flags: u32, lock_owner: u64, flags: u32, padding: u32,
    }
    /// Reply to WRITE.
    struct fuse_write_out [8] { size: u32, padding: u32 }
    /// Reply to STATFS.
    struct fuse_statfs_out [80] { st: fuse_kstatfs }
    /// FSYNC and FSYNCDIR argument.
    struct fuse_fsync_in [16] { fh: u64, fsync_flags: u32, padding: u32 }
    /// SETXATTR argument (followed by name and value).
    struct fuse_setxattr_in [16] { size: u32, flags: u32, setxattr_flags: u32, padding: u32 }
    /// GETXATTR and LISTXATTR argument.
    struct fuse_getxattr_in [8] { size: u32, padding: u32 }
    /// Reply to a size-probing GETXATTR or LISTXATTR.
    struct fuse_getxattr_out [8] { size: u32, padding: u32 }
    /// GETLK, SETLK and SETLKW argument.
    struct fuse_lk_in [48] { fh: u64, owner: u64, lk: fuse_file_lock, lk_flags: u32, padding: u32 }
    /// Reply to GETLK.
    struct fuse_lk_out [24] { lk: fuse_file_lock }
    /// ACCESS argument.
    struct fuse_access_in [8] { mask: u32, padding: u32 }
    /// INIT argument.
    struct fuse_init_in [64] {
        major: u32, minor: u32, max_readahead: u32, flags: u32, flags2: u32, unused: [u32; 11],
    }
    /// Reply to INIT.
    struct fuse_init_out [64] {
        major: u32, minor: u32, max_readahead: u32, flags: u32, max_background: u16,
        congestion_threshold: u16, max_write: u32, time_gran: u32, max_pages: u16,
        map_alignment: u16, flags2: u32, max_stack_depth: u32, request_timeout: u16,
        unused: [u16; 11],
    }
    /// CUSE_INIT argument.
    struct cuse_init_in [16] { major: u32, minor: u32, unused: u32, flags: u32 }
    /// Reply to CUSE_INIT (followed by the device info strings).
    struct cuse_init_out [72] {
        major: u32, minor: u32, unused: u32, flags: u32, max_read: u32, max_write: u32,
        dev_major: u32, dev_minor: u32, spare: [u32; 10],
    }
    /// INTERRUPT argument.
    struct fuse_interrupt_in [8] { unique: u64 }
    /// BMAP argument.
    struct fuse_bmap_in [16] { block: u64, blocksize: u32, padding: u32 }
    /// Reply to BMAP.
    struct fuse_bmap_out [8] { block: u64 }
    /// IOCTL argument (followed by `in_size` bytes of input).
    struct fuse_ioctl_in [32] { fh: u64, flags: u32, cmd: u32, arg: u64, in_size: u32, out_size: u32 }
    /// One iovec of an ioctl retry reply.
    struct fuse_ioctl_iovec [16] { base: u64, len: u64 }
    /// Reply to IOCTL.
    struct fuse_ioctl_out [16] { result: i32, flags: u32, in_iovs: u32, out_iovs: u32 }
    /// POLL argument.
    struct fuse_poll_in [24] { fh: u64, kh: u64, flags: u32, events: u32 }
    /// Reply to POLL.
    struct fuse_poll_out [8] { revents: u32, padding: u32 }
    /// Poll wakeup notification.
    struct fuse_notify_poll_wakeup_out [8] { kh: u64 }
    /// FALLOCATE argument.
    struct fuse_fallocate_in [32] { fh: u64, offset: u64, length: u64, mode: u32, padding: u32 }
    /// The header of every request.
    struct fuse_in_header [40] {
        len: u32, opcode: u32, unique: u64, nodeid: u64, uid: u32, gid: u32, pid: u32,
        total_extlen: u16, padding: u16,
    }
    /// The header of every reply and notification.
    struct fuse_out_header [16] { len: u32, error: i32, unique: u64 }
    /// A directory entry's fixed part (followed by the name, padded to 8 bytes).
    struct fuse_dirent [24] { ino: u64, off: u64, namelen: u32, typ: u32 }
    /// A READDIRPLUS entry's fixed part.
    struct fuse_direntplus [152] { entry_out: fuse_entry_out, dirent: fuse_dirent }
    /// Inode invalidation notification.
    struct fuse_notify_inval_inode_out [24] { ino: u64, off: i64, len: i64 }
    /// Entry invalidation notification (followed by the name).
    struct fuse_notify_inval_entry_out [16] { parent: u64, namelen: u32, flags: u32 }
    /// Deletion notification (followed by the name).
    struct fuse_notify_delete_out [24] { parent: u64, child: u64, namelen: u32, padding: u32 }
    /// Store notification (followed by the data).
    struct fuse_notify_store_out [24] { nodeid: u64, offset: u64, size: u32, padding: u32 }
    /// Retrieve notification.
    struct fuse_notify_retrieve_out [32] {
        notify_unique: u64, nodeid: u64, offset: u64, size: u32, padding: u32,
    }
    /// The kernel's answer to a retrieve (NOTIFY_REPLY argument, followed by the data).
    struct fuse_notify_retrieve_in [40] {
        dummy1: u64, offset: u64, size: u32, dummy2: u32, dummy3: u64, dummy4: u64,
    }
    /// Prune notification (followed by `count` node ids).
    struct fuse_notify_prune_out [16] { count: u32, padding: u32, spare: u64 }
    /// FUSE_DEV_IOC_BACKING_OPEN argument.
    struct fuse_backing_map [16] { fd: i32, flags: u32, padding: u64 }
    /// LSEEK argument.
    struct fuse_lseek_in [24] { fh: u64, offset: u64, whence: u32, padding: u32 }
    /// Reply to LSEEK.
    struct fuse_lseek_out [8] { offset: u64 }
    /// COPY_FILE_RANGE (and _64) argument.
    struct fuse_copy_file_range_in [56] {
        fh_in: u64, off_in: u64, nodeid_out: u64, fh_out: u64, off_out: u64, len: u64, flags: u64,
    }
    /// Reply to COPY_FILE_RANGE_64.
    struct fuse_copy_file_range_out [8] { bytes_copied: u64 }
    /// SYNCFS argument.
    struct fuse_syncfs_in [8] { padding: u64 }
    /// Security context header within a request extension.
    struct fuse_secctx_header [8] { size: u32, nr_secctx: u32 }
    /// One security context (followed by name and value).
    struct fuse_secctx [8] { size: u32, padding: u32 }
    /// Generic request-extension header.
    struct fuse_ext_header [8] { size: u32, typ: u32 }
}

/// Old (protocol < 7.9) sizes the kernel may still use.
pub const FUSE_COMPAT_ENTRY_OUT_SIZE: usize = 120;
/// Old size of `fuse_attr_out`.
pub const FUSE_COMPAT_ATTR_OUT_SIZE: usize = 96;
/// Old size of `fuse_mknod_in`.
pub const FUSE_COMPAT_MKNOD_IN_SIZE: usize = 8;
/// Old size of `fuse_write_in`.
pub const FUSE_COMPAT_WRITE_IN_SIZE: usize = 24;
/// Old size of `fuse_statfs_out`.
pub const FUSE_COMPAT_STATFS_SIZE: usize = 48;
/// Old size of `fuse_setxattr_in` (without SETXATTR_EXT).
pub const FUSE_COMPAT_SETXATTR_IN_SIZE: usize = 8;
/// INIT reply size for protocol < 7.5.
pub const FUSE_COMPAT_INIT_OUT_SIZE: usize = 8;
/// INIT reply size for protocol < 7.23.
pub const FUSE_COMPAT_22_INIT_OUT_SIZE: usize = 24;
/// Offset of the name in a `fuse_dirent`.
pub const FUSE_NAME_OFFSET: usize = 24;
/// Offset of the name in a `fuse_direntplus`.
pub const FUSE_NAME_OFFSET_DIRENTPLUS: usize = 152;

/// Round `x` up to the 8-byte record alignment of directory entries and extensions.
pub const fn fuse_rec_align(x: usize) -> usize {
    (x + 7) & !7
}

/// Request opcodes.
pub mod opcode {
    #![allow(missing_docs)]
    pub const FUSE_LOOKUP: u32 = 1;
    pub const FUSE_FORGET: u32 = 2;
    pub const FUSE_GETATTR: u32 = 3;
    pub const FUSE_SETATTR: u32 = 4;
    pub const FUSE_READLINK: u32 = 5;
    pub const FUSE_SYMLINK: u32 = 6;
    pub const FUSE_MKNOD: u32 = 8;
    pub const FUSE_MKDIR: u32 = 9;
    pub const FUSE_UNLINK: u32 = 10;
    pub const FUSE_RMDIR: u32 = 11;
    pub const FUSE_RENAME: u32 = 12;
    pub const FUSE_LINK: u32 = 13;
    pub const FUSE_OPEN: u32 = 14;
    pub const FUSE_READ: u32 = 15;
    pub const FUSE_WRITE: u32 = 16;
    pub const FUSE_STATFS: u32 = 17;
    pub const FUSE_RELEASE: u32 = 18;
    pub const FUSE_FSYNC: u32 = 20;
    pub const FUSE_SETXATTR: u32 = 21;
    pub const FUSE_GETXATTR: u32 = 22;
    pub const FUSE_LISTXATTR: u32 = 23;
    pub const FUSE_REMOVEXATTR: u32 = 24;
    pub const FUSE_FLUSH: u32 = 25;
    pub const FUSE_INIT: u32 = 26;
    pub const FUSE_OPENDIR: u32 = 27;
    pub const FUSE_READDIR: u32 = 28;
    pub const FUSE_RELEASEDIR: u32 = 29;
    pub const FUSE_FSYNCDIR: u32 = 30;
    pub const FUSE_GETLK: u32 = 31;
    pub const FUSE_SETLK: u32 = 32;
    pub const FUSE_SETLKW: u32 = 33;
    pub const FUSE_ACCESS: u32 = 34;
    pub const FUSE_CREATE: u32 = 35;
    pub const FUSE_INTERRUPT: u32 = 36;
    pub const FUSE_BMAP: u32 = 37;
    pub const FUSE_DESTROY: u32 = 38;
    pub const FUSE_IOCTL: u32 = 39;
    pub const FUSE_POLL: u32 = 40;
    pub const FUSE_NOTIFY_REPLY: u32 = 41;
    pub const FUSE_BATCH_FORGET: u32 = 42;
    pub const FUSE_FALLOCATE: u32 = 43;
    pub const FUSE_READDIRPLUS: u32 = 44;
    pub const FUSE_RENAME2: u32 = 45;
    pub const FUSE_LSEEK: u32 = 46;
    pub const FUSE_COPY_FILE_RANGE: u32 = 47;
    pub const FUSE_SETUPMAPPING: u32 = 48;
    pub const FUSE_REMOVEMAPPING: u32 = 49;
    pub const FUSE_SYNCFS: u32 = 50;
    pub const FUSE_TMPFILE: u32 = 51;
    pub const FUSE_STATX: u32 = 52;
    pub const FUSE_COPY_FILE_RANGE_64: u32 = 53;
    pub const CUSE_INIT: u32 = 4096;

    /// The name libfuse's debug output uses for `op`.
    pub fn name(op: u32) -> &'static str {
        match op {
            FUSE_LOOKUP => "LOOKUP",
            FUSE_FORGET => "FORGET",
            FUSE_GETATTR => "GETATTR",
            FUSE_SETATTR => "SETATTR",
            FUSE_READLINK => "READLINK",
            FUSE_SYMLINK => "SYMLINK",
            FUSE_MKNOD => "MKNOD",
            FUSE_MKDIR => "MKDIR",
            FUSE_UNLINK => "UNLINK",
            FUSE_RMDIR => "RMDIR",
            FUSE_RENAME => "RENAME",
            FUSE_LINK => "LINK",
            FUSE_OPEN => "OPEN",
            FUSE_READ => "READ",
            FUSE_WRITE => "WRITE",
            FUSE_STATFS => "STATFS",
            FUSE_RELEASE => "RELEASE",
            FUSE_FSYNC => "FSYNC",
            FUSE_SETXATTR => "SETXATTR",
            FUSE_GETXATTR => "GETXATTR",
            FUSE_LISTXATTR => "LISTXATTR",
            FUSE_REMOVEXATTR => "REMOVEXATTR",
            FUSE_FLUSH => "FLUSH",
            FUSE_INIT => "INIT",
            FUSE_OPENDIR => "OPENDIR",
            FUSE_READDIR => "READDIR",
            FUSE_RELEASEDIR => "RELEASEDIR",
            FUSE_FSYNCDIR => "FSYNCDIR",
            FUSE_GETLK => "GETLK",
            FUSE_SETLK => "SETLK",
            FUSE_SETLKW => "SETLKW",
            FUSE_ACCESS => "ACCESS",
            FUSE_CREATE => "CREATE",
            FUSE_INTERRUPT => "INTERRUPT",
            FUSE_BMAP => "BMAP",
            FUSE_DESTROY => "DESTROY",
            FUSE_IOCTL => "IOCTL",
            FUSE_POLL => "POLL",
            FUSE_NOTIFY_REPLY => "NOTIFY_REPLY",
            FUSE_BATCH_FORGET => "BATCH_FORGET",
            FUSE_FALLOCATE => "FALLOCATE",
            FUSE_READDIRPLUS => "READDIRPLUS",
            FUSE_RENAME2 => "RENAME2",
            FUSE_LSEEK => "LSEEK",
            FUSE_COPY_FILE_RANGE => "COPY_FILE_RANGE",
            FUSE_COPY_FILE_RANGE_64 => "COPY_FILE_RANGE_64",
            FUSE_SYNCFS => "SYNCFS",
            FUSE_TMPFILE => "TMPFILE",
            FUSE_STATX => "STATX",
            CUSE_INIT => "CUSE_INIT",
            _ => "???",
        }
    }
}

/// Notification codes (in `fuse_out_header.error` of a message with unique 0).
pub mod notify {
    #![allow(missing_docs)]
    pub const FUSE_NOTIFY_POLL: i32 = 1;
    pub const FUSE_NOTIFY_INVAL_INODE: i32 = 2;
    pub const FUSE_NOTIFY_INVAL_ENTRY: i32 = 3;
    pub const FUSE_NOTIFY_STORE: i32 = 4;
    pub const FUSE_NOTIFY_RETRIEVE: i32 = 5;
    pub const FUSE_NOTIFY_DELETE: i32 = 6;
    pub const FUSE_NOTIFY_RESEND: i32 = 7;
    pub const FUSE_NOTIFY_INC_EPOCH: i32 = 8;
    pub const FUSE_NOTIFY_PRUNE: i32 = 9;
}

/// INIT flags (`flags` low 32 bits, `flags2` high 32 bits).
pub mod init {
    #![allow(missing_docs)]
    pub const FUSE_ASYNC_READ: u64 = 1 << 0;
    pub const FUSE_POSIX_LOCKS: u64 = 1 << 1;
    pub const FUSE_FILE_OPS: u64 = 1 << 2;
    pub const FUSE_ATOMIC_O_TRUNC: u64 = 1 << 3;
    pub const FUSE_EXPORT_SUPPORT: u64 = 1 << 4;
    pub const FUSE_BIG_WRITES: u64 = 1 << 5;
    pub const FUSE_DONT_MASK: u64 = 1 << 6;
    pub const FUSE_SPLICE_WRITE: u64 = 1 << 7;
    pub const FUSE_SPLICE_MOVE: u64 = 1 << 8;
    pub const FUSE_SPLICE_READ: u64 = 1 << 9;
    pub const FUSE_FLOCK_LOCKS: u64 = 1 << 10;
    pub const FUSE_HAS_IOCTL_DIR: u64 = 1 << 11;
    pub const FUSE_AUTO_INVAL_DATA: u64 = 1 << 12;
    pub const FUSE_DO_READDIRPLUS: u64 = 1 << 13;
    pub const FUSE_READDIRPLUS_AUTO: u64 = 1 << 14;
    pub const FUSE_ASYNC_DIO: u64 = 1 << 15;
    pub const FUSE_WRITEBACK_CACHE: u64 = 1 << 16;
    pub const FUSE_NO_OPEN_SUPPORT: u64 = 1 << 17;
    pub const FUSE_PARALLEL_DIROPS: u64 = 1 << 18;
    pub const FUSE_HANDLE_KILLPRIV: u64 = 1 << 19;
    pub const FUSE_POSIX_ACL: u64 = 1 << 20;
    pub const FUSE_ABORT_ERROR: u64 = 1 << 21;
    pub const FUSE_MAX_PAGES: u64 = 1 << 22;
    pub const FUSE_CACHE_SYMLINKS: u64 = 1 << 23;
    pub const FUSE_NO_OPENDIR_SUPPORT: u64 = 1 << 24;
    pub const FUSE_EXPLICIT_INVAL_DATA: u64 = 1 << 25;
    pub const FUSE_MAP_ALIGNMENT: u64 = 1 << 26;
    pub const FUSE_SUBMOUNTS: u64 = 1 << 27;
    pub const FUSE_HANDLE_KILLPRIV_V2: u64 = 1 << 28;
    pub const FUSE_SETXATTR_EXT: u64 = 1 << 29;
    pub const FUSE_INIT_EXT: u64 = 1 << 30;
    pub const FUSE_INIT_RESERVED: u64 = 1 << 31;
    pub const FUSE_SECURITY_CTX: u64 = 1 << 32;
    pub const FUSE_HAS_INODE_DAX: u64 = 1 << 33;
    pub const FUSE_CREATE_SUPP_GROUP: u64 = 1 << 34;
    pub const FUSE_HAS_EXPIRE_ONLY: u64 = 1 << 35;
    pub const FUSE_DIRECT_IO_ALLOW_MMAP: u64 = 1 << 36;
    pub const FUSE_PASSTHROUGH: u64 = 1 << 37;
    pub const FUSE_NO_EXPORT_SUPPORT: u64 = 1 << 38;
    pub const FUSE_HAS_RESEND: u64 = 1 << 39;
    pub const FUSE_ALLOW_IDMAP: u64 = 1 << 40;
    pub const FUSE_OVER_IO_URING: u64 = 1 << 41;
    pub const FUSE_REQUEST_TIMEOUT: u64 = 1 << 42;
}

/// Flags carried in request arguments.
pub mod flags {
    #![allow(missing_docs)]
    pub const FATTR_MODE: u32 = 1 << 0;
    pub const FATTR_UID: u32 = 1 << 1;
    pub const FATTR_GID: u32 = 1 << 2;
    pub const FATTR_SIZE: u32 = 1 << 3;
    pub const FATTR_ATIME: u32 = 1 << 4;
    pub const FATTR_MTIME: u32 = 1 << 5;
    pub const FATTR_FH: u32 = 1 << 6;
    pub const FATTR_ATIME_NOW: u32 = 1 << 7;
    pub const FATTR_MTIME_NOW: u32 = 1 << 8;
    pub const FATTR_LOCKOWNER: u32 = 1 << 9;
    pub const FATTR_CTIME: u32 = 1 << 10;
    pub const FATTR_KILL_SUIDGID: u32 = 1 << 11;
    pub const FOPEN_DIRECT_IO: u32 = 1 << 0;
    pub const FOPEN_KEEP_CACHE: u32 = 1 << 1;
    pub const FOPEN_NONSEEKABLE: u32 = 1 << 2;
    pub const FOPEN_CACHE_DIR: u32 = 1 << 3;
    pub const FOPEN_STREAM: u32 = 1 << 4;
    pub const FOPEN_NOFLUSH: u32 = 1 << 5;
    pub const FOPEN_PARALLEL_DIRECT_WRITES: u32 = 1 << 6;
    pub const FOPEN_PASSTHROUGH: u32 = 1 << 7;
    pub const FUSE_RELEASE_FLUSH: u32 = 1 << 0;
    pub const FUSE_RELEASE_FLOCK_UNLOCK: u32 = 1 << 1;
    pub const FUSE_GETATTR_FH: u32 = 1 << 0;
    pub const FUSE_LK_FLOCK: u32 = 1 << 0;
    pub const FUSE_WRITE_CACHE: u32 = 1 << 0;
    pub const FUSE_WRITE_LOCKOWNER: u32 = 1 << 1;
    pub const FUSE_WRITE_KILL_SUIDGID: u32 = 1 << 2;
    pub const FUSE_READ_LOCKOWNER: u32 = 1 << 1;
    pub const FUSE_IOCTL_COMPAT: u32 = 1 << 0;
    pub const FUSE_IOCTL_UNRESTRICTED: u32 = 1 << 1;
    pub const FUSE_IOCTL_RETRY: u32 = 1 << 2;
    pub const FUSE_IOCTL_32BIT: u32 = 1 << 3;
    pub const FUSE_IOCTL_DIR: u32 = 1 << 4;
    pub const FUSE_IOCTL_COMPAT_X32: u32 = 1 << 5;
    pub const FUSE_IOCTL_MAX_IOV: usize = 256;
    pub const FUSE_POLL_SCHEDULE_NOTIFY: u32 = 1 << 0;
    pub const FUSE_FSYNC_FDATASYNC: u32 = 1 << 0;
    pub const FUSE_OPEN_KILL_SUIDGID: u32 = 1 << 0;
    pub const FUSE_EXPIRE_ONLY: u32 = 1 << 0;
    pub const FUSE_MAX_NR_SECCTX: u32 = 31;
    pub const FUSE_EXT_GROUPS: u32 = 32;
}

/// FUSE-over-io_uring (protocol 7.42): the ring commands and the per-entry header.
///
/// Each ring entry gives the kernel two buffers: a header area laid out as
/// `fuse_uring_req_header` (the in/out header slot, the opcode's fixed argument slot, then a
/// `fuse_uring_ent_in_out`) and a payload buffer for everything else (names, write data,
/// extensions; reply data on the way back).
pub mod uring {
    use super::Wire;

    /// Size of the slot holding `fuse_in_header` (request) or `fuse_out_header` (reply).
    pub const FUSE_URING_IN_OUT_HEADER_SZ: usize = 128;
    /// Size of the slot holding the opcode's fixed argument struct.
    pub const FUSE_URING_OP_IN_OUT_SZ: usize = 128;
    /// Offset of the opcode argument slot in the header area.
    pub const OP_IN_OFFSET: usize = FUSE_URING_IN_OUT_HEADER_SZ;
    /// Offset of `fuse_uring_ent_in_out` in the header area.
    pub const ENT_IN_OUT_OFFSET: usize = FUSE_URING_IN_OUT_HEADER_SZ + FUSE_URING_OP_IN_OUT_SZ;
    /// `sizeof(struct fuse_uring_req_header)`.
    pub const REQ_HEADER_SIZE: usize =
        ENT_IN_OUT_OFFSET + std::mem::size_of::<fuse_uring_ent_in_out>();
    const _: () = assert!(REQ_HEADER_SIZE == 288);

    /// `enum fuse_uring_cmd`: give the kernel an entry's buffers and wait for a request.
    pub const FUSE_IO_URING_CMD_REGISTER: u32 = 1;
    /// `enum fuse_uring_cmd`: answer the entry's request and wait for the next one.
    pub const FUSE_IO_URING_CMD_COMMIT_AND_FETCH: u32 = 2;
    /// Number of iovecs a REGISTER carries (header area, payload).
    pub const FUSE_URING_IOV_SEGS: u32 = 2;

    wire! {
        /// The ring-specific part of an entry's header area.
        struct fuse_uring_ent_in_out [32] {
            flags: u64,
            /// Id to quote when committing the answer (the request's unique).
            commit_id: u64,
            /// Bytes used in the payload buffer (request or reply).
            payload_sz: u32,
            padding: u32,
            reserved: u64,
        }
        /// The command data of a ring SQE (in the SQE128's command area).
        struct fuse_uring_cmd_req [24] {
            flags: u64,
            /// The entry's commit id (COMMIT_AND_FETCH), 0 for REGISTER.
            commit_id: u64,
            /// The queue (CPU) this entry serves.
            qid: u16,
            padding: [u8; 6],
        }
    }
}

/// `/dev/fuse` ioctls (magic 229).
pub mod ioctl {
    /// Clone a device fd onto the connection of the fd in the argument (u32).
    pub const FUSE_DEV_IOC_CLONE: u64 = 0x8004_e500;
    /// Register a passthrough backing file (`fuse_backing_map`).
    pub const FUSE_DEV_IOC_BACKING_OPEN: u64 = 0x4010_e501;
    /// Unregister a passthrough backing file (u32 id).
    pub const FUSE_DEV_IOC_BACKING_CLOSE: u64 = 0x4004_e502;
    /// Arm synchronous INIT before mounting.
    pub const FUSE_DEV_IOC_SYNC_INIT: u64 = 0xe503;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_encoding() {
        // _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 | nr
        let ioc = |dir: u64, nr: u64, size: u64| dir << 30 | size << 16 | 229 << 8 | nr;
        assert_eq!(ioctl::FUSE_DEV_IOC_CLONE, ioc(2, 0, 4));
        assert_eq!(ioctl::FUSE_DEV_IOC_BACKING_OPEN, ioc(1, 1, 16));
        assert_eq!(ioctl::FUSE_DEV_IOC_BACKING_CLOSE, ioc(1, 2, 4));
        assert_eq!(ioctl::FUSE_DEV_IOC_SYNC_INIT, ioc(0, 3, 0));
    }

    #[test]
    fn offsets_match_the_kernel_header() {
        assert_eq!(std::mem::offset_of!(fuse_direntplus, dirent), 128);
        assert_eq!(std::mem::offset_of!(fuse_statx_out, stat), 32);
        assert_eq!(std::mem::offset_of!(fuse_init_out, flags2), 32);
        assert_eq!(std::mem::offset_of!(fuse_in_header, total_extlen), 36);
    }
}
