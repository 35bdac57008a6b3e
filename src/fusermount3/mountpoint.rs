//! Mirrors fusermount3's mountpoint handling (`check_perm`, `pin_mountpoint`, the filesystem
//! type whitelist, `fuse_mnt_resolve_path`) and its reading of the mount table.
//!
//! The mountpoint is opened once, as the calling user, with `O_PATH | O_NOFOLLOW` and
//! `RESOLVE_NO_SYMLINKS`; every check runs on that descriptor and the mount goes onto it
//! (`move_mount`), so swapping a path component for a symlink after the checks changes
//! nothing. Mounts are identified by the kernel's mount id (from `/proc/self/fdinfo`) and
//! looked up in `/proc/self/mountinfo`, never by opening the filesystem mounted there.

use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::{SFlag, fstat};
use nix::unistd::{AccessFlags, faccessat};

use super::privs::{AsUser, Caller};

fn err(e: Errno) -> String {
    crate::sys::strerror(e as i32)
}

/// `fuse_mnt_resolve_path`: make the mountpoint absolute, resolving symlinks in every
/// component but the last (which is checked, not followed). Run as the calling user.
pub fn resolve(caller: &Caller, orig: &OsStr) -> Result<PathBuf, String> {
    let b = orig.as_bytes();
    if b.is_empty() {
        return Err("invalid mountpoint ''".into());
    }
    let trimmed = {
        let mut end = b.len();
        while end > 1 && b[end - 1] == b'/' {
            end -= 1;
        }
        &b[..end]
    };
    let (to_resolve, last): (&[u8], Option<&[u8]>) = if trimmed == b"/" {
        (b"/", None)
    } else {
        match trimmed.iter().rposition(|&c| c == b'/') {
            None => (b".", Some(trimmed)),
            Some(0) => (b"/", Some(&trimmed[1..])),
            Some(i) => (&trimmed[..i], Some(&trimmed[i + 1..])),
        }
    };
    let (to_resolve, last) = match last {
        Some(l) if l == b"." || l == b".." => (trimmed, None),
        other => (to_resolve, other),
    };
    let _user = AsUser::enter(caller);
    let base = std::fs::canonicalize(OsStr::from_bytes(to_resolve))
        .map_err(|e| format!("bad mount point {}: {}", orig.to_string_lossy(), io_err(&e)))?;
    Ok(match last {
        Some(l) => base.join(OsStr::from_bytes(l)),
        None => base,
    })
}

fn io_err(e: &std::io::Error) -> String {
    e.raw_os_error().map(crate::sys::strerror).unwrap_or_else(|| e.to_string())
}

/// The validated mountpoint, held open.
#[derive(Debug)]
pub struct Pinned {
    pub fd: OwnedFd,
    /// `st_mode & S_IFMT` of the mountpoint: the root mode the FUSE filesystem gets.
    pub rootmode: u32,
}

/// `statfs` magic numbers of the filesystems a user may mount over. Everything else (procfs,
/// sysfs, devtmpfs, cgroup, ...) is refused: some of their files are writable by users
/// without being theirs to cover.
const MOUNTABLE_OVER: &[(u64, &str)] = &[
    (0x6175_6673, "aufs"),
    (0x0000_0187, "autofs"),
    (0xCA45_1A4E, "bcachefs"),
    (0x9123_683E, "btrfs"),
    (0x00C3_6400, "ceph"),
    (0xFF53_4D42, "cifs"),
    (0x0000_F15F, "ecryptfs"),
    (0x2011_BAB0, "exfat"),
    (0x0000_EF53, "ext2/3/4"),
    (0xF2F5_2010, "f2fs"),
    (0x6573_5546, "fuse"),
    (0x0116_1970, "gfs2"),
    (0x4750_4653, "gpfs"),
    (0x0000_482B, "hfsplus"),
    (0x0000_72B6, "jffs2"),
    (0x3153_464A, "jfs"),
    (0x0BD0_0BD0, "lustre"),
    (0x0000_4D44, "msdos/vfat"),
    (0x0000_564C, "ncp"),
    (0x0000_6969, "nfs"),
    (0x0000_3434, "nilfs"),
    (0x5346_544E, "ntfs"),
    (0x7366_746E, "ntfs3"),
    (0x5346_414F, "openafs"),
    (0x794C_7630, "overlayfs"),
    (0xAAD7_AAEA, "panfs"),
    (0x5265_4973, "reiserfs"),
    (0xFE53_4D42, "smb2"),
    (0x7371_7368, "squashfs"),
    (0x0102_1994, "tmpfs"),
    (0x2405_1905, "ubifs"),
    (0x1803_1977, "wekafs"),
    (0x7366_7500_5346_544E, "ufsd"),
    (0x5846_5342, "xfs"),
    (0x2FC1_2FC1, "zfs"),
    (0x8584_58F6, "ramfs"),
];

