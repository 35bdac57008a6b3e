//! <fuse_lowlevel.h>, part 3: creating, mounting, running and destroying sessions.

use std::ffi::CStr;
use std::io::IoSlice;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr;

use libc::{c_char, c_int, c_void, size_t};
use parking_lot::Mutex;

use super::abi::{BUF_IS_FD, Buf, ConnInfo};
use super::dispatch::CFilesystem;
use super::fuse_common::{fuse_buf, fuse_session, libfuse_version};
use super::fuse_lowlevel::{fuse_custom_io, fuse_lowlevel_ops};
use super::fuse_opt::fuse_args;
use crate::session::{Channel, Errno, Session};

/// Connection-info addresses of live sessions, so that `fuse_set_feature_flag` on a session's
/// `conn` can keep the session's own record of wants in step.
static CONNS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// The session whose connection info lives at `conn`, if any.
pub fn session_for_conn<'a>(conn: *const ConnInfo) -> Option<&'a Session> {
    let conns = CONNS.lock();
    let s = conns.iter().find(|(c, _)| *c == conn as usize).map(|(_, s)| *s)?;
    // SAFETY: registered sessions are alive: fuse_session_destroy unregisters before freeing.
    Some(unsafe { &*(s as *const Session) })
}

/// A session pointer from C, NULL-checked.
///
/// # Safety
/// `se` is NULL or a session made by `fuse_session_new*` and not destroyed.
pub unsafe fn session<'a>(se: *const fuse_session) -> Option<&'a Session> {
    // SAFETY: the caller's contract.
    unsafe { se.cast::<Session>().as_ref() }
}

fn null_session(what: &str) {
    crate::log::err(&format!("fuse: {what}: NULL session\n"));
}

/// Creates a session for the operations `op` (NULL: none), `op_size` bytes of them, and
/// registers it; `init_done` is the CUSE callback, if any. NULL on error (logged).
///
/// # Safety
/// `args` is NULL or a valid vector; `op` is NULL or holds `op_size` bytes of operations.
pub(crate) unsafe fn new_common(
    args: *mut fuse_args,
    op: *const fuse_lowlevel_ops,
    mut op_size: size_t,
    version: (u32, u32, u32),
    userdata: *mut c_void,
    init_done: Option<unsafe extern "C" fn(*mut c_void)>,
) -> *mut fuse_session {
    let ours = std::mem::size_of::<fuse_lowlevel_ops>();
    if op_size > ours {
        crate::log::err("fuse: warning: library too old, some operations may not work\n");
        op_size = ours;
    }
    // SAFETY: NULL or a valid vector, by the contract.
    let Some(a) = (unsafe { args.as_mut() }) else {
        crate::log::err("fuse: empty argv passed to fuse_session_new().\n");
        return ptr::null_mut();
    };
    if a.argc <= 0 || a.argv.is_null() {
        crate::log::err("fuse: empty argv passed to fuse_session_new().\n");
        return ptr::null_mut();
    }
    // SAFETY: argv holds argc C strings.
    let input = match unsafe { super::fuse_opt::read_args(a) } {
        Ok(v) => v,
        Err(e) => {
            super::fuse_opt::log_error(&e);
            return ptr::null_mut();
        }
    };
    let (so, mo, _rest) = match crate::session::opts::parse_session_args(&input) {
        Ok(v) => v,
        Err(_) => return ptr::null_mut(),
    };
    // SAFETY: all-zero is "no callbacks" for a table of nullable function pointers.
    let mut ops: fuse_lowlevel_ops = unsafe { std::mem::zeroed() };
    if !op.is_null() {
        // SAFETY: the caller's table holds op_size bytes; ours holds at least that many.
        unsafe { ptr::copy_nonoverlapping(op.cast::<u8>(), (&raw mut ops).cast::<u8>(), op_size) };
    }
    let se = Session::new(&so, mo, super::image_pre_317(), version, userdata as usize);
    se.set_filesystem(Box::new(CFilesystem { ops, userdata, init_done }));
    if so.debug {
        crate::log::debug("FUSE library version: 3.19.0\n");
    }
    register(se)
}

/// Hand a new session to C: it becomes a `struct fuse_session *`, freed by
/// `fuse_session_destroy`.
pub(crate) fn register(se: Box<Session>) -> *mut fuse_session {
    let conn = se.conn_ptr() as usize;
    let raw = Box::into_raw(se);
    CONNS.lock().push((conn, raw as usize));
    raw.cast::<fuse_session>()
}

