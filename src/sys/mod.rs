//! Thin wrappers around libc: the only place besides `capi` with `unsafe`.

use std::ffi::CString;

/// Print `s` through C's stdio `stdout`, so that it stays in order with the program's own
/// `printf` output (libfuse prints its help and version texts with printf).
pub fn c_print(s: &str) {
    let s = s.split('\0').next().unwrap_or("");
    let Ok(c) = CString::new(s) else { return };
    // SAFETY: "%s" consumes exactly one NUL-terminated string, kept alive by `c`.
    unsafe { libc::printf(c"%s".as_ptr(), c.as_ptr()) };
}

/// Run the mount helper with `--version`, as libfuse's `fuse_lowlevel_version` does, so its
/// version line follows ours. A missing helper is not an error here.
pub fn print_helper_version() {
    // SAFETY: fflush(NULL) flushes every C stdio stream; the child writes to the same stdout.
    unsafe { libc::fflush(std::ptr::null_mut()) };
    let helper = std::env::var_os("FUSERMOUNT_PROG").unwrap_or_else(|| "fusermount3".into());
    let _ = std::process::Command::new(helper).arg("--version").status();
}
