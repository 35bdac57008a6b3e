//! Mirrors the option half of libfuse's `lib/mount.c`: the mount option table, what each
//! option turns into (a field, a kernel option, a mount flag, an mtab note, a helper option),
//! and the option string recorded in mtab.

use nix::mount::MsFlags;

use crate::opt::scan::scan_u32;
use crate::opt::{ArgSrc, ArgVec, Handler, KEY_OPT, OptError, OptSpec, add_opt};

/// What the mount options asked for (libfuse's `struct mount_opts`).
///
/// The option lists are comma-separated as `fuse_opt_add_opt` builds them; `None` means no
/// option of that kind was given (libfuse's NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOpts {
    /// `-o allow_other` (also passed to the kernel through `kernel_opts`).
    pub allow_other: bool,
    /// mount(2) flags. Starts as `MS_NOSUID | MS_NODEV`.
    pub flags: MsFlags,
    /// `-o auto_unmount`: a helper unmounts when the filesystem process goes away.
    pub auto_unmount: bool,
    /// `-o blkdev`: mount as `fuseblk`, with `fsname` naming the block device.
    pub blkdev: bool,
    /// `-o fsname=NAME`: the mount's source.
    pub fsname: Option<Vec<u8>>,
    /// `-o subtype=NAME`: the mount type becomes `fuse.NAME`.
    pub subtype: Option<Vec<u8>>,
    /// The `subtype=` options as given, for the helper.
    pub subtype_opt: Option<Vec<u8>>,
    /// Options only recorded in mtab: `user=`, `-n`, and third-party `x-*` options.
    pub mtab_opts: Option<Vec<u8>>,
    /// Options for fusermount3 (`auto_unmount`, `blkdev`, `fsname=`), escaped.
    pub fusermount_opts: Option<Vec<u8>>,
    /// Options for the kernel's FUSE mount (`allow_other`, `default_permissions`, `max_read=`,
    /// `blksize=`, the SELinux `*context=` options).
    pub kernel_opts: Option<Vec<u8>>,
    /// `-o max_read=N`, 0 when not given.
    pub max_read: u32,
}

impl Default for MountOpts {
    /// libfuse's starting point: nothing set but `nosuid,nodev`.
    fn default() -> Self {
        MountOpts {
            allow_other: false,
            flags: MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            auto_unmount: false,
            blkdev: false,
            fsname: None,
            subtype: None,
            subtype_opt: None,
            mtab_opts: None,
            fusermount_opts: None,
            kernel_opts: None,
            max_read: 0,
        }
    }
}

/// `MS_NOSYMFOLLOW`, which nix does not name.
const MS_NOSYMFOLLOW: MsFlags = MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW);

/// A mount flag option: its name, its bit, and whether the name sets (`true`) or clears it.
struct FlagOpt {
    name: &'static [u8],
    flag: MsFlags,
    sets: bool,
}

const fn flag(name: &'static [u8], flag: MsFlags, sets: bool) -> FlagOpt {
    FlagOpt { name, flag, sets }
}

/// The flag options, in libfuse's order (the mtab string lists the set ones in this order).
/// `atime` is libfuse 3.14's (3.17 dropped it): kept so that 3.14 programs passing it work.
const FLAG_OPTS: &[FlagOpt] = &[
    flag(b"rw", MsFlags::MS_RDONLY, false),
    flag(b"ro", MsFlags::MS_RDONLY, true),
    flag(b"suid", MsFlags::MS_NOSUID, false),
    flag(b"nosuid", MsFlags::MS_NOSUID, true),
    flag(b"dev", MsFlags::MS_NODEV, false),
    flag(b"nodev", MsFlags::MS_NODEV, true),
    flag(b"exec", MsFlags::MS_NOEXEC, false),
    flag(b"noexec", MsFlags::MS_NOEXEC, true),
    flag(b"async", MsFlags::MS_SYNCHRONOUS, false),
    flag(b"sync", MsFlags::MS_SYNCHRONOUS, true),
    flag(b"atime", MsFlags::MS_NOATIME, false),
    flag(b"noatime", MsFlags::MS_NOATIME, true),
    flag(b"nodiratime", MsFlags::MS_NODIRATIME, true),
    flag(b"norelatime", MsFlags::MS_RELATIME, false),
    flag(b"nostrictatime", MsFlags::MS_STRICTATIME, false),
    flag(b"symfollow", MS_NOSYMFOLLOW, false),
    flag(b"nosymfollow", MS_NOSYMFOLLOW, true),
    flag(b"dirsync", MsFlags::MS_DIRSYNC, true),
];

