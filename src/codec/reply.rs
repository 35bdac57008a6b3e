//! Encoding replies: the conversions libfuse applies between C structs (`stat`, `statvfs`,
//! `flock`, timeouts as doubles) and the kernel's wire structs, and directory entries.

use crate::kernel::*;

/// Whole seconds of a timeout given as a double (negative is 0, huge saturates).
pub fn timeout_sec(t: f64) -> u64 {
    if t.is_nan() || t < 0.0 {
        0
    } else if t > u64::MAX as f64 {
        u64::MAX
    } else {
        t as u64
    }
}

/// The nanosecond part of a timeout given as a double.
pub fn timeout_nsec(t: f64) -> u32 {
    let f = t - timeout_sec(t) as f64;
    if f.is_nan() || f < 0.0 {
        0
    } else if f >= 0.999_999_999 {
        999_999_999
    } else {
        (f * 1.0e9) as u32
    }
}

/// A C `struct stat` as the kernel's `fuse_attr`.
pub fn attr_from_stat(st: &libc::stat) -> fuse_attr {
    fuse_attr {
        ino: st.st_ino,
        size: st.st_size as u64,
        blocks: st.st_blocks as u64,
        atime: st.st_atime as u64,
        mtime: st.st_mtime as u64,
        ctime: st.st_ctime as u64,
        atimensec: st.st_atime_nsec as u32,
        mtimensec: st.st_mtime_nsec as u32,
        ctimensec: st.st_ctime_nsec as u32,
        mode: st.st_mode,
        nlink: st.st_nlink as u32,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev as u32,
        blksize: st.st_blksize as u32,
        flags: 0,
    }
}

/// A SETATTR argument as the `struct stat` the filesystem's setattr receives.
pub fn stat_from_setattr(a: &fuse_setattr_in) -> libc::stat {
    // SAFETY: `struct stat` is plain C data; all-zero is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_mode = a.mode;
    st.st_uid = a.uid;
    st.st_gid = a.gid;
    st.st_size = a.size as i64;
    st.st_atime = a.atime as i64;
    st.st_mtime = a.mtime as i64;
    st.st_ctime = a.ctime as i64;
    st.st_atime_nsec = a.atimensec.into();
    st.st_mtime_nsec = a.mtimensec.into();
    st.st_ctime_nsec = a.ctimensec.into();
    st
}

/// The entry reply for an inode, its generation, timeouts and attributes.
pub fn entry_out(
    ino: u64,
    generation: u64,
    entry_t: f64,
    attr_t: f64,
    st: &libc::stat,
) -> fuse_entry_out {
    fuse_entry_out {
        nodeid: ino,
        generation,
        entry_valid: timeout_sec(entry_t),
        attr_valid: timeout_sec(attr_t),
        entry_valid_nsec: timeout_nsec(entry_t),
        attr_valid_nsec: timeout_nsec(attr_t),
        attr: attr_from_stat(st),
    }
}

/// A C `struct statvfs` as the kernel's `fuse_kstatfs`.
pub fn kstatfs_from_statvfs(s: &libc::statvfs) -> fuse_kstatfs {
    fuse_kstatfs {
        blocks: s.f_blocks,
        bfree: s.f_bfree,
        bavail: s.f_bavail,
        files: s.f_files,
        ffree: s.f_ffree,
        bsize: s.f_bsize as u32,
        namelen: s.f_namemax as u32,
        frsize: s.f_frsize as u32,
        padding: 0,
        spare: [0; 6],
    }
}

/// The kernel's "to end of file" lock offset.
pub const OFFSET_MAX: u64 = i64::MAX as u64;

/// A kernel lock range as the `struct flock` the filesystem's getlk/setlk receive.
pub fn flock_from_wire(l: &fuse_file_lock) -> libc::flock {
    // SAFETY: `struct flock` is plain C data; all-zero is a valid value.
    let mut f: libc::flock = unsafe { std::mem::zeroed() };
    f.l_type = l.typ as i16;
    f.l_whence = libc::SEEK_SET as i16;
    f.l_start = l.start as i64;
    f.l_len =
        if l.end == OFFSET_MAX { 0 } else { l.end.wrapping_sub(l.start).wrapping_add(1) as i64 };
    f.l_pid = l.pid as i32;
    f
}

/// A `struct flock` as the kernel's lock range (GETLK reply).
pub fn wire_from_flock(f: &libc::flock) -> fuse_file_lock {
    let mut l = fuse_file_lock { typ: f.l_type as u32, pid: f.l_pid as u32, ..Default::default() };
    if f.l_type as i32 != libc::F_UNLCK {
        l.start = f.l_start as u64;
        // Wrapping, as C's `l_start + l_len - 1` does in practice: a filesystem's bogus range
        // must not panic here.
        l.end = if f.l_len == 0 {
            OFFSET_MAX
        } else {
            f.l_start.wrapping_add(f.l_len).wrapping_sub(1) as u64
        };
    }
    l
}

/// Size of a directory entry for a name of `namelen` bytes.
pub fn dirent_size(namelen: usize) -> usize {
    fuse_rec_align(FUSE_NAME_OFFSET + namelen)
}

/// Size of a READDIRPLUS entry for a name of `namelen` bytes.
pub fn direntplus_size(namelen: usize) -> usize {
    fuse_rec_align(FUSE_NAME_OFFSET_DIRENTPLUS + namelen)
}

/// Append-free dirent encoder with libfuse's contract: returns the entry's padded size, and
/// writes it only if `buf` is large enough (a caller probes with an empty buffer).
pub fn add_direntry(buf: &mut [u8], name: &[u8], st: &libc::stat, off: u64) -> usize {
    let size = dirent_size(name.len());
    if size > buf.len() {
        return size;
    }
    let d = fuse_dirent {
        ino: st.st_ino,
        off,
        namelen: name.len() as u32,
        typ: (st.st_mode & libc::S_IFMT) >> 12,
    };
    let buf = &mut buf[..size];
    super::cursor::put(buf, &d);
    buf[FUSE_NAME_OFFSET..FUSE_NAME_OFFSET + name.len()].copy_from_slice(name);
    buf[FUSE_NAME_OFFSET + name.len()..].fill(0);
    size
}

/// READDIRPLUS counterpart of [`add_direntry`].
pub fn add_direntry_plus(buf: &mut [u8], name: &[u8], entry: &fuse_entry_out, off: u64) -> usize {
    let size = direntplus_size(name.len());
    if size > buf.len() {
        return size;
    }
    let d = fuse_direntplus {
        entry_out: *entry,
        dirent: fuse_dirent {
            ino: entry.attr.ino,
            off,
            namelen: name.len() as u32,
            typ: (entry.attr.mode & libc::S_IFMT) >> 12,
        },
    };
    let buf = &mut buf[..size];
    super::cursor::put(buf, &d);
    let at = FUSE_NAME_OFFSET_DIRENTPLUS;
    buf[at..at + name.len()].copy_from_slice(name);
    buf[at + name.len()..].fill(0);
    size
}

/// libfuse's rule for the error of a reply: 0 or a negated errno the C library knows; any other
/// value is reported and replaced with `-ERANGE`. Returns the value to send and whether it was
/// replaced.
pub fn checked_error(error: i32) -> (i32, bool) {
    if error == 0 {
        return (0, false);
    }
    if error > 0 || error <= -4096 || !errno_known(-error) {
        return (-libc::ERANGE, true);
    }
    (error, false)
}

fn errno_known(e: i32) -> bool {
    // glibc's strerrordesc_np knows 1..=133 on Linux except 41 and 58 (never assigned).
    (1..=133).contains(&e) && e != 41 && e != 58
}
