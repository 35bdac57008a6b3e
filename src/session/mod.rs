//! Mirrors libfuse's `struct fuse_session`: a connection to the kernel, its INIT negotiation,
//! request intake and dispatch, replies, and the single-threaded loop.
//!
//! The session knows nothing about C: the filesystem's callbacks come in through the
//! [`Filesystem`] trait (the C layer implements it over a `fuse_lowlevel_ops` table), and the
//! transport through [`Channel`] (the device fd, or a program's custom I/O callbacks).

pub mod connopts;
pub mod cuse;
pub mod init;
pub mod init_status;
pub mod mt;
pub mod opts;
pub mod req;
pub mod spin;
pub mod splice;
pub mod syncinit;
pub mod uring;

#[cfg(test)]
mod tests;

use std::io::IoSlice;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use parking_lot::{Mutex, RwLock};

use crate::capi::abi::ConnInfo;
use crate::codec::request::{self, DecodeCtx, Request};
use crate::codec::{as_bytes, reply as enc};
use crate::kernel::{self, Wire, fuse_in_header, fuse_out_header, opcode::*};
pub use req::{Ctx, ReqData, ReqHandle};

/// Extra room libfuse reserves in a request buffer beyond `max_write` (one page).
pub const BUFFER_HEADER_SIZE: usize = 0x1000;
/// Default `max_pages` limit: 256 pages per request.
pub const DEFAULT_MAX_PAGES_LIMIT: usize = 256;
/// Pages per request when the kernel lacks FUSE_MAX_PAGES.
pub const DEFAULT_MAX_PAGES_PER_REQ: usize = 32;

/// The system page size.
pub fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |v| v as usize)
}

/// An errno value.
pub type Errno = i32;

/// Which optional callbacks a filesystem has; INIT's default wants depend on them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Implemented {
    /// `write_buf`.
    pub write_buf: bool,
    /// `getlk` and `setlk` both.
    pub posix_locks: bool,
    /// `flock`.
    pub flock: bool,
    /// `readdirplus`.
    pub readdirplus: bool,
    /// `readdir`.
    pub readdir: bool,
}