/// `check_perm`: open the mountpoint as the calling user and check that they may mount on it.
/// Root only gets it opened (following a final symlink, as fusermount3 does for root).
pub fn check_and_pin(caller: &Caller, mnt: &Path) -> Result<Pinned, String> {
    let name = mnt.display();
    let _user = AsUser::enter(caller);
    let how = if caller.is_root() {
        OpenHow::new().flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
    } else {
        OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_MAGICLINKS)
    };
    let fd = openat2(nix::fcntl::AT_FDCWD, mnt, how)
        .map_err(|e| format!("failed to access mountpoint {name}: {}", err(e)))?;
    let st = fstat(&fd).map_err(|e| format!("failed to access mountpoint {name}: {}", err(e)))?;
    let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
    let rootmode = st.st_mode & libc::S_IFMT;
    if caller.is_root() {
        return Ok(Pinned { fd, rootmode });
    }
    if kind == SFlag::S_IFDIR {
        if st.st_mode & libc::S_ISVTX != 0 && st.st_uid != caller.uid.as_raw() {
            return Err(format!("mountpoint {name} not owned by user"));
        }
        // access(2) semantics: checked against the real uid and gid, i.e. the caller's.
        if faccessat(&fd, "", AccessFlags::W_OK, nix::fcntl::AtFlags::AT_EMPTY_PATH).is_err() {
            return Err(format!("user has no write access to mountpoint {name}"));
        }
    } else if kind == SFlag::S_IFREG {
        if let Err(e) = faccessat(&fd, "", AccessFlags::W_OK, nix::fcntl::AtFlags::AT_EMPTY_PATH) {
            return Err(format!("failed to open {name}: {}", err(e)));
        }
    } else {
        return Err(format!("mountpoint {name} is not a directory or a regular file"));
    }
    let fs = nix::sys::statfs::fstatfs(&fd)
        .map_err(|e| format!("failed to access mountpoint {name}: {}", err(e)))?;
    let magic = fs.filesystem_type().0 as u64;
    if !MOUNTABLE_OVER.iter().any(|&(m, _)| m == magic) {
        return Err(format!("mounting over filesystem type {magic:#010x} is forbidden"));
    }
    Ok(Pinned { fd, rootmode })
}

/// One line of `/proc/self/mountinfo`, the fields the helper uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub id: u64,
    /// `major:minor` of the filesystem.
    pub dev: String,
    pub mount_point: PathBuf,
    pub fstype: String,
    pub super_opts: String,
}

impl MountEntry {
    /// `fuse`, `fuseblk`, `fuse.*`, `fuseblk.*`.
    pub fn is_fuse(&self) -> bool {
        let t = self.fstype.as_str();
        t == "fuse" || t == "fuseblk" || t.starts_with("fuse.") || t.starts_with("fuseblk.")
    }

    /// Whether the kernel recorded `uid` as the mount's owner (`user_id=` in its options).
    pub fn owned_by(&self, uid: u32) -> bool {
        let want = format!("user_id={uid}");
        self.super_opts.split(',').any(|o| o == want)
    }
}

/// Undo the kernel's octal escapes (`\040` for a space) in mountinfo paths.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    let mut v = Vec::new();
    for line in text.lines() {
        let (pre, post) = match line.split_once(" - ") {
            Some(p) => p,
            None => continue,
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 {
            continue;
        }
        let Ok(id) = pre[0].parse() else { continue };
        v.push(MountEntry {
            id,
            dev: pre[2].to_string(),
            mount_point: PathBuf::from(OsStr::from_bytes(&unescape(pre[4]))),
            fstype: post[0].to_string(),
            super_opts: post[2].to_string(),
        });
    }
    v
}

/// The current mount table of the helper's namespace.
pub fn mounts() -> Result<Vec<MountEntry>, String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("failed to open /proc/self/mountinfo: {}", io_err(&e)))?;
    Ok(parse_mountinfo(&text))
}

/// How many FUSE filesystems are mounted (`fuse` and `fuse.*`, as fusermount3 counts them).
pub fn count_fuse(entries: &[MountEntry]) -> usize {
    entries.iter().filter(|e| e.fstype == "fuse" || e.fstype.starts_with("fuse.")).count()
}

/// The kernel's id of the mount `fd` lives on, from `/proc/self/fdinfo` (no filesystem call).
pub fn mount_id_of(fd: &impl AsFd) -> Result<u64, String> {
    let raw = fd.as_fd().as_raw_fd();
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{raw}"))
        .map_err(|e| format!("failed to read fdinfo: {}", io_err(&e)))?;
    text.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no mount id in fdinfo".to_string())
}

/// Open `path` as the calling user without following a final symlink and without any
/// request to the filesystem mounted there (O_PATH opens no file).
pub fn open_path(caller: &Caller, path: &Path) -> Result<OwnedFd, Errno> {
    let _user = AsUser::enter(caller);
    openat2(
        nix::fcntl::AT_FDCWD,
        path,
        OpenHow::new().flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let t = "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - fuse.hello hello rw,user_id=1000,group_id=1000\n\
                 37 1 0:5 / /proc rw - proc proc rw\n";
        let m = parse_mountinfo(t);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].id, 36);
        assert_eq!(m[0].dev, "98:0");
        assert_eq!(m[0].mount_point, Path::new("/mnt/with space"));
        assert!(m[0].is_fuse() && m[0].owned_by(1000) && !m[0].owned_by(100));
        assert!(!m[1].is_fuse());
        assert_eq!(count_fuse(&m), 1);
    }

    #[test]
    fn resolve_keeps_last_component() {
        let root =
            Caller { uid: nix::unistd::Uid::from_raw(0), gid: nix::unistd::Gid::from_raw(0) };
        assert_eq!(resolve(&root, OsStr::new("/tmp//x/")).unwrap(), Path::new("/tmp/x"));
        assert_eq!(resolve(&root, OsStr::new("/")).unwrap(), Path::new("/"));
        assert!(resolve(&root, OsStr::new("")).is_err());
        assert!(resolve(&root, OsStr::new("/nonexistent-dir-xyz/m")).is_err());
    }
}
