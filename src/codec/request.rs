//! Decoding one request from the kernel: header, extensions, and the opcode's arguments.
//!
//! Every length is checked: the header's `len` must match the bytes received, the extension
//! area must fit, fixed arguments must be present (older, shorter variants are accepted where
//! the negotiated protocol says the kernel sends them), strings must be NUL-terminated inside
//! the message, and counts must fit. Anything else is a [`DecodeError`].

use std::ffi::CStr;

use super::cursor::{Cursor, DecodeError};
use crate::kernel::opcode::*;
use crate::kernel::*;

/// What a request asks for, with its arguments borrowed from the message.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Operation<'a> {
    Lookup {
        name: &'a CStr,
    },
    Forget {
        arg: fuse_forget_in,
    },
    BatchForget {
        count: u32,
        entries: &'a [u8],
    },
    Getattr {
        arg: fuse_getattr_in,
    },
    Setattr {
        arg: fuse_setattr_in,
    },
    Readlink,
    Symlink {
        name: &'a CStr,
        link: &'a CStr,
    },
    Mknod {
        arg: fuse_mknod_in,
        name: &'a CStr,
    },
    Mkdir {
        arg: fuse_mkdir_in,
        name: &'a CStr,
    },
    Unlink {
        name: &'a CStr,
    },
    Rmdir {
        name: &'a CStr,
    },
    Rename {
        newdir: u64,
        flags: u32,
        old: &'a CStr,
        new: &'a CStr,
    },
    Link {
        arg: fuse_link_in,
        name: &'a CStr,
    },
    Open {
        arg: fuse_open_in,
    },
    Read {
        arg: fuse_read_in,
    },
    /// `data` holds exactly `arg.size` bytes.
    Write {
        arg: fuse_write_in,
        data: &'a [u8],
    },
    Statfs,
    Release {
        arg: fuse_release_in,
    },
    Fsync {
        arg: fuse_fsync_in,
    },
    Setxattr {
        arg: fuse_setxattr_in,
        name: &'a CStr,
        value: &'a [u8],
    },
    Getxattr {
        arg: fuse_getxattr_in,
        name: &'a CStr,
    },
    Listxattr {
        arg: fuse_getxattr_in,
    },
    Removexattr {
        name: &'a CStr,
    },
    Flush {
        arg: fuse_flush_in,
    },
    Init {
        arg: fuse_init_in,
    },
    Opendir {
        arg: fuse_open_in,
    },
    Readdir {
        arg: fuse_read_in,
    },
    Releasedir {
        arg: fuse_release_in,
    },
    Fsyncdir {
        arg: fuse_fsync_in,
    },
    Getlk {
        arg: fuse_lk_in,
    },
    Setlk {
        arg: fuse_lk_in,
        sleep: bool,
    },
    Access {
        arg: fuse_access_in,
    },
    Create {
        arg: fuse_create_in,
        name: &'a CStr,
    },
    Interrupt {
        arg: fuse_interrupt_in,
    },
    Bmap {
        arg: fuse_bmap_in,
    },
    Destroy,
    /// `input` holds exactly `arg.in_size` bytes.
    Ioctl {
        arg: fuse_ioctl_in,
        input: &'a [u8],
    },
    Poll {
        arg: fuse_poll_in,
    },
    NotifyReply {
        arg: fuse_notify_retrieve_in,
        data: &'a [u8],
    },
    Fallocate {
        arg: fuse_fallocate_in,
    },
    Readdirplus {
        arg: fuse_read_in,
    },
    Lseek {
        arg: fuse_lseek_in,
    },
    CopyFileRange {
        arg: fuse_copy_file_range_in,
        wide: bool,
    },
    Syncfs {
        arg: fuse_syncfs_in,
    },
    Tmpfile {
        arg: fuse_create_in,
    },
    Statx {
        arg: fuse_statx_in,
    },
    CuseInit {
        arg: cuse_init_in,
    },
    /// An opcode this library does not handle (answered with ENOSYS).
    Unknown {
        opcode: u32,
    },
}

/// What the decoder needs to know about the connection.
#[derive(Debug, Clone, Copy)]
pub struct DecodeCtx {
    /// Negotiated protocol minor version (0 before INIT).
    pub proto_minor: u32,
    /// Whether SETXATTR carries the extended argument (FUSE_CAP_SETXATTR_EXT wanted).
    pub setxattr_ext: bool,
}