/// Creates a session (the pre-3.17 entry point; NULL `op` makes a mount-only session).
///
/// # Safety
/// `args` is a valid argument vector; `op` is NULL or holds `op_size` bytes of operations.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_new(
    args: *mut fuse_args,
    op: *const fuse_lowlevel_ops,
    op_size: size_t,
    userdata: *mut c_void,
) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        let op_size = if op.is_null() { 0 } else { op_size };
        // SAFETY: forwarded contract.
        unsafe { new_common(args, op, op_size, (0, 0, 0), userdata, None) }
    })
}
crate::symver!(fuse_session_new, "FUSE_3.0");

/// Creates a session (3.17+ entry point, called by the `fuse_session_new` inline wrapper).
///
/// # Safety
/// `args` is a valid argument vector; `op` holds `op_size` bytes; `version` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_new_versioned(
    args: *mut fuse_args,
    op: *const fuse_lowlevel_ops,
    op_size: size_t,
    version: *const libfuse_version,
    userdata: *mut c_void,
) -> *mut fuse_session {
    crate::ffi_guard!(ptr::null_mut(), {
        if op.is_null() || op_size == 0 {
            crate::log::err("fuse: warning: empty op list passed to fuse_session_new()\n");
            return ptr::null_mut();
        }
        // SAFETY: NULL-checked; valid by the contract.
        let Some(v) = (unsafe { version.as_ref() }) else {
            crate::log::err("fuse: warning: version not passed to fuse_session_new()\n");
            return ptr::null_mut();
        };
        // SAFETY: forwarded contract.
        unsafe { new_common(args, op, op_size, (v.major, v.minor, v.hotfix), userdata, None) }
    })
}
crate::symver!(fuse_session_new_versioned, "FUSE_3.17");

/// A program's own transport (`fuse_custom_io`).
struct CustomIo {
    io: fuse_custom_io,
    userdata: usize,
}

// SAFETY: the callbacks belong to the program, which must make them usable from the loop's
// threads, as with libfuse.
unsafe impl Send for CustomIo {}
// SAFETY: as above; the table is never written after construction.
unsafe impl Sync for CustomIo {}

impl Channel for CustomIo {
    fn read(&self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        let Some(f) = self.io.read else { return crate::sys::read_fd(fd, buf) };
        // SAFETY: the program's read callback with our writable buffer of that length.
        let n = unsafe { f(fd, buf.as_mut_ptr().cast(), buf.len(), self.userdata as *mut c_void) };
        if n < 0 { Err(crate::sys::last_errno()) } else { Ok(n as usize) }
    }
    fn writev(&self, fd: i32, iov: &[IoSlice<'_>]) -> Result<usize, Errno> {
        let Some(f) = self.io.writev else { return crate::sys::writev_fd(fd, iov) };
        // SAFETY: IoSlice is ABI-compatible with iovec; the callback only reads them.
        let n = unsafe {
            f(fd, iov.as_ptr().cast_mut().cast(), iov.len() as c_int, self.userdata as *mut c_void)
        };
        if n < 0 { Err(crate::sys::last_errno()) } else { Ok(n as usize) }
    }
}

/// # Safety
/// `se` is a live session; `io` holds `op_size` bytes of a `fuse_custom_io`.
unsafe fn custom_io_common(
    se: *mut fuse_session,
    io: *const fuse_custom_io,
    mut op_size: size_t,
    fd: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { session(se) }) else {
        null_session("fuse_session_custom_io");
        return -libc::EINVAL;
    };
    let ours = std::mem::size_of::<fuse_custom_io>();
    if op_size > ours {
        crate::log::err("fuse: warning: library too old, some operations may not work\n");
        op_size = ours;
    }
    if fd < 0 {
        crate::log::err(&format!(
            "Invalid file descriptor value {fd} passed to fuse_session_custom_io()\n"
        ));
        return -libc::EBADF;
    }
    if io.is_null() {
        crate::log::err("No custom IO passed to fuse_session_custom_io()\n");
        return -libc::EINVAL;
    }
    // SAFETY: all-zero is "no callbacks"; the caller's struct holds op_size bytes.
    let mut copy: fuse_custom_io = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { ptr::copy_nonoverlapping(io.cast::<u8>(), (&raw mut copy).cast::<u8>(), op_size) };
    if copy.read.is_none() || copy.writev.is_none() {
        crate::log::err(
            "io passed to fuse_session_custom_io() must implement both io->read() and io->writev\n",
        );
        return -libc::EINVAL;
    }
    s.set_channel(Box::new(CustomIo { io: copy, userdata: s.userdata }), fd);
    0
}

