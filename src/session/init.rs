//! INIT negotiation, as libfuse does it: capabilities the kernel offers become `capable_ext`
//! (and `capable`), the library's default wants are set, the filesystem's `init` may change
//! `want` or `want_ext` (not both differently), and the reply carries what was agreed.

use crate::capi::fuse_common::*;
use crate::codec::as_bytes;
use crate::kernel::init::*;
use crate::kernel::*;

use super::uring::{Choice, Plan};
use super::{BUFFER_HEADER_SIZE, DEFAULT_MAX_PAGES_PER_REQ, ReqHandle, Session, page_size, req};

/// Kernel INIT flag → library capability, for what the kernel offers.
const CAPABLE_MAP: &[(u64, u64)] = &[
    (FUSE_ASYNC_READ, FUSE_CAP_ASYNC_READ),
    (FUSE_POSIX_LOCKS, FUSE_CAP_POSIX_LOCKS),
    (FUSE_ATOMIC_O_TRUNC, FUSE_CAP_ATOMIC_O_TRUNC),
    (FUSE_EXPORT_SUPPORT, FUSE_CAP_EXPORT_SUPPORT),
    (FUSE_DONT_MASK, FUSE_CAP_DONT_MASK),
    (FUSE_FLOCK_LOCKS, FUSE_CAP_FLOCK_LOCKS),
    (FUSE_AUTO_INVAL_DATA, FUSE_CAP_AUTO_INVAL_DATA),
    (FUSE_DO_READDIRPLUS, FUSE_CAP_READDIRPLUS),
    (FUSE_READDIRPLUS_AUTO, FUSE_CAP_READDIRPLUS_AUTO),
    (FUSE_ASYNC_DIO, FUSE_CAP_ASYNC_DIO),
    (FUSE_WRITEBACK_CACHE, FUSE_CAP_WRITEBACK_CACHE),
    (FUSE_NO_OPEN_SUPPORT, FUSE_CAP_NO_OPEN_SUPPORT),
    (FUSE_PARALLEL_DIROPS, FUSE_CAP_PARALLEL_DIROPS),
    (FUSE_POSIX_ACL, FUSE_CAP_POSIX_ACL),
    (FUSE_HANDLE_KILLPRIV, FUSE_CAP_HANDLE_KILLPRIV),
    (FUSE_HANDLE_KILLPRIV_V2, FUSE_CAP_HANDLE_KILLPRIV_V2),
    (FUSE_CACHE_SYMLINKS, FUSE_CAP_CACHE_SYMLINKS),
    (FUSE_NO_OPENDIR_SUPPORT, FUSE_CAP_NO_OPENDIR_SUPPORT),
    (FUSE_EXPLICIT_INVAL_DATA, FUSE_CAP_EXPLICIT_INVAL_DATA),
    (FUSE_SETXATTR_EXT, FUSE_CAP_SETXATTR_EXT),
    (FUSE_DIRECT_IO_ALLOW_MMAP, FUSE_CAP_DIRECT_IO_ALLOW_MMAP),
    (FUSE_PASSTHROUGH, FUSE_CAP_PASSTHROUGH),
    (FUSE_NO_EXPORT_SUPPORT, FUSE_CAP_NO_EXPORT_SUPPORT),
    (FUSE_ALLOW_IDMAP, FUSE_CAP_ALLOW_IDMAP),
    (FUSE_SECURITY_CTX, FUSE_CAP_SECURITY_CTX),
];