impl Default for DecodeCtx {
    fn default() -> Self {
        DecodeCtx { proto_minor: FUSE_KERNEL_MINOR_VERSION, setxattr_ext: false }
    }
}

/// One decoded request.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The header as sent.
    pub header: fuse_in_header,
    /// The operation and its arguments.
    pub op: Operation<'a>,
    /// The request-extension area (security contexts, supplementary groups), possibly empty.
    pub extensions: &'a [u8],
}

/// Read just the header (for error replies when the rest does not decode).
pub fn decode_header(buf: &[u8]) -> Result<fuse_in_header, DecodeError> {
    Cursor::new(buf).fetch::<fuse_in_header>("request header")
}

/// Decode a whole request. `buf` is exactly the bytes one read from the device returned.
pub fn decode(buf: &[u8], ctx: DecodeCtx) -> Result<Request<'_>, DecodeError> {
    let mut cur = Cursor::new(buf);
    let header: fuse_in_header = cur.fetch("request header")?;
    if header.len as usize != buf.len() {
        return Err(DecodeError::BadLength { header: header.len, received: buf.len() });
    }
    let body = cur.rest();
    let extlen = header.total_extlen as usize * 8;
    if extlen > body.len() {
        return Err(DecodeError::BadExtensions { extlen, len: buf.len() });
    }
    let (args, extensions) = body.split_at(body.len() - extlen);
    let op = decode_args(header.opcode, args, ctx)?;
    Ok(Request { header, op, extensions })
}