/// Replaces the session's device I/O (3.17+: `op_size` bytes of `io` are read).
///
/// # Safety
/// `se` is a live session; `io` holds `op_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_custom_io_317(
    se: *mut fuse_session,
    io: *const fuse_custom_io,
    op_size: size_t,
    fd: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    crate::ffi_guard!(-libc::EIO, { unsafe { custom_io_common(se, io, op_size, fd) } })
}
crate::symver!(fuse_session_custom_io_317, "FUSE_3.17");
crate::image_symver!(fuse_session_custom_io_317, so4 = "fuse_session_custom_io@@FUSE_3.17");

/// Replaces the session's device I/O (pre-3.17: the struct ends before `clone_fd`).
///
/// # Safety
/// `se` is a live session; `io` is a pre-3.17 `fuse_custom_io`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_custom_io_30(
    se: *mut fuse_session,
    io: *const fuse_custom_io,
    fd: c_int,
) -> c_int {
    let size = std::mem::offset_of!(fuse_custom_io, clone_fd);
    // SAFETY: forwarded contract.
    crate::ffi_guard!(-libc::EIO, { unsafe { custom_io_common(se, io, size, fd) } })
}
crate::symver!(fuse_session_custom_io_30, "FUSE_3.17");
crate::image_symver!(
    fuse_session_custom_io_30,
    so3 = "fuse_session_custom_io@@FUSE_3.0",
    so4 = "fuse_session_custom_io@FUSE_3.0",
);

/// Mounts the filesystem on `mountpoint` (or adopts an open `/dev/fuse` given as
/// `/dev/fd/N`). Returns 0 or -1.
///
/// # Safety
/// `se` is a live session; `mountpoint` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_mount(
    se: *mut fuse_session,
    mountpoint: *const c_char,
) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else {
            null_session("fuse_session_mount");
            return -1;
        };
        if mountpoint.is_null() {
            crate::log::err("Invalid null-ptr mountpoint!\n");
            return -1;
        }
        // SAFETY: non-NULL C string by the contract.
        let mp = unsafe { CStr::from_ptr(mountpoint) }.to_bytes().to_vec();
        crate::mount::ensure_std_fds();
        if let Some(fd) = crate::mount::parse_fd_mountpoint(&mp) {
            if !crate::sys::fd_is_open(fd) {
                crate::log::err(&format!("fuse: Invalid file descriptor /dev/fd/{fd}\n"));
                return -1;
            }
            // The parent mounted it and will unmount it: like libfuse 3.14, remember no
            // mountpoint, so fuse_session_unmount leaves the mount alone.
            s.set_fd(fd);
            // Mounted all the same: an early-daemonized parent (3.19) is told once INIT is
            // answered, as for a mount of our own.
            crate::daemonize::set_mounted();
            return 0;
        }
        let want_sync = match s.sync_init_mode() {
            crate::session::syncinit::Mode::On => true,
            crate::session::syncinit::Mode::Off => false,
            crate::session::syncinit::Mode::Auto => crate::daemonize::early_is_used(),
        };
        if want_sync && !s.has_custom_io() {
            match crate::session::syncinit::mount(s, &mp) {
                Ok(Some(fd)) => {
                    s.set_fd(fd);
                    s.set_mount_ref(crate::mount::track::find_fuse_mount(&mp));
                    s.set_mountpoint(Some(mp));
                    crate::daemonize::set_mounted();
                    if s.debug() {
                        crate::log::debug("fuse: mount completed (synchronous INIT)\n");
                    }
                    crate::daemonize::early_success();
                    return 0;
                }
                Ok(None) => {}
                Err(_) => return -1,
            }
        } else if s.debug() {
            crate::log::debug("fuse: sync init not enabled\n");
        }
        match crate::mount::kern_mount(&mp, &s.mount_opts) {
            Ok(fd) => {
                s.set_fd(std::os::fd::IntoRawFd::into_raw_fd(fd));
                s.set_mount_ref(crate::mount::track::find_fuse_mount(&mp));
                s.set_mountpoint(Some(mp));
                crate::daemonize::set_mounted();
                if s.debug() {
                    crate::log::debug("fuse: mount completed\n");
                }
                0
            }
            Err(_) => -1,
        }
    })
}
crate::symver!(fuse_session_mount, "FUSE_3.0");

