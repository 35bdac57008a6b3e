//! Tests for the codec: byte-level request fixtures for every opcode, malformed and truncated
//! requests, deterministic mutations, and the reply encoders checked against libfuse's rules.
//!
//! Fixtures are the bytes the kernel writes to `/dev/fuse` for one request. Most are built from
//! the wire structs by [`request`]; the raw arrays at the top are typed out byte by byte from
//! the kernel's <linux/fuse.h> layout, so a wrong field order or size in `kernel` shows up here
//! even though the builder and the decoder share the structs. Raw arrays assume little endian.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::cursor::{Cursor, DecodeError, as_bytes};
use super::reply::*;
use super::request::{DecodeCtx, Operation, Request, decode, decode_header, parse_extensions};
use crate::kernel::opcode::*;
use crate::kernel::{flags, init, opcode, *};

// ---------------------------------------------------------------------------------------------
// Fixture builder
// ---------------------------------------------------------------------------------------------

const UID: u32 = 1000;
const GID: u32 = 1001;
const PID: u32 = 4242;
const NODE: u64 = 0x2a;
const HDR: usize = size_of::<fuse_in_header>();

/// The header fields a fixture chooses; `len` is computed by [`request`].
#[derive(Clone, Copy, Debug)]
struct Hdr {
    opcode: u32,
    unique: u64,
    nodeid: u64,
    uid: u32,
    gid: u32,
    pid: u32,
    total_extlen: u16,
}

/// The default header of a fixture: unique = 0x1000 + opcode (so every fixture's differs),
/// nodeid 0x2a, uid 1000, gid 1001, pid 4242, no extensions.
fn hdr(opcode: u32) -> Hdr {
    Hdr {
        opcode,
        unique: 0x1000 + u64::from(opcode),
        nodeid: NODE,
        uid: UID,
        gid: GID,
        pid: PID,
        total_extlen: 0,
    }
}

/// One request as the kernel writes it: `fuse_in_header` with `len` = the total size, the
/// fixed argument, then the trailing bytes (names with their NULs, data, extensions).
fn request(h: Hdr, arg: &[u8], trailing: &[u8]) -> Vec<u8> {
    let len = HDR + arg.len() + trailing.len();
    let header = fuse_in_header {
        len: u32::try_from(len).unwrap(),
        opcode: h.opcode,
        unique: h.unique,
        nodeid: h.nodeid,
        uid: h.uid,
        gid: h.gid,
        pid: h.pid,
        total_extlen: h.total_extlen,
        padding: 0,
    };
    let mut v = as_bytes(&header).to_vec();
    v.extend_from_slice(arg);
    v.extend_from_slice(trailing);
    v
}

/// `buf` with the header's `len` replaced (a prefix that claims to be whole).
fn with_len(buf: &[u8], len: usize) -> Vec<u8> {
    let mut v = buf.to_vec();
    v[..4].copy_from_slice(&(len as u32).to_ne_bytes());
    v
}

/// The first `n` bytes of a wire struct (older protocols send shorter arguments).
fn prefix<T: Wire>(v: &T, n: usize) -> Vec<u8> {
    as_bytes(v)[..n].to_vec()
}

fn ctx() -> DecodeCtx {
    DecodeCtx::default()
}

fn minor(proto_minor: u32) -> DecodeCtx {
    DecodeCtx { proto_minor, setxattr_ext: false }
}

/// A valid request and what decoding it needs.
#[derive(Clone, Debug)]
struct Fixture {
    label: String,
    bytes: Vec<u8>,
    ctx: DecodeCtx,
    /// The shortest prefix that decodes once the header's `len` is patched to match: the whole
    /// message, except where the decoder legitimately ignores or zero-fills the tail.
    min_ok: usize,
}

impl Fixture {
    fn new(label: &str, bytes: Vec<u8>, ctx: DecodeCtx) -> Self {
        let min_ok = bytes.len();
        Fixture { label: label.to_owned(), bytes, ctx, min_ok }
    }

    fn min_ok(mut self, n: usize) -> Self {
        self.min_ok = n;
        self
    }
}

/// Decode a fixture, match its operation against a pattern and run the checks in `$body`.
macro_rules! op {
    ($f:expr, $pat:pat => $body:expr) => {{
        let f: Fixture = $f;
        let r = decode(&f.bytes, f.ctx).unwrap_or_else(|e| panic!("{}: {e:?}", f.label));
        match r.op {
            $pat => $body,
            #[allow(unreachable_patterns)]
            other => panic!("{}: decoded as {other:?}", f.label),
        }
    }};
}

