//! Mirrors <fuse_common.h>: capability bits, connection and file info, buffers, the loop
//! configuration, version queries and the feature-flag helpers.
//!
//! `struct fuse_file_info` and `struct fuse_conn_info` have bitfields, which cbindgen cannot
//! express: their C definitions are hand-written in `include/parts/fuse_common.h.in` and the
//! `#[repr(C)]` mirrors here are checked against them by the ABI probe test.
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_uint, c_void, off_t, size_t, ssize_t};
use std::ffi::CStr;

use super::abi::{
    ConnInfo, LOOP_CONFIG_V2_ID, LOOP_DEFAULT_IDLE_THREADS, LOOP_DEFAULT_MAX_THREADS,
    LOOP_MAX_THREADS, LoopConfig,
};
use super::libfuse_config::{FUSE_MAJOR_VERSION, FUSE_MINOR_VERSION};

/// Reads may be issued asynchronously, several at once.
pub const FUSE_CAP_ASYNC_READ: u64 = 1u64 << 0;
/// The filesystem handles POSIX (fcntl) locks itself.
pub const FUSE_CAP_POSIX_LOCKS: u64 = 1u64 << 1;
/// O_TRUNC is passed to open instead of a separate truncating setattr.
pub const FUSE_CAP_ATOMIC_O_TRUNC: u64 = 1u64 << 3;
/// The filesystem answers lookups of "." and "..", so it can be NFS-exported.
pub const FUSE_CAP_EXPORT_SUPPORT: u64 = 1u64 << 4;
/// The kernel does not apply the umask to the mode of new files.
pub const FUSE_CAP_DONT_MASK: u64 = 1u64 << 6;
/// Replies may be written to the device with splice.
pub const FUSE_CAP_SPLICE_WRITE: u64 = 1u64 << 7;
/// Pages may be moved (not copied) into the page cache by splice.
pub const FUSE_CAP_SPLICE_MOVE: u64 = 1u64 << 8;
/// Requests may be read from the device with splice.
pub const FUSE_CAP_SPLICE_READ: u64 = 1u64 << 9;
/// The filesystem handles BSD (flock) locks itself.
pub const FUSE_CAP_FLOCK_LOCKS: u64 = 1u64 << 10;
/// ioctl is also sent for directories.
pub const FUSE_CAP_IOCTL_DIR: u64 = 1u64 << 11;
/// The kernel invalidates cached data when it sees mtime or size change.
pub const FUSE_CAP_AUTO_INVAL_DATA: u64 = 1u64 << 12;
/// READDIRPLUS is used to read directories.
pub const FUSE_CAP_READDIRPLUS: u64 = 1u64 << 13;
/// The kernel chooses between READDIR and READDIRPLUS adaptively.
pub const FUSE_CAP_READDIRPLUS_AUTO: u64 = 1u64 << 14;
/// Direct I/O may be submitted asynchronously.
pub const FUSE_CAP_ASYNC_DIO: u64 = 1u64 << 15;
/// The kernel caches writes and writes them back later.
pub const FUSE_CAP_WRITEBACK_CACHE: u64 = 1u64 << 16;
/// An ENOSYS answer to open means: opens always succeed without a call.
pub const FUSE_CAP_NO_OPEN_SUPPORT: u64 = 1u64 << 17;
/// Lookups and readdirs in one directory may run in parallel.
pub const FUSE_CAP_PARALLEL_DIROPS: u64 = 1u64 << 18;
/// The kernel enforces POSIX ACLs kept in extended attributes.
pub const FUSE_CAP_POSIX_ACL: u64 = 1u64 << 19;
/// The filesystem clears setuid/setgid bits on write, chown and truncate itself.
pub const FUSE_CAP_HANDLE_KILLPRIV: u64 = 1u64 << 20;
/// As FUSE_CAP_HANDLE_KILLPRIV, with the kernel's v2 semantics.
pub const FUSE_CAP_HANDLE_KILLPRIV_V2: u64 = 1u64 << 21;
/// The kernel caches symlink targets.
pub const FUSE_CAP_CACHE_SYMLINKS: u64 = 1u64 << 23;
/// An ENOSYS answer to opendir means: opendirs always succeed without a call.
pub const FUSE_CAP_NO_OPENDIR_SUPPORT: u64 = 1u64 << 24;
/// Cached data is invalidated only on explicit request.
pub const FUSE_CAP_EXPLICIT_INVAL_DATA: u64 = 1u64 << 25;
/// The kernel supports expiring dentries without dropping them.
pub const FUSE_CAP_EXPIRE_ONLY: u64 = 1u64 << 26;
/// setxattr requests carry the extended argument layout.
pub const FUSE_CAP_SETXATTR_EXT: u64 = 1u64 << 27;
/// Shared mmap is allowed on files opened with direct_io.
pub const FUSE_CAP_DIRECT_IO_ALLOW_MMAP: u64 = 1u64 << 28;
/// Opens may hand a backing file to the kernel (passthrough).
pub const FUSE_CAP_PASSTHROUGH: u64 = 1u64 << 29;
/// The filesystem cannot be exported (no lookups by inode number).
pub const FUSE_CAP_NO_EXPORT_SUPPORT: u64 = 1u64 << 30;
/// Requests may arrive over io_uring instead of read(2) on the device.
pub const FUSE_CAP_OVER_IO_URING: u64 = 1u64 << 31;
/// The mount may be used with idmapped mounts.
pub const FUSE_CAP_ALLOW_IDMAP: u64 = 1u64 << 32;
/// Create-type requests carry the caller's security context.
pub const FUSE_CAP_SECURITY_CTX: u64 = 1u64 << 33;

