//! Mirrors <fuse_daemonize.h> (libfuse 3.19): daemonize early, before mounting, and let the
//! waiting parent exit with the mount's outcome.
#![allow(non_camel_case_types)]

use libc::{c_int, c_uint};

/// `fuse_daemonize_early_start` flag: do not change to `/`.
pub const FUSE_DAEMONIZE_NO_CHDIR: c_uint = 1 << 0;
/// `fuse_daemonize_early_start` flag: do not fork.
pub const FUSE_DAEMONIZE_NO_BACKGROUND: c_uint = 1 << 1;

/// Forks into the background now (unless FUSE_DAEMONIZE_NO_BACKGROUND); the parent waits and
/// exits 0 once the filesystem is mounted and initialised, or with the failure. Returns 0 in
/// the child, -errno on failure.
///
/// # Safety
/// Forks: call it before starting threads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_daemonize_early_start(flags: c_uint) -> c_int {
    crate::ffi_guard!(-libc::EIO, { crate::daemonize::early_start(flags) })
}
crate::symver!(fuse_daemonize_early_start, "FUSE_3.19");

/// Tells the waiting parent to exit 0 (the library does this itself after mount and INIT).
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_daemonize_early_success() {
    crate::ffi_guard!((), { crate::daemonize::early_success() })
}
crate::symver!(fuse_daemonize_early_success, "FUSE_3.19");

/// Tells the waiting parent to exit with status `err`.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_daemonize_early_fail(err: c_int) {
    crate::ffi_guard!((), { crate::daemonize::early_fail(err) })
}
crate::symver!(fuse_daemonize_early_fail, "FUSE_3.19");

/// Whether a parent still waits for the outcome.
///
/// # Safety
/// Always safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_daemonize_early_is_active() -> bool {
    crate::ffi_guard!(false, { crate::daemonize::early_is_active() })
}
crate::symver!(fuse_daemonize_early_is_active, "FUSE_3.19");
