//! Mirrors fusermount3's option handling: the whitelist of `-o` options a caller may pass, and
//! their translation into mount flags and the kernel's FUSE parameters.
//!
//! What the caller can never choose: `fd=`, `rootmode=`, `user_id=` and `group_id=` are dropped
//! and set by the helper; `suid` and `dev` are ignored for users (mounts are nosuid,nodev);
//! `allow_other`/`allow_root` need `user_allow_other` in /etc/fuse.conf; `blkdev` is root's.

use super::conf::FUSE_CONF;

/// The mount flags the helper knows (values of mount(2)'s `MS_*`).
pub mod ms {
    pub const RDONLY: u64 = libc::MS_RDONLY;
    pub const NOSUID: u64 = libc::MS_NOSUID;
    pub const NODEV: u64 = libc::MS_NODEV;
    pub const NOEXEC: u64 = libc::MS_NOEXEC;
    pub const SYNCHRONOUS: u64 = libc::MS_SYNCHRONOUS;
    pub const DIRSYNC: u64 = libc::MS_DIRSYNC;
    pub const NOATIME: u64 = libc::MS_NOATIME;
    pub const NODIRATIME: u64 = libc::MS_NODIRATIME;
    pub const RELATIME: u64 = libc::MS_RELATIME;
    pub const STRICTATIME: u64 = libc::MS_STRICTATIME;
    pub const NOSYMFOLLOW: u64 = 256; // MS_NOSYMFOLLOW
}

/// A flag option: its name, the flag, whether it sets (true) or clears it, and whether a user
/// may use it (`suid` and `dev` are root's).
struct FlagOpt {
    name: &'static str,
    flag: u64,
    set: bool,
    user_ok: bool,
}

const fn f(name: &'static str, flag: u64, set: bool, user_ok: bool) -> FlagOpt {
    FlagOpt { name, flag, set, user_ok }
}

const FLAG_OPTS: &[FlagOpt] = &[
    f("rw", ms::RDONLY, false, true),
    f("ro", ms::RDONLY, true, true),
    f("suid", ms::NOSUID, false, false),
    f("nosuid", ms::NOSUID, true, true),
    f("dev", ms::NODEV, false, false),
    f("nodev", ms::NODEV, true, true),
    f("exec", ms::NOEXEC, false, true),
    f("noexec", ms::NOEXEC, true, true),
    f("async", ms::SYNCHRONOUS, false, true),
    f("sync", ms::SYNCHRONOUS, true, true),
    f("noatime", ms::NOATIME, true, true),
    f("nodiratime", ms::NODIRATIME, true, true),
    f("norelatime", ms::RELATIME, false, true),
    f("nostrictatime", ms::STRICTATIME, false, true),
    f("symfollow", ms::NOSYMFOLLOW, false, true),
    f("nosymfollow", ms::NOSYMFOLLOW, true, true),
    f("dirsync", ms::DIRSYNC, true, true),
];

/// What a `-o` string asks for, once checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountRequest {
    /// `MS_*` flags; always starts from nosuid,nodev.
    pub flags: u64,
    /// FUSE parameters the caller may set: `default_permissions`, `allow_other`, `max_read=N`,
    /// `blksize=N`, in the order given.
    pub kernel: Vec<Vec<u8>>,
    pub fsname: Option<Vec<u8>>,
    pub subtype: Option<Vec<u8>>,
    pub blkdev: bool,
    pub auto_unmount: bool,
    /// Lines to print (without the program name) though the request stands.
    pub warnings: Vec<String>,
}

impl MountRequest {
    /// The `mount(2)`-style data string the kernel would get, for the length check.
    pub fn data_len(&self, fd: i32, rootmode: u32, uid: u32, gid: u32) -> usize {
        let ours = format!("fd={fd},rootmode={rootmode:o},user_id={uid},group_id={gid}");
        self.kernel.iter().map(|k| k.len() + 1).sum::<usize>() + ours.len()
    }
}