/// ioctl flag: a 32-bit caller on a 64-bit kernel.
pub const FUSE_IOCTL_COMPAT: c_int = 1 << 0;
/// ioctl flag: unrestricted ioctl (CUSE only).
pub const FUSE_IOCTL_UNRESTRICTED: c_int = 1 << 1;
/// ioctl flag: ask the kernel to retry with new buffers.
pub const FUSE_IOCTL_RETRY: c_int = 1 << 2;
/// ioctl flag: the ioctl was issued on a directory.
pub const FUSE_IOCTL_DIR: c_int = 1 << 4;
/// Most iovecs an ioctl retry may name.
pub const FUSE_IOCTL_MAX_IOV: c_int = 256;

/// `max_backing_stack_depth` value: backing files are not FUSE-stacked.
pub const FUSE_BACKING_STACKED_UNDER: c_int = 0;
/// `max_backing_stack_depth` value: one level of FUSE stacking below.
pub const FUSE_BACKING_STACKED_OVER: c_int = 1;

/// `fuse_set_conn_flag`: every request of a queue is handled on one thread.
pub const FUSE_CONN_FLAG_SINGLE_ISSUER: c_uint = 1 << 0;
/// `fuse_set_conn_flag`: the filesystem never wants INTERRUPT requests.
pub const FUSE_CONN_FLAG_NO_INTERRUPT: c_uint = 1 << 1;

/// What a `fuse_buf` holds.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fuse_buf_flags {
    /// The data is in the file descriptor `fd`, not in `mem`.
    FUSE_BUF_IS_FD = 1 << 1,
    /// Read or write `fd` at `pos` (pread/pwrite).
    FUSE_BUF_FD_SEEK = 1 << 2,
    /// Retry short reads and writes on `fd` until done or at end of file.
    FUSE_BUF_FD_RETRY = 1 << 3,
}

/// How `fuse_buf_copy` may move data.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fuse_buf_copy_flags {
    /// Never use splice.
    FUSE_BUF_NO_SPLICE = 1 << 1,
    /// Always use splice; fail where it cannot be used.
    FUSE_BUF_FORCE_SPLICE = 1 << 2,
    /// Let splice move pages instead of copying them.
    FUSE_BUF_SPLICE_MOVE = 1 << 3,
    /// Do not block in splice.
    FUSE_BUF_SPLICE_NONBLOCK = 1 << 4,
}

/// One data buffer: memory or a file descriptor.
#[repr(C)]
#[derive(Debug)]
pub struct fuse_buf {
    /// Size of the data.
    pub size: size_t,
    /// `fuse_buf_flags` bits (a C enum that is used as a bit set).
    pub flags: fuse_buf_flags,
    /// The data, when not in a file descriptor.
    pub mem: *mut c_void,
    /// The file descriptor, with FUSE_BUF_IS_FD.
    pub fd: c_int,
    /// Position in the file, with FUSE_BUF_FD_SEEK.
    pub pos: off_t,
    /// Allocated size of `mem` (added in 3.17; older callers' buffers are 40 bytes long).
    pub mem_size: size_t,
}

