//! Mirrors the mounting half of libfuse's `lib/mount.c` (`fuse_kern_mount`, `fuse_mount_sys`,
//! `fuse_kern_unmount`) and the descriptor check at the top of `fuse_session_mount`: the
//! mount(2) a privileged process makes itself, and its undoing.

use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, mount, umount2};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;
use nix::unistd::{geteuid, getgid, getuid};

use super::opts::MountOpts;
use super::util::{self, fuseblk_supported, kern_device, resolve_path, strerror};
use crate::opt::add_opt;

/// Why [`kern_mount`] failed. Its log line has already been written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountError {
    /// mount(2) answered `EPERM`: libfuse would now let fusermount3 mount.
    pub needs_helper: bool,
    /// The system call's error, when one failed.
    pub errno: Option<Errno>,
    /// The line [`kern_mount`] logged, if it logged one itself (a failing `mount -f` or path
    /// resolution for mtab speaks for itself).
    pub message: Option<String>,
}

impl MountError {
    /// Log `msg` and make the error.
    fn logged(errno: Option<Errno>, msg: String) -> Self {
        crate::log::err(&msg);
        MountError { needs_helper: false, errno, message: Some(msg) }
    }
}

/// Make sure descriptors 0, 1 and 2 are open, on `/dev/null` if need be, so that the FUSE
/// device (or anything else opened later) never becomes someone's stdout.
pub fn ensure_std_fds() {
    while let Ok(fd) = open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
        if fd.as_raw_fd() > 2 {
            break; // dropped: closed again
        }
        // It fills one of 0, 1, 2: keep it open for good.
        let _ = fd.into_raw_fd();
    }
}

/// Mount a FUSE filesystem on `mountpoint` with mount(2), as root does in libfuse, and return
/// the `/dev/fuse` descriptor the filesystem will serve (close-on-exec).
///
/// In order: descriptors 0 to 2 are made sure of; the mountpoint must `stat`; the device is
/// opened; the kernel options get `fd=N,rootmode=M,user_id=U,group_id=G` (`M` is the
/// mountpoint's file type in octal, `U`/`G` the real ids); the type is `fuse.SUBTYPE` (or
/// `fuseblk.SUBTYPE`), the source `fsname`, else `subtype`, else the device path. A kernel
/// that answers `ENODEV` to a subtype gets a second try without it (source `SUBTYPE#FSNAME`).
/// When root's mounts are recorded in utab, `mount -f` records this one.
pub fn kern_mount(mountpoint: &[u8], mo: &MountOpts) -> Result<OwnedFd, MountError> {
    ensure_std_fds();
    let mtab_opts = mo.base_mtab_opts();
    // As in libfuse 3.14: auto_unmount needs the helper to stay on a socket, so even root
    // mounts through it then.
    if mo.auto_unmount {
        return super::helper::kern_mount_helper(mountpoint, mo, &mtab_opts);
    }
    // The new mount API first (libfuse 3.19 does the same); mount(2) where the kernel lacks it
    // or refuses what the new API asked, so that errors read as libfuse's.
    match super::fsmount::prepare(mountpoint) {
        Ok(p) => match super::fsmount::fsmount_quiet(mountpoint, mo, &p) {
            Ok(()) => return Ok(p.fd),
            Err(e) if e.needs_helper => {
                return super::helper::kern_mount_helper(mountpoint, mo, &mtab_opts);
            }
            Err(_) => {}
        },
        // The mountpoint or the device is unusable: mount(2) would say the same.
        Err(e) => return Err(e),
    }
    match mount_sys(mountpoint, mo, &mtab_opts) {
        Ok(fd) => Ok(fd),
        // Not privileged: the setuid helper mounts for us.
        Err(e) if e.needs_helper => super::helper::kern_mount_helper(mountpoint, mo, &mtab_opts),
        Err(e) => Err(e),
    }
}

