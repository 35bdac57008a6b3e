//! The bridge from the session to a C `struct fuse_lowlevel_ops`: each decoded request becomes
//! one call of the filesystem's callback, with the arguments libfuse passes, or libfuse's
//! default answer when the callback is NULL.

use std::ffi::c_void;
use std::ptr;

use libc::c_char;

use super::abi::{Buf, BufVec1, ConnInfo, FileInfo};
use super::fuse_common::{
    FUSE_CAP_IOCTL_DIR, FUSE_CAP_NO_OPEN_SUPPORT, FUSE_CAP_NO_OPENDIR_SUPPORT, fuse_bufvec,
    fuse_conn_info, fuse_file_info, fuse_pollhandle,
};
use super::fuse_lowlevel::{fuse_forget_data, fuse_lowlevel_ops, fuse_req_t};
use crate::codec::reply as enc;
use crate::codec::request::{Operation, Request};
use crate::kernel::flags::*;
use crate::session::req::{self, InterruptHook, ReqData};
use crate::session::{Filesystem, Implemented, ReqHandle, Session};

/// A poll handle as C receives it: what `fuse_lowlevel_notify_poll` needs.
#[repr(C)]
pub struct PollHandle {
    /// The kernel's handle.
    pub kh: u64,
    /// The session (address).
    pub session: usize,
}

/// A C filesystem: its operations (copied by `op_size`) and `userdata`.
pub struct CFilesystem {
    /// The operations; members past the caller's `op_size` are NULL.
    pub ops: fuse_lowlevel_ops,
    /// The program's data pointer.
    pub userdata: *mut c_void,
    /// CUSE only: called once the kernel has the device's description.
    pub init_done: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
}

// SAFETY: the C callbacks and userdata belong to the program, which (as with libfuse) is
// responsible for making them safe to call from the threads the session loop runs on.
unsafe impl Send for CFilesystem {}
// SAFETY: as above; the table itself is never written after construction.
unsafe impl Sync for CFilesystem {}

fn r(h: ReqHandle) -> fuse_req_t {
    h.0 as fuse_req_t
}

fn fip(fi: &mut FileInfo) -> *mut fuse_file_info {
    ptr::from_mut(fi).cast()
}

fn fi_fh(fh: u64) -> FileInfo {
    FileInfo { fh, ..Default::default() }
}

/// Answer `h` with an error (the errno is positive here, as in `fuse_reply_err`).
pub fn reply_err(se: &Session, h: ReqHandle, err: i32) {
    if let Some(d) = req::take(h) {
        se.reply_raw(&d, -err, &[]);
    }
}

/// Answer an open/opendir with the default `fuse_open_out` for `fi`.
fn reply_open_default(se: &Session, h: ReqHandle, fi: &FileInfo) {
    if let Some(d) = req::take(h) {
        let out = super::ll_reply::open_out(fi, false);
        se.reply_raw(&d, 0, &[crate::codec::as_bytes(&out)]);
    }
}

impl Filesystem for CFilesystem {
    fn implemented(&self) -> Implemented {
        let o = &self.ops;
        Implemented {
            write_buf: o.write_buf.is_some(),
            posix_locks: o.getlk.is_some() && o.setlk.is_some(),
            flock: o.flock.is_some(),
            readdirplus: o.readdirplus.is_some(),
            readdir: o.readdir.is_some(),
        }
    }

    fn init(&self, conn: *mut ConnInfo) -> bool {
        match self.ops.init {
            Some(f) => {
                // SAFETY: the program's init callback with its userdata and the session's
                // connection info, which stays valid for the whole call.
                unsafe { f(self.userdata, conn.cast::<fuse_conn_info>()) };
                true
            }
            None => false,
        }
    }

    fn destroy(&self) {
        if let Some(f) = self.ops.destroy {
            // SAFETY: the program's destroy callback with its own userdata.
            unsafe { f(self.userdata) };
        }
    }

    fn init_done(&self) {
        if let Some(f) = self.init_done {
            // SAFETY: the program's init_done callback with its own userdata.
            unsafe { f(self.userdata) };
        }
    }

