//! <fuse.h>, the stackable filesystem calls: `fuse_fs_new` and every `fuse_fs_*` function.
//!
//! A `struct fuse_fs` is a program's operations table and its private data. Each `fuse_fs_*`
//! call runs the matching operation, or answers as libfuse does when it is missing (mostly
//! `-ENOSYS`; `statfs` has a default). The request's `fuse_context` is already in place: the
//! high-level dispatcher sets it before it calls these.
#![allow(non_camel_case_types)]

use std::ffi::CStr;
use std::ptr;

use libc::{c_char, c_int, c_uint, c_void, dev_t, flock, gid_t, mode_t, off_t, size_t, ssize_t};
use libc::{stat, statvfs, timespec, uid_t};

use super::abi::ReaddirFlags;
use super::fuse::{fuse_config, fuse_fill_dir_t, fuse_operations};
use super::fuse_common::{fuse_bufvec, fuse_conn_info, fuse_file_info, fuse_pollhandle};

/// Opaque: a filesystem in the high-level stack (operations and private data).
pub struct fuse_fs {
    _opaque: [u8; 0],
}

/// What a `struct fuse_fs` pointer points at.
pub struct FuseFs {
    /// The operations; members past the caller's `op_size` are NULL.
    pub op: fuse_operations,
    /// The filesystem's private data (`fuse_context.private_data`).
    pub user_data: *mut c_void,
    /// `-d`: log each call.
    pub debug: bool,
}

impl FuseFs {
    /// A filesystem from a caller's table of `op_size` bytes.
    ///
    /// # Safety
    /// `op` holds `op_size` readable bytes of a `fuse_operations`.
    pub unsafe fn from_c(
        op: *const fuse_operations,
        op_size: usize,
        user_data: *mut c_void,
    ) -> FuseFs {
        let ours = std::mem::size_of::<fuse_operations>();
        let n = if op_size > ours {
            crate::log::err("fuse: warning: library too old, some operations may not work\n");
            ours
        } else {
            op_size
        };
        // SAFETY: all-zero is "no operations" for a table of nullable function pointers.
        let mut table: fuse_operations = unsafe { std::mem::zeroed() };
        if !op.is_null() {
            // SAFETY: the caller's table holds op_size >= n bytes; ours holds at least n.
            unsafe { ptr::copy_nonoverlapping(op.cast::<u8>(), (&raw mut table).cast::<u8>(), n) };
        }
        FuseFs { op: table, user_data, debug: false }
    }
}

/// The `FuseFs` behind a C pointer.
///
/// # Safety
/// `fs` is NULL or came from `fuse_fs_new` (or is a `struct fuse`'s own) and is alive.
pub unsafe fn fs_ref<'a>(fs: *mut fuse_fs) -> Option<&'a FuseFs> {
    // SAFETY: the caller's contract.
    unsafe { fs.cast::<FuseFs>().as_ref() }
}

fn show(p: *const c_char) -> String {
    if p.is_null() {
        return "NULL".into();
    }
    // SAFETY: callers pass NULL or a C string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn trace(fs: &FuseFs, what: &str, path: *const c_char) {
    if fs.debug {
        crate::log::debug(&format!("{what} {}\n", show(path)));
    }
}

