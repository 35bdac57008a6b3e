//! Mirrors <fuse_service.h> (libfuse 3.19): filesystem servers started by a service manager
//! with a socket to a mount helper, which hands them their files and mounts for them.
//!
//! ferrofuse does not implement that protocol. The calls behave as in a libfuse built without
//! it (libfuse's own build on systems without systemd's headers): `fuse_service_accept` finds
//! no service, so programs that check it (libfuse 3.19's `null`) run as ordinary servers;
//! everything that needs a service context answers `-EOPNOTSUPP` (or NULL, false, -1). One
//! difference: a process that was started with sockets from a service manager (`LISTEN_FDS`)
//! is told why it cannot be served that way, instead of going on as if started by hand.
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_uint, c_void, mode_t, size_t};
use std::ptr;

use super::cmdline::fuse_cmdline_opts;
use super::fuse::fuse_operations;
use super::fuse_common::{fuse_session, libfuse_version};
use super::fuse_opt::fuse_args;

/// Opaque: a connection to the mount service (never created by this library).
pub struct fuse_service {
    _opaque: [u8; 0],
}

/// `fuse_service_request_file` flag: the server copes with the file missing.
pub const FUSE_SERVICE_REQUEST_FILE_QUIET: c_uint = 1 << 0;

/// How many sockets a service manager passed this process (`LISTEN_FDS`, for this pid).
fn listen_fds() -> u32 {
    let n = std::env::var("LISTEN_FDS").ok().and_then(|v| v.trim().parse::<u32>().ok());
    let for_us = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_none_or(|pid| pid == std::process::id());
    if for_us { n.unwrap_or(0) } else { 0 }
}

/// Looks for a connection to the mount service. Sets `*sfp` to NULL (there is never one) and
/// returns 0, so the program runs as an ordinary server; -EOPNOTSUPP, with a log line, when a
/// service manager started the process with sockets, which this library cannot serve; -EINVAL
/// for a NULL `sfp`.
///
/// # Safety
/// `sfp` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_accept(sfp: *mut *mut fuse_service) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        if sfp.is_null() {
            crate::log::err("fuse: fuse_service_accept: NULL result pointer\n");
            return -libc::EINVAL;
        }
        // SAFETY: non-NULL and writable by the contract.
        unsafe { *sfp = ptr::null_mut() };
        let n = listen_fds();
        if n > 0 {
            crate::log::err(&format!(
                "fuse: started with {n} socket(s) from a service manager (LISTEN_FDS), but this \
                 library does not implement libfuse's mount service\n"
            ));
            return -libc::EOPNOTSUPP;
        }
        0
    })
}
crate::symver!(fuse_service_accept, "FUSE_3.19");

/// Whether the mount helper accepts `allow_other`: never (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_can_allow_other(sf: *const fuse_service) -> bool {
    let _ = sf;
    false
}
crate::symver!(fuse_service_can_allow_other, "FUSE_3.19");

/// Whether the mount helper can mount `fuseblk`: never (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_can_fuseblk(sf: *const fuse_service) -> bool {
    let _ = sf;
    false
}
crate::symver!(fuse_service_can_fuseblk, "FUSE_3.19");

/// Lets go of the service's resources: nothing to do.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_release(sf: *mut fuse_service) {
    let _ = sf;
}
crate::symver!(fuse_service_release, "FUSE_3.19");

/// Frees a service context and sets `*sfp` to NULL (NULL `sfp` is ignored).
///
/// # Safety
/// `sfp` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_destroy(sfp: *mut *mut fuse_service) {
    crate::ffi_guard!((), {
        if !sfp.is_null() {
            // SAFETY: non-NULL and writable by the contract.
            unsafe { *sfp = ptr::null_mut() };
        }
    })
}
crate::symver!(fuse_service_destroy, "FUSE_3.19");

/// Adds the service's command line to `args`: -EOPNOTSUPP (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_append_args(
    sf: *mut fuse_service,
    args: *mut fuse_args,
) -> c_int {
    let _ = (sf, args);
    -libc::EOPNOTSUPP
}
crate::symver!(fuse_service_append_args, "FUSE_3.19");