/// A list of buffers, consumed from (`idx`, `off`) on.
#[repr(C)]
#[derive(Debug)]
pub struct fuse_bufvec {
    /// Number of buffers in `buf`.
    pub count: size_t,
    /// Index of the current buffer.
    pub idx: size_t,
    /// Offset in the current buffer.
    pub off: size_t,
    /// The buffers; the array is allocated longer when `count` > 1.
    pub buf: [fuse_buf; 1],
}

/// The libfuse version a program was compiled against (3.17 and later pass it in).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct libfuse_version {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Hotfix level.
    pub hotfix: u32,
    /// Unused, zero.
    pub padding: u32,
}

/// The public loop configuration of API levels before 3.12; later levels use the opaque
/// `struct fuse_loop_config` made by `fuse_loop_cfg_create`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fuse_loop_config_v1 {
    /// Use a cloned /dev/fuse descriptor per worker thread.
    pub clone_fd: c_int,
    /// Idle worker threads kept before extra ones exit.
    pub max_idle_threads: c_uint,
}

/// Opaque: a FUSE session.
pub struct fuse_session {
    _opaque: [u8; 0],
}

/// Opaque: a handle for poll notifications.
pub struct fuse_pollhandle {
    _opaque: [u8; 0],
}

/// Opaque: connection options parsed from the command line.
pub struct fuse_conn_info_opts {
    _opaque: [u8; 0],
}

/// Opaque (3.12 and later API): the multithreaded loop configuration.
pub struct fuse_loop_config {
    _opaque: [u8; 0],
}

/// The package version string `fuse_pkgversion` returns.
const PACKAGE_VERSION: &CStr = c"3.19.0";

/// Returns the API level of this library, `FUSE_MAKE_VERSION(3, 19)`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_version() -> c_int {
    FUSE_MAJOR_VERSION * 100 + FUSE_MINOR_VERSION
}
crate::symver!(fuse_version, "FUSE_3.0");

/// Returns the library's package version as a static string.
///
/// # Safety
/// Always safe to call; the string must not be freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_pkgversion() -> *const c_char {
    PACKAGE_VERSION.as_ptr()
}
crate::symver!(fuse_pkgversion, "FUSE_3.0");

/// Allocates a loop configuration with the defaults (10 threads, idle threads never reaped,
/// no clone_fd). Free it with `fuse_loop_cfg_destroy`. Returns NULL when out of memory.
///
/// # Safety
/// Always safe to call.
#[cfg(fuse_api_312)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_cfg_create() -> *mut fuse_loop_config {
    crate::ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: calloc either fails (NULL) or returns zeroed memory big enough for LoopConfig.
        let cfg = unsafe { libc::calloc(1, std::mem::size_of::<LoopConfig>()) } as *mut LoopConfig;
        if cfg.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: `cfg` is a fresh, suitably aligned allocation of the right size.
        unsafe {
            cfg.write(LoopConfig {
                version_id: LOOP_CONFIG_V2_ID,
                clone_fd: 0,
                max_idle_threads: LOOP_DEFAULT_IDLE_THREADS,
                max_threads: LOOP_DEFAULT_MAX_THREADS,
            })
        };
        cfg.cast()
    })
}
crate::symver!(fuse_loop_cfg_create, "FUSE_3.12");

/// Frees a configuration made by `fuse_loop_cfg_create`. NULL is ignored.
///
/// # Safety
/// `config` is NULL or came from `fuse_loop_cfg_create` and is not used afterwards.
#[cfg(fuse_api_312)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_cfg_destroy(config: *mut fuse_loop_config) {
    // SAFETY: the caller passes NULL or our calloc'ed block; free(NULL) is a no-op.
    unsafe { libc::free(config.cast()) }
}
crate::symver!(fuse_loop_cfg_destroy, "FUSE_3.12");