/// Define `fuse_fs_NAME(fs, args...) -> ret`: call `op.NAME(args...)`, or `$missing`.
macro_rules! fs_call {
    ($(#[$m:meta])* $export:ident, $field:ident, ($($a:ident : $t:ty),*) -> $ret:ty, $missing:expr, $ver:literal) => {
        $(#[$m])*
        ///
        /// # Safety
        /// `fs` is a live `struct fuse_fs`; the other pointers are what the operation expects.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $export(fs: *mut fuse_fs, $($a: $t),*) -> $ret {
            crate::ffi_guard!((-libc::EIO) as $ret, {
                // SAFETY: the caller's contract.
                let Some(f) = (unsafe { fs_ref(fs) }) else { return (-libc::EINVAL) as $ret };
                match f.op.$field {
                    // SAFETY: the program's own operation with the arguments it is specified for.
                    Some(op) => unsafe { op($($a),*) },
                    None => $missing,
                }
            })
        }
        crate::symver!($export, $ver);
    };
}

fs_call!(
    /// Runs the filesystem's `getattr`.
    fuse_fs_getattr, getattr, (path: *const c_char, buf: *mut stat, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `rename`.
    fuse_fs_rename, rename, (oldpath: *const c_char, newpath: *const c_char, flags: c_uint) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `unlink`.
    fuse_fs_unlink, unlink, (path: *const c_char) -> c_int, -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `rmdir`.
    fuse_fs_rmdir, rmdir, (path: *const c_char) -> c_int, -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `symlink`.
    fuse_fs_symlink, symlink, (linkname: *const c_char, path: *const c_char) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `link`.
    fuse_fs_link, link, (oldpath: *const c_char, newpath: *const c_char) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `release` (0 when it has none).
    fuse_fs_release, release, (path: *const c_char, fi: *mut fuse_file_info) -> c_int, 0, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `open` (0 when it has none).
    fuse_fs_open, open, (path: *const c_char, fi: *mut fuse_file_info) -> c_int, 0, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `fsync`.
    fuse_fs_fsync, fsync, (path: *const c_char, datasync: c_int, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `flush`.
    fuse_fs_flush, flush, (path: *const c_char, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `opendir` (0 when it has none).
    fuse_fs_opendir, opendir, (path: *const c_char, fi: *mut fuse_file_info) -> c_int, 0, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `fsyncdir`.
    fuse_fs_fsyncdir, fsyncdir, (path: *const c_char, datasync: c_int, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `releasedir` (0 when it has none).
    fuse_fs_releasedir, releasedir, (path: *const c_char, fi: *mut fuse_file_info) -> c_int, 0,
    "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `create`.
    fuse_fs_create, create, (path: *const c_char, mode: mode_t, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `lock`.
    fuse_fs_lock, lock, (path: *const c_char, fi: *mut fuse_file_info, cmd: c_int, lock: *mut flock) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `flock`.
    fuse_fs_flock, flock, (path: *const c_char, fi: *mut fuse_file_info, op: c_int) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `chmod`.
    fuse_fs_chmod, chmod, (path: *const c_char, mode: mode_t, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `chown`.
    fuse_fs_chown, chown, (path: *const c_char, uid: uid_t, gid: gid_t, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `truncate`.
    fuse_fs_truncate, truncate, (path: *const c_char, size: off_t, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `utimens`.
    fuse_fs_utimens, utimens, (path: *const c_char, tv: *const timespec, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `access`.
    fuse_fs_access, access, (path: *const c_char, mask: c_int) -> c_int, -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `readlink`.
    fuse_fs_readlink, readlink, (path: *const c_char, buf: *mut c_char, len: size_t) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `mknod`.
    fuse_fs_mknod, mknod, (path: *const c_char, mode: mode_t, rdev: dev_t) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `mkdir`.
    fuse_fs_mkdir, mkdir, (path: *const c_char, mode: mode_t) -> c_int, -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `setxattr`.
    fuse_fs_setxattr, setxattr,
    (path: *const c_char, name: *const c_char, value: *const c_char, size: size_t, flags: c_int) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `getxattr`.
    fuse_fs_getxattr, getxattr,
    (path: *const c_char, name: *const c_char, value: *mut c_char, size: size_t) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `listxattr`.
    fuse_fs_listxattr, listxattr, (path: *const c_char, list: *mut c_char, size: size_t) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `removexattr`.
    fuse_fs_removexattr, removexattr, (path: *const c_char, name: *const c_char) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `bmap`.
    fuse_fs_bmap, bmap, (path: *const c_char, blocksize: size_t, idx: *mut u64) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `poll`.
    fuse_fs_poll, poll,
    (path: *const c_char, fi: *mut fuse_file_info, ph: *mut fuse_pollhandle, reventsp: *mut c_uint) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `fallocate`.
    fuse_fs_fallocate, fallocate,
    (path: *const c_char, mode: c_int, offset: off_t, length: off_t, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `copy_file_range`.
    fuse_fs_copy_file_range, copy_file_range,
    (path_in: *const c_char, fi_in: *mut fuse_file_info, off_in: off_t, path_out: *const c_char,
     fi_out: *mut fuse_file_info, off_out: off_t, len: size_t, flags: c_int) -> ssize_t,
    -(libc::ENOSYS as ssize_t), "FUSE_3.4"
);
fs_call!(
    /// Runs the filesystem's `lseek`.
    fuse_fs_lseek, lseek, (path: *const c_char, off: off_t, whence: c_int, fi: *mut fuse_file_info) -> off_t,
    -(libc::ENOSYS as off_t), "FUSE_3.0"
);
fs_call!(
    /// Runs the filesystem's `statx`.
    fuse_fs_statx, statx,
    (path: *const c_char, flags: c_int, mask: c_int, stxbuf: *mut libc::statx, fi: *mut fuse_file_info) -> c_int,
    -libc::ENOSYS, "FUSE_3.18"
);

/// Runs the filesystem's `readdir` with `filler`.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `buf` and `filler` belong together.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_readdir(
    fs: *mut fuse_fs,
    path: *const c_char,
    buf: *mut c_void,
    filler: fuse_fill_dir_t,
    off: off_t,
    fi: *mut fuse_file_info,
    flags: ReaddirFlags,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        trace(f, "readdir", path);
        match f.op.readdir {
            // SAFETY: the program's readdir with the caller's buffer and filler.
            Some(op) => unsafe { op(path, buf, filler, off, fi, flags) },
            None => -libc::ENOSYS,
        }
    })
}
crate::symver!(fuse_fs_readdir, "FUSE_3.0");

/// Runs the filesystem's `statfs`; without one, answers a 512-byte block size and 255-byte
/// names, as libfuse does.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `buf` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_statfs(
    fs: *mut fuse_fs,
    path: *const c_char,
    buf: *mut statvfs,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        if buf.is_null() {
            return -libc::EINVAL;
        }
        match f.op.statfs {
            // SAFETY: the program's statfs with the caller's buffer.
            Some(op) => unsafe { op(path, buf) },
            None => {
                // SAFETY: buf is non-NULL and writable by the contract.
                unsafe {
                    (*buf).f_namemax = 255;
                    (*buf).f_bsize = 512;
                }
                0
            }
        }
    })
}
crate::symver!(fuse_fs_statfs, "FUSE_3.0");

/// Runs the filesystem's `read`.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `buf` holds `size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_read(
    fs: *mut fuse_fs,
    path: *const c_char,
    buf: *mut c_char,
    size: size_t,
    off: off_t,
    fi: *mut fuse_file_info,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        match (f.op.read, f.op.read_buf) {
            // SAFETY: the program's read with the caller's buffer.
            (Some(op), _) => unsafe { op(path, buf, size, off, fi) },
            (None, Some(_)) => {
                let mut v: *mut fuse_bufvec = ptr::null_mut();
                // SAFETY: forwarded contract; read_buf fills `v`.
                let res = unsafe { fuse_fs_read_buf(fs, path, &raw mut v, size, off, fi) };
                if res < 0 || v.is_null() {
                    return res;
                }
                // SAFETY: `v` is the filesystem's fresh bufvec.
                let data = unsafe { super::buf::gather(v) };
                // SAFETY: as above; freed once.
                unsafe { super::buf::free_bufvec(v) };
                match data {
                    Ok(d) => {
                        let n = d.len().min(size);
                        // SAFETY: buf holds size >= n bytes.
                        unsafe { ptr::copy_nonoverlapping(d.as_ptr(), buf.cast::<u8>(), n) };
                        n as c_int
                    }
                    Err(e) => -e,
                }
            }
            (None, None) => -libc::ENOSYS,
        }
    })
}
crate::symver!(fuse_fs_read, "FUSE_3.0");

/// Runs the filesystem's `read_buf`, or its `read` into a fresh memory buffer. On success
/// `*bufp` is a `malloc`ed bufvec the caller frees.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `bufp` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_read_buf(
    fs: *mut fuse_fs,
    path: *const c_char,
    bufp: *mut *mut fuse_bufvec,
    size: size_t,
    off: off_t,
    fi: *mut fuse_file_info,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        if bufp.is_null() {
            return -libc::EINVAL;
        }
        if let Some(op) = f.op.read_buf {
            // SAFETY: the program's read_buf with the caller's out pointer.
            return unsafe { op(path, bufp, size, off, fi) };
        }
        let Some(op) = f.op.read else { return -libc::ENOSYS };
        // SAFETY: a fresh allocation of `size` bytes (at least one) for the data.
        let mem = unsafe { libc::malloc(size.max(1)) };
        if mem.is_null() {
            return -libc::ENOMEM;
        }
        // SAFETY: the program's read into our buffer of `size` bytes.
        let res = unsafe { op(path, mem.cast(), size, off, fi) };
        if res < 0 {
            // SAFETY: ours, from malloc above.
            unsafe { libc::free(mem) };
            return res;
        }
        // SAFETY: builds a one-buffer vector the caller frees with free_bufvec semantics.
        match unsafe { super::buf::alloc_mem_bufvec(mem, res as usize) } {
            Some(v) => {
                // SAFETY: bufp is writable by the contract.
                unsafe { *bufp = v };
                0
            }
            None => {
                // SAFETY: ours, from malloc above.
                unsafe { libc::free(mem) };
                -libc::ENOMEM
            }
        }
    })
}
crate::symver!(fuse_fs_read_buf, "FUSE_3.0");

