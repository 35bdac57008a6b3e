//! Mirrors libfuse's `lib/mount_util.c`: the `/dev/fd/N` mountpoint, the device path, mountpoint
//! resolution, and the mtab (utab) record that `mount -f` keeps for root's mounts.

use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::unistd::AccessFlags;

use crate::opt::scan::scan_u32;

/// Where the mount table lives (glibc's `_PATH_MOUNTED`).
pub(crate) const PATH_MOUNTED: &[u8] = b"/etc/mtab";
/// libmount's file of userspace mount options.
const PATH_UTAB: &str = "/run/mount/utab";
/// The environment variable that may name another FUSE device.
const KERN_DEVICE_ENV: &str = "FUSE_KERN_DEVICE";
/// The FUSE device.
pub(crate) const DEFAULT_DEVICE: &[u8] = b"/dev/fuse";

/// `strerror` text of an errno value.
pub(crate) fn strerror(e: Errno) -> &'static str {
    e.desc()
}

/// `strerror` text of an I/O error.
pub(crate) fn io_strerror(e: &std::io::Error) -> &'static str {
    strerror(e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))
}

/// Lossy text of a byte path, for messages.
pub(crate) fn show(p: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(p)
}

/// The descriptor named by a `/dev/fd/N` mountpoint (`N` read as `%u` reads it, and nothing
/// may follow), or `None` for any other mountpoint. A number above `INT_MAX` is logged and
/// gives `None`.
pub fn parse_fd_mountpoint(mp: &[u8]) -> Option<i32> {
    let rest = mp.strip_prefix(b"/dev/fd/")?;
    let (n, used) = scan_u32(rest)?;
    if used != rest.len() {
        return None;
    }
    match i32::try_from(n) {
        Ok(fd) => Some(fd),
        Err(_) => {
            crate::fuse_err!("fuse_mnt_parse_fuse_fd: fd={n} > INT_MAX\n");
            None
        }
    }
}

/// The FUSE device to open: `$FUSE_KERN_DEVICE` if it is a path under `/dev/` that is a
/// character device (or does not exist yet: opening it will then say so), else `/dev/fuse`.
/// A rejected value is logged.
pub fn kern_device() -> Vec<u8> {
    let Some(dev) = std::env::var_os(KERN_DEVICE_ENV) else { return DEFAULT_DEVICE.to_vec() };
    let dev = dev.as_bytes();
    if !dev.starts_with(b"/dev/") {
        crate::fuse_err!(
            "fuse: invalid device name from {KERN_DEVICE_ENV}: {} (must start with /dev/)\n",
            show(dev)
        );
        return DEFAULT_DEVICE.to_vec();
    }
    match std::fs::metadata(OsStr::from_bytes(dev)) {
        Ok(m) if !m.file_type().is_char_device() => {
            crate::fuse_err!(
                "fuse: invalid device from {KERN_DEVICE_ENV}: {} (not a character device)\n",
                show(dev)
            );
            DEFAULT_DEVICE.to_vec()
        }
        _ => dev.to_vec(),
    }
}

/// Whether the kernel knows `fuseblk` (per /proc/filesystems; an unreadable file counts as yes).
pub fn fuseblk_supported() -> bool {
    match std::fs::read(Path::new("/proc/filesystems")) {
        Ok(text) => text.split(|&c| c == b'\n').any(|l| l.ends_with(b"fuseblk")),
        Err(_) => true,
    }
}

/// The absolute form of a mountpoint, for mtab: the parent directory goes through `realpath`,
/// the last component is kept as written (it may be a symlink, or what a mount covers), except
/// `.` and `..`, which resolve with the rest. Failures are logged as `PROGNAME: ...`.
pub fn resolve_path(progname: &str, orig: &[u8]) -> Option<Vec<u8>> {
    if orig.is_empty() {
        crate::fuse_err!("{progname}: invalid mountpoint '{}'\n", show(orig));
        return None;
    }
    // Drop trailing slashes, keeping the first byte.
    let mut end = orig.len() - 1;
    while end > 0 && orig[end] == b'/' {
        end -= 1;
    }
    let (to_resolve, last): (&[u8], Option<&[u8]>) = if orig[end] == b'/' {
        // Nothing but slashes.
        (orig, None)
    } else {
        let trimmed = &orig[..=end];
        let slash = trimmed.iter().rposition(|&c| c == b'/');
        let comp = &trimmed[slash.map_or(0, |i| i + 1)..];
        match slash {
            _ if comp == b"." || comp == b".." => (trimmed, None),
            None => (b".", Some(comp)),
            Some(0) => (b"/", Some(comp)),
            Some(i) => (&trimmed[..i], Some(comp)),
        }
    };
    let dir = match std::fs::canonicalize(OsStr::from_bytes(to_resolve)) {
        Ok(p) => p.into_os_string().into_vec(),
        Err(e) => {
            crate::fuse_err!("{progname}: bad mount point {}: {}\n", show(orig), io_strerror(&e));
            return None;
        }
    };
    let Some(last) = last else { return Some(dir) };
    let mut out = dir;
    if out.last() != Some(&b'/') {
        out.push(b'/');
    }
    out.extend_from_slice(last);
    Some(out)
}