/// Returns our view of a C loop-config pointer, or None for NULL or a foreign struct.
///
/// # Safety
/// `config` is NULL or points to memory at least as large as a v1 struct; it is only read
/// past `version_id` when `version_id` proves it is ours.
unsafe fn loop_cfg<'a>(config: *mut fuse_loop_config) -> Option<&'a mut LoopConfig> {
    let cfg = config.cast::<LoopConfig>();
    if cfg.is_null() {
        crate::log::err("fuse: NULL loop configuration\n");
        return None;
    }
    // SAFETY: non-NULL, and every config layout starts with an int.
    if unsafe { (*cfg).version_id } != LOOP_CONFIG_V2_ID {
        crate::log::err("fuse: loop configuration not made by fuse_loop_cfg_create\n");
        return None;
    }
    // SAFETY: version_id says this is our LoopConfig, which the caller lets us modify.
    Some(unsafe { &mut *cfg })
}

/// Sets how many idle worker threads are kept; `UINT_MAX` (-1) keeps all of them.
/// Values above 100000 are ignored with a message.
///
/// # Safety
/// `config` came from `fuse_loop_cfg_create` (NULL is tolerated and ignored).
#[cfg(fuse_api_312)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_cfg_set_idle_threads(
    config: *mut fuse_loop_config,
    value: c_uint,
) {
    crate::ffi_guard!((), {
        // SAFETY: forwarded caller contract.
        let Some(cfg) = (unsafe { loop_cfg(config) }) else { return };
        if value > LOOP_MAX_THREADS {
            if value != c_uint::MAX {
                crate::fuse_err!(
                    "Ignoring invalid max threads value {value} > max ({LOOP_MAX_THREADS}).\n"
                );
            }
            return;
        }
        if value > 0 && value > cfg.max_threads {
            crate::log::log(
                crate::log::FUSE_LOG_WARNING,
                &format!(
                    "fuse: max_idle_threads {value} is greater than max_threads {}\n",
                    cfg.max_threads
                ),
            );
        }
        cfg.max_idle_threads = value as c_int;
    })
}
crate::symver!(fuse_loop_cfg_set_idle_threads, "FUSE_3.12");

/// Sets the most worker threads the loop may run.
///
/// # Safety
/// `config` came from `fuse_loop_cfg_create` (NULL is tolerated and ignored).
#[cfg(fuse_api_312)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_cfg_set_max_threads(
    config: *mut fuse_loop_config,
    value: c_uint,
) {
    crate::ffi_guard!((), {
        // SAFETY: forwarded caller contract.
        let Some(cfg) = (unsafe { loop_cfg(config) }) else { return };
        if cfg.max_idle_threads > 0 && value < cfg.max_idle_threads as c_uint {
            crate::log::log(
                crate::log::FUSE_LOG_WARNING,
                &format!(
                    "fuse: max_threads {value} is less than max_idle_threads {}\n",
                    cfg.max_idle_threads
                ),
            );
        }
        cfg.max_threads = value;
    })
}
crate::symver!(fuse_loop_cfg_set_max_threads, "FUSE_3.12");

/// Chooses whether each worker uses its own cloned /dev/fuse descriptor.
///
/// # Safety
/// `config` came from `fuse_loop_cfg_create` (NULL is tolerated and ignored).
#[cfg(fuse_api_312)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_cfg_set_clone_fd(config: *mut fuse_loop_config, value: c_uint) {
    crate::ffi_guard!((), {
        // SAFETY: forwarded caller contract.
        let Some(cfg) = (unsafe { loop_cfg(config) }) else { return };
        cfg.clone_fd = value as c_int;
    })
}
crate::symver!(fuse_loop_cfg_set_clone_fd, "FUSE_3.12");