/// Runs the filesystem's `write`.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `buf` holds `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_write(
    fs: *mut fuse_fs,
    path: *const c_char,
    buf: *const c_char,
    size: size_t,
    off: off_t,
    fi: *mut fuse_file_info,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        match (f.op.write, f.op.write_buf) {
            // SAFETY: the program's write with the caller's data.
            (Some(op), _) => unsafe { op(path, buf, size, off, fi) },
            (None, Some(op)) => {
                let mut v = super::abi::BufVec1::mem(buf.cast_mut().cast(), size);
                // SAFETY: a one-element bufvec over the caller's data.
                unsafe { op(path, (&raw mut v).cast(), off, fi) }
            }
            (None, None) => -libc::ENOSYS,
        }
    })
}
crate::symver!(fuse_fs_write, "FUSE_3.0");

/// Runs the filesystem's `write_buf`, or gathers the data and runs its `write`.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `buf` is a valid bufvec.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_write_buf(
    fs: *mut fuse_fs,
    path: *const c_char,
    buf: *mut fuse_bufvec,
    off: off_t,
    fi: *mut fuse_file_info,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        if buf.is_null() {
            return -libc::EINVAL;
        }
        if let Some(op) = f.op.write_buf {
            // SAFETY: the program's write_buf with the caller's vector.
            return unsafe { op(path, buf, off, fi) };
        }
        let Some(op) = f.op.write else { return -libc::ENOSYS };
        // SAFETY: a valid bufvec by the contract.
        match unsafe { super::buf::gather(buf) } {
            // SAFETY: the program's write over our gathered copy.
            Ok(d) => unsafe { op(path, d.as_ptr().cast(), d.len(), off, fi) },
            Err(e) => -e,
        }
    })
}
crate::symver!(fuse_fs_write_buf, "FUSE_3.0");