/// The command line to hand a mount service: NULL (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_cmdline(
    argc: c_int,
    argv: *const *const c_char,
    args: *mut fuse_args,
) -> *mut c_char {
    let _ = (argc, argv, args);
    ptr::null_mut()
}
crate::symver!(fuse_service_cmdline, "FUSE_3.19");

/// `fuse_parse_cmdline` for a service: -1 (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_parse_cmdline_opts(
    args: *mut fuse_args,
    opts: *mut fuse_cmdline_opts,
) -> c_int {
    let _ = (args, opts);
    -1
}
crate::symver!(fuse_service_parse_cmdline_opts, "FUSE_3.19");

/// Asks the mount helper to open a file: -EOPNOTSUPP (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_request_file(
    sf: *const fuse_service,
    path: *const c_char,
    open_flags: c_int,
    create_mode: mode_t,
    request_flags: c_uint,
) -> c_int {
    let _ = (sf, path, open_flags, create_mode, request_flags);
    -libc::EOPNOTSUPP
}
crate::symver!(fuse_service_request_file, "FUSE_3.19");

/// Asks the mount helper to open a block device: -EOPNOTSUPP (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_request_blockdev(
    sf: *const fuse_service,
    path: *const c_char,
    open_flags: c_int,
    create_mode: mode_t,
    request_flags: c_uint,
    block_size: c_uint,
) -> c_int {
    let _ = (sf, path, open_flags, create_mode, request_flags, block_size);
    -libc::EOPNOTSUPP
}
crate::symver!(fuse_service_request_blockdev, "FUSE_3.19");

/// Takes a file the mount helper opened: `*fdp` = -1, -EOPNOTSUPP (no service).
///
/// # Safety
/// `fdp` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_receive_file(
    sf: *const fuse_service,
    path: *const c_char,
    fdp: *mut c_int,
) -> c_int {
    let _ = (sf, path);
    crate::ffi_guard!(-libc::EIO, {
        if !fdp.is_null() {
            // SAFETY: non-NULL and writable by the contract.
            unsafe { *fdp = -1 };
        }
        -libc::EOPNOTSUPP
    })
}
crate::symver!(fuse_service_receive_file, "FUSE_3.19");

/// Ends the file requests: -EOPNOTSUPP (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_finish_file_requests(sf: *const fuse_service) -> c_int {
    let _ = sf;
    -libc::EOPNOTSUPP
}
crate::symver!(fuse_service_finish_file_requests, "FUSE_3.19");

/// Tells the mount helper what the mountpoint must be: nothing to tell.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_expect_mount_format(
    sf: *mut fuse_service,
    expected_fmt: mode_t,
) {
    let _ = (sf, expected_fmt);
}
crate::symver!(fuse_service_expect_mount_format, "FUSE_3.19");

/// Has the mount helper mount the session: -EOPNOTSUPP (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_session_mount(
    sf: *mut fuse_service,
    se: *mut fuse_session,
    expected_fmt: mode_t,
    opts: *mut fuse_cmdline_opts,
) -> c_int {
    let _ = (sf, se, expected_fmt, opts);
    -libc::EOPNOTSUPP
}
crate::symver!(fuse_service_session_mount, "FUSE_3.19");

/// Tells the mount helper the server is done: -EOPNOTSUPP (no service).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_send_goodbye(
    sf: *mut fuse_service,
    exitcode: c_int,
) -> c_int {
    let _ = (sf, exitcode);
    -libc::EOPNOTSUPP
}
crate::symver!(fuse_service_send_goodbye, "FUSE_3.19");

/// The exit status a service should end with: `ret` itself.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_exit(ret: c_int) -> c_int {
    ret
}
crate::symver!(fuse_service_exit, "FUSE_3.19");

/// `fuse_main` for a service (`fuse_service_main` in `<fuse.h>`): there is never a service to
/// run, so it logs why and returns 1 (what libfuse without mount-service support returns).
///
/// # Safety
/// Always safe to call; no argument is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_service_main_real_versioned(
    service: *mut fuse_service,
    args: *mut fuse_args,
    op: *const fuse_operations,
    op_size: size_t,
    version: *mut libfuse_version,
    user_data: *mut c_void,
) -> c_int {
    let _ = (service, args, op, op_size, version, user_data);
    crate::log::err("fuse: fuse_service_main: this library does not implement the mount service\n");
    1
}
crate::symver!(fuse_service_main_real_versioned, "FUSE_3.19");
