//! Mirrors <cuse_lowlevel.h>: character devices in userspace (CUSE).
//!
//! A CUSE session is a low-level session whose operations are the device's: each
//! `cuse_lowlevel_ops` callback is reached through a low-level one that drops the inode
//! number, and the session answers CUSE_INIT with the device's description
//! (`session/cuse.rs`). `cuse_lowlevel_setup` opens `/dev/cuse` where `fuse_session_mount`
//! would mount.
#![allow(non_camel_case_types)]

use std::ffi::CStr;
use std::ptr;

use libc::{c_char, c_int, c_uint, c_void, off_t, size_t};

use super::cmdline::fuse_cmdline_opts;
use super::fuse_common::{
    fuse_conn_info, fuse_file_info, fuse_pollhandle, fuse_session, libfuse_version,
};
use super::fuse_lowlevel::{fuse_ino_t, fuse_lowlevel_ops, fuse_req_t};
use super::fuse_opt::{FUSE_OPT_KEY_DISCARD, fuse_args, fuse_opt};
use crate::session::Session;
use crate::session::cuse::{Device, DeviceError, INFO_MAX};

/// `cuse_info.flags`: allow unrestricted ioctls.
pub const CUSE_UNRESTRICTED_IOCTL: c_int = 1 << 0;

/// The character device to create.
#[repr(C)]
pub struct cuse_info {
    /// Device major number (0: any).
    pub dev_major: c_uint,
    /// Device minor number.
    pub dev_minor: c_uint,
    /// Number of strings in `dev_info_argv`.
    pub dev_info_argc: c_uint,
    /// Device description strings, such as "DEVNAME=...".
    pub dev_info_argv: *mut *const c_char,
    /// CUSE_* flags.
    pub flags: c_uint,
}

/// The device's operations; NULL members get the library's default answers.
#[repr(C)]
pub struct cuse_lowlevel_ops {
    /// The connection is set up.
    pub init: Option<unsafe extern "C" fn(userdata: *mut c_void, conn: *mut fuse_conn_info)>,
    /// The device node exists.
    pub init_done: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// The device is going away.
    pub destroy: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// Open the device.
    pub open: Option<unsafe extern "C" fn(req: fuse_req_t, fi: *mut fuse_file_info)>,
    /// Read from the device.
    pub read: Option<
        unsafe extern "C" fn(req: fuse_req_t, size: size_t, off: off_t, fi: *mut fuse_file_info),
    >,
    /// Write to the device.
    pub write: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            buf: *const c_char,
            size: size_t,
            off: off_t,
            fi: *mut fuse_file_info,
        ),
    >,
    /// A descriptor is being closed.
    pub flush: Option<unsafe extern "C" fn(req: fuse_req_t, fi: *mut fuse_file_info)>,
    /// The last reference is gone.
    pub release: Option<unsafe extern "C" fn(req: fuse_req_t, fi: *mut fuse_file_info)>,
    /// Sync the device.
    pub fsync:
        Option<unsafe extern "C" fn(req: fuse_req_t, datasync: c_int, fi: *mut fuse_file_info)>,
    /// ioctl, API levels before 3.19: `cmd` is an int.
    #[cfg(not(fuse_api_319))]
    pub ioctl: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            cmd: c_int,
            arg: *mut c_void,
            fi: *mut fuse_file_info,
            flags: c_uint,
            in_buf: *const c_void,
            in_bufsz: size_t,
            out_bufsz: size_t,
        ),
    >,
    /// ioctl; `cmd` is unsigned from API level 3.19 on.
    #[cfg(fuse_api_319)]
    pub ioctl: Option<
        unsafe extern "C" fn(
            req: fuse_req_t,
            cmd: c_uint,
            arg: *mut c_void,
            fi: *mut fuse_file_info,
            flags: c_uint,
            in_buf: *const c_void,
            in_bufsz: size_t,
            out_bufsz: size_t,
        ),
    >,
    /// Poll for readiness.
    pub poll: Option<
        unsafe extern "C" fn(req: fuse_req_t, fi: *mut fuse_file_info, ph: *mut fuse_pollhandle),
    >,
}

