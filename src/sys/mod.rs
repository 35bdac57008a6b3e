//! Thin wrappers around libc: the only place besides `capi` with `unsafe`.

pub mod uring;

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

/// read(2) of the FUSE device, made as a plain system call. libc's read() is a thread
/// cancellation point: in a multithreaded process it switches asynchronous cancellation on
/// and off around the call, two atomic updates per request that cost about 2% of a worker's
/// time in a stat storm. No thread of the loops is ever cancelled (they stop by signal and
/// by flags), so the device I/O need not be a cancellation point.
pub fn read_dev(fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: `buf` is a valid writable slice of the given length for the whole call; the
    // arguments are read(2)'s, in its order and types.
    let n = unsafe { libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// writev(2) to the FUSE device, made as a plain system call (see `read_dev`).
pub fn writev_dev(fd: i32, iov: &[std::io::IoSlice<'_>]) -> Result<usize, i32> {
    // SAFETY: IoSlice is ABI-compatible with struct iovec; the slices outlive the call; the
    // arguments are writev(2)'s, in its order and types.
    let n = unsafe { libc::syscall(libc::SYS_writev, fd, iov.as_ptr(), iov.len() as libc::c_int) };
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

/// pipe2(2) with O_CLOEXEC: (read end, write end).
pub fn pipe_cloexec() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd), i32> {
    use std::os::fd::FromRawFd;
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` is a valid two-int array for the call to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(last_errno());
    }
    // SAFETY: pipe2 just returned these two fds; nobody else owns them.
    Ok(unsafe {
        (std::os::fd::OwnedFd::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1]))
    })
}

/// The capacity of a pipe (F_GETPIPE_SZ).
pub fn pipe_size(fd: i32) -> Result<usize, i32> {
    // SAFETY: fcntl on an fd the caller owns; no memory is involved.
    let n = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// Grow a pipe to at least `size` bytes (F_SETPIPE_SZ); returns the new capacity.
pub fn set_pipe_size(fd: i32, size: usize) -> Result<usize, i32> {
    let size = libc::c_int::try_from(size).map_err(|_| libc::EINVAL)?;
    // SAFETY: fcntl on an fd the caller owns; no memory is involved.
    let n = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, size) };
    if n < 0 { Err(last_errno()) } else { Ok(n as usize) }
}

/// splice(2) of up to `len` bytes; `off_in` is the input offset to use and advance (None: the
/// fd's own position). Returns the bytes moved (0 at end of input).
pub fn splice_fd(
    fd_in: i32,
    off_in: Option<&mut i64>,
    fd_out: i32,
    len: usize,
    flags: u32,
) -> Result<usize, i32> {
    let off = off_in.map_or(std::ptr::null_mut(), |o| o as *mut i64);
    // SAFETY: `off` is NULL or points at a live i64 for the whole call; the fds are the
    // caller's; splice moves data between them without touching our memory otherwise.
    let n = unsafe { libc::splice(fd_in, off, fd_out, std::ptr::null_mut(), len, flags) };
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
    std::io::Error::from_raw_os_error(e)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or("")
        .to_string()
}

/// The supplementary groups of thread `pid`, from /proc (libfuse's fuse_req_getgroups).
pub fn proc_groups(pid: i32) -> Result<Vec<u32>, i32> {
    let text =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/status")).map_err(|_| libc::EIO)?;
    let line = text.lines().find(|l| l.starts_with("Groups:")).ok_or(libc::EIO)?;
    Ok(line["Groups:".len()..].split_whitespace().filter_map(|g| g.parse().ok()).collect())
}

/// Whether `fd` is an open descriptor.
pub fn fd_is_open(fd: i32) -> bool {
    nix::fcntl::fcntl(
        // SAFETY: only queried, never closed or kept.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        nix::fcntl::FcntlArg::F_GETFD,
    )
    .is_ok()
}

/// Turn `O_NONBLOCK` on or off for `fd`; returns whether it was on before.
pub fn set_nonblocking(fd: i32, on: bool) -> Result<bool, i32> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    // SAFETY: only its status flags are changed; the descriptor is never closed or kept.
    let bfd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let flags = OFlag::from_bits_retain(fcntl(bfd, FcntlArg::F_GETFL).map_err(|e| e as i32)?);
    let was = flags.contains(OFlag::O_NONBLOCK);
    if was != on {
        let new = if on { flags | OFlag::O_NONBLOCK } else { flags - OFlag::O_NONBLOCK };
        fcntl(bfd, FcntlArg::F_SETFL(new)).map_err(|e| e as i32)?;
    }
    Ok(was)
}

/// libfuse's `fuse_daemonize`: unless `foreground`, fork; the parent waits until the child has
/// detached (setsid, cwd `/`, stdio on /dev/null) and exits 0. Returns 0 or -1.
pub fn daemonize(foreground: bool) -> i32 {
    use nix::unistd::{ForkResult, fork, pipe, setsid};
    if crate::daemonize::early_is_used() {
        crate::log::err("fuse_daemonize: the early daemonize API is already in use\n");
        return -1;
    }
    if foreground {
        let _ = nix::unistd::chdir("/");
        return 0;
    }
    let (rd, wr) = match pipe() {
        Ok(p) => p,
        Err(e) => {
            crate::log::err(&format!("fuse_daemonize: pipe: {}\n", strerror(e as i32)));
            return -1;
        }
    };
    // SAFETY: libfuse's contract for fuse_daemonize: called before the program starts threads,
    // so the child may run arbitrary code after fork.
    match unsafe { fork() } {
        Err(e) => {
            crate::log::err(&format!("fuse_daemonize: fork: {}\n", strerror(e as i32)));
            return -1;
        }
        Ok(ForkResult::Parent { .. }) => {
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(&rd, &mut b);
            // SAFETY: _exit ends the parent without running the program's atexit handlers,
            // as libfuse does.
            unsafe { libc::_exit(0) };
        }
        Ok(ForkResult::Child) => {}
    }
    if let Err(e) = setsid() {
        crate::log::err(&format!("fuse_daemonize: setsid: {}\n", strerror(e as i32)));
        return -1;
    }
    let _ = nix::unistd::chdir("/");
    if let Ok(null) =
        nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDWR, nix::sys::stat::Mode::empty())
    {
        use std::os::fd::AsRawFd;
        let n = null.as_raw_fd();
        // SAFETY: dup2 onto the standard descriptors; `null` stays owned and is closed on drop
        // unless it is one of them.
        unsafe {
            libc::dup2(n, 0);
            libc::dup2(n, 1);
            libc::dup2(n, 2);
        }
        if n <= 2 {
            std::mem::forget(null);
        }
    }
    let _ = nix::unistd::write(&wr, &[1u8]);
    0
}

/// Install `handler` (an `extern "C" fn(c_int)` as an address) for `sig` if its current action
/// is the default; with `remove`, put back the default if the current handler is `handler`.
pub fn set_signal_handler(sig: i32, handler: usize, remove: bool) -> Result<(), i32> {
    // SAFETY: sigaction with a zeroed struct is the documented way to query; the handler
    // address is an `extern "C" fn(c_int)` supplied by our own code.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, std::ptr::null(), &mut old) == -1 {
            let e = last_errno();
            crate::log::err(&format!("fuse: cannot get old signal handler: {}\n", strerror(e)));
            return Err(e);
        }
        let expected = if remove { handler } else { libc::SIG_DFL };
        if old.sa_sigaction != expected {
            return Ok(());
        }
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = if remove { libc::SIG_DFL } else { handler };
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        if libc::sigaction(sig, &sa, std::ptr::null_mut()) == -1 {
            let e = last_errno();
            crate::log::err(&format!("fuse: cannot set signal handler: {}\n", strerror(e)));
            return Err(e);
        }
    }
    Ok(())
}

/// Put back the default action of `sig` (async-signal-safe).
pub fn restore_default_signal(sig: i32) {
    // SAFETY: signal(2) with SIG_DFL is async-signal-safe and touches no memory of ours.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
}

/// write(2) to stderr, for signal handlers.
pub fn write_stderr_raw(msg: &[u8]) {
    // SAFETY: write(2) of a valid slice; async-signal-safe.
    unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
}

/// abort(3).
pub fn abort() -> ! {
    std::process::abort()
}

/// FUSE_DEV_IOC_CLONE: attach `fd` (a fresh /dev/fuse) to the connection of `master`.
pub fn ioctl_clone(fd: i32, master: i32) -> Result<(), i32> {
    let m: u32 = master as u32;
    // SAFETY: FUSE_DEV_IOC_CLONE reads one u32 from the pointer, which outlives the call.
    let r = unsafe { libc::ioctl(fd, crate::kernel::ioctl::FUSE_DEV_IOC_CLONE, &m) };
    if r < 0 { Err(last_errno()) } else { Ok(()) }
}

/// futex(2) FUTEX_WAIT (private) on `word` while it holds `expected`; returns on a wake-up,
/// a signal, or at once if the value differs.
pub fn futex_wait(word: &std::sync::atomic::AtomicU32, expected: u32) {
    // SAFETY: `word` is a live, aligned u32 for the duration of the call; no timeout.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

/// futex(2) FUTEX_WAKE (private) of every waiter on `word`. Async-signal-safe.
pub fn futex_wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE only reads its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

/// poll(2) on one fd for input, without a timeout. Err is the errno (EINTR included).
pub fn poll_in(fd: i32) -> Result<(), i32> {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    let r = unsafe { libc::poll(&mut p, 1, -1) };
    if r < 0 { Err(last_errno()) } else { Ok(()) }
}

/// poll(2) on two fds for input: (first readable, second readable). Err is the errno.
pub fn poll2(a: i32, b: i32) -> Result<(bool, bool), i32> {
    let mut fds = [
        libc::pollfd { fd: a, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: b, events: libc::POLLIN, revents: 0 },
    ];
    // SAFETY: `fds` is a valid array of two pollfd for the whole call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
    if r < 0 {
        return Err(last_errno());
    }
    // An error or hangup on the device (unmounted) counts as readable: read() reports it.
    let ready = |p: &libc::pollfd| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0;
    Ok((ready(&fds[0]), ready(&fds[1])))
}

/// A close-on-exec duplicate of `fd` (F_DUPFD_CLOEXEC), owned by the caller.
pub fn dup_cloexec(fd: i32) -> Result<std::os::fd::OwnedFd, i32> {
    // SAFETY: F_DUPFD_CLOEXEC reads no memory; a new descriptor, or -1, comes back.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if r < 0 {
        return Err(last_errno());
    }
    // SAFETY: `r` is a descriptor this call just created and nothing else owns.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(r) })
}

/// What [`poll_device_or_wake`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceWatch {
    /// The device reports an error (its connection is gone) or is no open fd.
    DeviceError,
    /// The wake fd is readable (or reports an error of its own).
    Woken,
    /// Neither, within the timeout.
    TimedOut,
}

/// poll(2) for an error on `dev` (no input events asked: pending requests do not count) and
/// for input on `wake`, up to `timeout_ms` (-1: no limit). Err is the errno (EINTR included).
pub fn poll_device_or_wake(
    dev: Option<i32>,
    wake: i32,
    timeout_ms: i32,
) -> Result<DeviceWatch, i32> {
    let mut fds = [
        libc::pollfd { fd: wake, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: dev.unwrap_or(-1), events: 0, revents: 0 },
    ];
    let n = if dev.is_some() { 2 } else { 1 };
    // SAFETY: `fds` holds `n` valid pollfd entries for the whole call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), n, timeout_ms) };
    if r < 0 {
        return Err(last_errno());
    }
    if r == 0 {
        return Ok(DeviceWatch::TimedOut);
    }
    // Only error conditions can be reported for `dev` (no events were asked for); they come
    // first, so a session whose connection died is told so even when a stop is pending.
    if n == 2 && fds[1].revents != 0 {
        return Ok(DeviceWatch::DeviceError);
    }
    Ok(DeviceWatch::Woken)
}

/// FUSE_DEV_IOC_BACKING_OPEN: register `fd` as a passthrough backing file; the backing id.
pub fn ioctl_backing_open(dev: i32, fd: i32) -> Result<i32, i32> {
    let map = crate::kernel::fuse_backing_map { fd, flags: 0, padding: 0 };
    // SAFETY: the ioctl reads one fuse_backing_map from the pointer, which outlives the call.
    let r = unsafe { libc::ioctl(dev, crate::kernel::ioctl::FUSE_DEV_IOC_BACKING_OPEN, &map) };
    if r < 0 { Err(last_errno()) } else { Ok(r) }
}

/// FUSE_DEV_IOC_BACKING_CLOSE: unregister a backing id.
pub fn ioctl_backing_close(dev: i32, id: i32) -> Result<i32, i32> {
    let v: u32 = id as u32;
    // SAFETY: the ioctl reads one u32 from the pointer, which outlives the call.
    let r = unsafe { libc::ioctl(dev, crate::kernel::ioctl::FUSE_DEV_IOC_BACKING_CLOSE, &v) };
    if r < 0 { Err(last_errno()) } else { Ok(r) }
}

/// fsopen(2): a filesystem context for `fstype`, close-on-exec.
pub fn fsopen(fstype: &std::ffi::CStr) -> Result<std::os::fd::OwnedFd, i32> {
    // SAFETY: fsopen takes a C string and flags; the returned fd is ours alone.
    let r = unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), libc::FSOPEN_CLOEXEC) };
    if r < 0 {
        return Err(last_errno());
    }
    // SAFETY: a fresh descriptor returned by the kernel.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(r as i32) })
}

/// fsconfig(2) with a string value (or a flag when `value` is None), or a command (`key` None).
pub fn fsconfig(
    fsfd: i32,
    cmd: u32,
    key: Option<&std::ffi::CStr>,
    value: Option<&std::ffi::CStr>,
) -> Result<(), i32> {
    let k = key.map_or(std::ptr::null(), |k| k.as_ptr());
    let v = value.map_or(std::ptr::null(), |v| v.as_ptr());
    // SAFETY: fsconfig reads the optional C strings, which outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_fsconfig, fsfd, cmd, k, v, 0) };
    if r < 0 { Err(last_errno()) } else { Ok(()) }
}

/// fsmount(2): a detached mount of a created context, close-on-exec.
pub fn fsmount(fsfd: i32, attr_flags: u64) -> Result<std::os::fd::OwnedFd, i32> {
    // SAFETY: plain integer arguments; the returned fd is ours alone.
    let r = unsafe { libc::syscall(libc::SYS_fsmount, fsfd, libc::FSMOUNT_CLOEXEC, attr_flags) };
    if r < 0 {
        return Err(last_errno());
    }
    // SAFETY: a fresh descriptor returned by the kernel.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(r as i32) })
}

/// move_mount(2) of a detached mount onto a path.
pub fn move_mount_to(mnt_fd: i32, to: &std::ffi::CStr) -> Result<(), i32> {
    // SAFETY: the empty source path and the target C string outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt_fd,
            c"".as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 { Err(last_errno()) } else { Ok(()) }
}

/// FUSE_DEV_IOC_SYNC_INIT on a fresh /dev/fuse descriptor: the kernel will send INIT during
/// the mount and wait for its answer. ENOTTY means the kernel lacks it.
pub fn ioctl_sync_init(fd: i32) -> Result<(), i32> {
    // SAFETY: the ioctl takes no argument.
    let r = unsafe { libc::ioctl(fd, crate::kernel::ioctl::FUSE_DEV_IOC_SYNC_INIT) };
    if r < 0 { Err(last_errno()) } else { Ok(()) }
}

/// A signal that interrupts a thread blocked in a system call: a free real-time signal with a
/// no-op handler (without `SA_RESTART`), chosen once per process.
///
/// Needed because a thread that polls or reads a `/dev/fuse` armed with FUSE_DEV_IOC_SYNC_INIT
/// waits inside the kernel until a mount attaches the device: if the mount fails first, only a
/// signal gets it out (a timeout in poll(2) does not apply to that wait).
pub struct Interrupter {
    sig: i32,
}

extern "C" fn interrupt_noop(_sig: libc::c_int) {}

/// The signal chosen for interrupting, once per process: Ok(signal) or Err(errno).
static INTERRUPT_SIGNAL: once_cell::sync::OnceCell<Result<i32, i32>> =
    once_cell::sync::OnceCell::new();

/// Take the highest real-time signal that nobody handles yet (the program's own handlers and
/// tools such as valgrind, which reserves SIGRTMAX, keep theirs) and give it a no-op handler.
/// The handler stays for the life of the process: another session's loop may be using it at
/// any time, and a no-op on an otherwise unused signal changes nothing for the program.
fn pick_interrupt_signal() -> Result<i32, i32> {
    let mut last = libc::EINVAL;
    let (lo, hi) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    for sig in (lo.max(hi - 8)..=hi).rev() {
        // SAFETY: sigaction with valid, zero-initialised structs; the handler is an
        // `extern "C" fn(c_int)` that does nothing (async-signal-safe).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == -1 {
                last = last_errno();
                continue;
            }
            if old.sa_sigaction != libc::SIG_DFL {
                continue;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = interrupt_noop as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) == -1 {
                last = last_errno();
                continue;
            }
        }
        return Ok(sig);
    }
    Err(last)
}

impl Interrupter {
    /// Make sure the process has its interrupt signal (a free real-time signal with a no-op
    /// handler, no SA_RESTART).
    pub fn install() -> Result<Interrupter, i32> {
        let sig = (*INTERRUPT_SIGNAL.get_or_init(pick_interrupt_signal))?;
        Ok(Interrupter { sig })
    }

    /// Called on the thread to be interrupted: make sure the signal is not blocked there.
    pub fn arm_current_thread(&self) {
        unblock_signal(self.sig);
    }

    /// Interrupt `thread` (a live thread that called [`Self::arm_current_thread`]).
    pub fn interrupt(&self, thread: libc::pthread_t) {
        // SAFETY: the caller guarantees `thread` has not been joined yet; the handler is ours.
        unsafe { libc::pthread_kill(thread, self.sig) };
    }
}

fn unblock_signal(sig: i32) {
    // SAFETY: a valid sigset_t built here; pthread_sigmask only changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// pthread_self(3).
pub fn current_thread() -> libc::pthread_t {
    // SAFETY: always safe to call.
    unsafe { libc::pthread_self() }
}

/// The file this library was loaded from (dladdr on one of its own functions).
pub fn own_library_path() -> Option<std::path::PathBuf> {
    // SAFETY: dladdr fills `info` for an address inside a loaded object; a function of ours is.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the function pointer is only used as an address.
    let ok = unsafe { libc::dladdr(own_library_path as *const libc::c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic loader.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let p = std::path::PathBuf::from(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.to_bytes()),
    );
    std::fs::canonicalize(&p).ok().or(Some(p))
}

/// Point stdin at /dev/null.
pub fn stdin_to_null() {
    if let Ok(n) =
        nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDWR, nix::sys::stat::Mode::empty())
    {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto descriptor 0; `n` stays owned and is closed when dropped unless it
        // is 0 itself.
        unsafe { libc::dup2(n.as_raw_fd(), 0) };
        if n.as_raw_fd() == 0 {
            std::mem::forget(n);
        }
    }
}

/// Point stdout and stderr at /dev/null.
pub fn stdout_stderr_to_null() {
    if let Ok(n) =
        nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDWR, nix::sys::stat::Mode::empty())
    {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto descriptors 1 and 2; `n` is closed on drop unless it is one of them.
        unsafe {
            libc::dup2(n.as_raw_fd(), 1);
            libc::dup2(n.as_raw_fd(), 2);
        }
        if n.as_raw_fd() <= 2 {
            std::mem::forget(n);
        }
    }
}

/// Make sure the calling thread receives the interrupt signal of [`Interrupter`] (once the
/// process has one).
pub fn unblock_interrupt_signal() {
    if let Some(Ok(sig)) = INTERRUPT_SIGNAL.get() {
        unblock_signal(*sig);
    }
}