/// Library capability → kernel INIT flag, for what is sent back.
const WANT_MAP: &[(u64, u64)] = &[
    (FUSE_CAP_ASYNC_READ, FUSE_ASYNC_READ),
    (FUSE_CAP_POSIX_LOCKS, FUSE_POSIX_LOCKS),
    (FUSE_CAP_ATOMIC_O_TRUNC, FUSE_ATOMIC_O_TRUNC),
    (FUSE_CAP_EXPORT_SUPPORT, FUSE_EXPORT_SUPPORT),
    (FUSE_CAP_DONT_MASK, FUSE_DONT_MASK),
    (FUSE_CAP_FLOCK_LOCKS, FUSE_FLOCK_LOCKS),
    (FUSE_CAP_AUTO_INVAL_DATA, FUSE_AUTO_INVAL_DATA),
    (FUSE_CAP_READDIRPLUS, FUSE_DO_READDIRPLUS),
    (FUSE_CAP_READDIRPLUS_AUTO, FUSE_READDIRPLUS_AUTO),
    (FUSE_CAP_ASYNC_DIO, FUSE_ASYNC_DIO),
    (FUSE_CAP_WRITEBACK_CACHE, FUSE_WRITEBACK_CACHE),
    (FUSE_CAP_PARALLEL_DIROPS, FUSE_PARALLEL_DIROPS),
    (FUSE_CAP_POSIX_ACL, FUSE_POSIX_ACL),
    (FUSE_CAP_HANDLE_KILLPRIV, FUSE_HANDLE_KILLPRIV),
    (FUSE_CAP_HANDLE_KILLPRIV_V2, FUSE_HANDLE_KILLPRIV_V2),
    (FUSE_CAP_CACHE_SYMLINKS, FUSE_CACHE_SYMLINKS),
    (FUSE_CAP_EXPLICIT_INVAL_DATA, FUSE_EXPLICIT_INVAL_DATA),
    (FUSE_CAP_SETXATTR_EXT, FUSE_SETXATTR_EXT),
    (FUSE_CAP_DIRECT_IO_ALLOW_MMAP, FUSE_DIRECT_IO_ALLOW_MMAP),
    (FUSE_CAP_NO_EXPORT_SUPPORT, FUSE_NO_EXPORT_SUPPORT),
    (FUSE_CAP_SECURITY_CTX, FUSE_SECURITY_CTX),
    (FUSE_CAP_ALLOW_IDMAP, FUSE_ALLOW_IDMAP),
];

fn lower(v: u64) -> u32 {
    v as u32
}

/// What `fuse_set_feature_flag` does to a session's connection: want it if capable, and keep
/// the library's shadow copy in step.
pub fn set_feature(se: &Session, conn: &mut crate::capi::abi::ConnInfo, flag: u64) -> bool {
    if conn.capable_ext & flag == 0 {
        return false;
    }
    conn.want_ext |= flag;
    conn.want |= lower(flag);
    let mut sh = se.shadow().lock();
    sh.0 |= lower(flag);
    sh.1 |= flag;
    true
}

/// What `fuse_unset_feature_flag` does to a session's connection.
pub fn unset_feature(se: &Session, conn: &mut crate::capi::abi::ConnInfo, flag: u64) {
    conn.want_ext &= !flag;
    conn.want &= !lower(flag);
    let mut sh = se.shadow().lock();
    sh.0 &= !lower(flag);
    sh.1 &= !flag;
}

/// A filesystem changed both `want` and `want_ext`, differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantConflict;

/// Reconcile `want` and `want_ext` after the filesystem's `init` (libfuse's
/// `fuse_convert_to_conn_want_ext`). Err if both were changed and disagree.
pub fn convert_want(
    se: &Session,
    conn: &mut crate::capi::abi::ConnInfo,
) -> Result<(), WantConflict> {
    let (sh_want, sh_want_ext) = *se.shadow().lock();
    if conn.want != sh_want && lower(conn.want_ext) != conn.want {
        if conn.want_ext != sh_want_ext {
            crate::log::err(&format!(
                "fuse_convert_to_conn_want_ext: Both conn->want_ext and conn->want are set.\n\
                 want={:x} want_ext={:x}, se->want={:x} se->want_ext={:x}\n",
                conn.want, conn.want_ext, sh_want, sh_want_ext
            ));
            return Err(WantConflict);
        }
        conn.want_ext = (conn.want_ext & !0xffff_ffff) | conn.want as u64;
    }
    conn.want = lower(conn.want_ext);
    Ok(())
}