const _: () = assert!(std::mem::size_of::<cuse_info>() == 32);
const _: () = assert!(std::mem::size_of::<cuse_lowlevel_ops>() == 11 * 8);

/// The device node CUSE sessions are served through.
const CUSE_DEVICE: &str = "/dev/cuse";

/// The size of `cuse_lowlevel_ops` at the 3.0 ABI (up to `poll`): what the unversioned entry
/// points, called by programs built before 3.19, pass on.
const CLOP_SIZE_30: usize =
    std::mem::offset_of!(cuse_lowlevel_ops, poll) + std::mem::size_of::<usize>();

/// A copy of the program's device callbacks, kept with its session.
struct CuseOps(cuse_lowlevel_ops);

// SAFETY: function pointers only; the program makes its callbacks callable from the loop's
// threads, as with libfuse.
unsafe impl Send for CuseOps {}
// SAFETY: as above; never written after the session is made.
unsafe impl Sync for CuseOps {}

/// The device callbacks of the CUSE session `req` belongs to.
fn clop<'a>(req: fuse_req_t) -> Option<&'a cuse_lowlevel_ops> {
    let h = crate::session::ReqHandle(req as usize);
    let sess = crate::session::req::session_of(h)
        .or_else(|| crate::session::req::with(h, |d| d.session))?;
    // SAFETY: the request is outstanding, so its session is alive, and it stays alive while
    // the callback this is looked up for runs (the session drops its requests before it is
    // freed).
    let se = unsafe { &*(sess as *const Session) };
    se.cuse()?.ops.downcast_ref::<CuseOps>().map(|c| &c.0)
}

/// A request the device cannot take after all (its session lost the device table): the
/// errno a missing callback gets.
fn orphan(req: fuse_req_t) {
    crate::log::err("cuse: request without a device session\n");
    // SAFETY: a live request handle, answered once.
    unsafe { super::ll_reply::fuse_reply_err(req, libc::ENOSYS) };
}

unsafe extern "C" fn ll_open(req: fuse_req_t, _ino: fuse_ino_t, fi: *mut fuse_file_info) {
    match clop(req).and_then(|c| c.open) {
        // SAFETY: the program's callback with the request and file info it was given.
        Some(f) => unsafe { f(req, fi) },
        None => orphan(req),
    }
}

unsafe extern "C" fn ll_read(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    size: size_t,
    off: off_t,
    fi: *mut fuse_file_info,
) {
    match clop(req).and_then(|c| c.read) {
        // SAFETY: as in ll_open.
        Some(f) => unsafe { f(req, size, off, fi) },
        None => orphan(req),
    }
}

unsafe extern "C" fn ll_write(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    buf: *const c_char,
    size: size_t,
    off: off_t,
    fi: *mut fuse_file_info,
) {
    match clop(req).and_then(|c| c.write) {
        // SAFETY: as in ll_open; `buf` holds `size` bytes of the request.
        Some(f) => unsafe { f(req, buf, size, off, fi) },
        None => orphan(req),
    }
}

unsafe extern "C" fn ll_flush(req: fuse_req_t, _ino: fuse_ino_t, fi: *mut fuse_file_info) {
    match clop(req).and_then(|c| c.flush) {
        // SAFETY: as in ll_open.
        Some(f) => unsafe { f(req, fi) },
        None => orphan(req),
    }
}

unsafe extern "C" fn ll_release(req: fuse_req_t, _ino: fuse_ino_t, fi: *mut fuse_file_info) {
    match clop(req).and_then(|c| c.release) {
        // SAFETY: as in ll_open.
        Some(f) => unsafe { f(req, fi) },
        None => orphan(req),
    }
}