/// A field of [`MountOpts`] a template stores to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    AllowOther,
    Blkdev,
    AutoUnmount,
    Fsname,
    MaxRead,
    Subtype,
}

// Keys the table hands to the callback.
const KEY_KERN_FLAG: i32 = 0;
const KEY_KERN_OPT: i32 = 1;
const KEY_FUSERMOUNT_OPT: i32 = 2;
const KEY_SUBTYPE_OPT: i32 = 3;
const KEY_MTAB_OPT: i32 = 4;
const KEY_RO: i32 = 6;

const fn set(templ: &'static [u8], f: Field) -> OptSpec<'static, Field> {
    OptSpec::set(templ, f)
}

const fn key(templ: &'static [u8], k: i32) -> OptSpec<'static, Field> {
    OptSpec::key(templ, k)
}

/// The mount option table, in libfuse's order (every matching template acts, so `allow_other`
/// both sets the field and goes to the kernel options).
pub const MOUNT_SPECS: &[OptSpec<'static, Field>] = &[
    set(b"allow_other", Field::AllowOther),
    set(b"blkdev", Field::Blkdev),
    set(b"auto_unmount", Field::AutoUnmount),
    set(b"fsname=%s", Field::Fsname),
    set(b"max_read=%u", Field::MaxRead),
    set(b"subtype=%s", Field::Subtype),
    key(b"allow_other", KEY_KERN_OPT),
    key(b"auto_unmount", KEY_FUSERMOUNT_OPT),
    key(b"blkdev", KEY_FUSERMOUNT_OPT),
    key(b"fsname=", KEY_FUSERMOUNT_OPT),
    key(b"subtype=", KEY_SUBTYPE_OPT),
    key(b"blksize=", KEY_KERN_OPT),
    key(b"default_permissions", KEY_KERN_OPT),
    key(b"context=", KEY_KERN_OPT),
    key(b"fscontext=", KEY_KERN_OPT),
    key(b"defcontext=", KEY_KERN_OPT),
    key(b"rootcontext=", KEY_KERN_OPT),
    key(b"max_read=", KEY_KERN_OPT),
    key(b"user=", KEY_MTAB_OPT),
    key(b"-n", KEY_MTAB_OPT),
    key(b"-r", KEY_RO),
    key(b"ro", KEY_KERN_FLAG),
    key(b"rw", KEY_KERN_FLAG),
    key(b"suid", KEY_KERN_FLAG),
    key(b"nosuid", KEY_KERN_FLAG),
    key(b"dev", KEY_KERN_FLAG),
    key(b"nodev", KEY_KERN_FLAG),
    key(b"exec", KEY_KERN_FLAG),
    key(b"noexec", KEY_KERN_FLAG),
    key(b"async", KEY_KERN_FLAG),
    key(b"sync", KEY_KERN_FLAG),
    key(b"dirsync", KEY_KERN_FLAG),
    key(b"atime", KEY_KERN_FLAG),
    key(b"noatime", KEY_KERN_FLAG),
    key(b"nodiratime", KEY_KERN_FLAG),
    key(b"nostrictatime", KEY_KERN_FLAG),
    key(b"symfollow", KEY_KERN_FLAG),
    key(b"nosymfollow", KEY_KERN_FLAG),
];

impl MountOpts {
    /// Apply the flag option `name`; false if there is no such flag option.
    fn apply_flag(&mut self, name: &[u8]) -> bool {
        let Some(f) = FLAG_OPTS.iter().find(|f| f.name == name) else { return false };
        self.flags.set(f.flag, f.sets);
        true
    }

    /// The filesystem type for mount(2): `fuse` or `fuseblk`, with `.SUBTYPE` if `subtype`.
    pub fn fs_type(&self, with_subtype: bool) -> Vec<u8> {
        let mut t = if self.blkdev { b"fuseblk".to_vec() } else { b"fuse".to_vec() };
        if let (true, Some(st)) = (with_subtype, &self.subtype) {
            t.push(b'.');
            t.extend_from_slice(st);
        }
        t
    }

    /// The mount source: `fsname`, else `subtype`, else the device's path.
    pub fn source(&self, devname: &[u8]) -> Vec<u8> {
        self.fsname.as_deref().or(self.subtype.as_deref()).unwrap_or(devname).to_vec()
    }

    /// The options recorded in mtab (or utab) for this mount: `rw` unless read-only, the mount
    /// flags that are set, the kernel options, then the mtab-only options.
    pub fn base_mtab_opts(&self) -> Vec<u8> {
        let mut list = None;
        if !self.flags.contains(MsFlags::MS_RDONLY) {
            add_opt(&mut list, b"rw", false);
        }
        for f in FLAG_OPTS {
            if f.sets && self.flags.contains(f.flag) {
                add_opt(&mut list, f.name, false);
            }
        }
        for extra in [&self.kernel_opts, &self.mtab_opts].into_iter().flatten() {
            add_opt(&mut list, extra, false);
        }
        list.unwrap_or_default()
    }
}

struct MountHandler {
    opts: MountOpts,
    /// The log line of a failure inside the key callback.
    error: Option<Vec<u8>>,
}

impl<A: ArgVec> Handler<A, Field> for MountHandler {
    fn call(&mut self, arg: &[u8], _src: ArgSrc, key: i32, _out: &mut A) -> i32 {
        let o = &mut self.opts;
        let list = match key {
            KEY_RO | KEY_KERN_FLAG => {
                let name = if key == KEY_RO { b"ro".as_slice() } else { arg };
                if o.apply_flag(name) {
                    return 0;
                }
                // Only reachable if the two tables disagree.
                self.error = Some(b"fuse: internal error, can't find mount flag\n".to_vec());
                return -1;
            }
            KEY_KERN_OPT => &mut o.kernel_opts,
            KEY_FUSERMOUNT_OPT => {
                add_opt(&mut o.fusermount_opts, arg, true);
                return 0;
            }
            KEY_SUBTYPE_OPT => &mut o.subtype_opt,
            KEY_MTAB_OPT => &mut o.mtab_opts,
            // Third-party options (`x-gvfs-notrash`) only go to mtab.
            KEY_OPT if arg.starts_with(b"x-") => &mut o.mtab_opts,
            // Everything else stays in the arguments.
            _ => return 1,
        };
        add_opt(list, arg, false);
        0
    }

    fn set_int(&mut self, target: &Field, value: i32, arg: &[u8]) -> Result<(), OptError> {
        let o = &mut self.opts;
        let on = value != 0;
        match target {
            Field::AllowOther => o.allow_other = on,
            Field::Blkdev => o.blkdev = on,
            Field::AutoUnmount => o.auto_unmount = on,
            _ => return Err(OptError::InvalidParam(arg.to_vec())),
        }
        Ok(())
    }

    fn set_param(
        &mut self,
        target: &Field,
        format: &[u8],
        param: &[u8],
        arg: &[u8],
    ) -> Result<(), OptError> {
        let o = &mut self.opts;
        match (target, format) {
            (Field::Fsname, b"%s") => o.fsname = Some(param.to_vec()),
            (Field::Subtype, b"%s") => o.subtype = Some(param.to_vec()),
            (Field::MaxRead, b"%u") => match scan_u32(param) {
                Some((v, _)) => o.max_read = v,
                None => return Err(OptError::InvalidParam(arg.to_vec())),
            },
            _ => return Err(OptError::InvalidParam(arg.to_vec())),
        }
        Ok(())
    }
}

/// Take the mount options out of `args` (libfuse's `parse_mount_opts`).
///
/// Recognised options are removed from `args`; all else (unknown `-o` members, other
/// arguments) is kept, rebuilt as the `fuse_opt` engine rebuilds an argument vector. On error
/// the message is logged, `args` is left as it was, and the error is returned.
pub fn parse_mount_opts<A: ArgVec>(args: &mut A) -> Result<MountOpts, OptError> {
    let input: Vec<Vec<u8>> = (0..args.len()).filter_map(|i| args.get(i)).collect();
    let mut h = MountHandler { opts: MountOpts::default(), error: None };
    let mut out: Vec<Vec<u8>> = Vec::new();
    let res = crate::opt::parse(&input, MOUNT_SPECS, &mut h, &mut out);
    let res = match (res, h.error.take()) {
        (Err(OptError::Callback), Some(m)) => Err(OptError::Other(m)),
        (r, _) => r,
    };
    if let Err(e) = res {
        if let Some(m) = e.message() {
            crate::log::err(&String::from_utf8_lossy(&m));
        }
        return Err(e);
    }
    if input.is_empty() {
        return Ok(h.opts);
    }
    while !args.is_empty() {
        args.pop();
    }
    for a in &out {
        args.push(a)?;
    }
    Ok(h.opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    fn parse(args: &[&str]) -> (Result<MountOpts, OptError>, Vec<Vec<u8>>) {
        let mut a = v(args);
        let r = parse_mount_opts(&mut a);
        (r, a)
    }

    fn s(o: &Option<Vec<u8>>) -> Option<&str> {
        o.as_deref().map(|b| std::str::from_utf8(b).unwrap())
    }

    #[test]
    fn defaults() {
        let (r, rest) = parse(&["prog"]);
        let o = r.unwrap();
        assert_eq!(o, MountOpts::default());
        assert_eq!(o.flags, MsFlags::MS_NOSUID | MsFlags::MS_NODEV);
        assert_eq!(rest, v(&["prog"]));
        assert_eq!(o.base_mtab_opts(), b"rw,nosuid,nodev");
        assert_eq!(o.fs_type(true), b"fuse");
        assert_eq!(o.source(b"/dev/fuse"), b"/dev/fuse");
    }

    #[test]
    fn empty_args_are_left_alone() {
        let mut a: Vec<Vec<u8>> = Vec::new();
        assert_eq!(parse_mount_opts(&mut a).unwrap(), MountOpts::default());
        assert!(a.is_empty());
    }

    #[test]
    fn kernel_options_collected_in_order() {
        let (r, rest) = parse(&[
            "prog",
            "-o",
            "default_permissions,allow_other,max_read=4096,blksize=512",
            "-ocontext=a,fscontext=b,defcontext=c,rootcontext=d",
        ]);
        let o = r.unwrap();
        assert!(o.allow_other);
        assert_eq!(o.max_read, 4096);
        assert_eq!(
            s(&o.kernel_opts),
            Some(
                "default_permissions,allow_other,max_read=4096,blksize=512,\
                 context=a,fscontext=b,defcontext=c,rootcontext=d"
            )
        );
        assert_eq!(rest, v(&["prog"]));
    }

    #[test]
    fn flags_set_and_cleared() {
        let (r, rest) = parse(&["prog", "-o", "ro,suid,dev,noexec,sync,dirsync,noatime"]);
        let o = r.unwrap();
        let want = MsFlags::MS_RDONLY
            | MsFlags::MS_NOEXEC
            | MsFlags::MS_SYNCHRONOUS
            | MsFlags::MS_DIRSYNC
            | MsFlags::MS_NOATIME;
        assert_eq!(o.flags, want);
        assert_eq!(o.kernel_opts, None);
        assert_eq!(rest, v(&["prog"]));
        assert_eq!(o.base_mtab_opts(), b"ro,noexec,sync,noatime,dirsync");

        let (r, _) = parse(&["prog", "-o", "ro,rw,exec,async,atime,nodiratime,nosymfollow"]);
        let o = r.unwrap();
        let want = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NODIRATIME | MS_NOSYMFOLLOW;
        assert_eq!(o.flags, want);
        assert_eq!(o.base_mtab_opts(), b"rw,nosuid,nodev,nodiratime,nosymfollow");

        let (r, _) = parse(&["prog", "-onosymfollow,symfollow,nostrictatime"]);
        assert_eq!(r.unwrap().flags, MsFlags::MS_NOSUID | MsFlags::MS_NODEV);
    }

    #[test]
    fn dash_r_means_ro_and_dash_n_goes_to_mtab() {
        let (r, rest) = parse(&["prog", "-r", "-n", "mnt", "-ouser=joe"]);
        let o = r.unwrap();
        assert!(o.flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(s(&o.mtab_opts), Some("-n,user=joe"));
        assert_eq!(rest, v(&["prog", "mnt"]));
    }

    #[test]
    fn names_and_helper_options() {
        let (r, rest) = parse(&["prog", "-o", "fsname=my\\,fs,subtype=hello,blkdev,auto_unmount"]);
        let o = r.unwrap();
        assert_eq!(s(&o.fsname), Some("my,fs"));
        assert_eq!(s(&o.subtype), Some("hello"));
        assert_eq!(s(&o.subtype_opt), Some("subtype=hello"));
        assert!(o.blkdev && o.auto_unmount);
        // The helper's list is escaped again, since it goes through `-o`.
        assert_eq!(s(&o.fusermount_opts), Some("fsname=my\\,fs,blkdev,auto_unmount"));
        assert_eq!(o.kernel_opts, None);
        assert_eq!(o.fs_type(true), b"fuseblk.hello");
        assert_eq!(o.fs_type(false), b"fuseblk");
        assert_eq!(o.source(b"/dev/fuse"), b"my,fs");
        assert_eq!(rest, v(&["prog"]));

        let (r, _) = parse(&["prog", "-osubtype=a", "-osubtype=b"]);
        let o = r.unwrap();
        assert_eq!(s(&o.subtype), Some("b"));
        assert_eq!(s(&o.subtype_opt), Some("subtype=a,subtype=b"));
        assert_eq!(o.source(b"/dev/fuse"), b"b");
        assert_eq!(o.fs_type(true), b"fuse.b");
    }

    #[test]
    fn unknown_options_stay() {
        // `nonempty` was a libfuse 2 option: libfuse 3's library does not know it either.
        let (r, rest) = parse(&[
            "prog",
            "-o",
            "nonempty,allow_other,x-gvfs-notrash,foo=1",
            "-f",
            "mnt",
            "-orelatime",
        ]);
        let o = r.unwrap();
        assert_eq!(s(&o.mtab_opts), Some("x-gvfs-notrash"));
        assert_eq!(s(&o.kernel_opts), Some("allow_other"));
        assert_eq!(rest, v(&["prog", "-o", "nonempty,foo=1,relatime", "-f", "mnt"]));
    }

    #[test]
    fn bad_max_read() {
        let mut a = v(&["prog", "-omax_read=lots", "x"]);
        let r = parse_mount_opts(&mut a);
        assert_eq!(r, Err(OptError::InvalidParam(b"max_read=lots".to_vec())));
        assert_eq!(a, v(&["prog", "-omax_read=lots", "x"]), "args untouched on error");
        let (r, _) = parse(&["prog", "-o"]);
        assert_eq!(r, Err(OptError::MissingArg(b"-o".to_vec())));
    }
}