/// The filesystem behind a session: the C layer's view of a `fuse_lowlevel_ops` table.
pub trait Filesystem: Send + Sync {
    /// Which optional callbacks exist.
    fn implemented(&self) -> Implemented;
    /// Call the filesystem's `init`, if it has one, with the session's connection info.
    /// Returns false if there is none.
    fn init(&self, conn: *mut ConnInfo) -> bool;
    /// Call the filesystem's `destroy`, if it has one.
    fn destroy(&self);
    /// Hand one decoded request to the filesystem (or answer it with libfuse's default).
    /// `raw` is the whole message, for callbacks that want the buffer itself (write_buf).
    fn dispatch(&self, se: &Session, req: ReqHandle, request: &Request<'_>, raw: &[u8]);
    /// Call an interrupt hook the filesystem registered for `req`.
    fn interrupt(&self, hook: req::InterruptHook, req: ReqHandle);
    /// CUSE only: the kernel has the device's description (CUSE_INIT is answered).
    fn init_done(&self) {}
}

/// Where requests come from and replies go.
pub trait Channel: Send + Sync {
    /// Read one request into `buf`.
    fn read(&self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Write one reply or notification.
    fn writev(&self, fd: i32, iov: &[IoSlice<'_>]) -> Result<usize, Errno>;
}

/// Messages up to this long are written from one block (see `DeviceChannel::writev`).
const SMALL_REPLY: usize = 512;

/// Aligned to its size, so it never straddles a page.
#[repr(C, align(512))]
struct SmallReply([u8; SMALL_REPLY]);

/// The plain device channel: read(2) and writev(2) on the fd.
pub struct DeviceChannel;

impl Channel for DeviceChannel {
    fn read(&self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        crate::sys::read_dev(fd, buf)
    }
    fn writev(&self, fd: i32, iov: &[IoSlice<'_>]) -> Result<usize, Errno> {
        let len: usize = iov.iter().map(|v| v.len()).sum();
        if iov.len() > 1 && len <= SMALL_REPLY {
            // A small message (most metadata replies) goes out as one segment: the kernel
            // pins the user pages of every segment it copies from, and header and payload
            // sit on different pages; one aligned block is one pinned page. (A program's own
            // writev callback, `CustomIo`, still gets the parts apart.)
            let mut block = SmallReply([0u8; SMALL_REPLY]);
            let mut at = 0;
            for v in iov {
                block.0[at..at + v.len()].copy_from_slice(v);
                at += v.len();
            }
            return crate::sys::writev_dev(fd, &[IoSlice::new(&block.0[..at])]);
        }
        crate::sys::writev_dev(fd, iov)
    }
}

/// Options `fuse_session_new` understands itself (libfuse's low-level option table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOpts {
    /// `-d`, `debug`, `--debug`.
    pub debug: bool,
    /// `allow_root`: mount with allow_other, then refuse everyone but root and the owner.
    pub deny_others: bool,
    /// The last of `io_uring` (true) and `no_io_uring` (false).
    pub uring: Option<bool>,
    /// `io_uring_q_depth=N`.
    pub uring_q_depth: Option<u32>,
    /// `sync_init` / `no_sync_init` (ferrofuse's option, so unmodified programs can opt in).
    pub sync_init: Option<bool>,
}

/// A FUSE session.
pub struct Session {
    conn: Mutex<ConnInfo>,
    /// libfuse's `conn_want`/`conn_want_ext`: what the library itself asked for, to tell
    /// which of `want` and `want_ext` a filesystem changed in its `init`.
    shadow: Mutex<(u32, u64)>,
    proto_minor: AtomicU32,
    want_ext: AtomicU64,
    fs: RwLock<Option<Box<dyn Filesystem>>>,
    channel: RwLock<Box<dyn Channel>>,
    custom_io: AtomicBool,
    fd: AtomicI32,
    mountpoint: Mutex<Option<Vec<u8>>>,
    /// The mount itself, as mountinfo identified it right after mounting.
    mount_ref: Mutex<Option<crate::mount::track::MountRef>>,
    /// The mount options from `fuse_session_new`'s arguments.
    pub mount_opts: crate::mount::MountOpts,
    debug: AtomicBool,
    deny_others: bool,
    owner: u32,
    exited: AtomicBool,
    /// Bumped (and futex-woken) by every `exit`: the multithreaded loop's main thread sleeps
    /// on it. A futex word, because `exit` runs in signal handlers.
    exit_seq: std::sync::atomic::AtomicU32,
    error: AtomicI32,
    got_init: AtomicBool,
    got_destroy: AtomicBool,
    bufsize: AtomicUsize,
    /// The caller was built against libfuse before 3.17 (40-byte `fuse_file_info`, 40-byte
    /// `fuse_buf`, 5-argument `fuse_lowlevel_notify_expire_entry`).
    pub pre_317: bool,
    /// The libfuse version the program says it was built against (zero when unknown).
    pub version: (u32, u32, u32),
    /// The program's `userdata`, as an address.
    pub userdata: usize,
    /// What the session was told about io_uring (`-o io_uring`/`no_io_uring`, libfuse's
    /// `FUSE_URING_ENABLE`, or nothing: the default).
    pub uring: uring::Choice,
    /// Which loop serves the session ([`uring::LoopKind`] as a number), set when it starts.
    loop_kind: AtomicU8,
    /// Entries per io_uring queue.
    pub uring_q_depth: u32,
    ring: RwLock<Option<std::sync::Arc<uring::Pool>>>,
    sync_init_mode: Mutex<syncinit::Mode>,
    is_sync_init: AtomicBool,
    /// Set for a CUSE session: the character device it serves.
    cuse: std::sync::OnceLock<cuse::Device>,
}

impl Session {
    /// A session with parsed options and mount options. The filesystem is attached with
    /// [`Session::set_filesystem`].
    pub fn new(
        opts: &SessionOpts,
        mount_opts: crate::mount::MountOpts,
        pre_317: bool,
        version: (u32, u32, u32),
        userdata: usize,
    ) -> Box<Session> {
        let max_write = (DEFAULT_MAX_PAGES_LIMIT * page_size()) as u32;
        let conn = ConnInfo {
            proto_major: 0,
            proto_minor: 0,
            max_write,
            max_read: 0,
            max_readahead: u32::MAX,
            capable: 0,
            want: 0,
            max_background: 0,
            congestion_threshold: 0,
            time_gran: 0,
            max_backing_stack_depth: 0,
            bits: 0,
            capable_ext: 0,
            want_ext: 0,
            request_timeout: 0,
            reserved: [0; 31],
        };
        Box::new(Session {
            conn: Mutex::new(conn),
            shadow: Mutex::new((0, 0)),
            proto_minor: AtomicU32::new(0),
            want_ext: AtomicU64::new(0),
            fs: RwLock::new(None),
            channel: RwLock::new(Box::new(DeviceChannel)),
            custom_io: AtomicBool::new(false),
            fd: AtomicI32::new(-1),
            mountpoint: Mutex::new(None),
            mount_ref: Mutex::new(None),
            mount_opts,
            debug: AtomicBool::new(opts.debug),
            deny_others: opts.deny_others,
            owner: nix::unistd::getuid().as_raw(),
            exited: AtomicBool::new(false),
            exit_seq: std::sync::atomic::AtomicU32::new(0),
            error: AtomicI32::new(0),
            got_init: AtomicBool::new(false),
            got_destroy: AtomicBool::new(false),
            bufsize: AtomicUsize::new(max_write as usize + BUFFER_HEADER_SIZE),
            pre_317,
            version,
            userdata,
            uring: uring::Choice::from(
                opts.uring,
                std::env::var("FUSE_URING_ENABLE").ok().as_deref(),
            ),
            loop_kind: AtomicU8::new(uring::LoopKind::Unknown as u8),
            uring_q_depth: opts
                .uring_q_depth
                .or_else(|| env_u32("FUSE_URING_QUEUE_DEPTH"))
                .unwrap_or(uring::DEFAULT_Q_DEPTH),
            ring: RwLock::new(None),
            sync_init_mode: Mutex::new(match opts.sync_init {
                Some(true) => syncinit::Mode::On,
                Some(false) => syncinit::Mode::Off,
                None => syncinit::Mode::Auto,
            }),
            is_sync_init: AtomicBool::new(false),
            cuse: std::sync::OnceLock::new(),
        })
    }

    /// This session's identity in the request table.
    pub fn id(&self) -> usize {
        self as *const Session as usize
    }

    /// Make this a CUSE session serving `dev` (before it reads its first request). False if
    /// it is one already.
    pub fn set_cuse(&self, dev: cuse::Device) -> bool {
        self.cuse.set(dev).is_ok()
    }

    /// The character device of a CUSE session.
    pub fn cuse(&self) -> Option<&cuse::Device> {
        self.cuse.get()
    }

    /// Attach the filesystem.
    pub fn set_filesystem(&self, fs: Box<dyn Filesystem>) {
        *self.fs.write() = Some(fs);
    }

    /// Use a program's own transport instead of the device.
    pub fn set_channel(&self, ch: Box<dyn Channel>, fd: i32) {
        *self.channel.write() = ch;
        self.custom_io.store(true, Ordering::Release);
        self.fd.store(fd, Ordering::Release);
    }

    /// Whether a custom transport is in use.
    pub fn has_custom_io(&self) -> bool {
        self.custom_io.load(Ordering::Acquire)
    }

    /// The device fd (-1 before mounting).
    pub fn fd(&self) -> i32 {
        self.fd.load(Ordering::Acquire)
    }

    /// Set the device fd.
    pub fn set_fd(&self, fd: i32) {
        self.fd.store(fd, Ordering::Release);
    }

    /// Choose synchronous INIT (`fuse_session_set_sync_init`).
    pub fn set_sync_init_mode(&self, on: bool) {
        *self.sync_init_mode.lock() = if on { syncinit::Mode::On } else { syncinit::Mode::Off };
    }

    /// The synchronous-INIT choice in effect (environment override included).
    pub fn sync_init_mode(&self) -> syncinit::Mode {
        syncinit::effective(*self.sync_init_mode.lock())
    }

    /// Record whether the connection was set up with synchronous INIT.
    pub fn set_sync_init(&self, on: bool) {
        self.is_sync_init.store(on, Ordering::Release);
    }

    /// Whether the connection was set up with synchronous INIT.
    pub fn is_sync_init(&self) -> bool {
        self.is_sync_init.load(Ordering::Acquire)
    }

    /// Record which loop serves the session; the loops call this before reading a request,
    /// so INIT knows whether io_uring's default applies.
    pub fn set_loop_kind(&self, k: uring::LoopKind) {
        self.loop_kind.store(k as u8, Ordering::Release);
    }

    /// Which loop serves the session (Unknown until one starts).
    pub fn loop_kind(&self) -> uring::LoopKind {
        match self.loop_kind.load(Ordering::Acquire) {
            x if x == uring::LoopKind::Single as u8 => uring::LoopKind::Single,
            x if x == uring::LoopKind::Multi as u8 => uring::LoopKind::Multi,
            _ => uring::LoopKind::Unknown,
        }
    }

    /// Turn on debug output.
    pub fn set_debug(&self) {
        self.debug.store(true, Ordering::Relaxed);
    }

    /// Whether debug output is on.
    pub fn debug(&self) -> bool {
        self.debug.load(Ordering::Relaxed)
    }

    /// Ask the loop to stop. Async-signal-safe (atomics and one futex wake).
    pub fn exit(&self) {
        self.exited.store(true, Ordering::Release);
        self.wake_exit_waiters();
    }

    /// Wake whoever sleeps in `wait_exit_change` (async-signal-safe).
    pub fn wake_exit_waiters(&self) {
        self.exit_seq.fetch_add(1, Ordering::SeqCst);
        crate::sys::futex_wake_all(&self.exit_seq);
    }

    /// The current value of the exit counter, for `wait_exit_change`.
    pub fn exit_seq(&self) -> u32 {
        self.exit_seq.load(Ordering::SeqCst)
    }

    /// Sleep until `wake_exit_waiters` ran after `exit_seq` returned `seen`, or a signal
    /// arrived (then the caller looks again).
    pub fn wait_exit_change(&self, seen: u32) {
        crate::sys::futex_wait(&self.exit_seq, seen);
    }

    /// Clear the exit flag and error.
    pub fn reset(&self) {
        self.exited.store(false, Ordering::Release);
        self.error.store(0, Ordering::Relaxed);
    }

    /// Whether the loop was asked to stop.
    pub fn exited(&self) -> bool {
        self.exited.load(Ordering::Acquire)
    }

    /// Record an error the loop returns.
    pub fn set_error(&self, e: i32) {
        self.error.store(e, Ordering::Relaxed);
    }

    /// The error recorded for the loop to return.
    pub fn error(&self) -> i32 {
        self.error.load(Ordering::Relaxed)
    }

    /// Whether INIT has been answered.
    pub fn got_init(&self) -> bool {
        self.got_init.load(Ordering::Acquire)
    }

    /// The negotiated protocol minor version.
    pub fn proto_minor(&self) -> u32 {
        self.proto_minor.load(Ordering::Acquire)
    }

    /// The negotiated capability set.
    pub fn want_ext(&self) -> u64 {
        self.want_ext.load(Ordering::Acquire)
    }

    /// The size of buffer a request needs.
    pub fn bufsize(&self) -> usize {
        self.bufsize.load(Ordering::Acquire)
    }

    /// A copy of the connection info.
    pub fn conn(&self) -> ConnInfo {
        *self.conn.lock()
    }

    /// The address of the connection info C sees (stable for the session's life).
    pub fn conn_ptr(&self) -> *mut ConnInfo {
        self.conn.data_ptr()
    }

    /// The library's own record of wants (`conn_want`, `conn_want_ext`).
    pub fn shadow(&self) -> &Mutex<(u32, u64)> {
        &self.shadow
    }

    /// The mountpoint, while mounted.
    pub fn mountpoint(&self) -> Option<Vec<u8>> {
        self.mountpoint.lock().clone()
    }

    /// Record (or forget) the mountpoint.
    pub fn set_mountpoint(&self, mp: Option<Vec<u8>>) {
        *self.mountpoint.lock() = mp;
    }

    /// Note which mount is ours (found right after mounting).
    pub fn set_mount_ref(&self, m: Option<crate::mount::track::MountRef>) {
        *self.mount_ref.lock() = m;
    }

    /// Take the mount noted by [`Session::set_mount_ref`] (unmounting).
    pub fn take_mount_ref(&self) -> Option<crate::mount::track::MountRef> {
        self.mount_ref.lock().take()
    }

    /// Take the mountpoint (unmounting).
    pub fn take_mountpoint(&self) -> Option<Vec<u8>> {
        self.mountpoint.lock().take()
    }

    /// Run `f` with the filesystem, if attached.
    pub fn with_fs<R>(&self, f: impl FnOnce(&dyn Filesystem) -> R) -> Option<R> {
        self.fs.read().as_deref().map(f)
    }

    // ---------------------------------------------------------------- sending

    /// The `-d` line for a reply or notification about to be written.
    pub(crate) fn log_reply(&self, header: &fuse_out_header) {
        if !self.debug() {
            return;
        }
        if header.unique == 0 {
            crate::log::debug(&format!("NOTIFY: code={} length={}\n", header.error, header.len));
        } else if header.error != 0 {
            crate::log::debug(&format!(
                "   unique: {}, error: {} ({}), outsize: {}\n",
                header.unique,
                header.error,
                crate::sys::strerror(-header.error),
                header.len
            ));
        } else {
            crate::log::debug(&format!(
                "   unique: {}, success, outsize: {}\n",
                header.unique, header.len
            ));
        }
    }

    /// Write one message (header first) to the kernel. Fills in the header's length.
    pub fn send(
        &self,
        fd: i32,
        header: &mut fuse_out_header,
        parts: &[&[u8]],
    ) -> Result<(), Errno> {
        let len =
            std::mem::size_of::<fuse_out_header>() + parts.iter().map(|p| p.len()).sum::<usize>();
        header.len = len as u32;
        self.log_reply(header);
        let hb = *header;
        // Replies have a handful of parts: keep them on the stack unless there are many.
        let mut small: [IoSlice<'_>; 8] = [IoSlice::new(&[]); 8];
        let mut heap: Vec<IoSlice<'_>> = Vec::new();
        let nonempty = parts.iter().filter(|p| !p.is_empty());
        let iov: &[IoSlice<'_>] = if parts.len() < small.len() {
            small[0] = IoSlice::new(as_bytes(&hb));
            let mut n = 1;
            for p in nonempty {
                small[n] = IoSlice::new(p);
                n += 1;
            }
            &small[..n]
        } else {
            heap.push(IoSlice::new(as_bytes(&hb)));
            heap.extend(nonempty.map(|p| IoSlice::new(p)));
            &heap
        };
        let fd = if fd >= 0 { fd } else { self.fd() };
        match self.channel.read().writev(fd, iov) {
            Ok(_) => Ok(()),
            Err(e) => {
                // ENOENT: the request was interrupted and the kernel no longer waits for it.
                if !self.exited() && e != libc::ENOENT {
                    crate::log::err(&format!(
                        "fuse: writing device: {}\n",
                        crate::sys::strerror(e)
                    ));
                }
                Err(e)
            }
        }
    }

    /// Answer request `req` with `error` (0 or positive errno convention of the caller:
    /// `error` here is already negated, as it goes on the wire) and payload `parts`.
    /// Returns 0 or a negative errno, as `fuse_reply_*` do.
    pub fn reply_raw(&self, data: &ReqData, error: i32, parts: &[&[u8]]) -> i32 {
        let (checked, replaced) = enc::checked_error(error);
        if replaced {
            crate::log::err(&format!("fuse: bad error value: {error}\n"));
        }
        let error = checked;
        if data.no_reply {
            return 0;
        }
        let mut h = fuse_out_header { len: 0, error, unique: data.unique };
        if let Some(slot) = data.ring {
            data.ring_answered.store(true, Ordering::Release);
            return match self.ring_pool() {
                Some(pool) => pool.reply(self, slot, &mut h, parts, true),
                None => -libc::ENOTCONN,
            };
        }
        match self.send(data.fd, &mut h, parts) {
            Ok(()) => 0,
            Err(e) => -e,
        }
    }

    // ---------------------------------------------------------------- receiving

    /// Read one request into `buf` (grown to the session's buffer size when needed).
    /// Returns its length, 0 when the session ended (unmounted or exited), or -errno.
    pub fn receive(&self, buf: &mut Vec<u8>) -> isize {
        loop {
            let want = self.bufsize();
            if buf.len() < want {
                // A fresh zeroed allocation: large ones come as untouched zero pages, so an
                // idle worker's 1 MiB buffer costs no memory until requests fill it.
                *buf = vec![0u8; want];
            }
            let res = self.receive_into(buf);
            if res == -(libc::EINVAL as isize) && self.bufsize() > buf.len() {
                continue;
            }
            return res;
        }
    }

    /// Read one request into `buf` as it is. Returns its length, 0 when the session ended
    /// (unmounted or exited), or -errno.
    pub fn receive_into(&self, buf: &mut [u8]) -> isize {
        self.receive_into_fd(buf, self.fd())
    }

    /// Read one request from device fd `fd` (a clone, in the multithreaded loop), growing
    /// `buf` to the session's buffer size.
    pub fn receive_fd(&self, buf: &mut Vec<u8>, fd: i32) -> isize {
        let want = self.bufsize();
        if buf.len() < want {
            // See `receive`: untouched zero pages until requests fill them.
            *buf = vec![0u8; want];
        }
        self.receive_into_fd(buf, fd)
    }

    fn receive_into_fd(&self, buf: &mut [u8], fd: i32) -> isize {
        loop {
            let res = self.channel.read().read(fd, buf);
            if self.exited() {
                return 0;
            }
            match res {
                Ok(n) if n < std::mem::size_of::<fuse_in_header>() => {
                    crate::log::err("short read on fuse device\n");
                    return -(libc::EIO as isize);
                }
                Ok(n) => return n as isize,
                // The request was interrupted before we read it: read the next one.
                Err(libc::ENOENT) => continue,
                Err(libc::ENODEV) => {
                    // Unmounted, or the connection was aborted.
                    self.exit();
                    return 0;
                }
                Err(e) => {
                    if e != libc::EINTR && e != libc::EAGAIN && e != libc::EINVAL {
                        crate::log::err(&format!(
                            "fuse: reading device: {}\n",
                            crate::sys::strerror(e)
                        ));
                    }
                    return -(e as isize);
                }
            }
        }
    }

    // ---------------------------------------------------------------- processing

    /// Handle the request in `buf[..len]`, a loop's own receive buffer: while it runs, the rest
    /// of the buffer (page-aligned) is where replies gather their data (see [`spare_reply_buffer`]),
    /// so a worker needs no second megabyte-sized buffer for read replies.
    pub fn process_in_place(&self, buf: &mut [u8], len: usize, fd: i32) {
        let base = buf.as_ptr() as usize;
        let start = (base + len).next_multiple_of(4096) - base;
        if start >= buf.len() {
            return self.process(&buf[..len], fd);
        }
        let (req, spare) = buf.split_at_mut(start);
        let _lent = SpareLent::lend(spare);
        self.process(&req[..len], fd);
    }

    /// Handle one request message (what `fuse_session_process_buf` does). A panic while
    /// handling it is logged and stops here: the loops go on with the next request, and a
    /// request the panic left unanswered gets EIO.
    pub fn process(&self, buf: &[u8], fd: i32) {
        self.process_guarded(buf, fd, None)
    }

    /// Handle one request that came over io_uring in entry `slot` (panics as in `process`).
    pub fn process_ring(&self, buf: &[u8], slot: uring::RingSlot) {
        self.process_guarded(buf, -1, Some(slot))
    }

    fn process_guarded(&self, buf: &[u8], fd: i32, ring: Option<uring::RingSlot>) {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.process_inner(buf, fd, ring)
        }));
        if let Err(payload) = run {
            crate::log::report_panic(module_path!(), payload.as_ref());
        }
    }

    /// Run `f` (the filesystem's part of handling request `handle`); if it panics, log the
    /// panic and answer the request with EIO unless it was answered already.
    fn guarded(&self, handle: ReqHandle, f: impl FnOnce()) {
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            crate::log::report_panic(module_path!(), payload.as_ref());
            if let Some(d) = req::take(handle) {
                self.reply_raw(&d, -libc::EIO, &[]);
            }
        }
    }