unsafe extern "C" fn ll_fsync(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    datasync: c_int,
    fi: *mut fuse_file_info,
) {
    match clop(req).and_then(|c| c.fsync) {
        // SAFETY: as in ll_open.
        Some(f) => unsafe { f(req, datasync, fi) },
        None => orphan(req),
    }
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn ll_ioctl(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    cmd: c_uint,
    arg: *mut c_void,
    fi: *mut fuse_file_info,
    flags: c_uint,
    in_buf: *const c_void,
    in_bufsz: size_t,
    out_bufsz: size_t,
) {
    match clop(req).and_then(|c| c.ioctl) {
        // SAFETY: as in ll_open; the buffers are the request's. `cmd` has the same bits
        // whether the program declared it int (before 3.19) or unsigned.
        Some(f) => unsafe { f(req, cmd, arg, fi, flags, in_buf, in_bufsz, out_bufsz) },
        None => orphan(req),
    }
}

unsafe extern "C" fn ll_poll(
    req: fuse_req_t,
    _ino: fuse_ino_t,
    fi: *mut fuse_file_info,
    ph: *mut fuse_pollhandle,
) {
    match clop(req).and_then(|c| c.poll) {
        // SAFETY: as in ll_open; the poll handle is the program's to keep or destroy.
        Some(f) => unsafe { f(req, fi, ph) },
        None => orphan(req),
    }
}

/// The info strings of `ci`, or why they cannot be used (logged).
///
/// # Safety
/// `ci.dev_info_argv` is NULL or holds `dev_info_argc` pointers, each NULL or a C string.
unsafe fn info_strings<'a>(ci: &cuse_info) -> Option<Vec<&'a [u8]>> {
    let n = ci.dev_info_argc as usize;
    if n == 0 {
        return Some(Vec::new());
    }
    if ci.dev_info_argv.is_null() {
        crate::log::err(&format!("cuse: dev_info_argv is NULL with dev_info_argc {n}\n"));
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: argv holds argc pointers (contract).
        let p = unsafe { *ci.dev_info_argv.add(i) };
        if p.is_null() {
            crate::log::err(&format!("cuse: dev_info_argv[{i}] is NULL\n"));
            return None;
        }
        // SAFETY: a C string (contract).
        out.push(unsafe { CStr::from_ptr(p) }.to_bytes());
    }
    Some(out)
}

/// The body of `cuse_lowlevel_new_319` and of the 3.0 `cuse_lowlevel_new`.
///
/// # Safety
/// As for `cuse_lowlevel_new_319`.
unsafe fn new_session(
    args: *mut fuse_args,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    mut clop_size: size_t,
    version: (u32, u32, u32),
    userdata: *mut c_void,
) -> *mut fuse_session {
    // SAFETY: NULL or valid (contract).
    let Some(ci) = (unsafe { ci.as_ref() }) else {
        crate::log::err("cuse: no device description (NULL cuse_info)\n");
        return ptr::null_mut();
    };
    if clop.is_null() {
        crate::log::err("cuse: no device operations (NULL cuse_lowlevel_ops)\n");
        return ptr::null_mut();
    }
    // SAFETY: the contract on dev_info_argv.
    let Some(strings) = (unsafe { info_strings(ci) }) else { return ptr::null_mut() };
    let ours = std::mem::size_of::<cuse_lowlevel_ops>();
    if clop_size > ours {
        crate::log::err("cuse: warning: library too old, some operations may not work\n");
        clop_size = ours;
    }
    // SAFETY: all-zero is "no callbacks" for a table of nullable function pointers.
    let mut c: cuse_lowlevel_ops = unsafe { std::mem::zeroed() };
    // SAFETY: the caller's table holds clop_size bytes; ours at least as many.
    unsafe { ptr::copy_nonoverlapping(clop.cast::<u8>(), (&raw mut c).cast::<u8>(), clop_size) };
    // SAFETY: as above.
    let mut lop: fuse_lowlevel_ops = unsafe { std::mem::zeroed() };
    lop.init = c.init;
    lop.destroy = c.destroy;
    lop.open = c.open.map(|_| ll_open as _);
    lop.read = c.read.map(|_| ll_read as _);
    lop.write = c.write.map(|_| ll_write as _);
    lop.flush = c.flush.map(|_| ll_flush as _);
    lop.release = c.release.map(|_| ll_release as _);
    lop.fsync = c.fsync.map(|_| ll_fsync as _);
    lop.ioctl = c.ioctl.map(|_| ll_ioctl as _);
    lop.poll = c.poll.map(|_| ll_poll as _);
    let init_done = c.init_done;
    let dev =
        match Device::new(ci.dev_major, ci.dev_minor, ci.flags, &strings, Box::new(CuseOps(c))) {
            Ok(d) => d,
            Err(DeviceError::InfoTooLarge(n)) => {
                crate::log::err(&format!("cuse: dev_info ({n}) too large, limit={INFO_MAX}\n"));
                return ptr::null_mut();
            }
        };
    let size = std::mem::size_of::<fuse_lowlevel_ops>();
    // SAFETY: args as the caller gave it; our table is whole.
    let se =
        unsafe { super::ll_session::new_common(args, &lop, size, version, userdata, init_done) };
    // SAFETY: NULL or the session just made.
    if let Some(s) = unsafe { super::ll_session::session(se) } {
        s.set_cuse(dev);
    }
    se
}

/// Creates a CUSE session for the device `ci` with the operations `clop` (`clop_size` bytes
/// of them). The device is not opened yet: `cuse_lowlevel_setup` does that, or the caller
/// hands the session a descriptor with `fuse_session_mount(se, "/dev/fd/N")`. NULL on error.
///
/// # Safety
/// `args` is a valid argument vector; `ci` and `clop` are NULL or valid, `clop` holding
/// `clop_size` bytes; `version` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_new_319(
    args: *mut fuse_args,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    clop_size: size_t,
    version: *const libfuse_version,
    userdata: *mut c_void,
) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: NULL or valid (contract).
        let Some(v) = (unsafe { version.as_ref() }) else {
            crate::log::err("cuse: version not passed to cuse_lowlevel_new()\n");
            return ptr::null_mut();
        };
        // SAFETY: forwarded contract.
        unsafe { new_session(args, ci, clop, clop_size, (v.major, v.minor, v.hotfix), userdata) }
    })
}
crate::symver!(cuse_lowlevel_new_319, "FUSE_3.19");

