//! Rust mirrors of C layouts that the headers define by hand (bitfields) or keep private.
//! The ABI probe test checks the C side; the asserts below pin the Rust side.

use libc::{c_int, c_uint};

use super::fuse_common::{fuse_buf, fuse_bufvec};

const _: () = assert!(std::mem::size_of::<fuse_buf>() == 48);
const _: () = assert!(std::mem::size_of::<fuse_bufvec>() == 72);

/// Rust mirror of the C `struct fuse_file_info` (hand-written in C because of its bitfields).
/// Bit `n` of `bits` is the n-th one-bit field: writepage, direct_io, keep_cache,
/// flush (bit 3), nonseekable, flock_release, cache_readdir, noflush, parallel_direct_writes,
/// kill_suidgid (bit 9).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FileInfo {
    /// Open flags (O_*).
    pub flags: i32,
    /// The one-bit fields, see the type's docs.
    pub bits: u32,
    /// Reserved.
    pub padding2: u32,
    /// Reserved.
    pub padding3: u32,
    /// The filesystem's file handle.
    pub fh: u64,
    /// Lock owner id, for locking and flush.
    pub lock_owner: u64,
    /// Requested poll events.
    pub poll_events: u32,
    /// Passthrough backing id (3.17+ callers only; byte 36 is tail padding before 3.17).
    pub backing_id: i32,
    /// Compatibility flags of the 3.17+ layout.
    pub compat_flags: u64,
    /// Reserved.
    pub reserved: [u64; 2],
}

/// Size of `struct fuse_file_info` for callers built against libfuse before 3.17.
pub const FILE_INFO_SIZE_PRE_317: usize = 40;

/// Rust mirror of the C `struct fuse_conn_info` (hand-written in C because of its bitfields).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ConnInfo {
    /// Kernel protocol major version.
    pub proto_major: u32,
    /// Kernel protocol minor version.
    pub proto_minor: u32,
    /// Largest write request.
    pub max_write: u32,
    /// Largest read request.
    pub max_read: u32,
    /// Largest readahead.
    pub max_readahead: u32,
    /// Capabilities the kernel offers (low 32 bits).
    pub capable: u32,
    /// Capabilities the filesystem wants (low 32 bits).
    pub want: u32,
    /// Most background requests in flight.
    pub max_background: u32,
    /// Background requests at which the kernel reports congestion.
    pub congestion_threshold: u32,
    /// Timestamp granularity in nanoseconds.
    pub time_gran: u32,
    /// Stacking depth allowed for passthrough backing files.
    pub max_backing_stack_depth: u32,
    /// Bit 0: no_interrupt; bit 1: io_uring_single_issuer.
    pub bits: u32,
    /// All capabilities the kernel offers.
    pub capable_ext: u64,
    /// All capabilities the filesystem wants.
    pub want_ext: u64,
    /// Request timeout in seconds (0: none).
    pub request_timeout: u16,
    /// Reserved.
    pub reserved: [u16; 31],
}

const _: () = assert!(std::mem::size_of::<FileInfo>() == 64);
const _: () = assert!(std::mem::offset_of!(FileInfo, backing_id) == 36);
const _: () = assert!(std::mem::size_of::<ConnInfo>() == 128);
const _: () = assert!(std::mem::offset_of!(ConnInfo, capable_ext) == 48);
const _: () = assert!(std::mem::offset_of!(ConnInfo, request_timeout) == 64);

/// The private contents of a `struct fuse_loop_config`.
///
/// `version_id` sits where a v1 struct has `clone_fd`, so the loop can tell a v1 struct
/// passed by mistake (its `clone_fd` is 0 or 1) from one made by `fuse_loop_cfg_create`.
#[repr(C)]
#[derive(Debug)]
pub struct LoopConfig {
    /// Always [`LOOP_CONFIG_V2_ID`].
    pub version_id: c_int,
    /// Use a cloned device fd per worker.
    pub clone_fd: c_int,
    /// Idle workers kept; -1 means never reap idle workers.
    pub max_idle_threads: c_int,
    /// Most worker threads.
    pub max_threads: c_uint,
}

/// Marks a [`LoopConfig`] made by `fuse_loop_cfg_create`.
pub const LOOP_CONFIG_V2_ID: c_int = c_int::MAX - 2;
/// Default worker cap.
pub const LOOP_DEFAULT_MAX_THREADS: c_uint = 10;
/// Default idle-thread setting: never reap.
pub const LOOP_DEFAULT_IDLE_THREADS: c_int = -1;
/// Largest thread count accepted.
pub const LOOP_MAX_THREADS: c_uint = 100_000;

/// Rust mirror of C's `struct fuse_buf` (3.17+ layout) with `flags` as plain bits: C stores
/// OR-ed `fuse_buf_flags` values there, which a Rust enum could not hold.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Buf {
    /// Size of the data.
    pub size: usize,
    /// FUSE_BUF_* bits.
    pub flags: u32,
    /// The data, when not in an fd.
    pub mem: *mut libc::c_void,
    /// The fd, with FUSE_BUF_IS_FD.
    pub fd: c_int,
    /// Position, with FUSE_BUF_FD_SEEK.
    pub pos: i64,
    /// Allocated size of `mem` (3.17+ only).
    pub mem_size: usize,
}

/// Size of `struct fuse_buf` before 3.17 (no `mem_size`).
pub const BUF_SIZE_PRE_317: usize = 40;

/// Rust mirror of a one-element `struct fuse_bufvec`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BufVec1 {
    /// Number of buffers.
    pub count: usize,
    /// Current buffer.
    pub idx: usize,
    /// Offset in the current buffer.
    pub off: usize,
    /// The buffer.
    pub buf: [Buf; 1],
}

/// Bit: the data is in `fd`.
pub const BUF_IS_FD: u32 = 1 << 1;
/// Bit: use `pos` with pread/pwrite.
pub const BUF_FD_SEEK: u32 = 1 << 2;
/// Bit: retry short transfers.
pub const BUF_FD_RETRY: u32 = 1 << 3;

const _: () = assert!(std::mem::size_of::<Buf>() == 48);
const _: () = assert!(std::mem::size_of::<BufVec1>() == 72);

/// `enum fuse_buf_copy_flags` as C passes it: OR-ed bits, not always one enumerator.
pub type BufCopyFlags = c_int;

/// `enum fuse_readdir_flags` as C passes it (a plain unsigned value, never matched as a Rust enum).
pub type ReaddirFlags = std::ffi::c_uint;

/// `enum fuse_fill_dir_flags` as C passes it.
pub type FillDirFlags = std::ffi::c_uint;

impl BufVec1 {
    /// A one-element vector over `size` bytes of memory at `mem`.
    pub fn mem(mem: *mut libc::c_void, size: usize) -> BufVec1 {
        BufVec1 {
            count: 1,
            idx: 0,
            off: 0,
            buf: [Buf { size, flags: 0, mem, fd: -1, pos: 0, mem_size: size }],
        }
    }
}