/// libfuse's `fuse_mount_sys`: everything from the mountpoint check to the mtab record.
fn mount_sys(mnt: &[u8], mo: &MountOpts, mtab_opts: &[u8]) -> Result<OwnedFd, MountError> {
    // The same checks and device as the new-API path (libfuse's fuse_kern_mount_prepare).
    let super::fsmount::Prepared { fd, rootmode } = super::fsmount::prepare(mnt)?;
    let dev = kern_device();

    let mut kopts = mo.kernel_opts.clone();
    let ids = format!(
        "fd={},rootmode={:o},user_id={},group_id={}",
        fd.as_raw_fd(),
        rootmode,
        getuid(),
        getgid()
    );
    add_opt(&mut kopts, ids.as_bytes(), false);
    let kopts = kopts.unwrap_or_default();

    let mut ty = mo.fs_type(true);
    let mut source = mo.source(&dev);
    let call = |source: &[u8], ty: &[u8]| {
        mount(Some(source), mnt, Some(ty), mo.flags, Some(kopts.as_slice()))
    };
    let mut res = call(&source, &ty);
    if let (Err(Errno::ENODEV), Some(subtype)) = (res, &mo.subtype) {
        // An old kernel without `fuse.SUBTYPE` types: say it in the source instead.
        ty = mo.fs_type(false);
        source = match (&mo.fsname, mo.blkdev) {
            (Some(fsname), false) => [subtype.as_slice(), b"#", fsname].concat(),
            (Some(fsname), true) => fsname.clone(),
            (None, _) => ty.clone(),
        };
        res = call(&source, &ty);
    }
    if let Err(e) = res {
        if e == Errno::EPERM {
            return Err(MountError { needs_helper: true, errno: Some(e), message: None });
        }
        let m = if mo.blkdev && e == Errno::ENODEV && !fuseblk_supported() {
            "fuse: 'fuseblk' support missing\n".to_string()
        } else {
            format!("fuse: mount failed: {}\n", strerror(e))
        };
        return Err(MountError::logged(Some(e), m));
    }

    if geteuid().is_root() {
        let recorded = resolve_path("fuse", mnt)
            .is_some_and(|abs| util::add_mount("fuse", &source, &abs, &ty, mtab_opts));
        if !recorded {
            let _ = umount2(mnt, MntFlags::MNT_DETACH);
            return Err(MountError { needs_helper: false, errno: None, message: None });
        }
    }
    Ok(fd)
}

/// Undo [`kern_mount`] (libfuse's `fuse_kern_unmount`): close `fd` (closing first keeps a
/// synchronous unmount from waiting on ourselves), and unless polling it showed `POLLERR` (the
/// filesystem is unmounted already, or its connection was aborted), detach the mount.
///
/// Root unmounts with umount2(`MNT_DETACH`) (or `umount -l` when utab records mounts); others
/// try umount2 too, which works inside a user namespace that owns the mount.
pub fn kern_unmount(mountpoint: &[u8], fd: Option<OwnedFd>) {
    if let Some(fd) = fd {
        let raw = fd.as_raw_fd();
        let gone = {
            let mut pfd = [PollFd::new(fd.as_fd(), PollFlags::empty())];
            let res = poll(&mut pfd, PollTimeout::ZERO);
            res == Ok(1) && pfd[0].revents().is_some_and(|r| r.contains(PollFlags::POLLERR))
        };
        drop(fd);
        // An auto_unmount helper waiting on its socket unmounts once it is closed.
        super::helper::release_keepalive(raw);
        if gone {
            return;
        }
    }
    if geteuid().is_root() {
        util::umount("fuse", mountpoint, true);
        return;
    }
    if umount2(mountpoint, MntFlags::MNT_DETACH).is_err() {
        super::helper::unmount_with_helper(mountpoint);
    }
}

/// [`kern_unmount`] for a mount found with [`super::track::find_fuse_mount`]: unmounts it where
/// it is now (its mountpoint may have been moved), and leaves the path alone if the mount is
/// gone already (the path may name another mount by now). Without `mref`, by `mountpoint`.
pub fn kern_unmount_tracked(
    mountpoint: &[u8],
    fd: Option<OwnedFd>,
    mref: Option<&super::track::MountRef>,
) {
    let target = match mref {
        None => Some(mountpoint.to_vec()),
        Some(m) => super::track::current_path(m),
    };
    match target {
        Some(p) => kern_unmount(&p, fd),
        None => {
            if let Some(fd) = fd {
                let raw = fd.as_raw_fd();
                drop(fd);
                super::helper::release_keepalive(raw);
            }
        }
    }
}