/// `cuse_lowlevel_new` as programs built before 3.19 call it: their `cuse_lowlevel_ops` is
/// the 3.0 one.
///
/// # Safety
/// As for `cuse_lowlevel_new_319`, with a 3.0-sized `clop`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_new(
    args: *mut fuse_args,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    userdata: *mut c_void,
) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: forwarded contract.
        unsafe { new_session(args, ci, clop, CLOP_SIZE_30, (0, 0, 0), userdata) }
    })
}
crate::symver!(cuse_lowlevel_new, "FUSE_3.0");

/// Opens the CUSE device node, with libfuse's messages when it cannot.
fn open_device() -> Option<c_int> {
    match nix::fcntl::open(CUSE_DEVICE, nix::fcntl::OFlag::O_RDWR, nix::sys::stat::Mode::empty()) {
        Ok(fd) => Some(std::os::fd::IntoRawFd::into_raw_fd(fd)),
        Err(e) if e == nix::errno::Errno::ENODEV || e == nix::errno::Errno::ENOENT => {
            crate::log::err("cuse: device not found, try 'modprobe cuse' first\n");
            None
        }
        Err(e) => {
            crate::log::err(&format!(
                "cuse: failed to open {CUSE_DEVICE}: {}\n",
                crate::sys::strerror(e as i32)
            ));
            None
        }
    }
}