/// Copies a pre-3.12 (v1) configuration into `config`. The v1 idle-thread count was the
/// effective pool size, so it becomes both the thread cap and the idle count.
///
/// # Safety
/// `config` came from `fuse_loop_cfg_create`; `v1_conf` is NULL or a valid v1 struct.
#[cfg(fuse_api_312)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_loop_cfg_convert(
    config: *mut fuse_loop_config,
    v1_conf: *const fuse_loop_config_v1,
) {
    crate::ffi_guard!((), {
        if v1_conf.is_null() {
            crate::log::err("fuse: NULL v1 loop configuration\n");
            return;
        }
        // SAFETY: non-NULL, and the caller promises a valid v1 struct.
        let v1 = unsafe { *v1_conf };
        // SAFETY: forwarded caller contract for `config`.
        unsafe {
            fuse_loop_cfg_set_max_threads(config, v1.max_idle_threads);
            fuse_loop_cfg_set_idle_threads(config, v1.max_idle_threads);
            fuse_loop_cfg_set_clone_fd(config, v1.clone_fd as c_uint);
        }
    })
}
crate::symver!(fuse_loop_cfg_convert, "FUSE_3.12");

/// Asks for a capability: sets `flag` in `want_ext` (and `want`) if the kernel offers it.
/// Returns whether it was set.
///
/// # Safety
/// `conn` is NULL or a valid `struct fuse_conn_info` of the 3.17+ layout.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_set_feature_flag(conn: *mut fuse_conn_info, flag: u64) -> bool {
    crate::ffi_guard!(false, {
        // SAFETY: NULL-checked by as_mut; the caller promises a valid struct otherwise.
        let Some(c) = (unsafe { conn.cast::<ConnInfo>().as_mut() }) else { return false };
        if let Some(se) = super::ll_session::session_for_conn(conn.cast()) {
            return crate::session::init::set_feature(se, c, flag);
        }
        if c.capable_ext & flag == 0 {
            return false;
        }
        c.want_ext |= flag;
        c.want |= flag as u32;
        true
    })
}
crate::symver!(fuse_set_feature_flag, "FUSE_3.17.3", "fuse_set_feature_flag@FUSE_3.18");

/// Withdraws a capability request: clears `flag` from `want_ext` and `want`.
///
/// # Safety
/// `conn` is NULL or a valid `struct fuse_conn_info` of the 3.17+ layout.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_unset_feature_flag(conn: *mut fuse_conn_info, flag: u64) {
    crate::ffi_guard!((), {
        // SAFETY: NULL-checked by as_mut; the caller promises a valid struct otherwise.
        let Some(c) = (unsafe { conn.cast::<ConnInfo>().as_mut() }) else { return };
        if let Some(se) = super::ll_session::session_for_conn(conn.cast()) {
            crate::session::init::unset_feature(se, c, flag);
            return;
        }
        c.want_ext &= !flag;
        c.want &= !(flag as u32);
    })
}
crate::symver!(fuse_unset_feature_flag, "FUSE_3.17.3", "fuse_unset_feature_flag@FUSE_3.18");

/// Tells whether the kernel offers the capability `flag` (any bit of it).
///
/// # Safety
/// `conn` is NULL or a valid `struct fuse_conn_info` of the 3.17+ layout.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_get_feature_flag(conn: *const fuse_conn_info, flag: u64) -> bool {
    crate::ffi_guard!(false, {
        // SAFETY: NULL-checked by as_ref; the caller promises a valid struct otherwise.
        let Some(conn) = (unsafe { conn.cast::<ConnInfo>().as_ref() }) else { return false };
        conn.capable_ext & flag != 0
    })
}
crate::symver!(fuse_get_feature_flag, "FUSE_3.17.3", "fuse_get_feature_flag@FUSE_3.18");

/// Opaque name C uses for `struct fuse_conn_info` pointers; the layout is [`ConnInfo`].
pub struct fuse_conn_info {
    _opaque: [u8; 0],
}

/// Opaque name C uses for `struct fuse_file_info` pointers; the layout is [`FileInfo`].
pub struct fuse_file_info {
    _opaque: [u8; 0],
}