fn decode_args(opcode: u32, args: &[u8], ctx: DecodeCtx) -> Result<Operation<'_>, DecodeError> {
    let mut c = Cursor::new(args);
    let minor = ctx.proto_minor;
    let op = match opcode {
        FUSE_LOOKUP => Operation::Lookup { name: c.cstr("LOOKUP name")? },
        FUSE_FORGET => Operation::Forget { arg: c.fetch("FORGET")? },
        FUSE_BATCH_FORGET => {
            let arg: fuse_batch_forget_in = c.fetch("BATCH_FORGET")?;
            let n = (arg.count as usize)
                .checked_mul(std::mem::size_of::<fuse_forget_one>())
                .filter(|&n| n <= c.remaining())
                .ok_or(DecodeError::BadCount { what: "BATCH_FORGET", count: arg.count.into() })?;
            Operation::BatchForget { count: arg.count, entries: c.bytes(n, "BATCH_FORGET")? }
        }
        FUSE_GETATTR => {
            if minor >= 9 {
                Operation::Getattr { arg: c.fetch("GETATTR")? }
            } else {
                Operation::Getattr { arg: fuse_getattr_in::default() }
            }
        }
        FUSE_SETATTR => Operation::Setattr { arg: c.fetch("SETATTR")? },
        FUSE_READLINK => Operation::Readlink,
        FUSE_SYMLINK => {
            let name = c.cstr("SYMLINK name")?;
            let link = c.cstr("SYMLINK target")?;
            Operation::Symlink { name, link }
        }
        FUSE_MKNOD => {
            let size = if minor >= 12 {
                std::mem::size_of::<fuse_mknod_in>()
            } else {
                FUSE_COMPAT_MKNOD_IN_SIZE
            };
            let arg = c.fetch_prefix(size, "MKNOD")?;
            Operation::Mknod { arg, name: c.cstr("MKNOD name")? }
        }
        FUSE_MKDIR => {
            let arg = c.fetch("MKDIR")?;
            Operation::Mkdir { arg, name: c.cstr("MKDIR name")? }
        }
        FUSE_UNLINK => Operation::Unlink { name: c.cstr("UNLINK name")? },
        FUSE_RMDIR => Operation::Rmdir { name: c.cstr("RMDIR name")? },
        FUSE_RENAME => {
            let arg: fuse_rename_in = c.fetch("RENAME")?;
            let old = c.cstr("RENAME old name")?;
            let new = c.cstr("RENAME new name")?;
            Operation::Rename { newdir: arg.newdir, flags: 0, old, new }
        }
        FUSE_RENAME2 => {
            let arg: fuse_rename2_in = c.fetch("RENAME2")?;
            let old = c.cstr("RENAME2 old name")?;
            let new = c.cstr("RENAME2 new name")?;
            Operation::Rename { newdir: arg.newdir, flags: arg.flags, old, new }
        }
        FUSE_LINK => {
            let arg = c.fetch("LINK")?;
            Operation::Link { arg, name: c.cstr("LINK name")? }
        }
        FUSE_OPEN => Operation::Open { arg: c.fetch("OPEN")? },
        FUSE_READ => Operation::Read { arg: read_in(&mut c, minor, "READ")? },
        FUSE_WRITE => {
            let size = if minor >= 9 {
                std::mem::size_of::<fuse_write_in>()
            } else {
                FUSE_COMPAT_WRITE_IN_SIZE
            };
            let arg: fuse_write_in = c.fetch_prefix(size, "WRITE")?;
            let data = c.bytes(arg.size as usize, "WRITE data")?;
            Operation::Write { arg, data }
        }
        FUSE_STATFS => Operation::Statfs,
        FUSE_RELEASE => Operation::Release { arg: release_in(&mut c, minor, "RELEASE")? },
        FUSE_FSYNC => Operation::Fsync { arg: c.fetch("FSYNC")? },
        FUSE_SETXATTR => {
            let size = if ctx.setxattr_ext {
                std::mem::size_of::<fuse_setxattr_in>()
            } else {
                FUSE_COMPAT_SETXATTR_IN_SIZE
            };
            let arg: fuse_setxattr_in = c.fetch_prefix(size, "SETXATTR")?;
            let name = c.cstr("SETXATTR name")?;
            let value = c.bytes(arg.size as usize, "SETXATTR value")?;
            Operation::Setxattr { arg, name, value }
        }
        FUSE_GETXATTR => {
            let arg = c.fetch("GETXATTR")?;
            Operation::Getxattr { arg, name: c.cstr("GETXATTR name")? }
        }
        FUSE_LISTXATTR => Operation::Listxattr { arg: c.fetch("LISTXATTR")? },
        FUSE_REMOVEXATTR => Operation::Removexattr { name: c.cstr("REMOVEXATTR name")? },
        FUSE_FLUSH => Operation::Flush { arg: c.fetch("FLUSH")? },
        FUSE_INIT => {
            // major and minor are required; the rest grew with the protocol.
            if c.remaining() < 8 {
                return Err(DecodeError::Short { what: "INIT", need: 8, have: c.remaining() });
            }
            let mut arg: fuse_init_in = c.fetch_padded();
            if arg.minor < 6 {
                arg.max_readahead = 0;
                arg.flags = 0;
            }
            if arg.flags as u64 & init::FUSE_INIT_EXT == 0 {
                arg.flags2 = 0;
            }
            Operation::Init { arg }
        }
        FUSE_OPENDIR => Operation::Opendir { arg: c.fetch("OPENDIR")? },
        FUSE_READDIR => Operation::Readdir { arg: read_in(&mut c, minor, "READDIR")? },
        FUSE_RELEASEDIR => Operation::Releasedir { arg: release_in(&mut c, minor, "RELEASEDIR")? },
        FUSE_FSYNCDIR => Operation::Fsyncdir { arg: c.fetch("FSYNCDIR")? },
        FUSE_GETLK => Operation::Getlk { arg: c.fetch("GETLK")? },
        FUSE_SETLK => Operation::Setlk { arg: c.fetch("SETLK")?, sleep: false },
        FUSE_SETLKW => Operation::Setlk { arg: c.fetch("SETLKW")?, sleep: true },
        FUSE_ACCESS => Operation::Access { arg: c.fetch("ACCESS")? },
        FUSE_CREATE => {
            let size = if minor >= 12 {
                std::mem::size_of::<fuse_create_in>()
            } else {
                std::mem::size_of::<fuse_open_in>()
            };
            let arg = c.fetch_prefix(size, "CREATE")?;
            Operation::Create { arg, name: c.cstr("CREATE name")? }
        }
        FUSE_INTERRUPT => Operation::Interrupt { arg: c.fetch("INTERRUPT")? },
        FUSE_BMAP => Operation::Bmap { arg: c.fetch("BMAP")? },
        FUSE_DESTROY => Operation::Destroy,
        FUSE_IOCTL => {
            let arg: fuse_ioctl_in = c.fetch("IOCTL")?;
            let input = c.bytes(arg.in_size as usize, "IOCTL input")?;
            Operation::Ioctl { arg, input }
        }
        FUSE_POLL => Operation::Poll { arg: c.fetch("POLL")? },
        FUSE_NOTIFY_REPLY => {
            let arg: fuse_notify_retrieve_in = c.fetch("NOTIFY_REPLY")?;
            let data = c.bytes(arg.size as usize, "NOTIFY_REPLY data")?;
            Operation::NotifyReply { arg, data }
        }
        FUSE_FALLOCATE => Operation::Fallocate { arg: c.fetch("FALLOCATE")? },
        FUSE_READDIRPLUS => Operation::Readdirplus { arg: read_in(&mut c, minor, "READDIRPLUS")? },
        FUSE_LSEEK => Operation::Lseek { arg: c.fetch("LSEEK")? },
        FUSE_COPY_FILE_RANGE => {
            Operation::CopyFileRange { arg: c.fetch("COPY_FILE_RANGE")?, wide: false }
        }
        FUSE_COPY_FILE_RANGE_64 => {
            Operation::CopyFileRange { arg: c.fetch("COPY_FILE_RANGE_64")?, wide: true }
        }
        FUSE_SYNCFS => Operation::Syncfs { arg: c.fetch("SYNCFS")? },
        FUSE_TMPFILE => Operation::Tmpfile { arg: c.fetch("TMPFILE")? },
        FUSE_STATX => Operation::Statx { arg: c.fetch("STATX")? },
        CUSE_INIT => Operation::CuseInit { arg: c.fetch("CUSE_INIT")? },
        other => Operation::Unknown { opcode: other },
    };
    Ok(op)
}