/// Unmounts the filesystem (if this session mounted it) and closes the device fd.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_unmount(se: *mut fuse_session) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return };
        if let Some(mp) = s.take_mountpoint() {
            let fd = s.fd();
            s.set_fd(-1);
            let owned = (fd >= 0).then(|| {
                // SAFETY: the session owned this fd and has just let go of it.
                unsafe { OwnedFd::from_raw_fd(fd) }
            });
            // Where the mount is now: its mountpoint may have been moved since.
            let mref = s.take_mount_ref();
            crate::mount::kern_unmount_tracked(&mp, owned, mref.as_ref());
        }
    })
}
crate::symver!(fuse_session_unmount, "FUSE_3.0");

/// Frees the session: calls `destroy` if the filesystem was initialised and not yet destroyed,
/// drops outstanding requests, closes the device. Does not unmount.
///
/// # Safety
/// `se` is NULL or a live session, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_destroy(se: *mut fuse_session) {
    // SAFETY: forwarded contract.
    unsafe { destroy(se) }
}
crate::symver!(fuse_session_destroy, "FUSE_3.0");

/// The body of [`fuse_session_destroy`], for Rust callers (see `parse_cmdline_312`).
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn destroy(se: *mut fuse_session) {
    crate::ffi_guard!((), {
        if se.is_null() {
            return;
        }
        let raw = se.cast::<Session>();
        // SAFETY: non-NULL live session by the contract.
        let s = unsafe { &*raw };
        crate::watchdog::session_gone(raw as usize);
        s.teardown();
        super::fuse_common::forget_signal_session(raw);
        CONNS.lock().retain(|(_, p)| *p != raw as usize);
        // SAFETY: made by Box::into_raw in new_common; nothing refers to it any more.
        drop(unsafe { Box::from_raw(raw) });
    })
}

/// The session's /dev/fuse file descriptor (-1 before mounting).
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_fd(se: *const fuse_session) -> c_int {
    // SAFETY: the caller's contract.
    crate::ffi_guard!(-1, { unsafe { session(se) }.map_or(-1, |s| s.fd()) })
}
crate::symver!(fuse_session_fd, "FUSE_3.0");

/// Asks the session's loop to stop.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_exit(se: *mut fuse_session) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        if let Some(s) = unsafe { session(se) } {
            s.exit()
        }
    })
}
crate::symver!(fuse_session_exit, "FUSE_3.0");

/// Clears the exited state and error.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_reset(se: *mut fuse_session) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        if let Some(s) = unsafe { session(se) } {
            s.reset()
        }
    })
}
crate::symver!(fuse_session_reset, "FUSE_3.0");

/// Whether the session was told to exit.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_exited(se: *mut fuse_session) -> c_int {
    // SAFETY: the caller's contract.
    crate::ffi_guard!(1, { unsafe { session(se) }.map_or(1, |s| s.exited() as c_int) })
}
crate::symver!(fuse_session_exited, "FUSE_3.0");

/// Turns on debug output.
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_set_debug(se: *mut fuse_session) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        if let Some(s) = unsafe { session(se) } {
            s.set_debug()
        }
    })
}
crate::symver!(fuse_session_set_debug, "FUSE_3.19");

/// The callback a teardown watchdog runs when its timeout passes.
#[allow(non_camel_case_types)]
pub type fuse_timeout_cb = Option<unsafe extern "C" fn(data: *mut c_void)>;

/// Watchdogs handed out to C, by address, so that a stop with a made-up pointer is refused.
static WATCHDOGS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn watchdog_exit_session(addr: usize) {
    // SAFETY: the watchdog calls this under its registry lock, and only while the session is
    // registered there: fuse_session_destroy unregisters it (watchdog::session_gone) first.
    unsafe { &*(addr as *const Session) }.exit();
}