    fn process_inner(&self, buf: &[u8], fd: i32, ring: Option<uring::RingSlot>) {
        let header = match request::decode_header(buf) {
            Ok(h) => h,
            Err(e) => {
                crate::log::err(&format!("fuse: dropping malformed request: {e}\n"));
                return;
            }
        };
        if self.debug() {
            // Requests taken from an io_uring entry say so, as libfuse's do.
            crate::log::debug(&format!(
                "{}unique: {}, opcode: {} ({}), nodeid: {}, insize: {}, pid: {}\n",
                if ring.is_some() { "cqe " } else { "" },
                header.unique,
                kernel::opcode::name(header.opcode),
                header.opcode,
                header.nodeid,
                buf.len(),
                header.pid
            ));
        }
        let ctx = Ctx { uid: header.uid, gid: header.gid, pid: header.pid as i32, umask: 0 };
        let mut data = ReqData::new(header.unique, header.opcode, ctx, self.id());
        data.fd = fd;
        data.ring = ring;
        data.no_reply = matches!(header.opcode, FUSE_FORGET | FUSE_BATCH_FORGET | FUSE_INTERRUPT);
        data.copy_64 = header.opcode == FUSE_COPY_FILE_RANGE_64;

        // Opcode sanity: INIT (CUSE_INIT for a device) first and once; nothing before it.
        let sane = if !self.got_init() {
            header.opcode == if self.cuse.get().is_some() { CUSE_INIT } else { FUSE_INIT }
        } else {
            header.opcode != FUSE_INIT && header.opcode != CUSE_INIT
        };
        if !sane {
            self.reply_raw(&data, -libc::EIO, &[]);
            return;
        }
        if self.deny_others
            && header.uid != self.owner
            && header.uid != 0
            && !matches!(
                header.opcode,
                FUSE_INIT
                    | FUSE_READ
                    | FUSE_WRITE
                    | FUSE_FSYNC
                    | FUSE_RELEASE
                    | FUSE_READDIR
                    | FUSE_FSYNCDIR
                    | FUSE_RELEASEDIR
                    | FUSE_NOTIFY_REPLY
                    | FUSE_READDIRPLUS
            )
        {
            self.reply_raw(&data, -libc::EACCES, &[]);
            return;
        }
        let dctx = DecodeCtx {
            proto_minor: if self.got_init() {
                self.proto_minor()
            } else {
                kernel::FUSE_KERNEL_MINOR_VERSION
            },
            setxattr_ext: self.want_ext() & crate::capi::fuse_common::FUSE_CAP_SETXATTR_EXT != 0,
        };
        let request = match request::decode(buf, dctx) {
            Ok(r) => r,
            Err(e) => {
                crate::log::err(&format!(
                    "fuse: malformed {} request (unique {}): {e}\n",
                    kernel::opcode::name(header.opcode),
                    header.unique
                ));
                let err = if matches!(header.opcode, FUSE_INIT | CUSE_INIT) {
                    -libc::EPROTO
                } else {
                    -libc::EIO
                };
                self.reply_raw(&data, err, &[]);
                return;
            }
        };
        if !request.extensions.is_empty() {
            let ext = request::parse_extensions(request.extensions);
            data.groups = ext.groups;
            data.secctx = ext.secctx.map(|(b, n)| (b.to_vec(), n));
        }
        match &request.op {
            request::Operation::Init { arg } => {
                let handle = req::insert(data);
                self.guarded(handle, || init::do_init(self, handle, arg));
            }
            request::Operation::CuseInit { arg } => match self.cuse.get() {
                Some(dev) => {
                    let handle = req::insert(data);
                    self.guarded(handle, || cuse::do_init(self, handle, arg, dev));
                }
                None => {
                    self.reply_raw(&data, -libc::ENOSYS, &[]);
                }
            },
            request::Operation::Destroy => {
                self.take_mountpoint_on_destroy();
                self.got_destroy.store(true, Ordering::Release);
                self.got_init.store(false, Ordering::Release);
                self.with_fs(|fs| fs.destroy());
                self.reply_raw(&data, 0, &[]);
            }
            request::Operation::Interrupt { arg } => {
                if self.debug() {
                    crate::log::debug(&format!("INTERRUPT: {}\n", arg.unique));
                }
                if self.conn().bits & 1 != 0 {
                    // no_interrupt: tell the kernel interrupts are not supported.
                    data.no_reply = false;
                    self.reply_raw(&data, -libc::ENOSYS, &[]);
                    return;
                }
                if !self.interrupt(arg.unique) {
                    // Not (or no longer) outstanding here: let the kernel queue it again, as
                    // libfuse does, in case the request is still on its way to a worker.
                    data.no_reply = false;
                    self.reply_raw(&data, -libc::EAGAIN, &[]);
                }
            }
            request::Operation::Unknown { .. } => {
                self.reply_raw(&data, -libc::ENOSYS, &[]);
            }
            _ => {
                let handle = req::insert(data);
                self.guarded(handle, || {
                    let dispatched = self.with_fs(|fs| fs.dispatch(self, handle, &request, buf));
                    if dispatched.is_none() {
                        if let Some(d) = req::take(handle) {
                            self.reply_raw(&d, -libc::ENOSYS, &[]);
                        }
                    }
                });
            }
        }
    }

