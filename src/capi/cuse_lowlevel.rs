//! Mirrors <cuse_lowlevel.h>: character devices in userspace (CUSE).
//!
//! Declarations only for now: the CUSE session calls arrive with the low-level session, and
//! this machine's kernel has no CUSE to test them against.
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_uint, c_void, off_t, size_t};

use super::fuse_common::{
    fuse_conn_info, fuse_file_info, fuse_pollhandle, fuse_session, libfuse_version,
};
use super::fuse_lowlevel::fuse_req_t;
use super::fuse_opt::fuse_args;

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

#[allow(improper_ctypes)]
unsafe extern "C" {
    /// Creates a CUSE session (reached through the `cuse_lowlevel_new` wrapper).
    pub fn cuse_lowlevel_new_319(
        args: *mut fuse_args,
        ci: *const cuse_info,
        clop: *const cuse_lowlevel_ops,
        clop_size: size_t,
        version: *const libfuse_version,
        userdata: *mut c_void,
    ) -> *mut fuse_session;
    /// Parses the command line, creates and mounts a CUSE session (reached through the
    /// `cuse_lowlevel_setup` wrapper).
    pub fn cuse_lowlevel_setup_319(
        argc: c_int,
        argv: *mut *mut c_char,
        ci: *const cuse_info,
        clop: *const cuse_lowlevel_ops,
        clop_size: size_t,
        version: *const libfuse_version,
        multithreaded: *mut c_int,
        userdata: *mut c_void,
    ) -> *mut fuse_session;
    /// Ends a session made by `cuse_lowlevel_setup`.
    pub fn cuse_lowlevel_teardown(se: *mut fuse_session);
    /// Runs a CUSE device until it ends (reached through the `cuse_lowlevel_main` wrapper).
    pub fn cuse_lowlevel_main_319(
        argc: c_int,
        argv: *mut *mut c_char,
        ci: *const cuse_info,
        clop: *const cuse_lowlevel_ops,
        clop_size: size_t,
        version: *const libfuse_version,
        userdata: *mut c_void,
    ) -> c_int;
}