/// Starts a thread that watches the session's connection: when the kernel drops it (`umount
/// -f`, an abort through fusectl, the unmount), the session is told to exit; if the watchdog
/// is still running `timeout_sec` seconds later, `cb(cb_data)` runs (or, without `cb`, the
/// process exits with status 1). Returns the handle for `fuse_session_stop_teardown_watchdog`,
/// or NULL (bad arguments, an unmounted session, one already running).
///
/// # Safety
/// `se` is a live, mounted session; `cb` is NULL or callable with `cb_data` from another
/// thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_start_teardown_watchdog(
    se: *mut fuse_session,
    timeout_sec: c_int,
    cb: fuse_timeout_cb,
    cb_data: *mut c_void,
) -> *mut c_void {
    crate::ffi_guard!(ptr::null_mut(), {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else {
            null_session("fuse_session_start_teardown_watchdog");
            return ptr::null_mut();
        };
        let timeout = std::time::Duration::from_secs(timeout_sec.max(0) as u64);
        let data = cb_data as usize;
        let on_timeout: Box<dyn FnOnce() + Send> = match cb {
            Some(f) => Box::new(move || {
                // SAFETY: the program's callback with the pointer it registered for it.
                unsafe { f(data as *mut c_void) }
            }),
            None => Box::new(|| std::process::exit(1)),
        };
        match crate::watchdog::Watchdog::start(
            se as usize,
            s.fd(),
            timeout,
            watchdog_exit_session,
            on_timeout,
        ) {
            Ok(w) => {
                let p = Box::into_raw(Box::new(w));
                WATCHDOGS.lock().push(p as usize);
                p.cast()
            }
            Err(_) => ptr::null_mut(),
        }
    })
}
crate::symver!(fuse_session_start_teardown_watchdog, "FUSE_3.19");

/// Stops a teardown watchdog and waits for its thread. NULL is ignored.
///
/// # Safety
/// `data` is NULL or what `fuse_session_start_teardown_watchdog` returned, not yet stopped.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_stop_teardown_watchdog(data: *mut c_void) {
    crate::ffi_guard!((), {
        if data.is_null() {
            return;
        }
        let mut known = WATCHDOGS.lock();
        let Some(i) = known.iter().position(|p| *p == data as usize) else {
            crate::log::err("fuse: fuse_session_stop_teardown_watchdog: not a running watchdog\n");
            return;
        };
        known.swap_remove(i);
        drop(known);
        // SAFETY: made by Box::into_raw in fuse_session_start_teardown_watchdog and taken out
        // of the registry just now, so this is the only owner.
        let w = unsafe { Box::from_raw(data.cast::<crate::watchdog::Watchdog>()) };
        w.stop();
    })
}
crate::symver!(fuse_session_stop_teardown_watchdog, "FUSE_3.19");

/// Serves requests on the calling thread until the filesystem is unmounted or the session is
/// told to exit. Returns 0, or the error that ended it (negative errno or a signal number).
///
/// # Safety
/// `se` is a live, mounted session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_loop(se: *mut fuse_session) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else {
            null_session("fuse_session_loop");
            return -libc::EINVAL;
        };
        s.run_loop()
    })
}
crate::symver!(fuse_session_loop, "FUSE_3.0");

/// Reads one request into `buf` (allocating `buf->mem` with malloc if it is NULL).
/// Returns the request's size, 0 when the session ended, or -errno.
///
/// # Safety
/// `se` is a live session; `buf` is a valid `fuse_buf` of the caller's ABI whose `mem` is NULL
/// or a malloc'd block this library allocated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_receive_buf(
    se: *mut fuse_session,
    buf: *mut fuse_buf,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return -libc::EINVAL };
        if buf.is_null() {
            return -libc::EINVAL;
        }
        let b = buf.cast::<Buf>();
        let size = s.bufsize();
        // SAFETY: `b` is the caller's fuse_buf; the fields used exist in every ABI.
        unsafe {
            if (*b).mem.is_null() {
                let mem = libc::malloc(size);
                if mem.is_null() {
                    crate::log::err("fuse: failed to allocate read buffer\n");
                    return -libc::ENOMEM;
                }
                (*b).mem = mem;
                if !super::image_pre_317() {
                    (*b).mem_size = size;
                }
            }
        }
        // SAFETY: mem holds `size` bytes (allocated above, or earlier by us with the session's
        // buffer size, which only shrinks after INIT).
        let mem = unsafe { std::slice::from_raw_parts_mut((*b).mem.cast::<u8>(), size) };
        let res = s.receive_into(mem);
        if res > 0 {
            // SAFETY: as above.
            unsafe {
                (*b).size = res as usize;
                (*b).flags = 0;
            }
        }
        res as c_int
    })
}
crate::symver!(fuse_session_receive_buf, "FUSE_3.0");