/// Takes the connection options (`max_write=`, `max_readahead=`, `[no_]splice_*`,
/// `readdirplus=`, `[no_]writeback_cache`, ...) out of `args`. The result is `malloc`ed: free
/// it with `free()`. NULL (after a log line) on a bad value.
///
/// # Safety
/// `args` is a valid argument vector.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_parse_conn_info_opts(
    args: *mut crate::capi::fuse_opt::fuse_args,
) -> *mut fuse_conn_info_opts {
    crate::ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: NULL or valid by the contract.
        let Some(a) = (unsafe { args.as_mut() }) else { return std::ptr::null_mut() };
        let input = if a.argc <= 0 || a.argv.is_null() {
            Vec::new()
        } else {
            // SAFETY: argv holds argc C strings.
            match unsafe { super::fuse_opt::read_args(a) } {
                Ok(v) => v,
                Err(e) => {
                    super::fuse_opt::log_error(&e);
                    return std::ptr::null_mut();
                }
            }
        };
        let (opts, rest) = match crate::session::connopts::parse(&input) {
            Ok(v) => v,
            Err(e) => {
                super::fuse_opt::log_error(&e);
                return std::ptr::null_mut();
            }
        };
        if !input.is_empty() && !super::fuse::store_args(a, &rest) {
            return std::ptr::null_mut();
        }
        let size = std::mem::size_of::<crate::session::connopts::ConnOpts>();
        // SAFETY: a fresh zeroed allocation the caller frees with free().
        let p = unsafe { libc::calloc(1, size) }.cast::<crate::session::connopts::ConnOpts>();
        if p.is_null() {
            crate::log::err("calloc failed\n");
            return std::ptr::null_mut();
        }
        // SAFETY: `p` holds a ConnOpts.
        unsafe { p.write(opts) };
        p.cast()
    })
}
crate::symver!(fuse_parse_conn_info_opts, "FUSE_3.0");

/// Applies parsed connection options to `conn` (call it from `init`).
///
/// # Safety
/// `opts` came from `fuse_parse_conn_info_opts`; `conn` is the connection `init` got.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_apply_conn_info_opts(
    opts: *const fuse_conn_info_opts,
    conn: *mut fuse_conn_info,
) {
    crate::ffi_guard!((), {
        // SAFETY: NULL or ours, by the contract.
        let Some(o) = (unsafe { opts.cast::<crate::session::connopts::ConnOpts>().as_ref() })
        else {
            return;
        };
        // SAFETY: NULL or the caller's connection info, by the contract.
        let Some(c) = (unsafe { conn.cast::<super::abi::ConnInfo>().as_mut() }) else { return };
        if o.set_max_write != 0 {
            c.max_write = o.max_write;
        }
        if o.set_max_background != 0 {
            c.max_background = o.max_background;
        }
        if o.set_congestion_threshold != 0 {
            c.congestion_threshold = o.congestion_threshold;
        }
        if o.set_time_gran != 0 {
            c.time_gran = o.time_gran;
        }
        if o.set_max_readahead != 0 {
            c.max_readahead = o.max_readahead;
        }
        for (flag, on) in o.flag_changes() {
            // SAFETY: the caller's connection info.
            unsafe {
                if on {
                    fuse_set_feature_flag(conn, flag);
                } else {
                    fuse_unset_feature_flag(conn, flag);
                }
            }
        }
    })
}
crate::symver!(fuse_apply_conn_info_opts, "FUSE_3.0");

// ------------------------------------------------------------------ daemon, buffers, signals

/// Detaches from the terminal unless `foreground` (fork, new session, cwd `/`, stdio on
/// /dev/null; the parent exits once the child is set up). Returns 0 or -1.
///
/// # Safety
/// Forks the process: call it before starting threads, as with libfuse.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_daemonize(foreground: c_int) -> c_int {
    crate::ffi_guard!(-1, { crate::sys::daemonize(foreground != 0) })
}
crate::symver!(fuse_daemonize, "FUSE_3.0");

/// Frees a poll handle the library passed to `poll`.
///
/// # Safety
/// `ph` is NULL or such a handle, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_pollhandle_destroy(ph: *mut fuse_pollhandle) {
    crate::ffi_guard!((), {
        if !ph.is_null() {
            // SAFETY: made by Box::into_raw in the dispatcher; the caller gives it back once.
            drop(unsafe { Box::from_raw(ph.cast::<super::dispatch::PollHandle>()) });
        }
    })
}
crate::symver!(fuse_pollhandle_destroy, "FUSE_3.0");

/// Total size of the data in a buffer vector.
///
/// # Safety
/// `bufv` is a valid buffer vector of the caller's ABI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_buf_size(bufv: *const fuse_bufvec) -> size_t {
    crate::ffi_guard!(0, {
        if bufv.is_null() {
            return 0;
        }
        // SAFETY: valid by the contract.
        unsafe { super::buf::buf_size(bufv) }
    })
}
crate::symver!(fuse_buf_size, "FUSE_3.0");