/// Decode `bytes` and return the error (panicking if it decodes).
fn err(bytes: &[u8], ctx: DecodeCtx) -> DecodeError {
    match decode(bytes, ctx) {
        Ok(r) => panic!("decoded {:?}", r.op),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Argument values used by the fixtures (and expected back by the tests)
// ---------------------------------------------------------------------------------------------

mod want {
    use crate::kernel::*;

    pub const FORGET: fuse_forget_in = fuse_forget_in { nlookup: 3 };
    pub const GETATTR: fuse_getattr_in =
        fuse_getattr_in { getattr_flags: flags::FUSE_GETATTR_FH, dummy: 0, fh: 0x77 };
    pub const SETATTR: fuse_setattr_in = fuse_setattr_in {
        valid: flags::FATTR_MODE | flags::FATTR_SIZE | flags::FATTR_FH | flags::FATTR_MTIME,
        padding: 0,
        fh: 0x77,
        size: 4096,
        lock_owner: 0,
        atime: 0,
        mtime: 1_700_000_000,
        ctime: 0,
        atimensec: 0,
        mtimensec: 123_456_789,
        ctimensec: 0,
        mode: 0o100644,
        unused4: 0,
        uid: 5,
        gid: 6,
        unused5: 0,
    };
    pub const MKNOD: fuse_mknod_in =
        fuse_mknod_in { mode: libc::S_IFIFO | 0o644, rdev: 0x0801, umask: 0o022, padding: 0 };
    pub const MKDIR: fuse_mkdir_in = fuse_mkdir_in { mode: 0o755, umask: 0o022 };
    pub const RENAME: fuse_rename_in = fuse_rename_in { newdir: 0x33 };
    pub const RENAME2: fuse_rename2_in =
        fuse_rename2_in { newdir: 0x33, flags: libc::RENAME_NOREPLACE, padding: 0 };
    pub const LINK: fuse_link_in = fuse_link_in { oldnodeid: 0x44 };
    pub const OPEN: fuse_open_in = fuse_open_in {
        flags: (libc::O_RDWR | libc::O_APPEND) as u32,
        open_flags: flags::FUSE_OPEN_KILL_SUIDGID,
    };
    pub const READ: fuse_read_in = fuse_read_in {
        fh: 9,
        offset: 8192,
        size: 4096,
        read_flags: flags::FUSE_READ_LOCKOWNER,
        lock_owner: 0xabcdef,
        flags: (libc::O_RDONLY | libc::O_NOATIME) as u32,
        padding: 0,
    };
    pub const WRITE: fuse_write_in = fuse_write_in {
        fh: 9,
        offset: 100,
        size: 11,
        write_flags: flags::FUSE_WRITE_CACHE,
        lock_owner: 0x5566,
        flags: libc::O_WRONLY as u32,
        padding: 0,
    };
    pub const WRITE_DATA: &[u8] = b"hello world";
    pub const RELEASE: fuse_release_in = fuse_release_in {
        fh: 9,
        flags: libc::O_RDWR as u32,
        release_flags: flags::FUSE_RELEASE_FLUSH,
        lock_owner: 0x55,
    };
    pub const FSYNC: fuse_fsync_in =
        fuse_fsync_in { fh: 9, fsync_flags: flags::FUSE_FSYNC_FDATASYNC, padding: 0 };
    pub const SETXATTR: fuse_setxattr_in = fuse_setxattr_in {
        size: 5,
        flags: libc::XATTR_CREATE as u32,
        setxattr_flags: 0,
        padding: 0,
    };
    pub const SETXATTR_EXT: fuse_setxattr_in = fuse_setxattr_in {
        size: 5,
        flags: libc::XATTR_REPLACE as u32,
        setxattr_flags: 1,
        padding: 0,
    };
    pub const GETXATTR: fuse_getxattr_in = fuse_getxattr_in { size: 256, padding: 0 };
    pub const LISTXATTR: fuse_getxattr_in = fuse_getxattr_in { size: 1024, padding: 0 };
    pub const FLUSH: fuse_flush_in =
        fuse_flush_in { fh: 9, unused: 0, padding: 0, lock_owner: 0x66 };
    pub const INIT: fuse_init_in = fuse_init_in {
        major: 7,
        minor: 45,
        max_readahead: 131072,
        flags: (init::FUSE_ASYNC_READ | init::FUSE_POSIX_LOCKS | init::FUSE_INIT_EXT) as u32,
        flags2: ((init::FUSE_SECURITY_CTX | init::FUSE_PASSTHROUGH) >> 32) as u32,
        unused: [0; 11],
    };
    pub const OPENDIR: fuse_open_in =
        fuse_open_in { flags: (libc::O_RDONLY | libc::O_DIRECTORY) as u32, open_flags: 0 };
    pub const READDIR: fuse_read_in = fuse_read_in {
        fh: 10,
        offset: 3,
        size: 4096,
        read_flags: 0,
        lock_owner: 0,
        flags: libc::O_DIRECTORY as u32,
        padding: 0,
    };
    pub const RELEASEDIR: fuse_release_in = fuse_release_in {
        fh: 10,
        flags: libc::O_DIRECTORY as u32,
        release_flags: 0,
        lock_owner: 0,
    };
    pub const FSYNCDIR: fuse_fsync_in = fuse_fsync_in { fh: 10, fsync_flags: 0, padding: 0 };
    pub const LK: fuse_lk_in = fuse_lk_in {
        fh: 9,
        owner: 0x99,
        lk: fuse_file_lock { start: 0, end: i64::MAX as u64, typ: libc::F_WRLCK as u32, pid: 4242 },
        lk_flags: 0,
        padding: 0,
    };
    pub const FLK: fuse_lk_in = fuse_lk_in { lk_flags: flags::FUSE_LK_FLOCK, ..LK };
    pub const ACCESS: fuse_access_in =
        fuse_access_in { mask: (libc::R_OK | libc::W_OK) as u32, padding: 0 };
    pub const CREATE: fuse_create_in = fuse_create_in {
        flags: (libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY) as u32,
        mode: 0o100600,
        umask: 0o077,
        open_flags: 0,
    };
    pub const INTERRUPT: fuse_interrupt_in = fuse_interrupt_in { unique: 0x1010 };
    pub const BMAP: fuse_bmap_in = fuse_bmap_in { block: 7, blocksize: 4096, padding: 0 };
    pub const IOCTL: fuse_ioctl_in = fuse_ioctl_in {
        fh: 9,
        flags: flags::FUSE_IOCTL_UNRESTRICTED,
        cmd: 0x4008_6601,
        arg: 0x7fff_0000_1000,
        in_size: 8,
        out_size: 16,
    };
    pub const IOCTL_INPUT: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8];
    pub const POLL: fuse_poll_in = fuse_poll_in {
        fh: 9,
        kh: 0x1234,
        flags: flags::FUSE_POLL_SCHEDULE_NOTIFY,
        events: (libc::POLLIN | libc::POLLOUT) as u32,
    };
    pub const NOTIFY_REPLY: fuse_notify_retrieve_in = fuse_notify_retrieve_in {
        dummy1: 0,
        offset: 4096,
        size: 6,
        dummy2: 0,
        dummy3: 0,
        dummy4: 0,
    };
    pub const NOTIFY_DATA: &[u8] = b"stored";
    pub const BATCH_FORGET: fuse_batch_forget_in = fuse_batch_forget_in { count: 2, dummy: 0 };
    pub const FORGET_ONE: [fuse_forget_one; 2] =
        [fuse_forget_one { nodeid: 5, nlookup: 1 }, fuse_forget_one { nodeid: 6, nlookup: 2 }];
    pub const FALLOCATE: fuse_fallocate_in = fuse_fallocate_in {
        fh: 9,
        offset: 0,
        length: 1 << 20,
        mode: libc::FALLOC_FL_KEEP_SIZE as u32,
        padding: 0,
    };
    pub const READDIRPLUS: fuse_read_in = fuse_read_in { fh: 10, offset: 0, size: 8192, ..READDIR };
    pub const LSEEK: fuse_lseek_in =
        fuse_lseek_in { fh: 9, offset: 100, whence: libc::SEEK_DATA as u32, padding: 0 };
    pub const COPY: fuse_copy_file_range_in = fuse_copy_file_range_in {
        fh_in: 9,
        off_in: 0,
        nodeid_out: 0x45,
        fh_out: 11,
        off_out: 4096,
        len: 65536,
        flags: 0,
    };
    pub const SYNCFS: fuse_syncfs_in = fuse_syncfs_in { padding: 0 };
    pub const TMPFILE: fuse_create_in = fuse_create_in {
        flags: (libc::O_RDWR | libc::O_TMPFILE) as u32,
        mode: 0o100600,
        umask: 0o022,
        open_flags: 0,
    };
    pub const STATX: fuse_statx_in = fuse_statx_in {
        getattr_flags: flags::FUSE_GETATTR_FH,
        reserved: 0,
        fh: 9,
        sx_flags: libc::AT_STATX_FORCE_SYNC as u32,
        sx_mask: libc::STATX_BASIC_STATS | libc::STATX_BTIME,
    };
    pub const CUSE_INIT: cuse_init_in = cuse_init_in { major: 7, minor: 45, unused: 0, flags: 1 };
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one valid request per opcode
// ---------------------------------------------------------------------------------------------

/// An opcode this library does not know (libfuse answers it with ENOSYS).
const UNKNOWN_OPCODE: u32 = 999;

/// Every opcode `kernel::opcode` names.
fn all_opcodes() -> Vec<u32> {
    // SETUPMAPPING and REMOVEMAPPING (virtiofs DAX) have no debug name but are opcodes too.
    (0..=255)
        .chain([CUSE_INIT])
        .filter(|&op| {
            opcode::name(op) != "???" || matches!(op, FUSE_SETUPMAPPING | FUSE_REMOVEMAPPING)
        })
        .collect()
}

/// The valid request for `op`. Rows are commented in wire order; the header is [`hdr`]'s
/// default unless a row says otherwise.
fn fixture(op: u32) -> Fixture {
    let h = hdr(op);
    let label = match op {
        UNKNOWN_OPCODE => "UNKNOWN",
        FUSE_SETUPMAPPING => "SETUPMAPPING",
        FUSE_REMOVEMAPPING => "REMOVEMAPPING",
        _ => opcode::name(op),
    };
    let f = |bytes: Vec<u8>| Fixture::new(label, bytes, ctx());
    match op {
        // fuse_in_header: len=50, opcode=FUSE_LOOKUP(1)
        // name:           "hello.txt\0"
        FUSE_LOOKUP => f(request(h, &[], b"hello.txt\0")),
        // fuse_in_header: len=48, opcode=FUSE_FORGET(2)
        // fuse_forget_in: nlookup=3
        FUSE_FORGET => f(request(h, as_bytes(&want::FORGET), &[])),
        // fuse_in_header:  len=56, opcode=FUSE_GETATTR(3)
        // fuse_getattr_in: getattr_flags=FUSE_GETATTR_FH, dummy=0, fh=0x77
        FUSE_GETATTR => f(request(h, as_bytes(&want::GETATTR), &[])),
        // fuse_in_header:  len=128, opcode=FUSE_SETATTR(4)
        // fuse_setattr_in: valid=MODE|SIZE|FH|MTIME, fh=0x77, size=4096, mtime=1700000000.123456789,
        //                  mode=0100644, uid=5, gid=6
        FUSE_SETATTR => f(request(h, as_bytes(&want::SETATTR), &[])),
        // fuse_in_header: len=40, opcode=FUSE_READLINK(5); no argument
        FUSE_READLINK => f(request(h, &[], &[])),
        // fuse_in_header: len=60, opcode=FUSE_SYMLINK(6)
        // name:           "link\0"
        // target:         "../target/f\0"
        FUSE_SYMLINK => f(request(h, &[], b"link\0../target/f\0")),
        // fuse_in_header: len=61, opcode=FUSE_MKNOD(8)
        // fuse_mknod_in:  mode=S_IFIFO|0644, rdev=0x801, umask=022, padding=0
        // name:           "fifo\0"
        FUSE_MKNOD => f(request(h, as_bytes(&want::MKNOD), b"fifo\0")),
        // fuse_in_header: len=52, opcode=FUSE_MKDIR(9)
        // fuse_mkdir_in:  mode=0755, umask=022
        // name:           "dir\0"
        FUSE_MKDIR => f(request(h, as_bytes(&want::MKDIR), b"dir\0")),
        // fuse_in_header: len=45, opcode=FUSE_UNLINK(10)
        // name:           "gone\0"
        FUSE_UNLINK => f(request(h, &[], b"gone\0")),
        // fuse_in_header: len=47, opcode=FUSE_RMDIR(11)
        // name:           "olddir\0"
        FUSE_RMDIR => f(request(h, &[], b"olddir\0")),
        // fuse_in_header: len=58, opcode=FUSE_RENAME(12)
        // fuse_rename_in: newdir=0x33
        // old name:       "a\0"
        // new name:       "bb\0"
        FUSE_RENAME => f(request(h, as_bytes(&want::RENAME), b"a\0bb\0")),
        // fuse_in_header: len=57, opcode=FUSE_LINK(13)
        // fuse_link_in:   oldnodeid=0x44
        // new name:       "hardlink\0"
        FUSE_LINK => f(request(h, as_bytes(&want::LINK), b"hardlink\0")),
        // fuse_in_header: len=48, opcode=FUSE_OPEN(14)
        // fuse_open_in:   flags=O_RDWR|O_APPEND, open_flags=FUSE_OPEN_KILL_SUIDGID
        FUSE_OPEN => f(request(h, as_bytes(&want::OPEN), &[])),
        // fuse_in_header: len=80, opcode=FUSE_READ(15)
        // fuse_read_in:   fh=9, offset=8192, size=4096, read_flags=FUSE_READ_LOCKOWNER,
        //                 lock_owner=0xabcdef, flags=O_RDONLY|O_NOATIME, padding=0
        FUSE_READ => f(request(h, as_bytes(&want::READ), &[])),
        // fuse_in_header: len=91, opcode=FUSE_WRITE(16)
        // fuse_write_in:  fh=9, offset=100, size=11, write_flags=FUSE_WRITE_CACHE,
        //                 lock_owner=0x5566, flags=O_WRONLY, padding=0
        // data:           "hello world" (11 bytes)
        FUSE_WRITE => f(request(h, as_bytes(&want::WRITE), want::WRITE_DATA)),
        // fuse_in_header: len=40, opcode=FUSE_STATFS(17); no argument
        FUSE_STATFS => f(request(h, &[], &[])),
        // fuse_in_header:  len=64, opcode=FUSE_RELEASE(18)
        // fuse_release_in: fh=9, flags=O_RDWR, release_flags=FUSE_RELEASE_FLUSH, lock_owner=0x55
        FUSE_RELEASE => f(request(h, as_bytes(&want::RELEASE), &[])),
        // fuse_in_header: len=56, opcode=FUSE_FSYNC(20)
        // fuse_fsync_in:  fh=9, fsync_flags=FUSE_FSYNC_FDATASYNC, padding=0
        FUSE_FSYNC => f(request(h, as_bytes(&want::FSYNC), &[])),
        // fuse_in_header:   len=63, opcode=FUSE_SETXATTR(21)
        // fuse_setxattr_in: size=5, flags=XATTR_CREATE (the 8-byte form: no SETXATTR_EXT)
        // name:             "user.test\0"
        // value:            "value" (5 bytes, no NUL)
        FUSE_SETXATTR => f(request(
            h,
            &prefix(&want::SETXATTR, FUSE_COMPAT_SETXATTR_IN_SIZE),
            b"user.test\0value",
        )),
        // fuse_in_header:   len=58, opcode=FUSE_GETXATTR(22)
        // fuse_getxattr_in: size=256, padding=0
        // name:             "user.test\0"
        FUSE_GETXATTR => f(request(h, as_bytes(&want::GETXATTR), b"user.test\0")),
        // fuse_in_header:   len=48, opcode=FUSE_LISTXATTR(23)
        // fuse_getxattr_in: size=1024, padding=0
        FUSE_LISTXATTR => f(request(h, as_bytes(&want::LISTXATTR), &[])),
        // fuse_in_header: len=50, opcode=FUSE_REMOVEXATTR(24)
        // name:           "user.test\0"
        FUSE_REMOVEXATTR => f(request(h, &[], b"user.test\0")),
        // fuse_in_header: len=64, opcode=FUSE_FLUSH(25)
        // fuse_flush_in:  fh=9, unused=0, padding=0, lock_owner=0x66
        FUSE_FLUSH => f(request(h, as_bytes(&want::FLUSH), &[])),
        // fuse_in_header: len=104, opcode=FUSE_INIT(26)
        // fuse_init_in:   major=7, minor=45, max_readahead=128KiB,
        //                 flags=ASYNC_READ|POSIX_LOCKS|INIT_EXT, flags2=SECURITY_CTX|PASSTHROUGH
        //                 (high words), unused[11]=0
        // Anything from major+minor (8 bytes) on decodes: the rest is zero-filled.
        FUSE_INIT => f(request(h, as_bytes(&want::INIT), &[])).min_ok(HDR + 8),
        // fuse_in_header: len=48, opcode=FUSE_OPENDIR(27)
        // fuse_open_in:   flags=O_RDONLY|O_DIRECTORY, open_flags=0
        FUSE_OPENDIR => f(request(h, as_bytes(&want::OPENDIR), &[])),
        // fuse_in_header: len=80, opcode=FUSE_READDIR(28)
        // fuse_read_in:   fh=10, offset=3, size=4096, flags=O_DIRECTORY
        FUSE_READDIR => f(request(h, as_bytes(&want::READDIR), &[])),
        // fuse_in_header:  len=64, opcode=FUSE_RELEASEDIR(29)
        // fuse_release_in: fh=10, flags=O_DIRECTORY
        FUSE_RELEASEDIR => f(request(h, as_bytes(&want::RELEASEDIR), &[])),
        // fuse_in_header: len=56, opcode=FUSE_FSYNCDIR(30)
        // fuse_fsync_in:  fh=10, fsync_flags=0
        FUSE_FSYNCDIR => f(request(h, as_bytes(&want::FSYNCDIR), &[])),
        // fuse_in_header: len=88, opcode=FUSE_GETLK(31)
        // fuse_lk_in:     fh=9, owner=0x99, lk={start=0, end=OFFSET_MAX, type=F_WRLCK, pid=4242},
        //                 lk_flags=0
        FUSE_GETLK => f(request(h, as_bytes(&want::LK), &[])),
        // fuse_in_header: len=88, opcode=FUSE_SETLK(32)
        // fuse_lk_in:     as GETLK, lk_flags=FUSE_LK_FLOCK
        FUSE_SETLK => f(request(h, as_bytes(&want::FLK), &[])),
        // fuse_in_header: len=88, opcode=FUSE_SETLKW(33)
        // fuse_lk_in:     as GETLK
        FUSE_SETLKW => f(request(h, as_bytes(&want::LK), &[])),
        // fuse_in_header: len=48, opcode=FUSE_ACCESS(34)
        // fuse_access_in: mask=R_OK|W_OK, padding=0
        FUSE_ACCESS => f(request(h, as_bytes(&want::ACCESS), &[])),
        // fuse_in_header: len=64, opcode=FUSE_CREATE(35)
        // fuse_create_in: flags=O_CREAT|O_EXCL|O_WRONLY, mode=0100600, umask=077, open_flags=0
        // name:           "new.txt\0"
        FUSE_CREATE => f(request(h, as_bytes(&want::CREATE), b"new.txt\0")),
        // fuse_in_header:    len=48, opcode=FUSE_INTERRUPT(36), nodeid=0
        // fuse_interrupt_in: unique=0x1010 (the request to interrupt)
        FUSE_INTERRUPT => f(request(Hdr { nodeid: 0, ..h }, as_bytes(&want::INTERRUPT), &[])),
        // fuse_in_header: len=56, opcode=FUSE_BMAP(37)
        // fuse_bmap_in:   block=7, blocksize=4096, padding=0
        FUSE_BMAP => f(request(h, as_bytes(&want::BMAP), &[])),
        // fuse_in_header: len=40, opcode=FUSE_DESTROY(38); no argument
        FUSE_DESTROY => f(request(h, &[], &[])),
        // fuse_in_header: len=80, opcode=FUSE_IOCTL(39)
        // fuse_ioctl_in:  fh=9, flags=FUSE_IOCTL_UNRESTRICTED, cmd=0x40086601,
        //                 arg=0x7fff00001000, in_size=8, out_size=16
        // input:          01 02 03 04 05 06 07 08
        FUSE_IOCTL => f(request(h, as_bytes(&want::IOCTL), want::IOCTL_INPUT)),
        // fuse_in_header: len=64, opcode=FUSE_POLL(40)
        // fuse_poll_in:   fh=9, kh=0x1234, flags=FUSE_POLL_SCHEDULE_NOTIFY, events=POLLIN|POLLOUT
        FUSE_POLL => f(request(h, as_bytes(&want::POLL), &[])),
        // fuse_in_header:          len=86, opcode=FUSE_NOTIFY_REPLY(41)
        // fuse_notify_retrieve_in: offset=4096, size=6 (dummies 0)
        // data:                    "stored"
        FUSE_NOTIFY_REPLY => f(request(h, as_bytes(&want::NOTIFY_REPLY), want::NOTIFY_DATA)),
        // fuse_in_header:       len=80, opcode=FUSE_BATCH_FORGET(42), nodeid=0
        // fuse_batch_forget_in: count=2, dummy=0
        // fuse_forget_one:      nodeid=5, nlookup=1
        // fuse_forget_one:      nodeid=6, nlookup=2
        FUSE_BATCH_FORGET => {
            let mut entries = as_bytes(&want::FORGET_ONE[0]).to_vec();
            entries.extend_from_slice(as_bytes(&want::FORGET_ONE[1]));
            f(request(Hdr { nodeid: 0, ..h }, as_bytes(&want::BATCH_FORGET), &entries))
        }
        // fuse_in_header:    len=72, opcode=FUSE_FALLOCATE(43)
        // fuse_fallocate_in: fh=9, offset=0, length=1MiB, mode=FALLOC_FL_KEEP_SIZE, padding=0
        FUSE_FALLOCATE => f(request(h, as_bytes(&want::FALLOCATE), &[])),
        // fuse_in_header: len=80, opcode=FUSE_READDIRPLUS(44)
        // fuse_read_in:   fh=10, offset=0, size=8192, flags=O_DIRECTORY
        FUSE_READDIRPLUS => f(request(h, as_bytes(&want::READDIRPLUS), &[])),
        // fuse_in_header:  len=61, opcode=FUSE_RENAME2(45)
        // fuse_rename2_in: newdir=0x33, flags=RENAME_NOREPLACE, padding=0
        // old name:        "a\0"
        // new name:        "bb\0"
        FUSE_RENAME2 => f(request(h, as_bytes(&want::RENAME2), b"a\0bb\0")),
        // fuse_in_header: len=64, opcode=FUSE_LSEEK(46)
        // fuse_lseek_in:  fh=9, offset=100, whence=SEEK_DATA, padding=0
        FUSE_LSEEK => f(request(h, as_bytes(&want::LSEEK), &[])),
        // fuse_in_header:          len=96, opcode=FUSE_COPY_FILE_RANGE(47)
        // fuse_copy_file_range_in: fh_in=9, off_in=0, nodeid_out=0x45, fh_out=11,
        //                          off_out=4096, len=64KiB, flags=0
        FUSE_COPY_FILE_RANGE => f(request(h, as_bytes(&want::COPY), &[])),
        // fuse_in_header: len=80, opcode=FUSE_SETUPMAPPING(48) (virtiofs DAX)
        // argument:       40 bytes, not decoded: the library answers ENOSYS
        // fuse_in_header: len=72, opcode=FUSE_REMOVEMAPPING(49) (virtiofs DAX)
        // argument:       32 bytes, not decoded
        FUSE_SETUPMAPPING | FUSE_REMOVEMAPPING => {
            let n = if op == FUSE_SETUPMAPPING { 40 } else { 32 };
            let arg: Vec<u8> = (1..=n).collect();
            f(request(h, &arg, &[])).min_ok(HDR)
        }
        // fuse_in_header: len=48, opcode=FUSE_SYNCFS(50)
        // fuse_syncfs_in: padding=0
        FUSE_SYNCFS => f(request(h, as_bytes(&want::SYNCFS), &[])),
        // fuse_in_header: len=58, opcode=FUSE_TMPFILE(51)
        // fuse_create_in: flags=O_RDWR|O_TMPFILE, mode=0100600, umask=022, open_flags=0
        // name:           "/\0" (the kernel's placeholder name; not decoded)
        FUSE_TMPFILE => f(request(h, as_bytes(&want::TMPFILE), b"/\0")).min_ok(HDR + 16),
        // fuse_in_header: len=64, opcode=FUSE_STATX(52)
        // fuse_statx_in:  getattr_flags=FUSE_GETATTR_FH, reserved=0, fh=9,
        //                 sx_flags=AT_STATX_FORCE_SYNC, sx_mask=STATX_BASIC_STATS|STATX_BTIME
        FUSE_STATX => f(request(h, as_bytes(&want::STATX), &[])),
        // fuse_in_header:          len=96, opcode=FUSE_COPY_FILE_RANGE_64(53)
        // fuse_copy_file_range_in: as COPY_FILE_RANGE
        FUSE_COPY_FILE_RANGE_64 => f(request(h, as_bytes(&want::COPY), &[])),
        // fuse_in_header: len=56, opcode=CUSE_INIT(4096)
        // cuse_init_in:   major=7, minor=45, unused=0, flags=CUSE_UNRESTRICTED_IOCTL
        CUSE_INIT => f(request(h, as_bytes(&want::CUSE_INIT), &[])),
        // fuse_in_header: len=48, opcode=999 (unknown)
        // argument:       8 bytes, not decoded
        UNKNOWN_OPCODE => f(request(h, &[0xee; 8], &[])).min_ok(HDR),
        other => panic!("no fixture for opcode {other} ({})", opcode::name(other)),
    }
}

/// Old-protocol and extension variants, also fed to the truncation and mutation tests.
fn variant_fixtures() -> Vec<Fixture> {
    let mut v = Vec::new();
    // fuse_in_header: len=69, opcode=FUSE_WRITE(16)
    // fuse_write_in:  first 24 bytes only (7.8: fh, offset, size=5, write_flags)
    // data:           "abcde"
    let w = fuse_write_in { size: 5, ..want::WRITE };
    v.push(Fixture::new(
        "WRITE 7.8",
        request(hdr(FUSE_WRITE), &prefix(&w, FUSE_COMPAT_WRITE_IN_SIZE), b"abcde"),
        minor(8),
    ));
    // fuse_in_header: len=64, opcode=FUSE_READ(15)
    // fuse_read_in:   first 24 bytes only (7.8: fh, offset, size, read_flags)
    v.push(Fixture::new(
        "READ 7.8",
        request(hdr(FUSE_READ), &prefix(&want::READ, 24), &[]),
        minor(8),
    ));
    // fuse_in_header: len=40, opcode=FUSE_GETATTR(3); no argument before 7.9
    v.push(Fixture::new("GETATTR 7.8", request(hdr(FUSE_GETATTR), &[], &[]), minor(8)));
    // fuse_in_header:  len=56, opcode=FUSE_RELEASE(18)
    // fuse_release_in: first 16 bytes only (7.7: fh, flags, release_flags)
    v.push(Fixture::new(
        "RELEASE 7.7",
        request(hdr(FUSE_RELEASE), &prefix(&want::RELEASE, 16), &[]),
        minor(7),
    ));
    // fuse_in_header: len=53, opcode=FUSE_MKNOD(8)
    // fuse_mknod_in:  first 8 bytes only (7.11: mode, rdev)
    // name:           "fifo\0"
    v.push(Fixture::new(
        "MKNOD 7.11",
        request(hdr(FUSE_MKNOD), &prefix(&want::MKNOD, FUSE_COMPAT_MKNOD_IN_SIZE), b"fifo\0"),
        minor(11),
    ));
    // fuse_in_header: len=56, opcode=FUSE_CREATE(35)
    // fuse_open_in:   flags=O_CREAT|O_EXCL|O_WRONLY, mode=0100600 (7.11: no umask)
    // name:           "new.txt\0"
    v.push(Fixture::new(
        "CREATE 7.11",
        request(hdr(FUSE_CREATE), &prefix(&want::CREATE, 8), b"new.txt\0"),
        minor(11),
    ));
    // fuse_in_header:   len=71, opcode=FUSE_SETXATTR(21)
    // fuse_setxattr_in: size=5, flags=XATTR_REPLACE, setxattr_flags=1 (ACL_KILL_SGID), padding=0
    // name:             "user.test\0"
    // value:            "value"
    v.push(Fixture::new(
        "SETXATTR ext",
        request(hdr(FUSE_SETXATTR), as_bytes(&want::SETXATTR_EXT), b"user.test\0value"),
        DecodeCtx { setxattr_ext: true, ..ctx() },
    ));
    // fuse_in_header: len=48, opcode=FUSE_INIT(26)
    // fuse_init_in:   major=7, minor=5 (the 8-byte argument of protocol 7.5)
    v.push(Fixture::new(
        "INIT 7.5",
        request(
            hdr(FUSE_INIT),
            &prefix(&fuse_init_in { major: 7, minor: 5, ..Default::default() }, 8),
            &[],
        ),
        minor(0),
    ));
    v.push(create_with_extensions());
    v
}

/// Every fixture: one per opcode, an unknown opcode, and the variants.
fn all_fixtures() -> Vec<Fixture> {
    let mut v: Vec<Fixture> =
        all_opcodes().into_iter().chain([UNKNOWN_OPCODE]).map(fixture).collect();
    v.extend(variant_fixtures());
    v
}

// ---------------------------------------------------------------------------------------------
// Extensions as the kernel builds them (fs/fuse/dir.c): each entry's size is 8-byte aligned
// and includes its header.
// ---------------------------------------------------------------------------------------------

/// A security-context extension with one context: fuse_secctx_header, fuse_secctx, the xattr
/// name with its NUL, the value, zero padding.
fn secctx_ext(name: &[u8], value: &[u8]) -> Vec<u8> {
    let total = fuse_rec_align(8 + 8 + name.len() + 1 + value.len());
    let mut v = as_bytes(&fuse_secctx_header { size: total as u32, nr_secctx: 1 }).to_vec();
    v.extend_from_slice(as_bytes(&fuse_secctx { size: value.len() as u32, padding: 0 }));
    v.extend_from_slice(name);
    v.push(0);
    v.extend_from_slice(value);
    v.resize(total, 0);
    v
}

/// A supplementary-groups extension: fuse_ext_header (type FUSE_EXT_GROUPS), nr_groups, the
/// groups, zero padding.
fn groups_ext(groups: &[u32]) -> Vec<u8> {
    let total = fuse_rec_align(8 + 4 + 4 * groups.len());
    let mut v =
        as_bytes(&fuse_ext_header { size: total as u32, typ: flags::FUSE_EXT_GROUPS }).to_vec();
    v.extend_from_slice(&(groups.len() as u32).to_ne_bytes());
    for g in groups {
        v.extend_from_slice(&g.to_ne_bytes());
    }
    v.resize(total, 0);
    v
}

const SECCTX_NAME: &[u8] = b"security.selinux";
const SECCTX_VALUE: &[u8] = b"unconfined_u:object_r:user_tmp_t:s0\0";

fn create_extensions() -> Vec<u8> {
    [secctx_ext(SECCTX_NAME, SECCTX_VALUE), groups_ext(&[1001, 27])].concat()
}

/// CREATE as a kernel with FUSE_SECURITY_CTX and FUSE_CREATE_SUPP_GROUP sends it.
fn create_with_extensions() -> Fixture {
    let ext = create_extensions();
    // fuse_in_header:     len=160, opcode=FUSE_CREATE(35), total_extlen=12 (96 bytes)
    // fuse_create_in:     as CREATE
    // name:               "new.txt\0"
    // fuse_secctx_header: size=72, nr_secctx=1
    // fuse_secctx:        size=36, padding=0
    //                     "security.selinux\0" "unconfined_u:object_r:user_tmp_t:s0\0", 3 zero bytes
    // fuse_ext_header:    size=24, type=FUSE_EXT_GROUPS(32)
    // fuse_supp_groups:   nr_groups=2, groups=[1001, 27], 4 zero bytes
    let h = Hdr { total_extlen: (ext.len() / 8) as u16, ..hdr(FUSE_CREATE) };
    let trailing = [b"new.txt\0".as_slice(), &ext].concat();
    Fixture::new("CREATE+ext", request(h, as_bytes(&want::CREATE), &trailing), ctx())
}

// ---------------------------------------------------------------------------------------------
// Raw byte arrays: the kernel's wire format typed out, independent of `kernel`'s structs
// ---------------------------------------------------------------------------------------------

#[cfg(target_endian = "little")]
#[rustfmt::skip]
const RAW_LOOKUP: [u8; 46] = [
    // fuse_in_header
    0x2e, 0x00, 0x00, 0x00,                         // len = 46
    0x01, 0x00, 0x00, 0x00,                         // opcode = FUSE_LOOKUP (1)
    0x0d, 0xf0, 0xad, 0xba, 0x00, 0x00, 0x00, 0x00, // unique = 0xbaadf00d
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nodeid = 1 (FUSE_ROOT_ID)
    0xe8, 0x03, 0x00, 0x00,                         // uid = 1000
    0xe9, 0x03, 0x00, 0x00,                         // gid = 1001
    0x92, 0x10, 0x00, 0x00,                         // pid = 4242
    0x00, 0x00,                                     // total_extlen = 0
    0x00, 0x00,                                     // padding
    // name
    b'h', b'e', b'l', b'l', b'o', 0x00,             // "hello\0"
];

#[cfg(target_endian = "little")]
#[rustfmt::skip]
const RAW_WRITE: [u8; 85] = [
    // fuse_in_header
    0x55, 0x00, 0x00, 0x00,                         // len = 85
    0x10, 0x00, 0x00, 0x00,                         // opcode = FUSE_WRITE (16)
    0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // unique = 0x102
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nodeid = 5
    0xe8, 0x03, 0x00, 0x00,                         // uid = 1000
    0xe9, 0x03, 0x00, 0x00,                         // gid = 1001
    0x92, 0x10, 0x00, 0x00,                         // pid = 4242
    0x00, 0x00,                                     // total_extlen = 0
    0x00, 0x00,                                     // padding
    // fuse_write_in
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // fh = 3
    0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // offset = 0x1_0000_1000
    0x05, 0x00, 0x00, 0x00,                         // size = 5
    0x02, 0x00, 0x00, 0x00,                         // write_flags = FUSE_WRITE_LOCKOWNER
    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // lock_owner = 0x1122334455667788
    0x01, 0x80, 0x00, 0x00,                         // flags = O_WRONLY | O_LARGEFILE
    0x00, 0x00, 0x00, 0x00,                         // padding
    // data
    b'a', b'b', b'c', b'd', b'e',
];

#[cfg(target_endian = "little")]
#[rustfmt::skip]
const RAW_INIT: [u8; 104] = [
    // fuse_in_header
    0x68, 0x00, 0x00, 0x00,                         // len = 104
    0x1a, 0x00, 0x00, 0x00,                         // opcode = FUSE_INIT (26)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // unique = 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nodeid = 0
    0x00, 0x00, 0x00, 0x00,                         // uid = 0
    0x00, 0x00, 0x00, 0x00,                         // gid = 0
    0x00, 0x00, 0x00, 0x00,                         // pid = 0
    0x00, 0x00,                                     // total_extlen = 0
    0x00, 0x00,                                     // padding
    // fuse_init_in
    0x07, 0x00, 0x00, 0x00,                         // major = 7
    0x2d, 0x00, 0x00, 0x00,                         // minor = 45
    0x00, 0x00, 0x02, 0x00,                         // max_readahead = 0x20000
    0x01, 0x20, 0x00, 0x40,                         // flags = ASYNC_READ | DO_READDIRPLUS | INIT_EXT
    0x05, 0x00, 0x00, 0x00,                         // flags2 = SECURITY_CTX | CREATE_SUPP_GROUP (>> 32)
    0x00, 0x00, 0x00, 0x00,                         // unused[0]
    0x00, 0x00, 0x00, 0x00,                         // unused[1]
    0x00, 0x00, 0x00, 0x00,                         // unused[2]
    0x00, 0x00, 0x00, 0x00,                         // unused[3]
    0x00, 0x00, 0x00, 0x00,                         // unused[4]
    0x00, 0x00, 0x00, 0x00,                         // unused[5]
    0x00, 0x00, 0x00, 0x00,                         // unused[6]
    0x00, 0x00, 0x00, 0x00,                         // unused[7]
    0x00, 0x00, 0x00, 0x00,                         // unused[8]
    0x00, 0x00, 0x00, 0x00,                         // unused[9]
    0x00, 0x00, 0x00, 0x00,                         // unused[10]
];

#[cfg(target_endian = "little")]
#[test]
fn raw_lookup_matches_the_kernel_layout() {
    let r = decode(&RAW_LOOKUP, ctx()).unwrap();
    let h = r.header;
    assert_eq!((h.len, h.opcode, h.unique, h.nodeid), (46, FUSE_LOOKUP, 0xbaad_f00d, FUSE_ROOT_ID));
    assert_eq!((h.uid, h.gid, h.pid, h.total_extlen), (1000, 1001, 4242, 0));
    let Operation::Lookup { name } = r.op else { panic!("{:?}", r.op) };
    assert_eq!(name, c"hello");
    // The builder produces the same bytes.
    let h = Hdr { unique: 0xbaad_f00d, nodeid: FUSE_ROOT_ID, ..hdr(FUSE_LOOKUP) };
    assert_eq!(request(h, &[], b"hello\0"), RAW_LOOKUP);
}

#[cfg(target_endian = "little")]
#[test]
fn raw_write_matches_the_kernel_layout() {
    let r = decode(&RAW_WRITE, ctx()).unwrap();
    assert_eq!((r.header.opcode, r.header.unique, r.header.nodeid), (FUSE_WRITE, 0x102, 5));
    let Operation::Write { arg, data } = r.op else { panic!("{:?}", r.op) };
    let expect = fuse_write_in {
        fh: 3,
        offset: 0x1_0000_1000,
        size: 5,
        write_flags: flags::FUSE_WRITE_LOCKOWNER,
        lock_owner: 0x1122_3344_5566_7788,
        flags: (libc::O_WRONLY | 0o100000) as u32,
        padding: 0,
    };
    assert_eq!(arg, expect);
    assert_eq!(data, b"abcde");
    let h = Hdr { unique: 0x102, nodeid: 5, ..hdr(FUSE_WRITE) };
    assert_eq!(request(h, as_bytes(&expect), b"abcde"), RAW_WRITE);
}

#[cfg(target_endian = "little")]
#[test]
fn raw_init_matches_the_kernel_layout() {
    let r = decode(&RAW_INIT, minor(0)).unwrap();
    assert_eq!((r.header.opcode, r.header.unique, r.header.nodeid), (FUSE_INIT, 2, 0));
    let Operation::Init { arg } = r.op else { panic!("{:?}", r.op) };
    assert_eq!((arg.major, arg.minor, arg.max_readahead), (7, 45, 0x20000));
    let flags = u64::from(arg.flags) | u64::from(arg.flags2) << 32;
    let expect = init::FUSE_ASYNC_READ
        | init::FUSE_DO_READDIRPLUS
        | init::FUSE_INIT_EXT
        | init::FUSE_SECURITY_CTX
        | init::FUSE_CREATE_SUPP_GROUP;
    assert_eq!(flags, expect);
    let arg = fuse_init_in {
        major: 7,
        minor: 45,
        max_readahead: 0x20000,
        flags: expect as u32,
        flags2: (expect >> 32) as u32,
        unused: [0; 11],
    };
    let h = Hdr { unique: 2, nodeid: 0, uid: 0, gid: 0, pid: 0, ..hdr(FUSE_INIT) };
    assert_eq!(request(h, as_bytes(&arg), &[]), RAW_INIT);
}

// ---------------------------------------------------------------------------------------------
// Positive tests: one per opcode
// ---------------------------------------------------------------------------------------------

#[test]
fn every_named_opcode_has_a_fixture_and_decodes_its_header() {
    let ops = all_opcodes();
    assert_eq!(ops.len(), 52, "kernel::opcode changed: add fixtures for new opcodes");
    for op in ops.into_iter().chain([UNKNOWN_OPCODE]) {
        let f = fixture(op);
        let r = decode(&f.bytes, f.ctx).unwrap_or_else(|e| panic!("{}: {e}", f.label));
        let h = r.header;
        assert_eq!(h.len as usize, f.bytes.len(), "{}", f.label);
        assert_eq!((h.opcode, h.unique), (op, 0x1000 + u64::from(op)), "{}", f.label);
        let nodeid = if matches!(op, FUSE_INTERRUPT | FUSE_BATCH_FORGET) { 0 } else { NODE };
        assert_eq!((h.nodeid, h.uid, h.gid, h.pid), (nodeid, UID, GID, PID), "{}", f.label);
        assert_eq!((h.total_extlen, r.extensions.len()), (0, 0), "{}", f.label);
        assert_eq!(decode_header(&f.bytes).unwrap(), h);
    }
}

#[test]
fn lookup() {
    op!(fixture(FUSE_LOOKUP), Operation::Lookup { name } => assert_eq!(name, c"hello.txt"));
}

#[test]
fn forget() {
    op!(fixture(FUSE_FORGET), Operation::Forget { arg } => assert_eq!(arg.nlookup, 3));
}

#[test]
fn getattr() {
    op!(fixture(FUSE_GETATTR), Operation::Getattr { arg } => {
        assert_eq!(arg, want::GETATTR);
        assert_eq!((arg.getattr_flags, arg.fh), (flags::FUSE_GETATTR_FH, 0x77));
    });
}

#[test]
fn setattr() {
    op!(fixture(FUSE_SETATTR), Operation::Setattr { arg } => {
        assert_eq!(arg, want::SETATTR);
        assert_eq!((arg.size, arg.mode, arg.uid, arg.gid), (4096, 0o100644, 5, 6));
        assert_eq!((arg.mtime, arg.mtimensec), (1_700_000_000, 123_456_789));
    });
}

#[test]
fn readlink() {
    op!(fixture(FUSE_READLINK), Operation::Readlink => ());
}

#[test]
fn symlink() {
    op!(fixture(FUSE_SYMLINK), Operation::Symlink { name, link } => {
        assert_eq!(name, c"link");
        assert_eq!(link, c"../target/f");
    });
}

#[test]
fn mknod() {
    op!(fixture(FUSE_MKNOD), Operation::Mknod { arg, name } => {
        assert_eq!(arg, want::MKNOD);
        assert_eq!((arg.mode, arg.rdev, arg.umask), (libc::S_IFIFO | 0o644, 0x801, 0o022));
        assert_eq!(name, c"fifo");
    });
}

#[test]
fn mkdir() {
    op!(fixture(FUSE_MKDIR), Operation::Mkdir { arg, name } => {
        assert_eq!((arg.mode, arg.umask), (0o755, 0o022));
        assert_eq!(name, c"dir");
    });
}

#[test]
fn unlink() {
    op!(fixture(FUSE_UNLINK), Operation::Unlink { name } => assert_eq!(name, c"gone"));
}

#[test]
fn rmdir() {
    op!(fixture(FUSE_RMDIR), Operation::Rmdir { name } => assert_eq!(name, c"olddir"));
}

#[test]
fn rename() {
    op!(fixture(FUSE_RENAME), Operation::Rename { newdir, flags, old, new } => {
        assert_eq!((newdir, flags), (0x33, 0));
        assert_eq!((old, new), (c"a", c"bb"));
    });
}

#[test]
fn link() {
    op!(fixture(FUSE_LINK), Operation::Link { arg, name } => {
        assert_eq!(arg.oldnodeid, 0x44);
        assert_eq!(name, c"hardlink");
    });
}

#[test]
fn open() {
    op!(fixture(FUSE_OPEN), Operation::Open { arg } => {
        assert_eq!(arg, want::OPEN);
        assert_eq!(arg.flags, (libc::O_RDWR | libc::O_APPEND) as u32);
    });
}

#[test]
fn read() {
    op!(fixture(FUSE_READ), Operation::Read { arg } => {
        assert_eq!(arg, want::READ);
        assert_eq!((arg.fh, arg.offset, arg.size, arg.lock_owner), (9, 8192, 4096, 0xabcdef));
    });
}

#[test]
fn write() {
    op!(fixture(FUSE_WRITE), Operation::Write { arg, data } => {
        assert_eq!(arg, want::WRITE);
        assert_eq!((arg.fh, arg.offset, arg.size), (9, 100, 11));
        assert_eq!(data, b"hello world");
    });
}

#[test]
fn statfs() {
    op!(fixture(FUSE_STATFS), Operation::Statfs => ());
}

#[test]
fn release() {
    op!(fixture(FUSE_RELEASE), Operation::Release { arg } => {
        assert_eq!(arg, want::RELEASE);
        assert_eq!((arg.fh, arg.release_flags, arg.lock_owner), (9, flags::FUSE_RELEASE_FLUSH, 0x55));
    });
}

#[test]
fn fsync() {
    op!(fixture(FUSE_FSYNC), Operation::Fsync { arg } => {
        assert_eq!((arg.fh, arg.fsync_flags), (9, flags::FUSE_FSYNC_FDATASYNC));
    });
}

#[test]
fn setxattr() {
    op!(fixture(FUSE_SETXATTR), Operation::Setxattr { arg, name, value } => {
        // The 8-byte form: the extended fields stay zero.
        assert_eq!((arg.size, arg.flags), (5, libc::XATTR_CREATE as u32));
        assert_eq!((arg.setxattr_flags, arg.padding), (0, 0));
        assert_eq!(name, c"user.test");
        assert_eq!(value, b"value");
    });
}

#[test]
fn getxattr() {
    op!(fixture(FUSE_GETXATTR), Operation::Getxattr { arg, name } => {
        assert_eq!(arg.size, 256);
        assert_eq!(name, c"user.test");
    });
}

#[test]
fn listxattr() {
    op!(fixture(FUSE_LISTXATTR), Operation::Listxattr { arg } => assert_eq!(arg.size, 1024));
}

#[test]
fn removexattr() {
    op!(fixture(FUSE_REMOVEXATTR), Operation::Removexattr { name } => {
        assert_eq!(name, c"user.test");
    });
}

#[test]
fn flush() {
    op!(fixture(FUSE_FLUSH), Operation::Flush { arg } => {
        assert_eq!((arg.fh, arg.lock_owner), (9, 0x66));
    });
}

#[test]
fn init() {
    op!(fixture(FUSE_INIT), Operation::Init { arg } => {
        assert_eq!(arg, want::INIT);
        assert_eq!((arg.major, arg.minor, arg.max_readahead), (7, 45, 131072));
        let all = u64::from(arg.flags) | u64::from(arg.flags2) << 32;
        assert_eq!(
            all,
            init::FUSE_ASYNC_READ
                | init::FUSE_POSIX_LOCKS
                | init::FUSE_INIT_EXT
                | init::FUSE_SECURITY_CTX
                | init::FUSE_PASSTHROUGH
        );
    });
}

#[test]
fn opendir() {
    op!(fixture(FUSE_OPENDIR), Operation::Opendir { arg } => assert_eq!(arg, want::OPENDIR));
}

#[test]
fn readdir() {
    op!(fixture(FUSE_READDIR), Operation::Readdir { arg } => {
        assert_eq!((arg.fh, arg.offset, arg.size), (10, 3, 4096));
    });
}

#[test]
fn releasedir() {
    op!(fixture(FUSE_RELEASEDIR), Operation::Releasedir { arg } => {
        assert_eq!(arg, want::RELEASEDIR);
    });
}

#[test]
fn fsyncdir() {
    op!(fixture(FUSE_FSYNCDIR), Operation::Fsyncdir { arg } => {
        assert_eq!((arg.fh, arg.fsync_flags), (10, 0));
    });
}

#[test]
fn getlk() {
    op!(fixture(FUSE_GETLK), Operation::Getlk { arg } => {
        assert_eq!(arg, want::LK);
        assert_eq!((arg.fh, arg.owner), (9, 0x99));
        assert_eq!(arg.lk, fuse_file_lock { start: 0, end: OFFSET_MAX, typ: 1, pid: 4242 });
    });
}

#[test]
fn setlk() {
    op!(fixture(FUSE_SETLK), Operation::Setlk { arg, sleep } => {
        assert_eq!(arg, want::FLK);
        assert_eq!(arg.lk_flags, flags::FUSE_LK_FLOCK);
        assert!(!sleep);
    });
}

#[test]
fn setlkw() {
    op!(fixture(FUSE_SETLKW), Operation::Setlk { arg, sleep } => {
        assert_eq!(arg, want::LK);
        assert!(sleep);
    });
}

#[test]
fn access() {
    op!(fixture(FUSE_ACCESS), Operation::Access { arg } => {
        assert_eq!(arg.mask, (libc::R_OK | libc::W_OK) as u32);
    });
}

#[test]
fn create() {
    op!(fixture(FUSE_CREATE), Operation::Create { arg, name } => {
        assert_eq!(arg, want::CREATE);
        assert_eq!((arg.mode, arg.umask), (0o100600, 0o077));
        assert_eq!(name, c"new.txt");
    });
}

#[test]
fn interrupt() {
    op!(fixture(FUSE_INTERRUPT), Operation::Interrupt { arg } => assert_eq!(arg.unique, 0x1010));
}

#[test]
fn bmap() {
    op!(fixture(FUSE_BMAP), Operation::Bmap { arg } => {
        assert_eq!((arg.block, arg.blocksize), (7, 4096));
    });
}

#[test]
fn destroy() {
    op!(fixture(FUSE_DESTROY), Operation::Destroy => ());
}

#[test]
fn ioctl() {
    op!(fixture(FUSE_IOCTL), Operation::Ioctl { arg, input } => {
        assert_eq!(arg, want::IOCTL);
        assert_eq!((arg.cmd, arg.arg, arg.in_size, arg.out_size), (0x4008_6601, 0x7fff_0000_1000, 8, 16));
        assert_eq!(input, [1, 2, 3, 4, 5, 6, 7, 8]);
    });
}

#[test]
fn poll() {
    op!(fixture(FUSE_POLL), Operation::Poll { arg } => {
        assert_eq!(arg, want::POLL);
        assert_eq!((arg.kh, arg.flags), (0x1234, flags::FUSE_POLL_SCHEDULE_NOTIFY));
    });
}

#[test]
fn notify_reply() {
    op!(fixture(FUSE_NOTIFY_REPLY), Operation::NotifyReply { arg, data } => {
        assert_eq!((arg.offset, arg.size), (4096, 6));
        assert_eq!(data, b"stored");
    });
}

#[test]
fn batch_forget() {
    op!(fixture(FUSE_BATCH_FORGET), Operation::BatchForget { count, entries } => {
        assert_eq!(count, 2);
        assert_eq!(entries.len(), 32);
        let mut c = Cursor::new(entries);
        let a: fuse_forget_one = c.fetch("a").unwrap();
        let b: fuse_forget_one = c.fetch("b").unwrap();
        assert_eq!((a.nodeid, a.nlookup, b.nodeid, b.nlookup), (5, 1, 6, 2));
    });
}

#[test]
fn fallocate() {
    op!(fixture(FUSE_FALLOCATE), Operation::Fallocate { arg } => {
        assert_eq!(arg, want::FALLOCATE);
        assert_eq!((arg.length, arg.mode), (1 << 20, libc::FALLOC_FL_KEEP_SIZE as u32));
    });
}

#[test]
fn readdirplus() {
    op!(fixture(FUSE_READDIRPLUS), Operation::Readdirplus { arg } => {
        assert_eq!((arg.fh, arg.offset, arg.size), (10, 0, 8192));
    });
}

#[test]
fn rename2() {
    op!(fixture(FUSE_RENAME2), Operation::Rename { newdir, flags, old, new } => {
        assert_eq!((newdir, flags), (0x33, libc::RENAME_NOREPLACE));
        assert_eq!((old, new), (c"a", c"bb"));
    });
}

#[test]
fn lseek() {
    op!(fixture(FUSE_LSEEK), Operation::Lseek { arg } => {
        assert_eq!((arg.fh, arg.offset, arg.whence), (9, 100, libc::SEEK_DATA as u32));
    });
}

#[test]
fn copy_file_range() {
    op!(fixture(FUSE_COPY_FILE_RANGE), Operation::CopyFileRange { arg, wide } => {
        assert_eq!(arg, want::COPY);
        assert_eq!((arg.nodeid_out, arg.fh_out, arg.off_out, arg.len), (0x45, 11, 4096, 65536));
        assert!(!wide);
    });
}

#[test]
fn setupmapping_and_removemapping_are_unknown() {
    op!(fixture(FUSE_SETUPMAPPING), Operation::Unknown { opcode } => {
        assert_eq!(opcode, FUSE_SETUPMAPPING);
    });
    op!(fixture(FUSE_REMOVEMAPPING), Operation::Unknown { opcode } => {
        assert_eq!(opcode, FUSE_REMOVEMAPPING);
    });
}

#[test]
fn syncfs() {
    op!(fixture(FUSE_SYNCFS), Operation::Syncfs { arg } => assert_eq!(arg.padding, 0));
}

#[test]
fn tmpfile() {
    op!(fixture(FUSE_TMPFILE), Operation::Tmpfile { arg } => {
        assert_eq!(arg, want::TMPFILE);
        assert_eq!(arg.flags, (libc::O_RDWR | libc::O_TMPFILE) as u32);
    });
}

#[test]
fn statx() {
    op!(fixture(FUSE_STATX), Operation::Statx { arg } => {
        assert_eq!(arg, want::STATX);
        assert_eq!((arg.fh, arg.sx_mask), (9, libc::STATX_BASIC_STATS | libc::STATX_BTIME));
    });
}

#[test]
fn copy_file_range_64() {
    op!(fixture(FUSE_COPY_FILE_RANGE_64), Operation::CopyFileRange { arg, wide } => {
        assert_eq!(arg, want::COPY);
        assert!(wide);
    });
}

#[test]
fn cuse_init() {
    op!(fixture(CUSE_INIT), Operation::CuseInit { arg } => {
        assert_eq!((arg.major, arg.minor, arg.flags), (7, 45, 1));
    });
}

#[test]
fn unknown_opcode() {
    op!(fixture(UNKNOWN_OPCODE), Operation::Unknown { opcode } => assert_eq!(opcode, 999));
    // Even with no argument at all.
    let bytes = request(hdr(7), &[], &[]);
    let r = decode(&bytes, ctx()).unwrap();
    assert!(matches!(r.op, Operation::Unknown { opcode: 7 }));
}

// ---------------------------------------------------------------------------------------------
// Old protocol versions and negotiated variants
// ---------------------------------------------------------------------------------------------

fn variant(label: &str) -> Fixture {
    variant_fixtures().into_iter().find(|f| f.label == label).unwrap()
}

#[test]
fn write_before_7_9_has_a_24_byte_argument() {
    let f = variant("WRITE 7.8");
    op!(f.clone(), Operation::Write { arg, data } => {
        assert_eq!((arg.fh, arg.offset, arg.size, arg.write_flags), (9, 100, 5, flags::FUSE_WRITE_CACHE));
        assert_eq!((arg.lock_owner, arg.flags), (0, 0));
        assert_eq!(data, b"abcde");
    });
    // Read as 7.9+, the same bytes lack the full argument.
    assert_eq!(err(&f.bytes, ctx()), DecodeError::Short { what: "WRITE", need: 40, have: 29 });
}

#[test]
fn read_before_7_9_has_a_24_byte_argument() {
    op!(variant("READ 7.8"), Operation::Read { arg } => {
        assert_eq!((arg.fh, arg.offset, arg.size, arg.read_flags), (9, 8192, 4096, flags::FUSE_READ_LOCKOWNER));
        assert_eq!((arg.lock_owner, arg.flags), (0, 0));
    });
}

#[test]
fn getattr_before_7_9_has_no_argument() {
    op!(variant("GETATTR 7.8"), Operation::Getattr { arg } => {
        assert_eq!(arg, fuse_getattr_in::default());
    });
    // An argument sent anyway is ignored.
    op!(Fixture { ctx: minor(8), ..fixture(FUSE_GETATTR) }, Operation::Getattr { arg } => {
        assert_eq!(arg, fuse_getattr_in::default());
    });
}

#[test]
fn release_before_7_8_has_a_16_byte_argument() {
    op!(variant("RELEASE 7.7"), Operation::Release { arg } => {
        assert_eq!((arg.fh, arg.flags, arg.release_flags, arg.lock_owner), (9, libc::O_RDWR as u32, 1, 0));
    });
}

#[test]
fn mknod_before_7_12_has_no_umask() {
    op!(variant("MKNOD 7.11"), Operation::Mknod { arg, name } => {
        assert_eq!((arg.mode, arg.rdev, arg.umask), (libc::S_IFIFO | 0o644, 0x801, 0));
        assert_eq!(name, c"fifo");
    });
}

#[test]
fn create_before_7_12_has_an_open_in_argument() {
    op!(variant("CREATE 7.11"), Operation::Create { arg, name } => {
        assert_eq!((arg.flags, arg.mode, arg.umask), (want::CREATE.flags, 0o100600, 0));
        assert_eq!(name, c"new.txt");
    });
    // The 7.12 layout read as 7.11 would take the umask bytes as the name; the decoder follows
    // the negotiated version, as libfuse does.
    op!(Fixture { ctx: minor(11), ..fixture(FUSE_CREATE) }, Operation::Create { arg, .. } => {
        assert_eq!(arg.umask, 0);
    });
}

#[test]
fn setxattr_with_and_without_setxattr_ext() {
    op!(variant("SETXATTR ext"), Operation::Setxattr { arg, name, value } => {
        assert_eq!(arg, want::SETXATTR_EXT);
        assert_eq!(arg.setxattr_flags, 1);
        assert_eq!(name, c"user.test");
        assert_eq!(value, b"value");
    });
    // The 16-byte argument read without SETXATTR_EXT: the extended fields become the name.
    let f = variant("SETXATTR ext");
    op!(Fixture { ctx: ctx(), ..f }, Operation::Setxattr { name, .. } => {
        assert_eq!(name, c"\x01");
    });
}

#[test]
fn init_7_5_has_an_8_byte_argument() {
    op!(variant("INIT 7.5"), Operation::Init { arg } => {
        assert_eq!(arg, fuse_init_in { major: 7, minor: 5, ..Default::default() });
    });
    // Before 7.6 max_readahead and flags did not exist: bytes there are ignored.
    let garbage = fuse_init_in {
        major: 7,
        minor: 5,
        max_readahead: 99,
        flags: 0xffff_ffff,
        flags2: 7,
        unused: [0; 11],
    };
    op!(Fixture::new("INIT 7.5+", request(hdr(FUSE_INIT), &prefix(&garbage, 16), &[]), minor(0)),
        Operation::Init { arg } => {
        assert_eq!((arg.max_readahead, arg.flags, arg.flags2), (0, 0, 0));
    });
    // major and minor themselves are required.
    let short = request(hdr(FUSE_INIT), &[7, 0, 0, 0], &[]);
    assert_eq!(err(&short, minor(0)), DecodeError::Short { what: "INIT", need: 8, have: 4 });
}

#[test]
fn init_flags2_only_with_init_ext() {
    let decode_init = |arg: &fuse_init_in, len: usize| -> fuse_init_in {
        let bytes = request(hdr(FUSE_INIT), &prefix(arg, len), &[]);
        match decode(&bytes, minor(0)).unwrap().op {
            Operation::Init { arg } => arg,
            other => panic!("{other:?}"),
        }
    };
    let with_ext = want::INIT;
    assert_eq!(decode_init(&with_ext, 64).flags2, with_ext.flags2);
    // Without FUSE_INIT_EXT, flags2 is not meaningful and reads as zero.
    let without = fuse_init_in { flags: init::FUSE_ASYNC_READ as u32, ..with_ext };
    assert_eq!(decode_init(&without, 64).flags2, 0);
    assert_eq!(decode_init(&without, 64).flags, init::FUSE_ASYNC_READ as u32);
    // A 7.23-style 16-byte argument: flags kept, the rest zero.
    let old = fuse_init_in { minor: 23, ..without };
    let got = decode_init(&old, 16);
    assert_eq!((got.minor, got.max_readahead, got.flags, got.flags2), (23, 131072, 1, 0));
    // INIT_EXT set but flags2 not sent: zero-filled, not read past the message.
    assert_eq!(decode_init(&with_ext, 16).flags2, 0);
    // A longer argument than this library knows is accepted (the kernel may grow it).
    let mut long = as_bytes(&with_ext).to_vec();
    long.extend_from_slice(&[0xff; 16]);
    let bytes = request(hdr(FUSE_INIT), &long, &[]);
    assert!(
        matches!(decode(&bytes, minor(0)).unwrap().op, Operation::Init { arg } if arg == with_ext)
    );
}

#[test]
fn extensions_security_context_and_groups() {
    let f = create_with_extensions();
    let ext = create_extensions();
    let r = decode(&f.bytes, f.ctx).unwrap();
    assert_eq!(r.header.total_extlen, 12);
    assert_eq!(r.extensions, ext.as_slice());
    let Operation::Create { arg, name } = r.op else { panic!("{:?}", r.op) };
    assert_eq!((arg, name), (want::CREATE, c"new.txt"));

    let x = parse_extensions(r.extensions);
    let (secctx, nr) = x.secctx.expect("security context");
    assert_eq!(nr, 1);
    assert_eq!(secctx, &ext[..72]);
    // Inside: the context's size, name and value.
    let mut c = Cursor::new(&secctx[8..]);
    let ctx_hdr: fuse_secctx = c.fetch("secctx").unwrap();
    assert_eq!(ctx_hdr.size as usize, SECCTX_VALUE.len());
    assert_eq!(c.cstr("name").unwrap().to_bytes(), SECCTX_NAME);
    assert_eq!(c.bytes(SECCTX_VALUE.len(), "value").unwrap(), SECCTX_VALUE);
    assert_eq!(x.groups, Some(vec![1001, 27]));
}

#[test]
fn extensions_in_any_order_and_malformed_tails() {
    // Groups first, then the security context.
    let ext = [groups_ext(&[5, 6, 7]), secctx_ext(b"a", b"b")].concat();
    let x = parse_extensions(&ext);
    assert_eq!(x.groups, Some(vec![5, 6, 7]));
    assert_eq!(x.secctx.map(|(b, n)| (b.len(), n)), Some((24, 1)));
    // An entry whose size runs past the area ends the walk; what came before is kept.
    let mut bad = groups_ext(&[5]);
    bad.extend_from_slice(as_bytes(&fuse_ext_header { size: 4096, typ: 1 }));
    let x = parse_extensions(&bad);
    assert_eq!((x.groups, x.secctx), (Some(vec![5]), None));
    // A size below the header's ends the walk (no infinite loop on size 0).
    let zero =
        [as_bytes(&fuse_ext_header { size: 0, typ: 32 }).to_vec(), groups_ext(&[5])].concat();
    let x = parse_extensions(&zero);
    assert_eq!(x.groups, None);
    // A group count larger than the entry is ignored.
    let mut lying = groups_ext(&[5]);
    lying[8..12].copy_from_slice(&1000u32.to_ne_bytes());
    assert_eq!(parse_extensions(&lying).groups, None);
    // nr_secctx == 0 (the kernel's "no context") is not reported as a context; unknown types
    // are skipped.
    let none = [
        as_bytes(&fuse_secctx_header { size: 8, nr_secctx: 0 }).to_vec(),
        as_bytes(&fuse_ext_header { size: 16, typ: 77 }).to_vec(),
        vec![0; 8],
        groups_ext(&[9]),
    ]
    .concat();
    let x = parse_extensions(&none);
    assert_eq!((x.secctx, x.groups), (None, Some(vec![9])));
    // Fewer than 8 bytes: nothing.
    assert_eq!(parse_extensions(&[1, 2, 3]).groups, None);
}

#[test]
fn extension_area_does_not_leak_into_names() {
    // A LOOKUP name without NUL, followed by an extension full of zero bytes: the decoder
    // must look for the NUL in the argument part only.
    let ext = groups_ext(&[0, 0]);
    let h = Hdr { total_extlen: (ext.len() / 8) as u16, ..hdr(FUSE_LOOKUP) };
    let bytes = request(h, &[], &[b"abc".as_slice(), &ext].concat());
    assert_eq!(err(&bytes, ctx()), DecodeError::Unterminated("LOOKUP name"));
    // WRITE data also ends where the extensions start.
    let w = fuse_write_in { size: 4, ..want::WRITE };
    let h = Hdr { total_extlen: (ext.len() / 8) as u16, ..hdr(FUSE_WRITE) };
    let bytes = request(h, as_bytes(&w), &[b"abc".as_slice(), &ext].concat());
    assert_eq!(err(&bytes, ctx()), DecodeError::Short { what: "WRITE data", need: 4, have: 3 });
}

// ---------------------------------------------------------------------------------------------
// Negative tests
// ---------------------------------------------------------------------------------------------

#[test]
fn header_length_must_match_the_buffer() {
    let good = fixture(FUSE_LOOKUP).bytes;
    let n = good.len();
    let shorter = with_len(&good, n - 1);
    assert_eq!(err(&shorter, ctx()), DecodeError::BadLength { header: n as u32 - 1, received: n });
    let longer = with_len(&good, n + 1);
    assert_eq!(err(&longer, ctx()), DecodeError::BadLength { header: n as u32 + 1, received: n });
    let huge = with_len(&good, u32::MAX as usize);
    assert_eq!(err(&huge, ctx()), DecodeError::BadLength { header: u32::MAX, received: n });
    // Bytes received past `len` are not silently ignored either.
    let mut extra = good.clone();
    extra.push(0);
    assert_eq!(err(&extra, ctx()), DecodeError::BadLength { header: n as u32, received: n + 1 });
}

#[test]
fn truncated_header() {
    let good = fixture(FUSE_GETATTR).bytes;
    for n in [0, 1, 4, 39] {
        let want = DecodeError::Short { what: "request header", need: 40, have: n };
        assert_eq!(err(&good[..n], ctx()), want);
        assert_eq!(decode_header(&good[..n]).unwrap_err(), want);
    }
    // decode_header needs only the header, whatever follows.
    assert_eq!(decode_header(&good[..40]).unwrap().opcode, FUSE_GETATTR);
}

#[test]
fn missing_fixed_argument() {
    let cases = [
        (FUSE_FORGET, "FORGET", 8),
        (FUSE_GETATTR, "GETATTR", 16),
        (FUSE_SETATTR, "SETATTR", 88),
        (FUSE_OPEN, "OPEN", 8),
        (FUSE_READ, "READ", 40),
        (FUSE_WRITE, "WRITE", 40),
        (FUSE_GETLK, "GETLK", 48),
        (FUSE_SETLKW, "SETLKW", 48),
        (FUSE_IOCTL, "IOCTL", 32),
        (FUSE_BATCH_FORGET, "BATCH_FORGET", 8),
        (FUSE_COPY_FILE_RANGE_64, "COPY_FILE_RANGE_64", 56),
        (CUSE_INIT, "CUSE_INIT", 16),
    ];
    for (op, what, need) in cases {
        let bytes = request(hdr(op), &[0; 3], &[]);
        assert_eq!(err(&bytes, ctx()), DecodeError::Short { what, need, have: 3 }, "{what}");
    }
}

#[test]
fn missing_nul_in_every_name() {
    // (opcode, fixed argument, trailing bytes without the final NUL, expected error name)
    let cases: Vec<(u32, Vec<u8>, &[u8], &str)> = vec![
        (FUSE_LOOKUP, vec![], b"name", "LOOKUP name"),
        (FUSE_SYMLINK, vec![], b"name", "SYMLINK name"),
        (FUSE_SYMLINK, vec![], b"name\0target", "SYMLINK target"),
        (FUSE_MKNOD, as_bytes(&want::MKNOD).to_vec(), b"fifo", "MKNOD name"),
        (FUSE_MKDIR, as_bytes(&want::MKDIR).to_vec(), b"dir", "MKDIR name"),
        (FUSE_UNLINK, vec![], b"gone", "UNLINK name"),
        (FUSE_RMDIR, vec![], b"olddir", "RMDIR name"),
        (FUSE_RENAME, as_bytes(&want::RENAME).to_vec(), b"a", "RENAME old name"),
        (FUSE_RENAME, as_bytes(&want::RENAME).to_vec(), b"a\0bb", "RENAME new name"),
        (FUSE_RENAME2, as_bytes(&want::RENAME2).to_vec(), b"a", "RENAME2 old name"),
        (FUSE_RENAME2, as_bytes(&want::RENAME2).to_vec(), b"a\0bb", "RENAME2 new name"),
        (FUSE_LINK, as_bytes(&want::LINK).to_vec(), b"hardlink", "LINK name"),
        (FUSE_SETXATTR, prefix(&want::SETXATTR, 8), b"user.test", "SETXATTR name"),
        (FUSE_GETXATTR, as_bytes(&want::GETXATTR).to_vec(), b"user.test", "GETXATTR name"),
        (FUSE_REMOVEXATTR, vec![], b"user.test", "REMOVEXATTR name"),
        (FUSE_CREATE, as_bytes(&want::CREATE).to_vec(), b"new.txt", "CREATE name"),
    ];
    for (op, arg, trailing, what) in cases {
        let bytes = request(hdr(op), &arg, trailing);
        assert_eq!(err(&bytes, ctx()), DecodeError::Unterminated(what), "{what}");
        // Empty trailing part: also unterminated, never a read past the end.
        let bytes = request(hdr(op), &arg, &[]);
        assert!(matches!(err(&bytes, ctx()), DecodeError::Unterminated(_)), "{what}");
    }
}

#[test]
fn write_size_larger_than_the_data() {
    let w = fuse_write_in { size: 12, ..want::WRITE };
    let bytes = request(hdr(FUSE_WRITE), as_bytes(&w), want::WRITE_DATA);
    assert_eq!(err(&bytes, ctx()), DecodeError::Short { what: "WRITE data", need: 12, have: 11 });
    let w = fuse_write_in { size: u32::MAX, ..want::WRITE };
    let bytes = request(hdr(FUSE_WRITE), as_bytes(&w), want::WRITE_DATA);
    assert_eq!(
        err(&bytes, ctx()),
        DecodeError::Short { what: "WRITE data", need: u32::MAX as usize, have: 11 }
    );
    // Smaller than the data: exactly `size` bytes are handed out.
    let w = fuse_write_in { size: 5, ..want::WRITE };
    let bytes = request(hdr(FUSE_WRITE), as_bytes(&w), want::WRITE_DATA);
    assert!(matches!(decode(&bytes, ctx()).unwrap().op, Operation::Write { data: b"hello", .. }));
}

#[test]
fn setxattr_value_shorter_than_size() {
    let a = fuse_setxattr_in { size: 6, ..want::SETXATTR };
    let bytes = request(hdr(FUSE_SETXATTR), &prefix(&a, 8), b"user.test\0value");
    assert_eq!(err(&bytes, ctx()), DecodeError::Short { what: "SETXATTR value", need: 6, have: 5 });
    // With SETXATTR_EXT the 8-byte form is itself too short.
    let bytes = request(hdr(FUSE_SETXATTR), &prefix(&a, 8), b"user");
    let ext = DecodeCtx { setxattr_ext: true, ..ctx() };
    assert_eq!(err(&bytes, ext), DecodeError::Short { what: "SETXATTR", need: 16, have: 12 });
}

#[test]
fn ioctl_in_size_larger_than_the_input() {
    let a = fuse_ioctl_in { in_size: 9, ..want::IOCTL };
    let bytes = request(hdr(FUSE_IOCTL), as_bytes(&a), want::IOCTL_INPUT);
    assert_eq!(err(&bytes, ctx()), DecodeError::Short { what: "IOCTL input", need: 9, have: 8 });
    let a = fuse_ioctl_in { in_size: u32::MAX, ..want::IOCTL };
    let bytes = request(hdr(FUSE_IOCTL), as_bytes(&a), want::IOCTL_INPUT);
    assert!(matches!(err(&bytes, ctx()), DecodeError::Short { what: "IOCTL input", .. }));
}

#[test]
fn notify_reply_size_larger_than_the_data() {
    let a = fuse_notify_retrieve_in { size: 7, ..want::NOTIFY_REPLY };
    let bytes = request(hdr(FUSE_NOTIFY_REPLY), as_bytes(&a), want::NOTIFY_DATA);
    assert_eq!(
        err(&bytes, ctx()),
        DecodeError::Short { what: "NOTIFY_REPLY data", need: 7, have: 6 }
    );
}

#[test]
fn batch_forget_count_overflow() {
    let entries = [as_bytes(&want::FORGET_ONE[0]), as_bytes(&want::FORGET_ONE[1])].concat();
    for count in [3, 0x1000_0000, 0x1000_0001, u32::MAX] {
        let a = fuse_batch_forget_in { count, dummy: 0 };
        let bytes = request(hdr(FUSE_BATCH_FORGET), as_bytes(&a), &entries);
        assert_eq!(
            err(&bytes, ctx()),
            DecodeError::BadCount { what: "BATCH_FORGET", count: count.into() },
            "count {count}"
        );
    }
    // Fewer entries than sent: only `count` are handed out.
    let a = fuse_batch_forget_in { count: 1, dummy: 0 };
    let bytes = request(hdr(FUSE_BATCH_FORGET), as_bytes(&a), &entries);
    assert!(
        matches!(decode(&bytes, ctx()).unwrap().op, Operation::BatchForget { count: 1, entries } if entries.len() == 16)
    );
}

#[test]
fn extension_area_larger_than_the_message() {
    let f = fixture(FUSE_LOOKUP);
    let n = f.bytes.len();
    // 10 bytes of name: a 2-word extension area would eat into the header.
    for total_extlen in [2, 100, u16::MAX] {
        let h = Hdr { total_extlen, ..hdr(FUSE_LOOKUP) };
        let bytes = request(h, &[], b"hello.txt\0");
        let extlen = usize::from(total_extlen) * 8;
        assert_eq!(err(&bytes, ctx()), DecodeError::BadExtensions { extlen, len: n });
    }
    // Exactly the whole body is allowed (then the name is missing).
    let h = Hdr { total_extlen: 1, ..hdr(FUSE_LOOKUP) };
    let bytes = request(h, &[], b"abcdefg\0");
    assert_eq!(err(&bytes, ctx()), DecodeError::Unterminated("LOOKUP name"));
}

// ---------------------------------------------------------------------------------------------
// Truncation and mutation: never panic
// ---------------------------------------------------------------------------------------------

/// Decode inside catch_unwind; `Err(())` if it panicked.
fn decode_no_panic(bytes: &[u8], ctx: DecodeCtx) -> Result<Result<(), DecodeError>, ()> {
    catch_unwind(AssertUnwindSafe(|| {
        let r = decode(bytes, ctx)?;
        check_invariants(bytes, &r);
        let _ = parse_extensions(r.extensions);
        Ok(())
    }))
    .map_err(|_| ())
}

/// What a successful decode promises: the lengths the operation's variant documents.
fn check_invariants(bytes: &[u8], r: &Request<'_>) {
    assert_eq!(r.header.len as usize, bytes.len());
    assert_eq!(r.extensions.len(), usize::from(r.header.total_extlen) * 8);
    match &r.op {
        Operation::Write { arg, data } => assert_eq!(data.len(), arg.size as usize),
        Operation::Ioctl { arg, input } => assert_eq!(input.len(), arg.in_size as usize),
        Operation::NotifyReply { arg, data } => assert_eq!(data.len(), arg.size as usize),
        Operation::Setxattr { arg, value, .. } => assert_eq!(value.len(), arg.size as usize),
        Operation::BatchForget { count, entries } => {
            assert_eq!(entries.len(), *count as usize * 16)
        }
        _ => {}
    }
}

#[test]
fn every_prefix_of_every_fixture_fails_cleanly() {
    let mut panics = Vec::new();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for f in all_fixtures() {
        let full = f.bytes.len();
        assert!(decode(&f.bytes, f.ctx).is_ok(), "{}", f.label);
        for p in 0..full {
            // The header still claims the whole message: always an error.
            match decode_no_panic(&f.bytes[..p], f.ctx) {
                Err(()) => panics.push(format!("{} prefix {p} (len {full})", f.label)),
                Ok(Ok(())) => wrong.push(format!("{} prefix {p} (len {full}) decoded", f.label)),
                Ok(Err(e)) => {
                    let expect_header = p < HDR;
                    let ok = match e {
                        DecodeError::Short { what: "request header", .. } => expect_header,
                        DecodeError::BadLength { header, received } => {
                            !expect_header && header as usize == full && received == p
                        }
                        _ => false,
                    };
                    if !ok {
                        wrong.push(format!("{} prefix {p}: {e:?}", f.label));
                    }
                }
            }
            // The header patched to the prefix: an error exactly when required bytes are cut.
            if p >= 4 {
                let patched = with_len(&f.bytes[..p], p);
                match decode_no_panic(&patched, f.ctx) {
                    Err(()) => panics.push(format!("{} patched prefix {p}", f.label)),
                    Ok(res) => {
                        if res.is_ok() != (p >= f.min_ok) {
                            wrong.push(format!("{} patched prefix {p}: {res:?}", f.label));
                        }
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(panics.is_empty(), "decoder panicked on: {panics:#?}");
    assert!(wrong.is_empty(), "unexpected results: {wrong:#?}");
    assert!(checked > 3000, "only {checked} prefixes");
}

/// A xorshift64 generator: deterministic, no crates.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random edit of a request.
fn mutate(rng: &mut XorShift, v: &mut Vec<u8>, opcodes: &[u32]) {
    const INTERESTING: [u32; 8] = [0, 1, 7, 8, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, u32::MAX];
    match rng.below(8) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = rng.next() as u8;
        }
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = if rng.next() & 1 == 0 { 0 } else { 0xff };
        }
        2 if v.len() >= 4 => {
            // An interesting value over a 4-byte field (sizes, counts, lengths).
            let i = rng.below(v.len() / 4) * 4;
            let x = INTERESTING[rng.below(INTERESTING.len())];
            v[i..i + 4].copy_from_slice(&x.to_ne_bytes());
        }
        3 => {
            let n = rng.below(v.len() + 1);
            v.truncate(n);
        }
        4 => {
            for _ in 0..1 + rng.below(24) {
                v.push(rng.next() as u8);
            }
        }
        5 if v.len() >= 8 => {
            // Another opcode on this body.
            let op = if rng.next() & 7 == 0 {
                rng.next() as u32
            } else {
                opcodes[rng.below(opcodes.len())]
            };
            v[4..8].copy_from_slice(&op.to_ne_bytes());
        }
        6 if v.len() >= 38 => {
            let extlen = if rng.next() & 1 == 0 { rng.below(8) as u16 } else { rng.next() as u16 };
            v[36..38].copy_from_slice(&extlen.to_ne_bytes());
        }
        _ if !v.is_empty() => {
            // Drop a byte from the middle (shifts names and data).
            let i = rng.below(v.len());
            v.remove(i);
        }
        _ => {}
    }
}

#[test]
fn random_mutations_never_panic() {
    let fixtures = all_fixtures();
    let opcodes = all_opcodes();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut panics = Vec::new();
    let (mut runs, mut decoded) = (0, 0);
    for f in &fixtures {
        for round in 0..80 {
            let mut v = f.bytes.clone();
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut v, &opcodes);
            }
            // Mostly keep `len` consistent, so the mutation reaches the argument decoders.
            if v.len() >= 4 && rng.below(4) != 0 {
                let n = v.len();
                v = with_len(&v, n);
            }
            let ctx = match rng.below(4) {
                0 => DecodeCtx {
                    proto_minor: rng.below(46) as u32,
                    setxattr_ext: rng.next() & 1 == 0,
                },
                _ => f.ctx,
            };
            match decode_no_panic(&v, ctx) {
                Err(()) => panics.push(format!("{} round {round}: {v:02x?} {ctx:?}", f.label)),
                Ok(Ok(())) => decoded += 1,
                Ok(Err(_)) => {}
            }
            runs += 1;
        }
    }
    // The extension walker on its own, over random and near-valid areas.
    let base = create_extensions();
    for round in 0..2000 {
        let mut v = if round % 2 == 0 { base.clone() } else { Vec::new() };
        for _ in 0..1 + rng.below(6) {
            mutate(&mut rng, &mut v, &opcodes);
        }
        if catch_unwind(AssertUnwindSafe(|| parse_extensions(&v).groups.map(|g| g.len()))).is_err()
        {
            panics.push(format!("parse_extensions: {v:02x?}"));
        }
        runs += 1;
    }
    assert!(panics.is_empty(), "panicked on: {panics:#?}");
    assert!(runs >= 6000, "only {runs} runs");
    // The mutations must not all be rejected at the header, or they test nothing.
    assert!(decoded > 500, "only {decoded} mutated requests decoded");
}

// ---------------------------------------------------------------------------------------------
// Reply encoding
// ---------------------------------------------------------------------------------------------

/// A `struct stat` with the given inode and mode, without unsafe (the setattr conversion
/// starts from a zeroed stat).
fn stat(ino: u64, mode: u32) -> libc::stat {
    let mut st = stat_from_setattr(&fuse_setattr_in { mode, ..Default::default() });
    st.st_ino = ino;
    st
}

fn read_dirent(buf: &[u8], at: usize) -> fuse_dirent {
    Cursor::new(&buf[at..]).fetch("dirent").unwrap()
}

#[test]
fn direntry_sizes_alignment_and_padding() {
    for n in 0..=17usize {
        let name: Vec<u8> = (0..n).map(|i| b'a' + i as u8).collect();
        let st = stat(100 + n as u64, libc::S_IFREG | 0o644);
        let expect = (24 + n).div_ceil(8) * 8;
        assert_eq!(dirent_size(n), expect);
        assert_eq!(expect % 8, 0);
        // Probing with an empty buffer returns the size and writes nothing.
        assert_eq!(add_direntry(&mut [], &name, &st, 1), expect);

        let mut buf = vec![0xaa; expect + 8];
        assert_eq!(add_direntry(&mut buf, &name, &st, 7 + n as u64), expect, "name len {n}");
        let d = read_dirent(&buf, 0);
        assert_eq!(
            d,
            fuse_dirent {
                ino: 100 + n as u64,
                off: 7 + n as u64,
                namelen: n as u32,
                typ: u32::from(libc::DT_REG)
            }
        );
        assert_eq!(&buf[24..24 + n], name.as_slice());
        assert!(buf[24 + n..expect].iter().all(|&b| b == 0), "padding not zeroed for {n}");
        assert!(buf[expect..].iter().all(|&b| b == 0xaa), "wrote past the entry for {n}");
    }
    // The table: 0 -> 24, 1..=8 -> 32, 9..=16 -> 40, 17 -> 48.
    let sizes: Vec<usize> = [0, 1, 8, 9, 16, 17].into_iter().map(dirent_size).collect();
    assert_eq!(sizes, [24, 32, 32, 40, 40, 48]);
}

#[test]
fn direntry_that_does_not_fit_leaves_the_buffer_untouched() {
    let st = stat(5, libc::S_IFDIR | 0o755);
    for n in 0..=17usize {
        let name = vec![b'x'; n];
        let size = dirent_size(n);
        for room in [0, 1, size / 2, size - 1] {
            let mut buf = vec![0xaa; room];
            assert_eq!(add_direntry(&mut buf, &name, &st, 1), size);
            assert!(buf.iter().all(|&b| b == 0xaa), "touched a {room}-byte buffer for {n}");
        }
        let mut exact = vec![0xaa; size];
        assert_eq!(add_direntry(&mut exact, &name, &st, 1), size);
        assert_eq!(read_dirent(&exact, 0).typ, u32::from(libc::DT_DIR));
    }
}

#[test]
fn direntry_type_comes_from_st_mode() {
    let types = [
        (libc::S_IFREG, libc::DT_REG),
        (libc::S_IFDIR, libc::DT_DIR),
        (libc::S_IFLNK, libc::DT_LNK),
        (libc::S_IFCHR, libc::DT_CHR),
        (libc::S_IFBLK, libc::DT_BLK),
        (libc::S_IFIFO, libc::DT_FIFO),
        (libc::S_IFSOCK, libc::DT_SOCK),
        (0, libc::DT_UNKNOWN),
    ];
    for (fmt, dt) in types {
        // Permission and set-id bits do not leak into the type.
        let st = stat(1, fmt | 0o7777);
        let mut buf = [0u8; 32];
        add_direntry(&mut buf, b"x", &st, 0);
        assert_eq!(read_dirent(&buf, 0).typ, u32::from(dt), "mode {fmt:o}");
        let e = entry_out(1, 0, 0.0, 0.0, &st);
        let mut buf = [0u8; 160];
        add_direntry_plus(&mut buf, b"x", &e, 0);
        assert_eq!(read_dirent(&buf, 128).typ, u32::from(dt), "plus mode {fmt:o}");
    }
}

#[test]
fn direntry_plus_sizes_contents_and_fit() {
    for n in 0..=17usize {
        let name: Vec<u8> = (0..n).map(|i| b'A' + i as u8).collect();
        let mut st = stat(200 + n as u64, libc::S_IFLNK | 0o777);
        st.st_size = 42;
        st.st_nlink = 1;
        let e = entry_out(200 + n as u64, 9, 1.5, 2.25, &st);
        let size = (152 + n).div_ceil(8) * 8;
        assert_eq!(direntplus_size(n), size);
        assert_eq!(size % 8, 0);
        assert_eq!(add_direntry_plus(&mut [], &name, &e, 3), size);

        let mut small = vec![0xaa; size - 1];
        assert_eq!(add_direntry_plus(&mut small, &name, &e, 3), size);
        assert!(small.iter().all(|&b| b == 0xaa), "touched a short buffer for {n}");

        let mut buf = vec![0xaa; size + 8];
        assert_eq!(add_direntry_plus(&mut buf, &name, &e, 3), size);
        let out: fuse_entry_out = Cursor::new(&buf).fetch("entry").unwrap();
        assert_eq!(out, e);
        assert_eq!(
            (out.entry_valid, out.entry_valid_nsec, out.attr_valid, out.attr_valid_nsec),
            (1, 500_000_000, 2, 250_000_000)
        );
        assert_eq!((out.attr.size, out.attr.nlink, out.generation), (42, 1, 9));
        let d = read_dirent(&buf, 128);
        assert_eq!(
            d,
            fuse_dirent {
                ino: 200 + n as u64,
                off: 3,
                namelen: n as u32,
                typ: u32::from(libc::DT_LNK)
            }
        );
        assert_eq!(&buf[152..152 + n], name.as_slice());
        assert!(buf[152 + n..size].iter().all(|&b| b == 0), "padding not zeroed for {n}");
        assert!(buf[size..].iter().all(|&b| b == 0xaa), "wrote past the entry for {n}");
    }
}

/// libfuse's calc_timeout_sec / calc_timeout_nsec, restated: above ULONG_MAX saturates,
/// below zero is zero, otherwise truncation; the fraction is clamped to 999999999 ns.
/// (libfuse leaves NaN to the C conversion; we define it as zero.)
fn reference_timeout(t: f64) -> (u64, u32) {
    let sec = if t > u64::MAX as f64 {
        u64::MAX
    } else if t < 0.0 || t.is_nan() {
        0
    } else {
        t as u64
    };
    let f = t - sec as f64;
    let nsec = if f < 0.0 || f.is_nan() {
        0
    } else if f >= 0.999_999_999 {
        999_999_999
    } else {
        (f * 1.0e9) as u32
    };
    (sec, nsec)
}

#[test]
fn timeouts_follow_libfuse() {
    let cases: [(f64, u64, u32); 14] = [
        (0.0, 0, 0),
        (1.0, 1, 0),
        (1.5, 1, 500_000_000),
        (0.25, 0, 250_000_000),
        (86400.125, 86400, 125_000_000),
        // The fraction rounds down, and clamps just below one second.
        (2.999_999_999_9, 2, 999_999_999),
        (0.000_000_001_5, 0, 1),
        (-0.5, 0, 0),
        (-1.0, 0, 0),
        (-1e300, 0, 0),
        (f64::NEG_INFINITY, 0, 0),
        (f64::NAN, 0, 0),
        // Beyond u64: whole seconds saturate, and the fraction is "almost a second".
        (1e30, u64::MAX, 999_999_999),
        (f64::INFINITY, u64::MAX, 999_999_999),
    ];
    for (t, sec, nsec) in cases {
        assert_eq!((timeout_sec(t), timeout_nsec(t)), (sec, nsec), "t = {t}");
        assert_eq!(reference_timeout(t), (sec, nsec), "reference, t = {t}");
    }
    // A sweep against the restated rule.
    let mut t: f64 = 0.001;
    while t < 1e6 {
        assert_eq!((timeout_sec(t), timeout_nsec(t)), reference_timeout(t), "t = {t}");
        assert_eq!((timeout_sec(-t), timeout_nsec(-t)), (0, 0), "t = {}", -t);
        t = t * 1.37 + 0.123_456_7;
    }
    // entry_out uses both halves.
    let e = entry_out(1, 2, 3.75, -1.0, &stat(1, libc::S_IFREG));
    assert_eq!(
        (e.entry_valid, e.entry_valid_nsec, e.attr_valid, e.attr_valid_nsec),
        (3, 750_000_000, 0, 0)
    );
}

fn flock(typ: i32, start: i64, len: i64, pid: i32) -> libc::flock {
    let mut f = flock_from_wire(&fuse_file_lock::default());
    f.l_type = typ as i16;
    f.l_start = start;
    f.l_len = len;
    f.l_pid = pid;
    f
}

#[test]
fn flock_from_the_kernel() {
    let l = fuse_file_lock { start: 100, end: 199, typ: libc::F_RDLCK as u32, pid: 77 };
    let f = flock_from_wire(&l);
    assert_eq!(
        (f.l_type, f.l_whence, f.l_start, f.l_len, f.l_pid),
        (libc::F_RDLCK as i16, libc::SEEK_SET as i16, 100, 100, 77)
    );
    // To end of file: OFFSET_MAX becomes l_len 0.
    let l = fuse_file_lock { start: 4096, end: OFFSET_MAX, typ: libc::F_WRLCK as u32, pid: 1 };
    let f = flock_from_wire(&l);
    assert_eq!((f.l_type, f.l_start, f.l_len), (libc::F_WRLCK as i16, 4096, 0));
    // One byte.
    let f = flock_from_wire(&fuse_file_lock { start: 5, end: 5, typ: 0, pid: 0 });
    assert_eq!(f.l_len, 1);
    // Nonsense ranges do not panic.
    let _ =
        flock_from_wire(&fuse_file_lock { start: u64::MAX, end: 0, typ: u32::MAX, pid: u32::MAX });
}

#[test]
fn flock_to_the_kernel() {
    let l = wire_from_flock(&flock(libc::F_WRLCK, 100, 100, 77));
    assert_eq!(l, fuse_file_lock { start: 100, end: 199, typ: libc::F_WRLCK as u32, pid: 77 });
    // l_len 0: to end of file.
    let l = wire_from_flock(&flock(libc::F_RDLCK, 4096, 0, 1));
    assert_eq!(
        l,
        fuse_file_lock { start: 4096, end: OFFSET_MAX, typ: libc::F_RDLCK as u32, pid: 1 }
    );
    // F_UNLCK (no conflicting lock): the range is not sent, type and pid are.
    let l = wire_from_flock(&flock(libc::F_UNLCK, 4096, 10, 33));
    assert_eq!(l, fuse_file_lock { start: 0, end: 0, typ: libc::F_UNLCK as u32, pid: 33 });
    // Round trips.
    for (start, len) in [(0, 0), (0, 1), (10, 0), (10, 90), (i64::MAX - 1, 1)] {
        let f = flock_from_wire(&wire_from_flock(&flock(libc::F_WRLCK, start, len, 9)));
        assert_eq!((f.l_start, f.l_len, f.l_pid), (start, len, 9), "({start}, {len})");
    }
    // A range past i64::MAX (a filesystem's arithmetic gone wrong) must not panic; C's
    // start + len - 1 wraps to OFFSET_MAX here.
    let l = wire_from_flock(&flock(libc::F_WRLCK, i64::MAX, 1, 0));
    assert_eq!(l.end, OFFSET_MAX);
    let l = wire_from_flock(&flock(libc::F_WRLCK, i64::MAX, i64::MAX, 0));
    assert_eq!(l.end, (i64::MAX as u64).wrapping_add(i64::MAX as u64).wrapping_sub(1));
}

#[test]
fn checked_error_follows_libfuse() {
    assert_eq!(checked_error(0), (0, false));
    assert_eq!(checked_error(-libc::ENOENT), (-libc::ENOENT, false));
    assert_eq!(checked_error(-libc::EIO), (-libc::EIO, false));
    // Positive values are a caller's mistake (forgot the minus).
    assert_eq!(checked_error(5), (-libc::ERANGE, true));
    assert_eq!(checked_error(-1000), (-libc::ERANGE, true));
    // 41 and 58 were never assigned on Linux: glibc has no description for them.
    assert_eq!(checked_error(-41), (-libc::ERANGE, true));
    assert_eq!(checked_error(-58), (-libc::ERANGE, true));
    // EHWPOISON (133) is the last errno glibc knows.
    assert_eq!(checked_error(-133), (-133, false));
    assert_eq!(checked_error(-134), (-libc::ERANGE, true));
    assert_eq!(checked_error(i32::MIN), (-libc::ERANGE, true));
    assert_eq!(checked_error(i32::MAX), (-libc::ERANGE, true));
}