/// Handles one request read with `fuse_session_receive_buf`.
///
/// # Safety
/// `se` is a live session; `buf` is a valid `fuse_buf` holding one request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_process_buf(se: *mut fuse_session, buf: *const fuse_buf) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        let Some(s) = (unsafe { session(se) }) else { return };
        if buf.is_null() {
            return;
        }
        // SAFETY: the caller's fuse_buf; the fields read exist in every ABI.
        let b = unsafe { ptr::read(buf.cast::<[u8; 40]>()) };
        // SAFETY: 40 bytes are the pre-3.17 prefix of Buf.
        let (size, flags, mem, fd) = unsafe {
            let p = b.as_ptr().cast::<Buf>();
            let mut full: Buf = std::mem::zeroed();
            ptr::copy_nonoverlapping(p.cast::<u8>(), (&raw mut full).cast::<u8>(), 40);
            (full.size, full.flags, full.mem, full.fd)
        };
        if flags & BUF_IS_FD != 0 {
            let mut v = vec![0u8; size];
            match crate::sys::read_fd(fd, &mut v) {
                Ok(n) => s.process(&v[..n], -1),
                Err(e) => {
                    crate::log::err(&format!("fuse: copy from pipe: {}\n", crate::sys::strerror(e)))
                }
            }
        } else if !mem.is_null() {
            // SAFETY: the caller's buffer holds `size` bytes of request.
            let data = unsafe { std::slice::from_raw_parts(mem.cast::<u8>(), size) };
            s.process(data, -1);
        }
    })
}
crate::symver!(fuse_session_process_buf, "FUSE_3.0");

/// Opens a FUSE channel: mounts `mountpoint` with `options` and returns the device fd, or -1.
///
/// # Safety
/// Both are C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_open_channel(
    mountpoint: *const c_char,
    options: *const c_char,
) -> c_int {
    crate::ffi_guard!(-1, {
        if mountpoint.is_null() || options.is_null() {
            return -1;
        }
        // SAFETY: C strings by the contract.
        let (mp, opts) = unsafe { (CStr::from_ptr(mountpoint), CStr::from_ptr(options)) };
        let mut args: Vec<Vec<u8>> = vec![b"".to_vec(), b"-o".to_vec(), opts.to_bytes().to_vec()];
        let Ok(mo) = crate::mount::parse_mount_opts(&mut args) else { return -1 };
        match crate::mount::kern_mount(mp.to_bytes(), &mo) {
            Ok(fd) => std::os::fd::IntoRawFd::into_raw_fd(fd),
            Err(_) => -1,
        }
    })
}
crate::symver!(fuse_open_channel, "FUSE_3.3");

fn run_mt(se: *mut fuse_session, cfg: crate::session::mt::MtConfig) -> c_int {
    // SAFETY: the exports below pass the caller's session pointer, live by their contract.
    let Some(s) = (unsafe { session(se) }) else {
        null_session("fuse_session_loop_mt");
        return -libc::EINVAL;
    };
    crate::session::mt::run(s, cfg)
}

/// Multithreaded loop, 3.12+ (opaque configuration from `fuse_loop_cfg_create`, or NULL).
///
/// # Safety
/// `se` is a live, mounted session; `config` is NULL, a `fuse_loop_cfg_create` result, or (by
/// mistake, as libfuse tolerates) a v1 `struct fuse_loop_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_loop_mt_312(
    se: *mut fuse_session,
    config: *mut super::fuse_common::fuse_loop_config,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { loop_mt_312(se, config) }
}