/// Copies data between buffer vectors (memory or file descriptors); returns the bytes copied
/// or -errno. Splice flags are accepted; the copy is done with read and write.
///
/// # Safety
/// Both are valid buffer vectors of the caller's ABI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_buf_copy(
    dst: *mut fuse_bufvec,
    src: *mut fuse_bufvec,
    flags: super::abi::BufCopyFlags,
) -> ssize_t {
    let _ = flags; // splice hints: data is always copied
    crate::ffi_guard!(-(libc::EIO as ssize_t), {
        if dst.is_null() || src.is_null() {
            return -(libc::EINVAL as ssize_t);
        }
        // SAFETY: valid by the contract.
        unsafe { super::buf::buf_copy(dst, src) }
    })
}
crate::symver!(fuse_buf_copy, "FUSE_3.0");

/// The session the signal handlers end (libfuse keeps one, the last one set).
static SIGNAL_SESSION: std::sync::atomic::AtomicPtr<crate::session::Session> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// A session being destroyed must not be reachable from a signal handler any more.
pub(crate) fn forget_signal_session(se: *mut crate::session::Session) {
    let _ = SIGNAL_SESSION.compare_exchange(
        se,
        std::ptr::null_mut(),
        std::sync::atomic::Ordering::AcqRel,
        std::sync::atomic::Ordering::Relaxed,
    );
}

extern "C" fn exit_handler(sig: c_int) {
    let se = SIGNAL_SESSION.load(std::sync::atomic::Ordering::Acquire);
    // SAFETY: a registered session stays alive until fuse_session_destroy unregisters it;
    // exit() and set_error() only store atomics, which is async-signal-safe.
    if let Some(s) = unsafe { se.as_ref() } {
        s.exit();
        s.set_error(sig);
    }
}

extern "C" fn do_nothing(_sig: c_int) {}

extern "C" fn fail_handler(sig: c_int) {
    let se = SIGNAL_SESSION.load(std::sync::atomic::Ordering::Acquire);
    // SAFETY: as in exit_handler.
    if let Some(s) = unsafe { se.as_ref() } {
        s.exit();
    }
    crate::sys::restore_default_signal(sig);
    crate::sys::write_stderr_raw(b"fuse: fatal signal received\n");
    crate::sys::abort();
}

const TEARDOWN_SIGS: [c_int; 3] = [libc::SIGHUP, libc::SIGINT, libc::SIGTERM];
const IGNORE_SIGS: [c_int; 1] = [libc::SIGPIPE];
const FAIL_SIGS: [c_int; 6] =
    [libc::SIGILL, libc::SIGTRAP, libc::SIGABRT, libc::SIGBUS, libc::SIGFPE, libc::SIGSEGV];

/// Installs handlers ending the session's loop on SIGHUP, SIGINT and SIGTERM and ignoring
/// SIGPIPE, where the program left the default action. Returns 0 or -1.
///
/// # Safety
/// `se` is a live session that outlives the handlers (remove them before destroying it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_set_signal_handlers(se: *mut fuse_session) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { set_signal_handlers(se) }
}
crate::symver!(fuse_set_signal_handlers, "FUSE_3.0");

/// The body of [`fuse_set_signal_handlers`], for Rust callers (see `parse_cmdline_312`).
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn set_signal_handlers(se: *mut fuse_session) -> c_int {
    crate::ffi_guard!(-1, {
        for sig in TEARDOWN_SIGS {
            if crate::sys::set_signal_handler(sig, exit_handler as *const () as usize, false)
                .is_err()
            {
                crate::log::err(&format!("Failed to install signal handler for sig {sig}\n"));
                return -1;
            }
        }
        for sig in IGNORE_SIGS {
            if crate::sys::set_signal_handler(sig, do_nothing as *const () as usize, false).is_err()
            {
                crate::log::err(&format!("Failed to install signal handler for sig {sig}\n"));
                return -1;
            }
        }
        SIGNAL_SESSION.store(se.cast(), std::sync::atomic::Ordering::Release);
        0
    })
}

