//! Mirrors libfuse's `lib/mount.c` and `lib/mount_util.c` (Linux): mount options, the direct
//! mount(2) a privileged process makes, and unmounting.
//!
//! The session layer drives this module; nothing here knows about sessions or requests.
//!
//! - [`parse_mount_opts`] (`parse_mount_opts()` in libfuse) consumes the mount options from an
//!   argument vector with libfuse's option table and leaves everything it does not know in
//!   place, so the caller can complain about leftovers (`fuse: unknown option(s): ...`).
//!   The result is a [`MountOpts`].
//! - [`parse_fd_mountpoint`] (`fuse_mnt_parse_fuse_fd()`) recognises the `/dev/fd/N`
//!   mountpoint, by which a parent process hands over an already mounted `/dev/fuse`.
//! - [`ensure_std_fds`] opens `/dev/null` until descriptors 0, 1 and 2 are taken, as
//!   `fuse_session_mount()` does before anything else.
//! - [`kern_mount`] (`fuse_kern_mount()`) mounts with mount(2) and answers the `/dev/fuse`
//!   descriptor. A mount refused with `EPERM` comes back as a [`MountError`] whose
//!   `needs_helper` is set: the fusermount3 fallback is not written yet.
//! - [`kern_unmount`] (`fuse_kern_unmount()`) closes the descriptor and detaches the mount,
//!   unless the kernel already says the connection is gone.
//! - [`resolve_path`] (`fuse_mnt_resolve_path()`), [`mtab_needs_update`], [`kern_device`]
//!   (`fuse_mnt_get_devname()`) and [`fuseblk_supported`] (`fuse_mnt_check_fuseblk()`) are the
//!   pieces of `mount_util.c` the helper will share.
//!
//! Every failure is logged through [`crate::log`] with libfuse's text before it is returned;
//! the returned error carries the same line so tests (and callers) can look at it.

mod direct;
pub mod fsmount;
pub mod helper;
mod opts;
pub mod track;
mod util;

pub use direct::{MountError, ensure_std_fds, kern_mount, kern_unmount, kern_unmount_tracked};
pub use opts::{MOUNT_SPECS, MountOpts, parse_mount_opts};
pub use util::{
    fuseblk_supported, kern_device, mtab_needs_update, parse_fd_mountpoint, resolve_path,
};