    fn interrupt(&self, hook: InterruptHook, h: ReqHandle) {
        // SAFETY: `hook.func` was stored from a non-NULL `fuse_interrupt_func_t` by
        // fuse_req_interrupt_func; function pointers round-trip through usize.
        let f: unsafe extern "C" fn(fuse_req_t, *mut c_void) =
            unsafe { std::mem::transmute::<usize, _>(hook.func) };
        // SAFETY: the program's interrupt callback with the data it registered.
        unsafe { f(r(h), hook.data as *mut c_void) };
    }

    #[allow(clippy::too_many_lines)]
    fn dispatch(&self, se: &Session, h: ReqHandle, request: &Request<'_>, _raw: &[u8]) {
        let o = &self.ops;
        let ino = request.header.nodeid;
        let minor = se.proto_minor();
        let want_ext = se.want_ext();
        let set_umask = |umask: u32| {
            if minor >= 12 {
                set_req_umask(h, umask);
            }
        };
        // SAFETY: for every call below: each callback is the program's own, called with a
        // live request handle, pointers into the request message or into locals that outlive
        // the call, as libfuse's callbacks are specified.
        unsafe {
            match &request.op {
                Operation::Lookup { name } => match o.lookup {
                    Some(f) => f(r(h), ino, name.as_ptr()),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Forget { arg } => match o.forget {
                    Some(f) => f(r(h), ino, arg.nlookup),
                    None => {
                        req::take(h);
                    }
                },
                Operation::BatchForget { count, entries } => {
                    let list: Vec<fuse_forget_data> = entries
                        .chunks_exact(16)
                        .map(|c| fuse_forget_data {
                            ino: u64::from_ne_bytes(c[..8].try_into().unwrap_or_default()),
                            nlookup: u64::from_ne_bytes(c[8..].try_into().unwrap_or_default()),
                        })
                        .collect();
                    if let Some(f) = o.forget_multi {
                        let mut list = list;
                        f(r(h), *count as usize, list.as_mut_ptr());
                    } else if let Some(f) = o.forget {
                        let (ctx, sess) = req::with(h, |d| (d.ctx, d.session)).unwrap_or_default();
                        for e in &list {
                            let mut d = ReqData::new(request.header.unique, 2, ctx, sess);
                            d.no_reply = true;
                            let one = req::insert(d);
                            f(r(one), e.ino, e.nlookup);
                        }
                        req::take(h);
                    } else {
                        req::take(h);
                    }
                }
                Operation::Getattr { arg } => match o.getattr {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        let p = if minor >= 9 && arg.getattr_flags & FUSE_GETATTR_FH != 0 {
                            fip(&mut fi)
                        } else {
                            ptr::null_mut()
                        };
                        f(r(h), ino, p)
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Setattr { arg } => match o.setattr {
                    Some(f) => {
                        let mut st = enc::stat_from_setattr(arg);
                        let mut valid = arg.valid;
                        let mut fi = fi_fh(arg.fh);
                        let p = if valid & FATTR_FH != 0 {
                            valid &= !FATTR_FH;
                            fip(&mut fi)
                        } else {
                            ptr::null_mut()
                        };
                        valid &= FATTR_MODE
                            | FATTR_UID
                            | FATTR_GID
                            | FATTR_SIZE
                            | FATTR_ATIME
                            | FATTR_MTIME
                            | (1 << 11)
                            | (1 << 12)
                            | FATTR_ATIME_NOW
                            | FATTR_MTIME_NOW
                            | FATTR_CTIME;
                        f(r(h), ino, &raw mut st, valid as i32, p)
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Readlink => match o.readlink {
                    Some(f) => f(r(h), ino),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Symlink { name, link } => match o.symlink {
                    Some(f) => f(r(h), link.as_ptr(), ino, name.as_ptr()),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Mknod { arg, name } => {
                    set_umask(arg.umask);
                    match o.mknod {
                        Some(f) => f(r(h), ino, name.as_ptr(), arg.mode, arg.rdev.into()),
                        None => reply_err(se, h, libc::ENOSYS),
                    }
                }
                Operation::Mkdir { arg, name } => {
                    set_umask(arg.umask);
                    match o.mkdir {
                        Some(f) => f(r(h), ino, name.as_ptr(), arg.mode),
                        None => reply_err(se, h, libc::ENOSYS),
                    }
                }
                Operation::Unlink { name } => match o.unlink {
                    Some(f) => f(r(h), ino, name.as_ptr()),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Rmdir { name } => match o.rmdir {
                    Some(f) => f(r(h), ino, name.as_ptr()),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Rename { newdir, flags, old, new } => match o.rename {
                    Some(f) => f(r(h), ino, old.as_ptr(), *newdir, new.as_ptr(), *flags),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Link { arg, name } => match o.link {
                    Some(f) => f(r(h), arg.oldnodeid, ino, name.as_ptr()),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Open { arg } => {
                    let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                    match o.open {
                        Some(f) => f(r(h), ino, fip(&mut fi)),
                        None if want_ext & FUSE_CAP_NO_OPEN_SUPPORT != 0 => {
                            reply_err(se, h, libc::ENOSYS)
                        }
                        None => reply_open_default(se, h, &fi),
                    }
                }
                Operation::Read { arg } => match o.read {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        if minor >= 9 {
                            fi.lock_owner = arg.lock_owner;
                            fi.flags = arg.flags as i32;
                        }
                        f(r(h), ino, arg.size as usize, arg.offset as i64, fip(&mut fi))
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Write { arg, data } => {
                    let mut fi = fi_fh(arg.fh);
                    if arg.write_flags & FUSE_WRITE_CACHE != 0 {
                        fi.bits |= 1;
                    }
                    if minor >= 9 {
                        fi.lock_owner = arg.lock_owner;
                        fi.flags = arg.flags as i32;
                    }
                    if let Some(f) = o.write_buf {
                        let mut bufv = BufVec1 {
                            count: 1,
                            idx: 0,
                            off: 0,
                            buf: [Buf {
                                size: data.len(),
                                flags: 0,
                                mem: data.as_ptr() as *mut c_void,
                                fd: -1,
                                pos: 0,
                                mem_size: data.len(),
                            }],
                        };
                        let p = (&raw mut bufv).cast::<fuse_bufvec>();
                        f(r(h), ino, p, arg.offset as i64, fip(&mut fi))
                    } else if let Some(f) = o.write {
                        f(
                            r(h),
                            ino,
                            data.as_ptr().cast::<c_char>(),
                            data.len(),
                            arg.offset as i64,
                            fip(&mut fi),
                        )
                    } else {
                        reply_err(se, h, libc::ENOSYS)
                    }
                }
                Operation::Statfs => match o.statfs {
                    Some(f) => f(r(h), ino),
                    None => {
                        let mut st: libc::statvfs = std::mem::zeroed();
                        st.f_namemax = 255;
                        st.f_bsize = 512;
                        if let Some(d) = req::take(h) {
                            let out = enc::kstatfs_from_statvfs(&st);
                            se.reply_raw(&d, 0, &[crate::codec::as_bytes(&out)]);
                        }
                    }
                },
                Operation::Release { arg } | Operation::Releasedir { arg } => {
                    let is_dir = matches!(request.op, Operation::Releasedir { .. });
                    let mut fi =
                        FileInfo { flags: arg.flags as i32, fh: arg.fh, ..Default::default() };
                    if !is_dir {
                        if minor >= 8 {
                            if arg.release_flags & FUSE_RELEASE_FLUSH != 0 {
                                fi.bits |= 1 << 3;
                            }
                            fi.lock_owner = arg.lock_owner;
                        }
                        if arg.release_flags & FUSE_RELEASE_FLOCK_UNLOCK != 0 {
                            fi.bits |= 1 << 5;
                            fi.lock_owner = arg.lock_owner;
                        }
                    }
                    let cb = if is_dir { o.releasedir } else { o.release };
                    match cb {
                        Some(f) => f(r(h), ino, fip(&mut fi)),
                        None => reply_err(se, h, 0),
                    }
                }
                Operation::Fsync { arg } | Operation::Fsyncdir { arg } => {
                    let cb = if matches!(request.op, Operation::Fsync { .. }) {
                        o.fsync
                    } else {
                        o.fsyncdir
                    };
                    let mut fi = fi_fh(arg.fh);
                    match cb {
                        Some(f) => f(r(h), ino, (arg.fsync_flags & 1) as i32, fip(&mut fi)),
                        None => reply_err(se, h, libc::ENOSYS),
                    }
                }
                Operation::Setxattr { arg, name, value } => match o.setxattr {
                    Some(f) => f(
                        r(h),
                        ino,
                        name.as_ptr(),
                        value.as_ptr().cast::<c_char>(),
                        value.len(),
                        arg.flags as i32,
                    ),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Getxattr { arg, name } => match o.getxattr {
                    Some(f) => f(r(h), ino, name.as_ptr(), arg.size as usize),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Listxattr { arg } => match o.listxattr {
                    Some(f) => f(r(h), ino, arg.size as usize),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Removexattr { name } => match o.removexattr {
                    Some(f) => f(r(h), ino, name.as_ptr()),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Flush { arg } => match o.flush {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        fi.bits |= 1 << 3;
                        if minor >= 7 {
                            fi.lock_owner = arg.lock_owner;
                        }
                        f(r(h), ino, fip(&mut fi))
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Opendir { arg } => {
                    let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                    match o.opendir {
                        Some(f) => f(r(h), ino, fip(&mut fi)),
                        None if want_ext & FUSE_CAP_NO_OPENDIR_SUPPORT != 0 => {
                            reply_err(se, h, libc::ENOSYS)
                        }
                        None => reply_open_default(se, h, &fi),
                    }
                }
                Operation::Readdir { arg } | Operation::Readdirplus { arg } => {
                    let cb = if matches!(request.op, Operation::Readdir { .. }) {
                        o.readdir
                    } else {
                        o.readdirplus
                    };
                    let mut fi = fi_fh(arg.fh);
                    match cb {
                        Some(f) => f(r(h), ino, arg.size as usize, arg.offset as i64, fip(&mut fi)),
                        None => reply_err(se, h, libc::ENOSYS),
                    }
                }
                Operation::Getlk { arg } => match o.getlk {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        fi.lock_owner = arg.owner;
                        let mut fl = enc::flock_from_wire(&arg.lk);
                        f(r(h), ino, fip(&mut fi), &raw mut fl)
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Setlk { arg, sleep } => {
                    let mut fi = fi_fh(arg.fh);
                    fi.lock_owner = arg.owner;
                    if arg.lk_flags & FUSE_LK_FLOCK != 0 {
                        let mut op = match arg.lk.typ as i32 {
                            libc::F_RDLCK => libc::LOCK_SH,
                            libc::F_WRLCK => libc::LOCK_EX,
                            libc::F_UNLCK => libc::LOCK_UN,
                            _ => 0,
                        };
                        if !sleep {
                            op |= libc::LOCK_NB;
                        }
                        match o.flock {
                            Some(f) => f(r(h), ino, fip(&mut fi), op),
                            None => reply_err(se, h, libc::ENOSYS),
                        }
                    } else {
                        let mut fl = enc::flock_from_wire(&arg.lk);
                        match o.setlk {
                            Some(f) => f(r(h), ino, fip(&mut fi), &raw mut fl, *sleep as i32),
                            None => reply_err(se, h, libc::ENOSYS),
                        }
                    }
                }
                Operation::Access { arg } => match o.access {
                    Some(f) => f(r(h), ino, arg.mask as i32),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Create { arg, name } => match o.create {
                    Some(f) => {
                        let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                        set_umask(arg.umask);
                        f(r(h), ino, name.as_ptr(), arg.mode, fip(&mut fi))
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Tmpfile { arg } => match o.tmpfile {
                    Some(f) => {
                        let mut fi = FileInfo { flags: arg.flags as i32, ..Default::default() };
                        set_umask(arg.umask);
                        f(r(h), ino, arg.mode, fip(&mut fi))
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Bmap { arg } => match o.bmap {
                    Some(f) => f(r(h), ino, arg.blocksize as usize, arg.block),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Ioctl { arg, input } => {
                    if arg.flags & FUSE_IOCTL_DIR != 0 && want_ext & FUSE_CAP_IOCTL_DIR == 0 {
                        reply_err(se, h, libc::ENOTTY);
                        return;
                    }
                    match o.ioctl {
                        Some(f) => {
                            let mut fi = fi_fh(arg.fh);
                            let inp = if arg.in_size > 0 {
                                input.as_ptr().cast::<c_void>()
                            } else {
                                ptr::null()
                            };
                            f(
                                r(h),
                                ino,
                                arg.cmd,
                                arg.arg as usize as *mut c_void,
                                fip(&mut fi),
                                arg.flags,
                                inp,
                                arg.in_size as usize,
                                arg.out_size as usize,
                            )
                        }
                        None => reply_err(se, h, libc::ENOSYS),
                    }
                }
                Operation::Poll { arg } => match o.poll {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        fi.poll_events = arg.events;
                        let ph = if arg.flags & FUSE_POLL_SCHEDULE_NOTIFY != 0 {
                            Box::into_raw(Box::new(PollHandle { kh: arg.kh, session: se.id() }))
                                .cast::<fuse_pollhandle>()
                        } else {
                            ptr::null_mut()
                        };
                        f(r(h), ino, fip(&mut fi), ph)
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Fallocate { arg } => match o.fallocate {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        f(
                            r(h),
                            ino,
                            arg.mode as i32,
                            arg.offset as i64,
                            arg.length as i64,
                            fip(&mut fi),
                        )
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::CopyFileRange { arg, wide } => match o.copy_file_range {
                    Some(f) => {
                        let mut fi_in = fi_fh(arg.fh_in);
                        let mut fi_out = fi_fh(arg.fh_out);
                        let len = if *wide { arg.len } else { arg.len.min(0xffff_f000) };
                        f(
                            r(h),
                            ino,
                            arg.off_in as i64,
                            fip(&mut fi_in),
                            arg.nodeid_out,
                            arg.off_out as i64,
                            fip(&mut fi_out),
                            len as usize,
                            arg.flags as i32,
                        )
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Lseek { arg } => match o.lseek {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        f(r(h), ino, arg.offset as i64, arg.whence as i32, fip(&mut fi))
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Statx { arg } => match o.statx {
                    Some(f) => {
                        let mut fi = fi_fh(arg.fh);
                        let p = if arg.getattr_flags & FUSE_GETATTR_FH != 0 {
                            fip(&mut fi)
                        } else {
                            ptr::null_mut()
                        };
                        f(r(h), ino, arg.sx_flags as i32, arg.sx_mask as i32, p)
                    }
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::Syncfs { .. } => match o.syncfs {
                    Some(f) => f(r(h), ino),
                    None => reply_err(se, h, libc::ENOSYS),
                },
                Operation::NotifyReply { arg, data } => {
                    let cookie = super::ll_notify::take_retrieve(se.id(), request.header.unique);
                    match (cookie, o.retrieve_reply) {
                        (Some(c), Some(f)) => {
                            let mut bufv = BufVec1 {
                                count: 1,
                                idx: 0,
                                off: 0,
                                buf: [Buf {
                                    size: data.len(),
                                    flags: 0,
                                    mem: data.as_ptr() as *mut c_void,
                                    fd: -1,
                                    pos: 0,
                                    mem_size: data.len(),
                                }],
                            };
                            let p = (&raw mut bufv).cast::<fuse_bufvec>();
                            f(r(h), c, ino, arg.offset as i64, p)
                        }
                        _ => {
                            req::take(h);
                        }
                    }
                }
                Operation::CuseInit { .. }
                | Operation::Init { .. }
                | Operation::Destroy
                | Operation::Interrupt { .. }
                | Operation::Unknown { .. } => reply_err(se, h, libc::ENOSYS),
            }
        }
    }
}

fn set_req_umask(h: ReqHandle, umask: u32) {
    if let Some(p) = req::ctx_ptr(h) {
        // SAFETY: the context lives inside the request's box, which stays in the table until
        // the request is answered; nothing else writes it while the request is dispatched.
        unsafe { (*p.cast_mut()).umask = umask };
    }
}