/// Runs the filesystem's `ioctl`.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `data` is what the command needs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_ioctl(
    fs: *mut fuse_fs,
    path: *const c_char,
    cmd: c_uint,
    arg: *mut c_void,
    fi: *mut fuse_file_info,
    flags: c_uint,
    data: *mut c_void,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(f) = (unsafe { fs_ref(fs) }) else { return -libc::EINVAL };
        match f.op.ioctl {
            // SAFETY: the program's ioctl; an int and an unsigned cmd pass the same way.
            Some(op) => unsafe { op(path, cmd as _, arg, fi, flags, data) },
            None => -libc::ENOSYS,
        }
    })
}
crate::symver!(fuse_fs_ioctl, "FUSE_3.0");

/// Runs the filesystem's `init` with the connection and configuration; its result becomes
/// the filesystem's private data.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `conn` and `cfg` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_init(
    fs: *mut fuse_fs,
    conn: *mut fuse_conn_info,
    cfg: *mut fuse_config,
) {
    crate::ffi_guard!((), {
        // SAFETY: pointers owned by this frame, alive across the call.
        let Some(f) = (unsafe { fs.cast::<FuseFs>().as_mut() }) else { return };
        if let Some(op) = f.op.init {
            // SAFETY: the program's init with the connection and configuration.
            f.user_data = unsafe { op(conn, cfg) };
        }
    })
}
crate::symver!(fuse_fs_init, "FUSE_3.0");

/// Runs the filesystem's `destroy` and frees the `struct fuse_fs`.
///
/// # Safety
/// `fs` came from `fuse_fs_new` and is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_destroy(fs: *mut fuse_fs) {
    crate::ffi_guard!((), {
        if fs.is_null() {
            return;
        }
        // SAFETY: made by fuse_fs_new (Box::into_raw); ownership returns here.
        let f = unsafe { Box::from_raw(fs.cast::<FuseFs>()) };
        if let Some(op) = f.op.destroy {
            // SAFETY: the program's destroy with its private data.
            unsafe { op(f.user_data) };
        }
    })
}
crate::symver!(fuse_fs_destroy, "FUSE_3.0");

/// Makes a `struct fuse_fs` from an operations table (`op_size` bytes of it).
///
/// # Safety
/// `op` holds `op_size` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_new(
    op: *const fuse_operations,
    op_size: size_t,
    private_data: *mut c_void,
) -> *mut fuse_fs {
    crate::ffi_guard!(ptr::null_mut(), {
        if op.is_null() {
            crate::log::err("fuse: fuse_fs_new: NULL operations\n");
            return ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        let f = unsafe { FuseFs::from_c(op, op_size, private_data) };
        Box::into_raw(Box::new(f)).cast::<fuse_fs>()
    })
}
crate::symver!(fuse_fs_new, "FUSE_3.0");
