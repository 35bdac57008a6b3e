//! Mirrors libfuse's new-mount-API path (`fuse_kern_mount_prepare`, `fuse_kern_fsmount`): open
//! the device, then fsopen/fsconfig/fsmount/move_mount instead of one mount(2). Synchronous INIT
//! uses this path: the caller arms the device between [`prepare`] and [`fsmount`] and answers
//! INIT on another thread while [`fsmount`] waits for it.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::mount::MsFlags;
use nix::sys::stat::{Mode, SFlag, stat};
use nix::unistd::{getgid, getuid};

use super::direct::MountError;
use super::opts::MountOpts;
use super::util::{self, kern_device, resolve_path, show, strerror};

/// The mountpoint's file type and the open device, ready for [`fsmount`].
pub struct Prepared {
    /// The `/dev/fuse` descriptor the filesystem will serve (close-on-exec).
    pub fd: OwnedFd,
    /// `S_IFMT` bits of the mountpoint (the root's `rootmode`).
    pub rootmode: u32,
}

fn logged(errno: Option<Errno>, msg: String) -> MountError {
    crate::log::err(&msg);
    MountError { needs_helper: false, errno, message: Some(msg) }
}

/// Check the mountpoint and open the device (libfuse's `fuse_kern_mount_prepare`).
pub fn prepare(mnt: &[u8]) -> Result<Prepared, MountError> {
    let st = stat(mnt).map_err(|e| {
        logged(
            Some(e),
            format!("fuse: failed to access mountpoint {}: {}\n", show(mnt), strerror(e)),
        )
    })?;
    let dev = kern_device();
    let fd =
        open(dev.as_slice(), OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| {
            let m = match e {
                Errno::ENODEV | Errno::ENOENT => {
                    format!("fuse: device {} not found. Kernel module not loaded?\n", show(&dev))
                }
                _ => format!("fuse: failed to open {}: {}\n", show(&dev), strerror(e)),
            };
            logged(Some(e), m)
        })?;
    Ok(Prepared { fd, rootmode: st.st_mode & SFlag::S_IFMT.bits() })
}

fn cstr(b: &[u8]) -> Result<CString, MountError> {
    CString::new(b).map_err(|_| logged(Some(Errno::EINVAL), "fuse: NUL in a mount option\n".into()))
}

/// Split a kernel option list at unescaped commas, dropping the escapes.
fn split_opts(list: &[u8]) -> Vec<Vec<u8>> {
    crate::opt::split_group(list)
}

/// Mount with the new API onto `mnt`, serving `p.fd`. Err with `needs_helper` on EPERM.
/// With synchronous INIT armed, this returns only after INIT was answered.
pub fn fsmount(mnt: &[u8], mo: &MountOpts, p: &Prepared) -> Result<(), MountError> {
    fsmount_inner(mnt, mo, p, true)
}

/// As [`fsmount`], but errors are returned without being logged (the caller falls back to
/// mount(2), which reports for itself).
pub fn fsmount_quiet(mnt: &[u8], mo: &MountOpts, p: &Prepared) -> Result<(), MountError> {
    fsmount_inner(mnt, mo, p, false)
}

fn fsmount_inner(mnt: &[u8], mo: &MountOpts, p: &Prepared, loud: bool) -> Result<(), MountError> {
    let fail = |errno: Errno, msg: String| -> MountError {
        if errno == Errno::EPERM {
            return MountError { needs_helper: true, errno: Some(errno), message: None };
        }
        if loud {
            logged(Some(errno), msg)
        } else {
            MountError { needs_helper: false, errno: Some(errno), message: Some(msg) }
        }
    };
    let sys = |what: &str, r: Result<(), i32>| -> Result<(), MountError> {
        r.map_err(|e| {
            let errno = Errno::from_raw(e);
            fail(errno, format!("fuse: {what} failed: {}\n", strerror(errno)))
        })
    };
    let fstype = if mo.blkdev { c"fuseblk" } else { c"fuse" };
    let fsfd = crate::sys::fsopen(fstype).map_err(|e| {
        let errno = Errno::from_raw(e);
        fail(errno, format!("fuse: fsopen failed: {}\n", strerror(errno)))
    })?;
    let fs = fsfd.as_raw_fd();
    let set = |k: &[u8], v: Option<&[u8]>| -> Result<(), MountError> {
        let key = cstr(k)?;
        match v {
            Some(v) => {
                let val = cstr(v)?;
                sys(
                    &format!("fsconfig {}", show(k)),
                    crate::sys::fsconfig(fs, libc::FSCONFIG_SET_STRING, Some(&key), Some(&val)),
                )
            }
            None => sys(
                &format!("fsconfig {}", show(k)),
                crate::sys::fsconfig(fs, libc::FSCONFIG_SET_FLAG, Some(&key), None),
            ),
        }
    };
    let dev = kern_device();
    let source = mo.source(&dev);
    set(b"source", Some(&source))?;
    if let (Some(sub), false) = (&mo.subtype, mo.blkdev) {
        set(b"subtype", Some(sub))?;
    }
    set(b"fd", Some(p.fd.as_raw_fd().to_string().as_bytes()))?;
    set(b"rootmode", Some(format!("{:o}", p.rootmode).as_bytes()))?;
    set(b"user_id", Some(getuid().to_string().as_bytes()))?;
    set(b"group_id", Some(getgid().to_string().as_bytes()))?;
    if let Some(k) = &mo.kernel_opts {
        for o in split_opts(k) {
            match o.iter().position(|&c| c == b'=') {
                Some(i) => set(&o[..i], Some(&o[i + 1..]))?,
                None => set(&o, None)?,
            }
        }
    }
    if mo.flags.contains(MsFlags::MS_RDONLY) {
        set(b"ro", None)?;
    }
    sys("fsconfig create", crate::sys::fsconfig(fs, libc::FSCONFIG_CMD_CREATE, None, None))?;
    let mut attrs = 0u64;
    for (ms, attr) in [
        (MsFlags::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, libc::MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
        (MsFlags::MS_NOATIME, libc::MOUNT_ATTR_NOATIME),
        (MsFlags::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
    ] {
        if mo.flags.contains(ms) {
            attrs |= attr;
        }
    }
    let mfd = crate::sys::fsmount(fs, attrs).map_err(|e| {
        let errno = Errno::from_raw(e);
        fail(errno, format!("fuse: fsmount failed: {}\n", strerror(errno)))
    })?;
    let target = cstr(mnt)?;
    sys("move_mount", crate::sys::move_mount_to(mfd.as_raw_fd(), &target))?;
    if nix::unistd::geteuid().is_root() {
        let ty = mo.fs_type(true);
        let recorded = resolve_path("fuse", mnt)
            .is_some_and(|abs| util::add_mount("fuse", &source, &abs, &ty, &mo.base_mtab_opts()));
        if !recorded {
            let _ = nix::mount::umount2(mnt, nix::mount::MntFlags::MNT_DETACH);
            return Err(MountError { needs_helper: false, errno: None, message: None });
        }
    }
    Ok(())
}