    fn take_mountpoint_on_destroy(&self) {
        // libfuse forgets the mountpoint on DESTROY: the kernel has unmounted already.
        let _ = self.take_mountpoint();
    }

    /// Mark request `unique` interrupted and run its hook. False if it is not outstanding.
    fn interrupt(&self, unique: u64) -> bool {
        let Some(h) = req::find_unique(self.id(), unique) else { return false };
        let hook = req::with(h, |d| {
            d.interrupted.store(true, Ordering::Release);
            *d.hook.lock()
        })
        .flatten();
        if let Some(hook) = hook {
            self.with_fs(|fs| fs.interrupt(hook, h));
        }
        true
    }

    /// Note that INIT was answered, with the negotiated values.
    pub(crate) fn finish_init(&self, proto_minor: u32, want_ext: u64, bufsize: usize) {
        self.proto_minor.store(proto_minor, Ordering::Release);
        self.want_ext.store(want_ext, Ordering::Release);
        self.bufsize.store(bufsize, Ordering::Release);
        self.got_init.store(true, Ordering::Release);
    }

    /// The single-threaded loop: receive and process until unmounted or told to exit.
    /// Returns 0, the session's recorded error, or -errno from reading.
    pub fn run_loop(&self) -> i32 {
        self.set_loop_kind(uring::LoopKind::Single);
        let spin = spin::SingleReader::new(self);
        let fd = spin.as_ref().map_or(-1, |s| s.fd());
        let mut buf = Vec::new();
        let mut res: isize = 0;
        while !self.exited() {
            res = match &spin {
                Some(s) => s.receive(self, &mut buf),
                None => self.receive(&mut buf),
            };
            if res == -(libc::EINTR as isize) {
                continue;
            }
            if res <= 0 {
                break;
            }
            self.process_in_place(&mut buf, res as usize, fd);
        }
        let mut rc = if res > 0 { 0 } else { res as i32 };
        if self.error() != 0 {
            rc = self.error();
        }
        rc
    }

