//! Mirrors <fuse_log.h>: the library's own messages go through `fuse_log`, so a program that
//! installed a log function with `fuse_set_log_func` sees them too.

use std::ffi::CString;

/// `enum fuse_log_level`: the syslog priorities.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(non_camel_case_types)]
pub enum fuse_log_level {
    FUSE_LOG_EMERG = 0,
    FUSE_LOG_ALERT = 1,
    FUSE_LOG_CRIT = 2,
    FUSE_LOG_ERR = 3,
    FUSE_LOG_WARNING = 4,
    FUSE_LOG_NOTICE = 5,
    FUSE_LOG_INFO = 6,
    FUSE_LOG_DEBUG = 7,
}

pub use fuse_log_level::*;

unsafe extern "C" {
    /// The C-variadic `fuse_log`, defined in `src/capi/shim.c`.
    fn fuse_log(level: fuse_log_level, fmt: *const libc::c_char, ...);
}

/// Send one message through `fuse_log` at `level`. A trailing newline is the caller's business,
/// as with libfuse (its messages end in `\n`).
pub fn log(level: fuse_log_level, msg: &str) {
    // Interior NULs cannot be passed to C: cut the message there.
    let msg = msg.split('\0').next().unwrap_or("");
    let Ok(c) = CString::new(msg) else { return };
    // SAFETY: "%s" consumes exactly one `const char *`, which `c` keeps alive for the call.
    unsafe { fuse_log(level, c"%s".as_ptr(), c.as_ptr()) };
}

/// Log at FUSE_LOG_ERR.
pub fn err(msg: &str) {
    log(FUSE_LOG_ERR, msg);
}

/// Log at FUSE_LOG_DEBUG.
pub fn debug(msg: &str) {
    log(FUSE_LOG_DEBUG, msg);
}

/// Called by `ffi_guard!` when an export panicked.
pub fn report_panic(place: &str, payload: &(dyn std::any::Any + Send)) {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    err(&format!("fuse: internal error in {place}: {what}\n"));
}

/// `fuse_err!("fuse: bad thing {}\n", x)`: format and log at FUSE_LOG_ERR.
#[macro_export]
#[doc(hidden)]
macro_rules! fuse_err {
    ($($arg:tt)*) => { $crate::log::err(&format!($($arg)*)) };
}
