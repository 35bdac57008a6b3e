//! Mirrors <fuse_log.h>: the replaceable log function and syslog output.
//!
//! `fuse_log` itself is C-variadic, which stable Rust cannot define: it lives in
//! `shim.c`, which reads the two settings below.

use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use libc::{c_char, c_int};

use crate::log::fuse_log_level;

/// Opaque stand-in for C's `va_list` argument (a pointer on x86-64).
#[repr(C)]
pub struct VaListTag {
    _opaque: [u8; 0],
}

#[allow(non_camel_case_types)]
/// A log function: receives the level, a printf format and its arguments.
pub type fuse_log_func_t =
    Option<unsafe extern "C" fn(level: fuse_log_level, fmt: *const c_char, ap: *mut VaListTag)>;

unsafe extern "C" {
    /// The installed log function, NULL for the default (stderr or syslog). Defined in C.
    static ferrofuse_log_func: AtomicPtr<c_void>;
    /// Non-zero once `fuse_log_enable_syslog` was called. Defined in C.
    static ferrofuse_log_to_syslog: AtomicI32;
}

/// Installs `func` as the log function; NULL restores the default (stderr, or syslog after
/// `fuse_log_enable_syslog`).
///
/// # Safety
/// `func` is NULL or a function that may be called from any thread with a printf format.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_set_log_func(func: fuse_log_func_t) {
    let raw = func.map_or(std::ptr::null_mut(), |f| f as *mut c_void);
    // SAFETY: a C global of pointer size, only ever accessed atomically.
    unsafe { ferrofuse_log_func.store(raw, Ordering::Release) };
}
crate::symver!(fuse_set_log_func, "FUSE_3.7");

/// Sends the default log output to syslog from now on, opened with `openlog(ident, option,
/// facility)`.
///
/// # Safety
/// `ident` is NULL or a string that stays valid while syslog is in use (as for openlog).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_log_enable_syslog(
    ident: *const c_char,
    option: c_int,
    facility: c_int,
) {
    // SAFETY: a C global int, only ever accessed atomically.
    unsafe { ferrofuse_log_to_syslog.store(1, Ordering::Release) };
    // SAFETY: openlog accepts NULL or a caller-owned string, per the contract above.
    unsafe { libc::openlog(ident, option, facility) };
}
crate::symver!(fuse_log_enable_syslog, "FUSE_3.17");

/// Closes the syslog connection opened by `fuse_log_enable_syslog`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_log_close_syslog() {
    // SAFETY: closelog has no preconditions.
    unsafe { libc::closelog() };
}
crate::symver!(fuse_log_close_syslog, "FUSE_3.17");
