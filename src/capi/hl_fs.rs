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

/// Defines the `fuse_fs_*` calls that only run one operation, one entry each:
/// `"NODE" export = op(first: T, more: U...) [-> R] [, else 0];`. Each runs `op` with its
/// arguments (after the `-d` line naming `op` and the first one) and answers `-EINVAL` for a
/// NULL `fs`, `-ENOSYS` (or 0 with `else 0`) when the filesystem has no `op`, `-EIO` on a panic;
/// R is `c_int` unless given. `///` lines before an entry replace its generated documentation.
///
/// cbindgen does not expand macros: `build/cbindgen_expand.rs` writes these entries out as
/// prototypes for `<fuse.h>`, with the same documentation; keep the two in step.
macro_rules! fs_ops {
    ($($(#[doc = $doc:expr])* $node:literal $name:ident = $op:ident(
        $first:ident: $fty:ty $(, $arg:ident: $ty:ty)* $(,)?
    ) $(-> $ret:ty)? $(, else $missing:tt)?;)+) => {$(
        fs_ops!(@norm [$($doc),*] [$($missing)?] [$($ret)?] $node $name $op
            ($first: $fty $(, $arg: $ty)*));
    )+};
    (@norm $docs:tt $missing:tt [] $($rest:tt)+) => {
        fs_ops!(@norm $docs $missing [c_int] $($rest)+);
    };
    (@norm [] [] $ret:tt $node:literal $name:ident $op:ident $params:tt) => {
        fs_ops!(@norm [
            concat!("Runs the filesystem's `", stringify!($op), "`."),
            "",
            "# Safety",
            "`fs` is a live `struct fuse_fs`; the other pointers are what the operation expects."
        ] [] $ret $node $name $op $params);
    };
    (@norm [] [0] $ret:tt $node:literal $name:ident $op:ident $params:tt) => {
        fs_ops!(@norm [
            concat!("Runs the filesystem's `", stringify!($op), "` (0 when it has none)."),
            "",
            "# Safety",
            "`fs` is a live `struct fuse_fs`; the other pointers are what the operation expects."
        ] [0] $ret $node $name $op $params);
    };
    (@norm [$($doc:expr),+] [$($missing:tt)?] [$ret:ty] $node:literal $name:ident $op:ident
        ($first:ident: $fty:ty $(, $arg:ident: $ty:ty)*)) => {
        $(#[doc = $doc])+
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(fs: *mut fuse_fs, $first: $fty $(, $arg: $ty)*) -> $ret {
            crate::ffi_guard!(-(libc::EIO as $ret), {
                // SAFETY: the caller's contract.
                let Some(f) = (unsafe { fs_ref(fs) }) else { return -(libc::EINVAL as $ret) };
                trace(f, stringify!($op), $first);
                match f.op.$op {
                    // SAFETY: the program's own operation with the arguments it is specified for.
                    Some(cb) => unsafe { cb($first $(, $arg)*) },
                    None => fs_ops!(@none $($missing)? $ret),
                }
            })
        }
        crate::symver!($name, $node);
    };
    (@none 0 $ret:ty) => { 0 };
    (@none $ret:ty) => { -(libc::ENOSYS as $ret) };
}

fs_ops! {
    "FUSE_3.0" fuse_fs_getattr = getattr(path: *const c_char, buf: *mut stat,
        fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_rename = rename(oldpath: *const c_char, newpath: *const c_char,
        flags: c_uint);
    "FUSE_3.0" fuse_fs_unlink = unlink(path: *const c_char);
    "FUSE_3.0" fuse_fs_rmdir = rmdir(path: *const c_char);
    "FUSE_3.0" fuse_fs_symlink = symlink(linkname: *const c_char, path: *const c_char);
    "FUSE_3.0" fuse_fs_link = link(oldpath: *const c_char, newpath: *const c_char);
    "FUSE_3.0" fuse_fs_release = release(path: *const c_char, fi: *mut fuse_file_info), else 0;
    "FUSE_3.0" fuse_fs_open = open(path: *const c_char, fi: *mut fuse_file_info), else 0;
    "FUSE_3.0" fuse_fs_fsync = fsync(path: *const c_char, datasync: c_int, fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_flush = flush(path: *const c_char, fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_opendir = opendir(path: *const c_char, fi: *mut fuse_file_info), else 0;
    "FUSE_3.0" fuse_fs_fsyncdir = fsyncdir(path: *const c_char, datasync: c_int,
        fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_releasedir = releasedir(path: *const c_char,
        fi: *mut fuse_file_info), else 0;
    "FUSE_3.0" fuse_fs_create = create(path: *const c_char, mode: mode_t, fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_lock = lock(path: *const c_char, fi: *mut fuse_file_info, cmd: c_int,
        lock: *mut flock);
    "FUSE_3.0" fuse_fs_flock = flock(path: *const c_char, fi: *mut fuse_file_info, op: c_int);
    "FUSE_3.0" fuse_fs_chmod = chmod(path: *const c_char, mode: mode_t, fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_chown = chown(path: *const c_char, uid: uid_t, gid: gid_t,
        fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_truncate = truncate(path: *const c_char, size: off_t,
        fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_utimens = utimens(path: *const c_char, tv: *const timespec,
        fi: *mut fuse_file_info);
    "FUSE_3.0" fuse_fs_access = access(path: *const c_char, mask: c_int);
    "FUSE_3.0" fuse_fs_readlink = readlink(path: *const c_char, buf: *mut c_char, len: size_t);
    "FUSE_3.0" fuse_fs_mknod = mknod(path: *const c_char, mode: mode_t, rdev: dev_t);
    "FUSE_3.0" fuse_fs_mkdir = mkdir(path: *const c_char, mode: mode_t);
    "FUSE_3.0" fuse_fs_setxattr = setxattr(path: *const c_char, name: *const c_char,
        value: *const c_char, size: size_t, flags: c_int);
    "FUSE_3.0" fuse_fs_getxattr = getxattr(path: *const c_char, name: *const c_char,
        value: *mut c_char, size: size_t);
    "FUSE_3.0" fuse_fs_listxattr = listxattr(path: *const c_char, list: *mut c_char, size: size_t);
    "FUSE_3.0" fuse_fs_removexattr = removexattr(path: *const c_char, name: *const c_char);
    "FUSE_3.0" fuse_fs_bmap = bmap(path: *const c_char, blocksize: size_t, idx: *mut u64);
    "FUSE_3.0" fuse_fs_poll = poll(path: *const c_char, fi: *mut fuse_file_info,
        ph: *mut fuse_pollhandle, reventsp: *mut c_uint);
    "FUSE_3.0" fuse_fs_fallocate = fallocate(path: *const c_char, mode: c_int, offset: off_t,
        length: off_t, fi: *mut fuse_file_info);
    "FUSE_3.4" fuse_fs_copy_file_range = copy_file_range(path_in: *const c_char,
        fi_in: *mut fuse_file_info, off_in: off_t, path_out: *const c_char,
        fi_out: *mut fuse_file_info, off_out: off_t, len: size_t, flags: c_int) -> ssize_t;
    "FUSE_3.0" fuse_fs_lseek = lseek(path: *const c_char, off: off_t, whence: c_int,
        fi: *mut fuse_file_info) -> off_t;
    "FUSE_3.18" fuse_fs_statx = statx(path: *const c_char, flags: c_int, mask: c_int,
        stxbuf: *mut libc::statx, fi: *mut fuse_file_info);
    /// Runs the filesystem's `readdir` with `filler`.
    ///
    /// # Safety
    /// `fs` is a live `struct fuse_fs`; `buf` and `filler` belong together.
    "FUSE_3.0" fuse_fs_readdir = readdir(path: *const c_char, buf: *mut c_void,
        filler: fuse_fill_dir_t, off: off_t, fi: *mut fuse_file_info, flags: ReaddirFlags);
}

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
        trace(f, "statfs", path);
        if buf.is_null() {
            return -libc::EINVAL;
        }
        match f.op.statfs {
            // SAFETY: the program's statfs with the caller's buffer.
            Some(cb) => unsafe { cb(path, buf) },
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
        trace(f, "read", path);
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
                let res = unsafe {
                    super::buf::with_gathered(v, |data| match data {
                        Ok(d) => {
                            let n = d.len().min(size);
                            // SAFETY: buf holds size >= n bytes.
                            ptr::copy_nonoverlapping(d.as_ptr(), buf.cast::<u8>(), n);
                            n as c_int
                        }
                        Err(e) => -e,
                    })
                };
                // SAFETY: as above; freed once.
                unsafe { super::buf::free_bufvec(v) };
                res
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
        trace(f, "read_buf", path);
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
        trace(f, "write", path);
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
        trace(f, "write_buf", path);
        if buf.is_null() {
            return -libc::EINVAL;
        }
        if let Some(op) = f.op.write_buf {
            // SAFETY: the program's write_buf with the caller's vector.
            return unsafe { op(path, buf, off, fi) };
        }
        let Some(op) = f.op.write else { return -libc::ENOSYS };
        // SAFETY: a valid bufvec by the contract.
        unsafe {
            super::buf::with_gathered(buf, |data| match data {
                // SAFETY: the program's write over our gathered copy.
                Ok(d) => op(path, d.as_ptr().cast(), d.len(), off, fi),
                Err(e) => -e,
            })
        }
    })
}
crate::symver!(fuse_fs_write_buf, "FUSE_3.0");

/// Runs the filesystem's `ioctl` (API levels before 35: `cmd` is an int; same ABI).
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `data` is what the command needs.
#[cfg(not(fuse_api_35))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_fs_ioctl(
    fs: *mut fuse_fs,
    path: *const c_char,
    cmd: c_int,
    arg: *mut c_void,
    fi: *mut fuse_file_info,
    flags: c_uint,
    data: *mut c_void,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: forwarded contract; an int and an unsigned cmd pass the same way.
        unsafe { ioctl_common(fs, path, cmd as c_uint, arg, fi, flags, data) }
    })
}

/// Runs the filesystem's `ioctl`.
///
/// # Safety
/// `fs` is a live `struct fuse_fs`; `data` is what the command needs.
#[cfg(fuse_api_35)]
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
        // SAFETY: forwarded contract.
        unsafe { ioctl_common(fs, path, cmd, arg, fi, flags, data) }
    })
}

/// # Safety
/// As for `fuse_fs_ioctl`.
unsafe fn ioctl_common(
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
        trace(f, "ioctl", path);
        match f.op.ioctl {
            // SAFETY: the program's ioctl; an int and an unsigned cmd pass the same way.
            Some(cb) => unsafe { cb(path, cmd as _, arg, fi, flags, data) },
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
        // SAFETY: NULL or a live `struct fuse_fs`, by the contract; only init writes user_data.
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