/// Split at commas; in `fsname=` and `subtype=` a backslash escapes the next byte (a comma,
/// say) and is removed.
fn split(opts: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < opts.len() {
        let escapes = opts[i..].starts_with(b"fsname=") || opts[i..].starts_with(b"subtype=");
        let mut cur = Vec::new();
        while i < opts.len() && opts[i] != b',' {
            if escapes && opts[i] == b'\\' && i + 1 < opts.len() {
                i += 1;
            }
            cur.push(opts[i]);
            i += 1;
        }
        out.push(cur);
        i += 1; // the comma
    }
    out
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Check the caller's `-o` string. Err is the refusal message (without the program name).
pub fn parse(opts: &[u8], is_root: bool, user_allow_other: bool) -> Result<MountRequest, String> {
    let mut r = MountRequest { flags: ms::NOSUID | ms::NODEV, ..MountRequest::default() };
    for opt in split(opts) {
        let o = opt.as_slice();
        // `x-*` options are for the mount table only; the kernel never sees them.
        if o.starts_with(b"x-") {
            continue;
        }
        if let Some(v) = o.strip_prefix(b"fsname=") {
            r.fsname = Some(v.to_vec());
        } else if let Some(v) = o.strip_prefix(b"subtype=") {
            r.subtype = Some(v.to_vec());
        } else if o == b"blkdev" {
            if !is_root {
                return Err("option blkdev is privileged".into());
            }
            r.blkdev = true;
        } else if o == b"auto_unmount" {
            r.auto_unmount = true;
        } else if o == b"nonempty"
            || o.starts_with(b"fd=")
            || o.starts_with(b"rootmode=")
            || o.starts_with(b"user_id=")
            || o.starts_with(b"group_id=")
        {
            // Set by the helper itself (or obsolete): the caller's value is dropped.
        } else {
            if !is_root && !user_allow_other && (o == b"allow_other" || o == b"allow_root") {
                return Err(format!(
                    "option {} only allowed if 'user_allow_other' is set in {FUSE_CONF}",
                    show(o)
                ));
            }
            if let Some(fo) = FLAG_OPTS.iter().find(|fo| fo.name.as_bytes() == o) {
                if !fo.user_ok && !is_root {
                    r.warnings.push(format!("unsafe option {} ignored", fo.name));
                } else if fo.set {
                    r.flags |= fo.flag;
                } else {
                    r.flags &= !fo.flag;
                }
            } else if o == b"default_permissions"
                || o == b"allow_other"
                || o.starts_with(b"max_read=")
                || o.starts_with(b"blksize=")
            {
                r.kernel.push(o.to_vec());
            } else {
                return Err(format!("unknown option '{}'", show(o)));
            }
        }
    }
    Ok(r)
}

/// The filesystem type as the mount table shows it: `fuse`, `fuseblk`, `fuse.SUBTYPE`.
pub fn fs_type(blkdev: bool, subtype: Option<&[u8]>) -> Vec<u8> {
    let mut t = if blkdev { b"fuseblk".to_vec() } else { b"fuse".to_vec() };
    if let Some(s) = subtype {
        t.push(b'.');
        t.extend_from_slice(s);
    }
    t
}

/// The mount's source: the fsname, else the subtype, else the device.
pub fn source(fsname: Option<&[u8]>, subtype: Option<&[u8]>, dev: &[u8]) -> Vec<u8> {
    fsname.or(subtype).unwrap_or(dev).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(opts: &str) -> Result<MountRequest, String> {
        parse(opts.as_bytes(), false, false)
    }

    #[test]
    fn defaults_are_nosuid_nodev() {
        let r = user("").unwrap();
        assert_eq!(r.flags, ms::NOSUID | ms::NODEV);
        assert!(r.kernel.is_empty());
    }

    #[test]
    fn unsafe_flags_are_ignored_for_users_only() {
        let r = user("suid,dev").unwrap();
        assert_eq!(r.flags, ms::NOSUID | ms::NODEV);
        assert_eq!(r.warnings, ["unsafe option suid ignored", "unsafe option dev ignored"]);
        let r = parse(b"suid,dev", true, false).unwrap();
        assert_eq!(r.flags, 0);
    }

    #[test]
    fn refusals() {
        assert_eq!(user("foo").unwrap_err(), "unknown option 'foo'");
        assert_eq!(user("a,,b").unwrap_err(), "unknown option 'a'");
        assert_eq!(user("blkdev").unwrap_err(), "option blkdev is privileged");
        assert_eq!(
            user("allow_other").unwrap_err(),
            "option allow_other only allowed if 'user_allow_other' is set in /etc/fuse.conf"
        );
        assert!(user("allow_root").is_err());
        // With user_allow_other, allow_root is still not a kernel option.
        assert_eq!(parse(b"allow_root", false, true).unwrap_err(), "unknown option 'allow_root'");
        assert_eq!(parse(b"allow_other", false, true).unwrap().kernel, [b"allow_other".to_vec()]);
    }

    #[test]
    fn caller_ids_are_dropped() {
        let r = user("fd=3,rootmode=40000,user_id=0,group_id=0,nonempty,x-gvfs-show").unwrap();
        assert!(r.kernel.is_empty());
    }

    #[test]
    fn names_and_escapes() {
        let r = user(r"fsname=a\,b,subtype=s,ro,max_read=4096,default_permissions").unwrap();
        assert_eq!(r.fsname.as_deref(), Some(&b"a,b"[..]));
        assert_eq!(r.subtype.as_deref(), Some(&b"s"[..]));
        assert_eq!(r.flags, ms::NOSUID | ms::NODEV | ms::RDONLY);
        assert_eq!(r.kernel, [b"max_read=4096".to_vec(), b"default_permissions".to_vec()]);
        assert_eq!(fs_type(false, r.subtype.as_deref()), b"fuse.s");
        assert_eq!(source(None, None, b"/dev/fuse"), b"/dev/fuse");
    }
}