/// Whether a mount on `mnt` should be recorded with `mount -f`, as libfuse 3.18+ decides: not
/// when mtab would be inside the new mount, not when `/etc/mtab` is missing or on a read-only
/// filesystem, and not unless libmount's `/run/mount/utab` exists (on current systems
/// `/etc/mtab` is a symlink to the kernel's table, and utab holds the userspace options).
pub fn mtab_needs_update(mnt: &[u8]) -> bool {
    if PATH_MOUNTED.starts_with(mnt) && PATH_MOUNTED.get(mnt.len()) == Some(&b'/') {
        return false;
    }
    match std::fs::symlink_metadata(OsStr::from_bytes(PATH_MOUNTED)) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => false,
        Err(_) => true,
        Ok(_) => {
            let path = OsStr::from_bytes(PATH_MOUNTED);
            if nix::unistd::access(path, AccessFlags::W_OK) == Err(Errno::EROFS) {
                return false;
            }
            Path::new(PATH_UTAB).exists()
        }
    }
}

/// Run `/bin/mount` or `/bin/umount` with `args`, an empty environment, and wait for it; logs
/// failures to start as `PROGNAME: ...`. True if it exited with 0.
fn run_mount_tool(progname: &str, cmd: &str, args: &[&OsStr]) -> bool {
    match Command::new(cmd).args(args).env_clear().stdin(Stdio::null()).status() {
        Ok(st) => st.success(),
        Err(e) => {
            crate::fuse_err!("{progname}: failed to execute {cmd}: {}\n", io_strerror(&e));
            false
        }
    }
}

/// Record a mount in mtab with `mount -f`, if [`mtab_needs_update`] says so.
pub(crate) fn add_mount(progname: &str, source: &[u8], mnt: &[u8], ty: &[u8], opts: &[u8]) -> bool {
    if !mtab_needs_update(mnt) {
        return true;
    }
    let b = OsStr::from_bytes;
    let args = [
        b(b"--no-canonicalize"),
        b(b"-i"),
        b(b"-f"),
        b(b"-t"),
        b(ty),
        b(b"-o"),
        b(opts),
        b(b"--"),
        b(source),
        b(mnt),
    ];
    run_mount_tool(progname, "/bin/mount", &args)
}

/// Unmount `mnt` (lazily if `lazy`) as root: with umount2(2), or with `umount` when mtab has a
/// record to drop. A umount2 failure is logged.
pub(crate) fn umount(progname: &str, mnt: &[u8], lazy: bool) -> bool {
    if !mtab_needs_update(mnt) {
        let flags =
            if lazy { nix::mount::MntFlags::MNT_DETACH } else { nix::mount::MntFlags::empty() };
        return match nix::mount::umount2(mnt, flags) {
            Ok(()) => true,
            Err(e) => {
                crate::fuse_err!("{progname}: failed to unmount {}: {}\n", show(mnt), strerror(e));
                false
            }
        };
    }
    let b = OsStr::from_bytes;
    let args: &[&OsStr] =
        if lazy { &[b(b"-i"), b(b"-l"), b(b"--"), b(mnt)] } else { &[b(b"-i"), b(b"--"), b(mnt)] };
    run_mount_tool(progname, "/bin/umount", args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_mountpoints() {
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/3"), Some(3));
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/0"), Some(0));
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/ 7"), Some(7));
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/+7"), Some(7));
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/2147483647"), Some(i32::MAX));
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/2147483648"), None);
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/-1"), None);
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/3x"), None);
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/3/"), None);
        assert_eq!(parse_fd_mountpoint(b"/dev/fd/"), None);
        assert_eq!(parse_fd_mountpoint(b"/dev/fd"), None);
        assert_eq!(parse_fd_mountpoint(b"/mnt/fuse"), None);
        assert_eq!(parse_fd_mountpoint(b"dev/fd/3"), None);
    }

    #[test]
    fn resolve() {
        let cwd = std::env::current_dir().unwrap().into_os_string().into_vec();
        let under_cwd = |s: &str| [cwd.as_slice(), b"/", s.as_bytes()].concat();
        assert_eq!(resolve_path("t", b"/").as_deref(), Some(&b"/"[..]));
        assert_eq!(resolve_path("t", b"///").as_deref(), Some(&b"/"[..]));
        assert_eq!(resolve_path("t", b"/tmp").as_deref(), Some(&b"/tmp"[..]));
        assert_eq!(resolve_path("t", b"/nonexistent-x//").as_deref(), Some(&b"/nonexistent-x"[..]));
        assert_eq!(resolve_path("t", b"/proc/self/..").as_deref(), Some(&b"/proc"[..]));
        assert_eq!(resolve_path("t", b"mnt").unwrap(), under_cwd("mnt"));
        assert_eq!(resolve_path("t", b"./mnt/").unwrap(), under_cwd("mnt"));
        assert_eq!(resolve_path("t", b"."), Some(cwd.clone()));
        assert_eq!(resolve_path("t", b""), None);
        assert_eq!(resolve_path("t", b"/nonexistent-x/y"), None);
    }

    #[test]
    fn mtab_inside_mount_is_left_alone() {
        assert!(!mtab_needs_update(b"/etc"));
        assert!(!mtab_needs_update(b""));
    }

    #[test]
    fn fuseblk_listed_here() {
        let listed = std::fs::read_to_string("/proc/filesystems").unwrap().contains("fuseblk\n");
        assert_eq!(fuseblk_supported(), listed);
    }
}