/// Answer INIT.
pub fn do_init(se: &Session, h: ReqHandle, arg: &fuse_init_in) {
    let debug = se.debug();
    if debug {
        crate::log::debug(&format!("INIT: {}.{}\n", arg.major, arg.minor));
        if arg.major == 7 && arg.minor >= 6 {
            crate::log::debug(&format!("flags=0x{:08x}\n", arg.flags));
            crate::log::debug(&format!("max_readahead=0x{:08x}\n", arg.max_readahead));
        }
    }
    let reply = |err: i32, payload: &[u8]| {
        if let Some(d) = req::take(h) {
            se.reply_raw(&d, err, &[payload]);
        }
    };
    let mut out = fuse_init_out {
        major: FUSE_KERNEL_VERSION,
        minor: FUSE_KERNEL_MINOR_VERSION,
        ..Default::default()
    };
    if arg.major < 7 {
        crate::log::err(&format!(
            "fuse: unsupported protocol version: {}.{}\n",
            arg.major, arg.minor
        ));
        reply(-libc::EPROTO, &[]);
        return;
    }
    if arg.major > 7 {
        // The kernel will retry with a 7.x INIT.
        reply(0, as_bytes(&out));
        return;
    }
    let implemented = se.with_fs(|fs| fs.implemented()).unwrap_or_default();
    let (uring_choice, loop_kind) = (se.uring, se.loop_kind());
    let uring_wanted = uring_choice == Choice::Asked
        || (uring_choice == Choice::Default
            && super::uring::default_wants(loop_kind, se.has_custom_io()));
    let mut bufsize = se.bufsize();
    let mut inflags: u64 = 0;
    let conn_ptr = se.conn_ptr();
    {
        let mut conn = se.conn.lock();
        conn.proto_major = arg.major;
        conn.proto_minor = arg.minor;
        conn.capable_ext = 0;
        conn.want_ext = 0;
        if arg.minor >= 6 {
            if arg.max_readahead < conn.max_readahead {
                conn.max_readahead = arg.max_readahead;
            }
            inflags = arg.flags as u64;
            if inflags & FUSE_INIT_EXT != 0 {
                inflags |= (arg.flags2 as u64) << 32;
            }
            for &(k, c) in CAPABLE_MAP {
                if inflags & k != 0 {
                    conn.capable_ext |= c;
                }
            }
            if inflags & FUSE_MAX_PAGES == 0 {
                bufsize = bufsize.min(DEFAULT_MAX_PAGES_PER_REQ * page_size() + BUFFER_HEADER_SIZE);
            }
            if inflags & FUSE_OVER_IO_URING != 0 {
                conn.capable_ext |= FUSE_CAP_OVER_IO_URING;
            }
            if arg.minor >= 38 || inflags & FUSE_HAS_EXPIRE_ONLY != 0 {
                conn.capable_ext |= FUSE_CAP_EXPIRE_ONLY;
            }
        } else {
            conn.max_readahead = 0;
        }
        if arg.minor >= 14 {
            // Replies splice for real (session/splice.rs) and copy when splice is refused;
            // requests are always read by copying, which is what SPLICE_READ falls back to.
            conn.capable_ext |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ;
        }
        if arg.minor >= 18 {
            conn.capable_ext |= FUSE_CAP_IOCTL_DIR;
        }
        *se.shadow().lock() = (0, 0);
        let defaults = [
            (true, FUSE_CAP_ASYNC_READ),
            (true, FUSE_CAP_AUTO_INVAL_DATA),
            (true, FUSE_CAP_ASYNC_DIO),
            (true, FUSE_CAP_IOCTL_DIR),
            (true, FUSE_CAP_ATOMIC_O_TRUNC),
            // Wanted when asked for, or where the library's default uses the rings (the
            // multithreaded loop): the filesystem's init sees what will be used.
            (uring_wanted, FUSE_CAP_OVER_IO_URING),
            (implemented.write_buf, FUSE_CAP_SPLICE_READ),
            (implemented.posix_locks, FUSE_CAP_POSIX_LOCKS),
            (implemented.flock, FUSE_CAP_FLOCK_LOCKS),
            (implemented.readdirplus, FUSE_CAP_READDIRPLUS),
            (implemented.readdirplus && implemented.readdir, FUSE_CAP_READDIRPLUS_AUTO),
        ];
        for (cond, cap) in defaults {
            if cond {
                set_feature(se, &mut conn, cap);
            }
        }
        conn.time_gran = 1;
        conn.capable = lower(conn.capable_ext);
    }
    // The filesystem's init runs without our lock held: it may call fuse_set_feature_flag,
    // which looks the session up and takes the lock itself through the C pointer.
    let had_init = se.with_fs(|fs| fs.init(conn_ptr)).unwrap_or(false);
    let mut conn = se.conn.lock();
    if had_init && convert_want(se, &mut conn).is_err() {
        drop(conn);
        reply(-libc::EINVAL, &[]);
        se.set_error(-libc::EINVAL);
        se.exit();
        return;
    }
    let unknown = conn.want_ext & !conn.capable_ext;
    if unknown != 0 {
        crate::log::err(&format!("fuse: unknown connection 'want' flags: 0x{unknown:08x}\n"));
        drop(conn);
        reply(-libc::EPROTO, &[]);
        se.set_error(-libc::EPROTO);
        se.exit();
        return;
    }
    let max_read_mo = se.mount_opts.max_read;
    if conn.max_read != max_read_mo {
        crate::log::err(&format!(
            "fuse: error: init() and fuse_session_new() requested different maximum read size ({} vs {})\n",
            conn.max_read, max_read_mo
        ));
        drop(conn);
        reply(-libc::EPROTO, &[]);
        se.set_error(-libc::EPROTO);
        se.exit();
        return;
    }
    if bufsize < FUSE_MIN_READ_BUFFER {
        crate::log::err(&format!("fuse: warning: buffer size too small: {bufsize}\n"));
        bufsize = FUSE_MIN_READ_BUFFER;
    }
    conn.max_write = conn.max_write.min((bufsize - BUFFER_HEADER_SIZE) as u32);
    let new_bufsize = conn.max_write as usize + BUFFER_HEADER_SIZE;
    let mut outflags: u64 = 0;
    if inflags & FUSE_MAX_PAGES != 0 {
        outflags |= FUSE_MAX_PAGES;
        out.max_pages = ((conn.max_write as usize - 1) / page_size() + 1) as u16;
    }
    outflags |= FUSE_BIG_WRITES;
    for &(c, k) in WANT_MAP {
        if conn.want_ext & c != 0 {
            outflags |= k;
        }
    }
    if conn.want_ext & FUSE_CAP_PASSTHROUGH != 0 {
        outflags |= FUSE_PASSTHROUGH;
        out.max_stack_depth = conn.max_backing_stack_depth + 1;
    }
    if inflags & FUSE_REQUEST_TIMEOUT != 0 && conn.request_timeout != 0 {
        outflags |= FUSE_REQUEST_TIMEOUT;
        out.request_timeout = conn.request_timeout;
    }
    out.max_readahead = conn.max_readahead;
    out.max_write = conn.max_write;
    if arg.minor >= 13 {
        if conn.max_background >= 1 << 16 {
            conn.max_background = (1 << 16) - 1;
        }
        if conn.congestion_threshold > conn.max_background {
            conn.congestion_threshold = conn.max_background;
        }
        if conn.congestion_threshold == 0 {
            conn.congestion_threshold = conn.max_background * 3 / 4;
        }
        out.max_background = conn.max_background as u16;
        out.congestion_threshold = conn.congestion_threshold as u16;
    }
    if arg.minor >= 23 {
        out.time_gran = conn.time_gran;
    }
    // io_uring: the command line decides, not `want`: libfuse's own examples zero
    // `conn->want` in init() and so lose the transport the user asked for. Without an explicit
    // choice the library's default holds unless init() turned the capability off with
    // fuse_unset_feature_flag (which clears the library's own record of it).
    let offered = conn.capable_ext & FUSE_CAP_OVER_IO_URING != 0;
    let unset_by_fs = uring_wanted && se.shadow().lock().1 & FUSE_CAP_OVER_IO_URING == 0;
    let plan =
        super::uring::plan(uring_choice, loop_kind, se.has_custom_io(), offered, unset_by_fs);
    let mut ring = None;
    let mut ring_error = None;
    match plan {
        Plan::DevFuse(why) => {
            if let Some(line) = why {
                crate::log::err(line);
            } else if debug && unset_by_fs && offered {
                crate::log::debug("io_uring: init() turned it off; reading /dev/fuse\n");
            }
        }
        Plan::Start => {
            if conn.want_ext & FUSE_CAP_OVER_IO_URING == 0 && debug {
                crate::log::debug(if uring_choice == Choice::Asked {
                    "io_uring: init() cleared it; kept, as -o io_uring asks\n"
                } else {
                    "io_uring: init() cleared want; kept (fuse_unset_feature_flag or \
                     -o no_io_uring turns it off)\n"
                });
            }
            let page = page_size();
            let cfg = super::uring::PoolConfig {
                depth: se.uring_q_depth as usize,
                payload: (conn.max_write as usize).max(FUSE_MIN_READ_BUFFER).div_ceil(page) * page,
                single_issuer: conn.bits & 2 != 0,
            };
            match super::uring::Pool::start(se, cfg) {
                Ok(p) => ring = Some(p),
                // The default falls back quietly (shown with -d); an explicit request says so.
                Err(e) if uring_choice == Choice::Default => {
                    ring_error = Some(e);
                    if debug {
                        crate::log::debug(&format!(
                            "io_uring: not started ({}); reading /dev/fuse\n",
                            crate::sys::strerror(e)
                        ));
                    }
                }
                Err(e) => {
                    ring_error = Some(e);
                    crate::log::err(&format!(
                        "fuse: failed to start io_uring: {}; reading /dev/fuse\n",
                        crate::sys::strerror(e)
                    ))
                }
            }
        }
    }
    if ring.is_some() {
        outflags |= FUSE_OVER_IO_URING;
        conn.want_ext |= FUSE_CAP_OVER_IO_URING;
    } else {
        conn.want_ext &= !FUSE_CAP_OVER_IO_URING;
    }
    conn.want = lower(conn.want_ext);
    super::init_status::report(
        &conn,
        super::init_status::UringState::of(
            ring.is_some(),
            ring_error,
            se.has_custom_io(),
            uring_choice == Choice::Asked || (uring_wanted && !unset_by_fs),
        ),
    );
    if inflags & FUSE_INIT_EXT != 0 {
        outflags |= FUSE_INIT_EXT;
        out.flags2 = (outflags >> 32) as u32;
    }
    out.flags = outflags as u32;
    if debug {
        crate::log::debug(&format!("   INIT: {}.{}\n", out.major, out.minor));
        crate::log::debug(&format!("   flags=0x{:08x}\n", out.flags));
        crate::log::debug(&format!("   max_readahead=0x{:08x}\n", out.max_readahead));
        crate::log::debug(&format!("   max_write=0x{:08x}\n", out.max_write));
        crate::log::debug(&format!("   max_background={}\n", out.max_background));
        crate::log::debug(&format!("   congestion_threshold={}\n", out.congestion_threshold));
        crate::log::debug(&format!("   time_gran={}\n", out.time_gran));
        if conn.want_ext & FUSE_CAP_PASSTHROUGH != 0 {
            crate::log::debug(&format!("   max_stack_depth={}\n", out.max_stack_depth));
        }
    }
    let size = if arg.minor < 5 {
        FUSE_COMPAT_INIT_OUT_SIZE
    } else if arg.minor < 23 {
        FUSE_COMPAT_22_INIT_OUT_SIZE
    } else {
        std::mem::size_of::<fuse_init_out>()
    };
    let want_ext = conn.want_ext;
    drop(conn);
    se.finish_init(arg.minor, want_ext, new_bufsize);
    crate::daemonize::set_got_init();
    reply(0, &as_bytes(&out)[..size]);
    // Queues register only once the kernel has the INIT answer.
    if let Some(p) = ring {
        if debug {
            let single = if se.conn().bits & 2 != 0 { ", single issuer" } else { "" };
            let default =
                if uring_choice == Choice::Default { " (default: multithreaded loop)" } else { "" };
            crate::log::debug(&format!(
                "io_uring: started, queue depth {}{single}{default}\n",
                se.uring_q_depth
            ));
        }
        se.set_ring_pool(Some(std::sync::Arc::clone(&p)));
        p.go();
    }
    // With synchronous INIT the mount call reports success once it returns.
    if !se.is_sync_init() {
        crate::daemonize::early_success();
    }
}