/// The body of [`fuse_session_loop_mt_312`], for Rust callers: calling the export itself from another
/// module can separate it from its `.symver` directives in release builds.
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn loop_mt_312(
    se: *mut fuse_session,
    config: *mut super::fuse_common::fuse_loop_config,
) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        use super::abi::{
            LOOP_CONFIG_V2_ID, LOOP_DEFAULT_IDLE_THREADS, LOOP_DEFAULT_MAX_THREADS, LoopConfig,
        };
        let mut cfg = crate::session::mt::MtConfig {
            clone_fd: false,
            max_idle: LOOP_DEFAULT_IDLE_THREADS,
            max_threads: LOOP_DEFAULT_MAX_THREADS,
        };
        if !config.is_null() {
            let first = config.cast::<c_int>();
            // SAFETY: both layouts start with an int.
            if unsafe { *first } == LOOP_CONFIG_V2_ID {
                // SAFETY: made by fuse_loop_cfg_create.
                let c = unsafe { &*config.cast::<LoopConfig>() };
                cfg.clone_fd = c.clone_fd != 0;
                cfg.max_idle = c.max_idle_threads;
                cfg.max_threads = c.max_threads;
            } else {
                // SAFETY: a v1 struct {int clone_fd; unsigned max_idle_threads;}.
                let v1 = unsafe { &*config.cast::<[c_int; 2]>() };
                cfg.clone_fd = v1[0] != 0;
                cfg.max_idle = v1[1];
            }
        }
        run_mt(se, cfg)
    })
}
crate::symver!(fuse_session_loop_mt_312, "FUSE_3.12", "fuse_session_loop_mt@@FUSE_3.12");

/// Multithreaded loop, 3.2 to 3.11 (v1 configuration `{int clone_fd; unsigned max_idle}`).
///
/// # Safety
/// `se` is a live, mounted session; `config` is NULL or a v1 configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_loop_mt_32(
    se: *mut fuse_session,
    config: *mut c_void,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { loop_mt_32(se, config) }
}

/// The body of [`fuse_session_loop_mt_32`], for Rust callers: calling the export itself from another
/// module can separate it from its `.symver` directives in release builds.
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn loop_mt_32(se: *mut fuse_session, config: *mut c_void) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        let mut cfg = crate::session::mt::MtConfig {
            clone_fd: false,
            max_idle: 10,
            max_threads: super::abi::LOOP_DEFAULT_MAX_THREADS,
        };
        if !config.is_null() {
            // SAFETY: a v1 struct by the contract.
            let v1 = unsafe { &*config.cast::<[c_int; 2]>() };
            cfg.clone_fd = v1[0] != 0;
            cfg.max_idle = v1[1];
        }
        run_mt(se, cfg)
    })
}
crate::symver!(fuse_session_loop_mt_32, "FUSE_3.2", "fuse_session_loop_mt@FUSE_3.2");

/// Multithreaded loop, 3.0 and 3.1 (just the clone_fd switch).
///
/// # Safety
/// `se` is a live, mounted session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_loop_mt_31(se: *mut fuse_session, clone_fd: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { loop_mt_31(se, clone_fd) }
}

/// The body of [`fuse_session_loop_mt_31`], for Rust callers: calling the export itself from another
/// module can separate it from its `.symver` directives in release builds.
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn loop_mt_31(se: *mut fuse_session, clone_fd: c_int) -> c_int {
    crate::ffi_guard!(-libc::EIO, {
        run_mt(
            se,
            crate::session::mt::MtConfig {
                clone_fd: clone_fd != 0,
                max_idle: 10,
                max_threads: super::abi::LOOP_DEFAULT_MAX_THREADS,
            },
        )
    })
}
crate::symver!(fuse_session_loop_mt_31, "FUSE_3.2", "fuse_session_loop_mt@FUSE_3.0");

/// Chooses synchronous FUSE_INIT for the coming `fuse_session_mount` (the kernel sends INIT
/// while mounting; the library answers it on a thread).
///
/// # Safety
/// `se` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_session_set_sync_init(se: *mut fuse_session, enable: bool) {
    crate::ffi_guard!((), {
        // SAFETY: the caller's contract.
        if let Some(s) = unsafe { session(se) } {
            s.set_sync_init_mode(enable);
        }
    })
}
crate::symver!(fuse_session_set_sync_init, "FUSE_3.19");

/// Whether the connection was set up with synchronous FUSE_INIT.
///
/// # Safety
/// `conn` is NULL or a session's connection info.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_conn_is_sync_init(
    conn: *const super::fuse_common::fuse_conn_info,
) -> bool {
    crate::ffi_guard!(false, { session_for_conn(conn.cast()).is_some_and(|s| s.is_sync_init()) })
}
crate::symver!(fuse_conn_is_sync_init, "FUSE_3.19");
