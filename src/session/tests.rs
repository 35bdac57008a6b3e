//! Session tests without a kernel: requests are byte fixtures, replies are captured from a
//! recording channel, and the filesystem is a Rust stand-in.

use std::io::IoSlice;
use std::sync::Arc;

use parking_lot::Mutex;

use super::*;
use crate::capi::fuse_common::*;
use crate::codec::Cursor;
use crate::kernel::init as k;
use crate::kernel::*;

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Vec<u8>>>,
}

struct Rec(Arc<Recorder>);

impl Channel for Rec {
    fn read(&self, _fd: i32, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(libc::ENODEV)
    }
    fn writev(&self, _fd: i32, iov: &[IoSlice<'_>]) -> Result<usize, Errno> {
        let msg: Vec<u8> = iov.iter().flat_map(|s| s.iter().copied()).collect();
        let n = msg.len();
        self.0.sent.lock().push(msg);
        Ok(n)
    }
}

type InitFn = Box<dyn Fn(&mut ConnInfo) + Send + Sync>;

struct Fs {
    imp: Implemented,
    init: Option<InitFn>,
    dispatched: Mutex<Vec<u32>>,
    destroyed: Mutex<u32>,
    /// Panic (after recording) when a request with this opcode arrives.
    panic_on: Mutex<Option<u32>>,
}

impl Filesystem for Fs {
    fn implemented(&self) -> Implemented {
        self.imp
    }
    fn init(&self, conn: *mut ConnInfo) -> bool {
        match &self.init {
            Some(f) => {
                // SAFETY: the session hands its own connection info, valid during init.
                f(unsafe { &mut *conn });
                true
            }
            None => false,
        }
    }
    fn destroy(&self) {
        *self.destroyed.lock() += 1;
    }
    fn dispatch(&self, se: &Session, req: ReqHandle, request: &Request<'_>, _raw: &[u8]) {
        self.dispatched.lock().push(request.header.opcode);
        if *self.panic_on.lock() == Some(request.header.opcode) {
            panic!("filesystem bug on opcode {}", request.header.opcode);
        }
        if let Some(d) = super::req::take(req) {
            se.reply_raw(&d, -libc::ENOSYS, &[]);
        }
    }
    fn interrupt(&self, _hook: req::InterruptHook, _req: ReqHandle) {}
}

fn session(
    imp: Implemented,
    init: Option<InitFn>,
    max_read: Option<u32>,
) -> (Box<Session>, Arc<Recorder>, Arc<Fs>) {
    let mut args: Vec<Vec<u8>> = vec![b"test".to_vec()];
    if let Some(m) = max_read {
        args.push(format!("-omax_read={m}").into_bytes());
    }
    let (so, mo, _) = opts::parse_session_args(&args).expect("options");
    let se = Session::new(&so, mo, false, (3, 19, 0), 0);
    let rec = Arc::new(Recorder::default());
    se.set_channel(Box::new(Rec(Arc::clone(&rec))), 99);
    let fs = Arc::new(Fs {
        imp,
        init,
        dispatched: Mutex::new(Vec::new()),
        destroyed: Mutex::new(0),
        panic_on: Mutex::new(None),
    });
    struct Shared(Arc<Fs>);
    impl Filesystem for Shared {
        fn implemented(&self) -> Implemented {
            self.0.implemented()
        }
        fn init(&self, c: *mut ConnInfo) -> bool {
            self.0.init(c)
        }
        fn destroy(&self) {
            self.0.destroy()
        }
        fn dispatch(&self, se: &Session, r: ReqHandle, q: &Request<'_>, raw: &[u8]) {
            self.0.dispatch(se, r, q, raw)
        }
        fn interrupt(&self, h: req::InterruptHook, r: ReqHandle) {
            self.0.interrupt(h, r)
        }
    }
    se.set_filesystem(Box::new(Shared(Arc::clone(&fs))));
    (se, rec, fs)
}

fn request(opcode: u32, unique: u64, nodeid: u64, body: &[u8]) -> Vec<u8> {
    let h = fuse_in_header {
        len: (40 + body.len()) as u32,
        opcode,
        unique,
        nodeid,
        uid: 0,
        gid: 0,
        pid: 1,
        total_extlen: 0,
        padding: 0,
    };
    let mut v = crate::codec::as_bytes(&h).to_vec();
    v.extend_from_slice(body);
    v
}

fn init_request(minor: u32, flags: u64, max_readahead: u32) -> Vec<u8> {
    let arg = fuse_init_in {
        major: 7,
        minor,
        max_readahead,
        flags: (flags | k::FUSE_INIT_EXT) as u32,
        flags2: (flags >> 32) as u32,
        unused: [0; 11],
    };
    request(opcode::FUSE_INIT, 2, 0, crate::codec::as_bytes(&arg))
}

/// The kernel 6.18 INIT flags (what this machine's kernel offers).
const KERNEL_FLAGS: u64 = 0x73ff_fffb | (0x3ff << 32);

fn last_reply(rec: &Recorder) -> (fuse_out_header, Vec<u8>) {
    let sent = rec.sent.lock();
    let msg = sent.last().expect("a reply was sent");
    let mut c = Cursor::new(msg);
    let h: fuse_out_header = c.fetch("out header").unwrap();
    assert_eq!(h.len as usize, msg.len(), "length field covers the message");
    (h, c.rest().to_vec())
}

fn init_out(body: &[u8]) -> fuse_init_out {
    Cursor::new(body).fetch_padded()
}

fn all() -> Implemented {
    Implemented {
        write_buf: true,
        posix_locks: true,
        flock: true,
        readdirplus: true,
        readdir: true,
    }
}

#[test]
fn init_sets_libfuse_default_wants() {
    let (se, rec, _) = session(all(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    let (h, body) = last_reply(&rec);
    assert_eq!((h.error, h.unique), (0, 2));
    assert_eq!(body.len(), 64);
    let out = init_out(&body);
    assert_eq!((out.major, out.minor), (7, 45));
    let flags = out.flags as u64 | (out.flags2 as u64) << 32;
    for f in [
        k::FUSE_ASYNC_READ,
        k::FUSE_POSIX_LOCKS,
        k::FUSE_ATOMIC_O_TRUNC,
        k::FUSE_FLOCK_LOCKS,
        k::FUSE_AUTO_INVAL_DATA,
        k::FUSE_DO_READDIRPLUS,
        k::FUSE_READDIRPLUS_AUTO,
        k::FUSE_ASYNC_DIO,
        k::FUSE_BIG_WRITES,
        k::FUSE_MAX_PAGES,
        k::FUSE_INIT_EXT,
    ] {
        assert!(flags & f != 0, "flag {f:#x} missing from {flags:#x}");
    }
    for f in [
        k::FUSE_WRITEBACK_CACHE,
        k::FUSE_EXPORT_SUPPORT,
        k::FUSE_PASSTHROUGH,
        k::FUSE_OVER_IO_URING,
    ] {
        assert_eq!(flags & f, 0, "flag {f:#x} must not be on by default");
    }
    assert_eq!(out.max_readahead, 0x20000);
    assert_eq!(out.max_write, (DEFAULT_MAX_PAGES_LIMIT * page_size()) as u32);
    assert_eq!(out.max_pages as usize, DEFAULT_MAX_PAGES_LIMIT);
    assert_eq!(out.time_gran, 1);
    assert!(se.got_init());
    let c = se.conn();
    assert_eq!(c.capable, c.capable_ext as u32, "capable is the low half of capable_ext");
    assert_eq!(c.want, c.want_ext as u32);
}

#[test]
fn init_defaults_follow_the_callbacks_present() {
    let (se, rec, _) = session(Implemented::default(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    let flags = init_out(&last_reply(&rec).1).flags as u64;
    for f in
        [k::FUSE_POSIX_LOCKS, k::FUSE_FLOCK_LOCKS, k::FUSE_DO_READDIRPLUS, k::FUSE_READDIRPLUS_AUTO]
    {
        assert_eq!(flags & f, 0, "{f:#x} needs its callbacks");
    }
    assert_eq!(se.want_ext() & FUSE_CAP_SPLICE_READ, 0, "splice read needs write_buf");
}

#[test]
fn a_filesystem_may_change_want_or_want_ext() {
    let init: InitFn = Box::new(|c| {
        c.want &= !(FUSE_CAP_ASYNC_READ as u32);
        c.want |= FUSE_CAP_WRITEBACK_CACHE as u32;
    });
    let (se, rec, _) = session(all(), Some(init), None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    let (h, body) = last_reply(&rec);
    assert_eq!(h.error, 0);
    let flags = init_out(&body).flags as u64;
    assert_eq!(flags & k::FUSE_ASYNC_READ, 0);
    assert_ne!(flags & k::FUSE_WRITEBACK_CACHE, 0);
    assert_eq!(se.want_ext() & FUSE_CAP_ASYNC_READ, 0);

    let init: InitFn = Box::new(|c| c.want_ext |= FUSE_CAP_ALLOW_IDMAP);
    let (se, rec, _) = session(all(), Some(init), None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    let flags = {
        let o = init_out(&last_reply(&rec).1);
        o.flags as u64 | (o.flags2 as u64) << 32
    };
    assert_ne!(flags & k::FUSE_ALLOW_IDMAP, 0, "a want_ext-only change is taken");
    assert_eq!(se.conn().want, se.conn().want_ext as u32);
}

#[test]
fn conflicting_want_and_want_ext_fail_init() {
    let init: InitFn = Box::new(|c| {
        c.want &= !(FUSE_CAP_ASYNC_READ as u32);
        c.want_ext &= !FUSE_CAP_ASYNC_DIO;
    });
    let (se, rec, _) = session(all(), Some(init), None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    assert_ne!(last_reply(&rec).0.error, 0);
    assert!(se.exited(), "a failed INIT ends the session");
}

#[test]
fn unknown_wants_fail_init_with_eproto() {
    // The kernel offers no writeback cache here; the filesystem wants it anyway.
    let init: InitFn = Box::new(|c| c.want |= FUSE_CAP_WRITEBACK_CACHE as u32);
    let (se, rec, _) = session(all(), Some(init), None);
    se.process(&init_request(45, KERNEL_FLAGS & !k::FUSE_WRITEBACK_CACHE, 0x20000), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EPROTO);
    assert!(se.exited());
    assert_eq!(se.error(), -libc::EPROTO);
}

#[test]
fn max_read_must_agree_with_the_mount_option() {
    let (se, rec, _) = session(all(), None, Some(65536));
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EPROTO, "init() did not set conn->max_read");
    let init: InitFn = Box::new(|c| c.max_read = 65536);
    let (se, rec, _) = session(all(), Some(init), Some(65536));
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    assert_eq!(last_reply(&rec).0.error, 0);
    drop(se);
}

#[test]
fn background_limits_and_write_size_are_clamped() {
    let init: InitFn = Box::new(|c| {
        c.max_background = 100_000;
        c.congestion_threshold = 0;
        c.max_write = 4096 * 3 + 1;
    });
    let (se, rec, _) = session(all(), Some(init), None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    let out = init_out(&last_reply(&rec).1);
    assert_eq!(out.max_background, 65535);
    assert_eq!(out.congestion_threshold as u32, 65535u32 * 3 / 4);
    assert_eq!(out.max_write, 4096 * 3 + 1);
    assert_eq!(out.max_pages, 4, "pages needed for max_write");
    assert_eq!(se.bufsize(), 4096 * 3 + 1 + BUFFER_HEADER_SIZE);
}

#[test]
fn old_kernels_get_short_init_replies_and_small_buffers() {
    let (se, rec, _) = session(all(), None, None);
    se.process(&init_request(22, 0xffff & !k::FUSE_MAX_PAGES, 0x20000), -1);
    let (h, body) = last_reply(&rec);
    assert_eq!(h.error, 0);
    assert_eq!(body.len(), FUSE_COMPAT_22_INIT_OUT_SIZE);
    let out = init_out(&body);
    assert_eq!(out.max_write as usize, DEFAULT_MAX_PAGES_PER_REQ * page_size());
}

#[test]
fn requests_before_init_and_a_second_init_get_eio() {
    let (se, rec, fs) = session(all(), None, None);
    se.process(&request(opcode::FUSE_GETATTR, 4, 1, &[0u8; 16]), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EIO);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EIO);
    assert!(fs.dispatched.lock().is_empty());
}

#[test]
fn unsupported_protocol_major_is_refused() {
    let (se, rec, _) = session(all(), None, None);
    let arg = fuse_init_in { major: 6, minor: 9, ..Default::default() };
    se.process(&request(opcode::FUSE_INIT, 2, 0, crate::codec::as_bytes(&arg)), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EPROTO);
    // A newer major gets our version back and no state change: the kernel retries.
    let (se, rec, _) = session(all(), None, None);
    let arg = fuse_init_in { major: 8, minor: 0, ..Default::default() };
    se.process(&request(opcode::FUSE_INIT, 2, 0, crate::codec::as_bytes(&arg)), -1);
    let (h, body) = last_reply(&rec);
    assert_eq!((h.error, init_out(&body).major), (0, 7));
    assert!(!se.got_init());
}

#[test]
fn malformed_requests_get_an_error_reply_not_a_panic() {
    let (se, rec, fs) = session(all(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    // LOOKUP whose name lacks its NUL.
    se.process(&request(opcode::FUSE_LOOKUP, 6, 1, b"abc"), -1);
    let (h, _) = last_reply(&rec);
    assert_eq!((h.unique, h.error), (6, -libc::EIO));
    // Header length larger than the message.
    let mut bad = request(opcode::FUSE_GETATTR, 8, 1, &[0u8; 16]);
    bad[0] = 200;
    se.process(&bad, -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EIO);
    // Shorter than a header: dropped (no unique to answer).
    let n = rec.sent.lock().len();
    se.process(&[1, 2, 3], -1);
    assert_eq!(rec.sent.lock().len(), n);
    // FORGET gets no reply, valid or not.
    se.process(&request(opcode::FUSE_FORGET, 10, 2, &[1]), -1);
    assert_eq!(rec.sent.lock().len(), n);
    // Unknown opcodes: ENOSYS.
    se.process(&request(9999, 12, 1, &[]), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::ENOSYS);
    assert!(fs.dispatched.lock().is_empty(), "nothing malformed reached the filesystem");
}

#[test]
fn destroy_calls_the_filesystem_once() {
    let (se, rec, fs) = session(all(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    se.process(&request(opcode::FUSE_DESTROY, 14, 0, &[]), -1);
    assert_eq!(last_reply(&rec).0.error, 0);
    se.teardown();
    assert_eq!(*fs.destroyed.lock(), 1, "teardown after DESTROY does not call destroy again");
    let (se, _, fs) = session(all(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    se.teardown();
    assert_eq!(*fs.destroyed.lock(), 1, "teardown without DESTROY calls destroy");
}

#[test]
fn bad_error_values_are_sent_as_erange() {
    let (se, rec, _) = session(all(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    for (given, sent) in
        [(5, -libc::ERANGE), (-1000, -libc::ERANGE), (-libc::ENOENT, -libc::ENOENT)]
    {
        let d = ReqData::new(77, 3, Ctx::default(), se.id());
        se.reply_raw(&d, given, &[]);
        assert_eq!(last_reply(&rec).0.error, sent, "error {given}");
    }
}

/// A panic while a request is handled (here in the filesystem's dispatch) answers that request
/// with EIO and the session goes on serving the next one.
#[test]
fn panic_in_dispatch_answers_eio_and_session_continues() {
    let (se, rec, fs) = session(all(), None, None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    *fs.panic_on.lock() = Some(opcode::FUSE_GETATTR);
    let getattr = fuse_getattr_in::default();
    se.process(&request(opcode::FUSE_GETATTR, 5, 1, crate::codec::as_bytes(&getattr)), -1);
    let (h, body) = last_reply(&rec);
    assert_eq!((h.unique, h.error, body.len()), (5, -libc::EIO, 0));
    se.process(&request(opcode::FUSE_LOOKUP, 6, 1, b"x\0"), -1);
    let (h, _) = last_reply(&rec);
    assert_eq!((h.unique, h.error), (6, -libc::ENOSYS), "the next request is still served");
    assert_eq!(*fs.dispatched.lock(), vec![opcode::FUSE_GETATTR, opcode::FUSE_LOOKUP]);
    assert_eq!(rec.sent.lock().len(), 3, "INIT, the EIO and the ENOSYS: nothing else");
}

/// A panic in the filesystem's init answers INIT with EIO instead of leaving the mount hanging.
#[test]
fn panic_in_init_answers_eio() {
    let init: InitFn = Box::new(|_c: &mut ConnInfo| panic!("init bug"));
    let (se, rec, _) = session(all(), Some(init), None);
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    let (h, _) = last_reply(&rec);
    assert_eq!((h.unique, h.error), (2, -libc::EIO));
    assert_eq!(rec.sent.lock().len(), 1);
}

fn cuse_session(init: Option<InitFn>) -> (Box<Session>, Arc<Recorder>, Arc<Fs>) {
    let (se, rec, fs) = session(Implemented::default(), init, None);
    let dev = cuse::Device::new(10, 200, 1, &[b"DEVNAME=t", b"A=b"], Box::new(())).unwrap();
    assert!(se.set_cuse(dev));
    (se, rec, fs)
}

fn cuse_init_request(major: u32, minor: u32) -> Vec<u8> {
    let arg = cuse_init_in { major, minor, unused: 0, flags: 1 };
    request(opcode::CUSE_INIT, 2, 0, crate::codec::as_bytes(&arg))
}

#[test]
fn cuse_init_describes_the_device() {
    let (se, rec, fs) = cuse_session(Some(Box::new(|c: &mut ConnInfo| c.max_write = 70_000)));
    // Before CUSE_INIT, FUSE_INIT is as wrong as anything else.
    se.process(&init_request(45, KERNEL_FLAGS, 0x20000), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EIO);
    se.process(&cuse_init_request(7, 38), -1);
    let (h, body) = last_reply(&rec);
    assert_eq!((h.unique, h.error), (2, 0));
    let out: cuse_init_out = Cursor::new(&body).fetch("cuse_init_out").unwrap();
    assert_eq!((out.major, out.minor), (FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION));
    assert_eq!((out.flags, out.max_read, out.max_write), (1, cuse::MAX_READ, 70_000));
    assert_eq!((out.dev_major, out.dev_minor), (10, 200));
    assert_eq!(&body[std::mem::size_of::<cuse_init_out>()..], b"DEVNAME=t\0A=b\0");
    assert!(se.got_init());
    assert_eq!((se.conn().proto_major, se.conn().proto_minor, se.conn().want_ext), (7, 38, 0));
    // Once only; requests after it reach the filesystem.
    se.process(&cuse_init_request(7, 38), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EIO);
    se.process(&request(opcode::FUSE_OPEN, 4, 0, &[0u8; 8]), -1);
    assert_eq!(*fs.dispatched.lock(), [opcode::FUSE_OPEN]);
}

#[test]
fn cuse_init_is_refused_when_old_short_or_not_a_device() {
    let (se, rec, _) = cuse_session(None);
    se.process(&cuse_init_request(6, 1), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EPROTO);
    // Shorter than its argument: refused without reading past it.
    let (se, rec, _) = cuse_session(None);
    let mut short = cuse_init_request(7, 38);
    short.truncate(40 + 8);
    short[0] = 48;
    se.process(&short, -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EPROTO);
    assert!(!se.got_init());
    // A max_write the request buffer cannot hold is offered as what it holds.
    let (se, rec, _) = cuse_session(Some(Box::new(|c: &mut ConnInfo| c.max_write = u32::MAX)));
    se.process(&cuse_init_request(7, 38), -1);
    let (_, body) = last_reply(&rec);
    let out: cuse_init_out = Cursor::new(&body).fetch("cuse_init_out").unwrap();
    assert_eq!(out.max_write as usize, se.bufsize() - BUFFER_HEADER_SIZE);
    // A session that serves no device refuses CUSE_INIT as a first request.
    let (se, rec, _) = session(all(), None, None);
    se.process(&cuse_init_request(7, 38), -1);
    assert_eq!(last_reply(&rec).0.error, -libc::EIO);
}