/// The body of `cuse_lowlevel_setup_319` and of the 3.0 `cuse_lowlevel_setup`.
///
/// # Safety
/// As for `cuse_lowlevel_setup_319`.
#[allow(clippy::too_many_arguments)]
unsafe fn setup(
    argc: c_int,
    argv: *mut *mut c_char,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    clop_size: size_t,
    version: (u32, u32, u32),
    multithreaded: *mut c_int,
    userdata: *mut c_void,
) -> *mut fuse_session {
    if multithreaded.is_null() {
        crate::log::err("cuse: cuse_lowlevel_setup: NULL multithreaded\n");
        return ptr::null_mut();
    }
    if argc <= 0 || argv.is_null() {
        crate::log::err("cuse: cuse_lowlevel_setup: empty argv\n");
        return ptr::null_mut();
    }
    // The caller's vector is read, not changed: parsing makes our own copy.
    let mut args = fuse_args { argc, argv, allocated: 0 };
    // SAFETY: all-zero is a valid (empty) options struct.
    let mut opts: fuse_cmdline_opts = unsafe { std::mem::zeroed() };
    // SAFETY: a valid vector (contract) and a full-sized options struct.
    let parsed = unsafe { super::cmdline::parse_cmdline_312(&mut args, &mut opts) };
    // The device needs no mountpoint: one given is ignored, as with libfuse.
    // SAFETY: NULL or malloc'd by the parser.
    unsafe { libc::free(opts.mountpoint.cast()) };
    let se = (|| {
        if parsed == -1 {
            return ptr::null_mut();
        }
        // SAFETY: the contract.
        unsafe { *multithreaded = c_int::from(opts.singlethread == 0) };
        // The subtype the parser adds names a mount; a device has none.
        let drop_subtype = [
            fuse_opt {
                templ: c"subtype=".as_ptr(),
                offset: c_uint::MAX.into(),
                value: FUSE_OPT_KEY_DISCARD,
            },
            fuse_opt { templ: ptr::null(), offset: 0, value: 0 },
        ];
        // SAFETY: our vector and a terminated table with no data offsets.
        if unsafe {
            super::fuse_opt::opt_parse(&mut args, ptr::null_mut(), drop_subtype.as_ptr(), None)
        } == -1
        {
            return ptr::null_mut();
        }
        crate::mount::ensure_std_fds();
        // SAFETY: forwarded contract.
        let se = unsafe { new_session(&mut args, ci, clop, clop_size, version, userdata) };
        // SAFETY: NULL or the session just made.
        let Some(s) = (unsafe { super::ll_session::session(se) }) else { return ptr::null_mut() };
        let Some(fd) = open_device() else {
            // SAFETY: ours, not used again.
            unsafe { super::ll_session::destroy(se) };
            return ptr::null_mut();
        };
        s.set_fd(fd);
        // SAFETY: a live session, destroyed only after its handlers are removed.
        if unsafe { super::fuse_common::set_signal_handlers(se) } == -1 {
            // SAFETY: as above.
            unsafe { super::ll_session::destroy(se) };
            return ptr::null_mut();
        }
        if crate::sys::daemonize(opts.foreground != 0) == -1 {
            // SAFETY: as above.
            unsafe { teardown(se) };
            return ptr::null_mut();
        }
        se
    })();
    // SAFETY: our vector (allocated by the parsers, or still the caller's, which
    // free_args leaves alone).
    unsafe { super::fuse_opt::free_args(&mut args) };
    se
}

/// Parses the command line (`-f`, `-s`, `-d`, `-o` options), creates a CUSE session, opens
/// `/dev/cuse` for it, installs the signal handlers and daemonizes unless `-f`. Sets
/// `*multithreaded` unless `-s` was given. NULL on error (logged).
///
/// # Safety
/// `argv` holds `argc` C strings; `ci`, `clop` (with `clop_size` bytes) and `version` are
/// NULL or valid; `multithreaded` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_setup_319(
    argc: c_int,
    argv: *mut *mut c_char,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    clop_size: size_t,
    version: *const libfuse_version,
    multithreaded: *mut c_int,
    userdata: *mut c_void,
) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: NULL or valid (contract).
        let Some(v) = (unsafe { version.as_ref() }) else {
            crate::log::err("cuse: version not passed to cuse_lowlevel_setup()\n");
            return ptr::null_mut();
        };
        let v = (v.major, v.minor, v.hotfix);
        // SAFETY: forwarded contract.
        unsafe { setup(argc, argv, ci, clop, clop_size, v, multithreaded, userdata) }
    })
}
crate::symver!(cuse_lowlevel_setup_319, "FUSE_3.19");

/// `cuse_lowlevel_setup` as programs built before 3.19 call it (a 3.0 `cuse_lowlevel_ops`).
///
/// # Safety
/// As for `cuse_lowlevel_setup_319`, with a 3.0-sized `clop`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_setup(
    argc: c_int,
    argv: *mut *mut c_char,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    multithreaded: *mut c_int,
    userdata: *mut c_void,
) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: forwarded contract.
        unsafe { setup(argc, argv, ci, clop, CLOP_SIZE_30, (0, 0, 0), multithreaded, userdata) }
    })
}
crate::symver!(cuse_lowlevel_setup, "FUSE_3.0");

