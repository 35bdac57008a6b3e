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

/// read(2) on a raw fd; Err is the errno.
pub fn read_fd(fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: `buf` is a valid writable slice of the given length for the whole call.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// writev(2) on a raw fd; Err is the errno.
pub fn writev_fd(fd: i32, iov: &[std::io::IoSlice<'_>]) -> Result<usize, i32> {
    // SAFETY: IoSlice is ABI-compatible with struct iovec; the slices outlive the call.
    let n = unsafe { libc::writev(fd, iov.as_ptr().cast(), iov.len() as i32) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// pread(2) on a raw fd; Err is the errno.
pub fn pread_fd(fd: i32, buf: &mut [u8], off: i64) -> Result<usize, i32> {
    // SAFETY: `buf` is a valid writable slice of the given length for the whole call.
    let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), off) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// pwrite(2) on a raw fd; Err is the errno.
pub fn pwrite_fd(fd: i32, buf: &[u8], off: i64) -> Result<usize, i32> {
    // SAFETY: `buf` is a valid readable slice of the given length for the whole call.
    let n = unsafe { libc::pwrite(fd, buf.as_ptr().cast(), buf.len(), off) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// write(2) on a raw fd; Err is the errno.
pub fn write_fd(fd: i32, buf: &[u8]) -> Result<usize, i32> {
    // SAFETY: `buf` is a valid readable slice of the given length for the whole call.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// close(2), ignoring errors.
pub fn close_fd(fd: i32) {
    // SAFETY: closing an fd the caller owns; no memory is involved.
    unsafe { libc::close(fd) };
}

/// The calling thread's errno.
pub fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// The C library's message for an errno.
pub fn strerror(e: i32) -> String {
    std::io::Error::from_raw_os_error(e).to_string().split(" (os error").next().unwrap_or("").to_string()
}

/// The supplementary groups of thread `pid`, from /proc (libfuse's fuse_req_getgroups).
pub fn proc_groups(pid: i32) -> Result<Vec<u32>, i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/status"))
        .map_err(|_| libc::EIO)?;
    let line = text.lines().find(|l| l.starts_with("Groups:")).ok_or(libc::EIO)?;
    Ok(line["Groups:".len()..].split_whitespace().filter_map(|g| g.parse().ok()).collect())
}