/// Installs handlers for fatal signals that stop the session and abort with a message.
///
/// # Safety
/// As for `fuse_set_signal_handlers`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_set_fail_signal_handlers(se: *mut fuse_session) -> c_int {
    crate::ffi_guard!(-1, {
        for sig in FAIL_SIGS {
            if crate::sys::set_signal_handler(sig, fail_handler as *const () as usize, false)
                .is_err()
            {
                crate::log::err(&format!("Failed to install signal handler for sig {sig}\n"));
                return -1;
            }
        }
        SIGNAL_SESSION.store(se.cast(), std::sync::atomic::Ordering::Release);
        0
    })
}
crate::symver!(fuse_set_fail_signal_handlers, "FUSE_3.17");

/// Restores the default actions of the signals whose handlers are still ours.
///
/// # Safety
/// `se` is the session given to `fuse_set_signal_handlers` (others are logged).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_remove_signal_handlers(se: *const fuse_session) {
    // SAFETY: forwarded contract.
    unsafe { remove_signal_handlers(se) }
}
crate::symver!(fuse_remove_signal_handlers, "FUSE_3.0");

/// The body of [`fuse_remove_signal_handlers`], for Rust callers (see `parse_cmdline_312`).
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn remove_signal_handlers(se: *const fuse_session) {
    crate::ffi_guard!((), {
        let cur = SIGNAL_SESSION.load(std::sync::atomic::Ordering::Acquire);
        if cur.cast_const().cast::<fuse_session>() != se {
            crate::log::err("fuse: fuse_remove_signal_handlers: unknown session\n");
        } else {
            SIGNAL_SESSION.store(std::ptr::null_mut(), std::sync::atomic::Ordering::Release);
        }
        for sig in TEARDOWN_SIGS {
            let _ = crate::sys::set_signal_handler(sig, exit_handler as *const () as usize, true);
        }
        for sig in IGNORE_SIGS {
            let _ = crate::sys::set_signal_handler(sig, do_nothing as *const () as usize, true);
        }
        for sig in FAIL_SIGS {
            let _ = crate::sys::set_signal_handler(sig, fail_handler as *const () as usize, true);
        }
    })
}

/// Sets a `FUSE_CONN_FLAG_*` flag on the connection; returns whether the flag is known.
///
/// # Safety
/// `conn` is NULL or a valid 3.17+ `fuse_conn_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_set_conn_flag(conn: *mut fuse_conn_info, flag: u64) -> bool {
    crate::ffi_guard!(false, {
        // SAFETY: NULL-checked; valid by the contract.
        let Some(c) = (unsafe { conn.cast::<ConnInfo>().as_mut() }) else { return false };
        match flag {
            // FUSE_CONN_FLAG_SINGLE_ISSUER sets bit 1 of the bitfield word, NO_INTERRUPT bit 0.
            f if f == FUSE_CONN_FLAG_SINGLE_ISSUER as u64 => {
                c.bits |= 2;
                true
            }
            f if f == FUSE_CONN_FLAG_NO_INTERRUPT as u64 => {
                c.bits |= 1;
                true
            }
            _ => false,
        }
    })
}
crate::symver!(fuse_set_conn_flag, "FUSE_3.19");

/// Reconciles `want` with `want_ext` after a filesystem changed one of them. 0 or -EINVAL.
///
/// # Safety
/// `conn` is NULL or a valid 3.17+ `fuse_conn_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_convert_to_conn_want_ext(conn: *mut fuse_conn_info) -> c_int {
    crate::ffi_guard!(-libc::EINVAL, {
        // SAFETY: NULL-checked; valid by the contract.
        let Some(c) = (unsafe { conn.cast::<ConnInfo>().as_mut() }) else { return -libc::EINVAL };
        match super::ll_session::session_for_conn(conn.cast()) {
            Some(se) => match crate::session::init::convert_want(se, c) {
                Ok(()) => 0,
                Err(_) => -libc::EINVAL,
            },
            None => {
                c.want_ext = (c.want_ext & !0xffff_ffff) | c.want as u64;
                0
            }
        }
    })
}
crate::symver!(fuse_convert_to_conn_want_ext, "FUSE_3.17.3");