/// Ends a session made by `cuse_lowlevel_setup`: removes the signal handlers and destroys
/// it. NULL is ignored.
///
/// # Safety
/// `se` is NULL or a live session, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_teardown(se: *mut fuse_session) {
    crate::ffi_guard!((), {
        if se.is_null() {
            return;
        }
        // SAFETY: a live session (contract), not used afterwards.
        unsafe { teardown(se) }
    })
}
crate::symver!(cuse_lowlevel_teardown, "FUSE_3.0");

/// The body of [`cuse_lowlevel_teardown`]: the signal handlers go, then the session.
///
/// # Safety
/// `se` is a live session, not used afterwards.
unsafe fn teardown(se: *mut fuse_session) {
    // SAFETY: the caller's contract.
    unsafe {
        super::fuse_common::remove_signal_handlers(se);
        super::ll_session::destroy(se);
    }
}

/// The body of `cuse_lowlevel_main_319` and of the 3.0 `cuse_lowlevel_main`.
///
/// # Safety
/// As for `cuse_lowlevel_main_319`.
unsafe fn run_main(
    argc: c_int,
    argv: *mut *mut c_char,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    clop_size: size_t,
    version: (u32, u32, u32),
    userdata: *mut c_void,
) -> c_int {
    let mut multithreaded: c_int = 0;
    // SAFETY: forwarded contract; `multithreaded` is ours.
    let se =
        unsafe { setup(argc, argv, ci, clop, clop_size, version, &mut multithreaded, userdata) };
    // SAFETY: NULL or the session just made.
    let Some(s) = (unsafe { super::ll_session::session(se) }) else { return 1 };
    let res = if multithreaded != 0 {
        // SAFETY: a live session with its device open; NULL: the default configuration.
        unsafe { super::ll_session::loop_mt_312(se, ptr::null_mut()) }
    } else {
        s.run_loop()
    };
    // SAFETY: ours, not used afterwards.
    unsafe { teardown(se) };
    // libfuse returns 1 only for -1 here; an error ending the loop is a failure all the same.
    if res < 0 { 1 } else { 0 }
}

/// Sets up a CUSE device as `cuse_lowlevel_setup` does, serves it until it ends (in the
/// multithreaded loop unless `-s`), and tears it down. Returns 0, or 1 on error.
///
/// # Safety
/// As for `cuse_lowlevel_setup_319`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_main_319(
    argc: c_int,
    argv: *mut *mut c_char,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    clop_size: size_t,
    version: *const libfuse_version,
    userdata: *mut c_void,
) -> c_int {
    crate::ffi_guard!(1, {
        // SAFETY: NULL or valid (contract).
        let Some(v) = (unsafe { version.as_ref() }) else {
            crate::log::err("cuse: version not passed to cuse_lowlevel_main()\n");
            return 1;
        };
        let v = (v.major, v.minor, v.hotfix);
        // SAFETY: forwarded contract.
        unsafe { run_main(argc, argv, ci, clop, clop_size, v, userdata) }
    })
}
crate::symver!(cuse_lowlevel_main_319, "FUSE_3.19");

/// `cuse_lowlevel_main` as programs built before 3.19 call it (a 3.0 `cuse_lowlevel_ops`).
///
/// # Safety
/// As for `cuse_lowlevel_main_319`, with a 3.0-sized `clop`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cuse_lowlevel_main(
    argc: c_int,
    argv: *mut *mut c_char,
    ci: *const cuse_info,
    clop: *const cuse_lowlevel_ops,
    userdata: *mut c_void,
) -> c_int {
    crate::ffi_guard!(1, {
        // SAFETY: forwarded contract.
        unsafe { run_main(argc, argv, ci, clop, CLOP_SIZE_30, (0, 0, 0), userdata) }
    })
}
crate::symver!(cuse_lowlevel_main, "FUSE_3.0");