fn read_in(
    c: &mut Cursor<'_>,
    minor: u32,
    what: &'static str,
) -> Result<fuse_read_in, DecodeError> {
    // Before 7.9 the read argument ended after `read_flags`.
    let size = if minor >= 9 { std::mem::size_of::<fuse_read_in>() } else { 24 };
    c.fetch_prefix(size, what)
}

fn release_in(
    c: &mut Cursor<'_>,
    minor: u32,
    what: &'static str,
) -> Result<fuse_release_in, DecodeError> {
    let size = if minor >= 8 { std::mem::size_of::<fuse_release_in>() } else { 16 };
    c.fetch_prefix(size, what)
}

/// Security contexts and supplementary groups found in a request's extension area.
#[derive(Debug, Default, Clone)]
pub struct Extensions<'a> {
    /// The security-context extension (header included), if any.
    pub secctx: Option<(&'a [u8], u32)>,
    /// Supplementary groups, if the kernel sent them.
    pub groups: Option<Vec<u32>>,
}

/// Walk the extension area. Malformed entries end the walk (what was found so far is kept).
pub fn parse_extensions(ext: &[u8]) -> Extensions<'_> {
    let mut out = Extensions::default();
    let mut rest = ext;
    while rest.len() >= 8 {
        let hdr: fuse_ext_header = Cursor::new(rest).fetch("extension").unwrap_or_default();
        let size = hdr.size as usize;
        if size < 8 || size > rest.len() {
            break;
        }
        let this = &rest[..size];
        if hdr.typ > 0 && hdr.typ <= flags::FUSE_MAX_NR_SECCTX {
            out.secctx.get_or_insert((this, hdr.typ));
        } else if hdr.typ == flags::FUSE_EXT_GROUPS {
            let mut c = Cursor::new(&this[8..]);
            if let Ok(nb) = c.bytes(4, "groups") {
                let n = u32::from_ne_bytes([nb[0], nb[1], nb[2], nb[3]]) as usize;
                if let Ok(raw) = c.bytes(n.saturating_mul(4), "groups") {
                    out.groups = Some(
                        raw.chunks_exact(4)
                            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                            .collect(),
                    );
                }
            }
        }
        let step = fuse_rec_align(size).min(rest.len());
        rest = &rest[step..];
    }
    out
}