    /// The io_uring queues, while they run.
    pub fn ring_pool(&self) -> Option<std::sync::Arc<uring::Pool>> {
        self.ring.read().clone()
    }

    /// Record the io_uring queues INIT started.
    pub(crate) fn set_ring_pool(&self, pool: Option<std::sync::Arc<uring::Pool>>) {
        *self.ring.write() = pool;
    }

    /// Stop the io_uring queues (their threads are joined; the rings close).
    pub fn stop_ring(&self) {
        let pool = self.ring.write().take();
        if let Some(p) = pool {
            p.stop();
        }
    }

    /// Tear down: call `destroy` if INIT happened without DESTROY, drop outstanding requests.
    pub fn teardown(&self) {
        self.stop_ring();
        if self.got_init() && !self.got_destroy.load(Ordering::Acquire) {
            self.with_fs(|fs| fs.destroy());
        }
        let unanswered = req::drop_session(self.id());
        if unanswered > 0 {
            crate::log::err(&format!(
                "fuse: {unanswered} request(s) never answered by the filesystem were dropped\n"
            ));
        }
        let fd = self.fd.swap(-1, Ordering::AcqRel);
        if fd >= 0 && !self.has_custom_io() {
            crate::sys::close_fd(fd);
        }
    }
}

thread_local! {
    /// The unused, page-aligned tail of the receive buffer whose request this thread is
    /// processing: (address, length), or (0, 0).
    static SPARE: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Lends a receive buffer's tail to this thread's replies for the guard's life.
struct SpareLent((usize, usize));

impl SpareLent {
    fn lend(spare: &mut [u8]) -> SpareLent {
        SpareLent(SPARE.replace((spare.as_mut_ptr() as usize, spare.len())))
    }
}

impl Drop for SpareLent {
    fn drop(&mut self) {
        SPARE.set(self.0);
    }
}

/// Run `f` with the page-aligned spare part of the receive buffer this thread is processing a
/// request from, if there is one of at least `len` bytes; None otherwise. The region is the
/// caller's alone while `f` runs (nested calls find none).
pub fn spare_reply_buffer<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
    let (addr, cap) = SPARE.get();
    if addr == 0 || cap < len {
        return None;
    }
    SPARE.set((0, 0));
    // SAFETY: `addr..addr+cap` is the tail of a receive buffer that `process_in_place` split
    // off with `split_at_mut` and lent to this thread until its guard drops, which happens
    // after this call returns (the guard lives across `process`, which is what calls us).
    // Nothing else reads or writes it meanwhile, and taking it out of SPARE above keeps a
    // nested call from handing it out twice.
    let r = f(unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, cap) });
    SPARE.set((addr, cap));
    Some(r)
}

/// A numeric environment variable (libfuse reads its io_uring defaults from two).
fn env_u32(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Copy a wire struct's bytes (for building reply payloads).
pub fn wire_bytes<T: Wire>(v: &T) -> Vec<u8> {
    as_bytes(v).to_vec()
}
