//! The helper's thin syscall wrappers: the new mount API (`fsopen`, `fsconfig`, `fsmount`,
//! `move_mount`), `close_range` and environment clearing. The only `unsafe` of the helper.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

// Constants of <linux/mount.h>.
const FSOPEN_CLOEXEC: libc::c_uint = 0x1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
pub const MOUNT_ATTR_RDONLY: libc::c_uint = 0x1;
pub const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
pub const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;
pub const MOUNT_ATTR_NOEXEC: libc::c_uint = 0x8;
pub const MOUNT_ATTR_NOATIME: libc::c_uint = 0x10;
pub const MOUNT_ATTR_NODIRATIME: libc::c_uint = 0x80;
pub const MOUNT_ATTR_NOSYMFOLLOW: libc::c_uint = 0x0020_0000;

fn fd_result(ret: libc::c_long) -> Result<OwnedFd, Errno> {
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this new descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}

fn unit_result(ret: libc::c_long) -> Result<(), Errno> {
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// `fsopen(fstype, FSOPEN_CLOEXEC)`: a filesystem context.
pub fn fsopen(fstype: &CStr) -> Result<OwnedFd, Errno> {
    // SAFETY: fstype is a NUL-terminated string that outlives the call.
    fd_result(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

/// `fsconfig(FSCONFIG_SET_STRING, key, value)`.
pub fn fsconfig_string(fs: &OwnedFd, key: &CStr, value: &CStr) -> Result<(), Errno> {
    // SAFETY: key and value are NUL-terminated strings that outlive the call; aux is unused.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
}

/// `fsconfig(FSCONFIG_SET_FLAG, key)`.
pub fn fsconfig_flag(fs: &OwnedFd, key: &CStr) -> Result<(), Errno> {
    // SAFETY: key is a NUL-terminated string that outlives the call; value must be NULL.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_FLAG,
            key.as_ptr(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })
}

/// `fsconfig(FSCONFIG_CMD_CREATE)`: make the superblock (for FUSE with sync-init armed, this
/// is where the kernel sends INIT and waits for its answer).
pub fn fsconfig_create(fs: &OwnedFd) -> Result<(), Errno> {
    // SAFETY: no pointers are passed (key and value must be NULL for this command).
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })
}

/// `fsmount(fs, FSMOUNT_CLOEXEC, attrs)`: a detached mount of the context's superblock.
pub fn fsmount(fs: &OwnedFd, attrs: libc::c_uint) -> Result<OwnedFd, Errno> {
    // SAFETY: only integers are passed.
    fd_result(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })
}

/// `move_mount(from, "", to, "", F_EMPTY_PATH | T_EMPTY_PATH)`: attach the detached mount
/// `from` exactly onto the inode `to` was opened on, without a path lookup.
pub fn move_mount_onto(from: &OwnedFd, to: BorrowedFd<'_>) -> Result<(), Errno> {
    let empty = c"";
    // SAFETY: both paths are the same static empty string; the descriptors are open.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            empty.as_ptr(),
            to.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
}

/// Close every descriptor above 2 except `keep`.
pub fn close_fds_except(keep: Option<i32>) {
    let ranges: Vec<(u32, u32)> = match keep {
        Some(k) if k > 2 => {
            let k = k as u32;
            let mut v = vec![(k + 1, u32::MAX)];
            if k > 3 {
                v.push((3, k - 1));
            }
            v
        }
        _ => vec![(3, u32::MAX)],
    };
    for (lo, hi) in ranges {
        // SAFETY: closes descriptors only; the helper owns no Rust objects on these numbers
        // (this runs before it opens anything but stdio).
        let r = unsafe { libc::close_range(lo, hi, 0) };
        if r != 0 {
            // Kernels before 5.9: close them one by one.
            let max = nix::unistd::sysconf(nix::unistd::SysconfVar::OPEN_MAX)
                .ok()
                .flatten()
                .unwrap_or(1024)
                .min(i64::from(hi)) as u32;
            for fd in lo..=max {
                // SAFETY: as above.
                unsafe { libc::close(fd as i32) };
            }
        }
    }
}

/// Remove every environment variable. The helper runs nothing else, but libc reads some
/// (locale, malloc tuning) and none of them should come from the caller.
pub fn clear_env() {
    let names: Vec<_> = std::env::vars_os().map(|(k, _)| k).collect();
    for k in names {
        // SAFETY: the helper is single-threaded here (nothing has spawned a thread), so no
        // other thread can read the environment concurrently.
        unsafe { std::env::remove_var(k) };
    }
}

/// A C string from bytes the caller gave (command-line arguments cannot hold NUL bytes, so
/// this only fails on input that did not come from argv).
pub fn cstring(b: &[u8]) -> Result<CString, Errno> {
    CString::new(b).map_err(|_| Errno::EINVAL)
}
