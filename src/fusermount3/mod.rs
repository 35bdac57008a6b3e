//! Mirrors libfuse's `util/fusermount.c`: `fusermount3`, the setuid-root helper that mounts
//! FUSE filesystems for ordinary users and unmounts them again.
//!
//! The flows:
//! - classic: open `/dev/fuse`, check the options and the mountpoint, mount, send the device
//!   descriptor over the comm socket (`_FUSE_COMMFD` or `--comm-fd`);
//! - `--sync-init`: the same checks, then send the descriptor first, wait (at most five
//!   minutes) for the caller's one-byte "proceed", mount with the new mount API onto the
//!   pinned mountpoint, send the int32 status;
//! - `auto_unmount` (an option of either flow, or `--auto-unmount` alone): stay on the socket
//!   and, once it closes, unmount the mount if it is still the one made (or named) at start;
//! - `-u` (`-z` lazily): unmount one of the caller's own FUSE mounts.
//!
//! Credentials change only in [`privs`]; `unsafe` lives in `sys` (and one fd borrow in
//! [`proto`]). Every refusal is one line on stderr, prefixed with the program name.

pub mod conf;
pub mod mountpoint;
pub mod opts;
pub mod privs;
pub mod proto;
mod sys;

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, umount2};
use nix::sys::stat::Mode;

use mountpoint::{MountEntry, Pinned};
use opts::{MountRequest, ms};
use privs::{AsUser, Caller};

/// The version `-V` reports: the libfuse release whose helper this one matches.
pub const VERSION: &str = "3.19.0";
const DEV_FUSE: &str = "/dev/fuse";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cli {
    pub opts: Option<OsString>,
    pub unmount: bool,
    pub lazy: bool,
    pub quiet: bool,
    pub auto_unmount_only: bool,
    pub comm_fd: Option<String>,
    pub sync_init: bool,
    pub mountpoint: OsString,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Cli),
    Help,
    Version,
    /// A message (without the program name) and exit status 1.
    Fail(String),
}

const LONG: &[(&str, bool, char)] = &[
    ("unmount", false, 'u'),
    ("lazy", false, 'z'),
    ("quiet", false, 'q'),
    ("help", false, 'h'),
    ("version", false, 'V'),
    ("options", true, 'o'),
    ("auto-unmount", false, 'U'),
    ("comm-fd", true, 'c'),
    ("sync-init", false, 'S'),
];

/// Parse the arguments after the program name the way `getopt_long("hVo:uzq")` does: options
/// and operands may mix, `--` ends the options, long options may be abbreviated.
pub fn parse_args(args: &[OsString]) -> Parsed {
    let mut cli = Cli::default();
    let mut operands: Vec<OsString> = Vec::new();
    let mut i = 0;
    let apply = |c: char, val: Option<OsString>, cli: &mut Cli| -> Option<Parsed> {
        match c {
            'h' => return Some(Parsed::Help),
            'V' => return Some(Parsed::Version),
            'o' => cli.opts = val,
            'u' => cli.unmount = true,
            'U' => {
                cli.unmount = true;
                cli.auto_unmount_only = true;
            }
            'c' => cli.comm_fd = val.map(|v| v.to_string_lossy().into_owned()),
            'S' => cli.sync_init = true,
            'z' => cli.lazy = true,
            'q' => cli.quiet = true,
            _ => {}
        }
        None
    };
    while i < args.len() {
        let a = args[i].as_bytes();
        i += 1;
        if a == b"--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix(b"--") {
            let (name, val) = match long.iter().position(|&b| b == b'=') {
                Some(p) => (&long[..p], Some(OsStr::from_bytes(&long[p + 1..]).to_owned())),
                None => (long, None),
            };
            let shown = String::from_utf8_lossy(name);
            let exact = LONG.iter().find(|(n, ..)| n.as_bytes() == name);
            let cands: Vec<_> =
                LONG.iter().filter(|(n, ..)| n.as_bytes().starts_with(name)).collect();
            let Some(&(lname, has_arg, c)) =
                exact.or(if cands.len() == 1 { Some(cands[0]) } else { None })
            else {
                return Parsed::Fail(if cands.is_empty() {
                    format!("unrecognized option '--{shown}'")
                } else {
                    format!("option '--{shown}' is ambiguous")
                });
            };
            let val = if has_arg {
                match val {
                    Some(v) => Some(v),
                    None if i < args.len() => {
                        i += 1;
                        Some(args[i - 1].clone())
                    }
                    None => {
                        return Parsed::Fail(format!("option '--{lname}' requires an argument"));
                    }
                }
            } else if val.is_some() {
                return Parsed::Fail(format!("option '--{lname}' doesn't allow an argument"));
            } else {
                None
            };
            if let Some(p) = apply(c, val, &mut cli) {
                return p;
            }
            continue;
        }
        if a.len() > 1 && a[0] == b'-' {
            let mut j = 1;
            while j < a.len() {
                let c = a[j] as char;
                j += 1;
                match c {
                    'h' | 'V' | 'u' | 'z' | 'q' => {
                        if let Some(p) = apply(c, None, &mut cli) {
                            return p;
                        }
                    }
                    'o' => {
                        let val = if j < a.len() {
                            OsStr::from_bytes(&a[j..]).to_owned()
                        } else if i < args.len() {
                            i += 1;
                            args[i - 1].clone()
                        } else {
                            return Parsed::Fail("option requires an argument -- 'o'".into());
                        };
                        apply('o', Some(val), &mut cli);
                        break;
                    }
                    _ => return Parsed::Fail(format!("invalid option -- '{c}'")),
                }
            }
            continue;
        }
        operands.push(args[i - 1].clone());
    }
    if cli.lazy && !cli.unmount {
        return Parsed::Fail("-z can only be used with -u".into());
    }
    match operands.len() {
        0 => Parsed::Fail("missing mountpoint argument".into()),
        1 => {
            cli.mountpoint = operands.pop().unwrap_or_default();
            Parsed::Run(cli)
        }
        _ => Parsed::Fail("extra arguments after the mountpoint".into()),
    }
}

fn usage(prog: &str) -> String {
    format!(
        "{prog}: [options] mountpoint\n\
         Options:\n \
         -h                 print help\n \
         -V                 print version\n \
         -o opt[,opt...]    mount options\n \
         -u                 unmount\n \
         -q                 quiet\n \
         -z                 lazy unmount\n"
    )
}

/// Make sure descriptors 0, 1 and 2 are open (on /dev/null if they were closed), so nothing
/// the helper opens can be mistaken for stdio.
fn ensure_stdio() {
    loop {
        match nix::fcntl::open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
            Ok(fd) if fd.as_raw_fd() <= 2 => {
                // It is stdio now, for the rest of the process.
                let _ = fd.into_raw_fd();
            }
            Ok(_) => return,
            // Without /dev/null there is no way to report anything either.
            Err(_) => std::process::exit(1),
        }
    }
}

/// Point stdio at /dev/null (the auto_unmount wait must not hold the caller's pipes open).
fn stdio_to_null() {
    if let Ok(null) = nix::fcntl::open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

/// The `fusermount3` program.
pub fn main() -> ! {
    let args: Vec<OsString> = std::env::args_os().collect();
    std::process::exit(run(args))
}

struct Helper {
    prog: String,
    caller: Caller,
}

impl Helper {
    fn say(&self, msg: &str) {
        eprintln!("{}: {msg}", self.prog);
    }

    fn fail(&self, msg: &str) -> i32 {
        self.say(msg);
        1
    }
}

fn run(args: Vec<OsString>) -> i32 {
    ensure_stdio();
    let prog = args.first().map_or("fusermount".into(), |a| a.to_string_lossy().into_owned());
    // The only variable the helper reads; everything else goes before anything can use it.
    let env_comm = std::env::var_os("_FUSE_COMMFD").map(|v| v.to_string_lossy().into_owned());
    sys::clear_env();
    let h = Helper { prog, caller: Caller::current() };
    let cli = match parse_args(args.get(1..).unwrap_or_default()) {
        Parsed::Run(cli) => cli,
        Parsed::Help => {
            print!("{}", usage(&h.prog));
            return 1;
        }
        Parsed::Version => {
            println!("fusermount3 version: {VERSION}");
            return 0;
        }
        Parsed::Fail(m) => return h.fail(&m),
    };
    nix::sys::stat::umask(Mode::from_bits_truncate(0o033));
    let mounting = !cli.unmount || cli.auto_unmount_only;
    let comm_text = if mounting { cli.comm_fd.clone().or(env_comm) } else { None };
    // Descriptors the caller left open are not ours to use (or to pass on).
    sys::close_fds_except(comm_text.as_deref().and_then(|t| t.trim().parse().ok()));

    let mnt = match mountpoint::resolve(&h.caller, &cli.mountpoint) {
        Ok(m) => m,
        Err(m) => return h.fail(&m),
    };
    if !mounting {
        return h.unmount(&mnt, cli.lazy, cli.quiet);
    }
    let Some(text) = comm_text else {
        return h.fail("old style mounting not supported");
    };
    let comm = match proto::comm_fd(&text) {
        Ok(c) => c,
        Err(m) => return h.fail(&m),
    };
    if cli.auto_unmount_only {
        return match h.existing_mount(&mnt) {
            Ok(target) => h.wait_and_unmount(&comm, &target),
            Err(m) => h.fail(&m),
        };
    }
    let opts = cli.opts.as_deref().map(OsStr::as_bytes).unwrap_or_default();
    let res = if cli.sync_init {
        h.mount_sync_init(&mnt, opts, &comm)
    } else {
        h.mount_classic(&mnt, opts, &comm)
    };
    match res {
        Ok((target, true)) => h.wait_and_unmount(&comm, &target),
        Ok((_, false)) => 0,
        Err(m) => {
            if !m.is_empty() {
                h.say(&m);
            }
            1
        }
    }
}

/// Everything checked before mounting.
struct Prepared {
    dev: OwnedFd,
    pin: Pinned,
    req: MountRequest,
}

/// An error of the mount itself: the errno (for `--sync-init`'s status) and the message.
struct MountFailed(Errno, String);

impl Helper {
    fn read_conf(&self) -> conf::Conf {
        let text = {
            let _user = AsUser::enter(&self.caller);
            std::fs::read(conf::FUSE_CONF)
        };
        match text {
            Ok(t) => {
                let (c, warnings) = conf::parse(&t);
                for w in warnings {
                    self.say(&w);
                }
                c
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => conf::Conf::default(),
            Err(e) => {
                self.say(&format!("failed to open {}: {e}", conf::FUSE_CONF));
                conf::Conf::default()
            }
        }
    }

    /// Open the device, read fuse.conf, apply mount_max, check and pin the mountpoint, check
    /// the options: in fusermount3's order.
    fn prepare(&self, mnt: &Path, opts: &[u8]) -> Result<Prepared, String> {
        let dev = {
            let _user = AsUser::enter(&self.caller);
            nix::fcntl::open(DEV_FUSE, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        }
        .map_err(|e| match e {
            Errno::ENODEV | Errno::ENOENT => {
                format!("fuse device {DEV_FUSE} not found. Kernel module not loaded?")
            }
            e => format!("failed to open {DEV_FUSE}: {}", crate::sys::strerror(e as i32)),
        })?;
        let conf = self.read_conf();
        if !self.caller.is_root() && conf.mount_max != -1 {
            let n = mountpoint::count_fuse(&mountpoint::mounts()?);
            if n as i64 >= conf.mount_max {
                return Err(format!(
                    "too many FUSE filesystems mounted; mount_max=N can be set in {}",
                    conf::FUSE_CONF
                ));
            }
        }
        let pin = mountpoint::check_and_pin(&self.caller, mnt)?;
        let req = opts::parse(opts, self.caller.is_root(), conf.user_allow_other)?;
        for w in &req.warnings {
            self.say(w);
        }
        let page =
            nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096)
                as usize;
        let (uid, gid) = (self.caller.uid.as_raw(), self.caller.gid.as_raw());
        if req.data_len(dev.as_raw_fd(), pin.rootmode, uid, gid) > page - 1 {
            return Err("mount options too long".into());
        }
        Ok(Prepared { dev, pin, req })
    }

    /// Mount with fsopen/fsconfig/fsmount and attach onto the pinned mountpoint. Returns the
    /// attached mount's descriptor.
    fn mount(&self, p: &Prepared) -> Result<OwnedFd, MountFailed> {
        let fail = |what: &str, e: Errno| {
            MountFailed(e, format!("{what}: {}", crate::sys::strerror(e as i32)))
        };
        let bad = |e: Errno| fail("mount failed", e);
        let req = &p.req;
        let fs = sys::fsopen(if req.blkdev { c"fuseblk" } else { c"fuse" }).map_err(bad)?;
        let s = |fs: &OwnedFd, k: &std::ffi::CStr, v: &[u8]| -> Result<(), MountFailed> {
            let v = sys::cstring(v).map_err(bad)?;
            sys::fsconfig_string(fs, k, &v).map_err(bad)
        };
        if let Some(sub) = &req.subtype {
            s(&fs, c"subtype", sub)?;
        }
        let source =
            opts::source(req.fsname.as_deref(), req.subtype.as_deref(), DEV_FUSE.as_bytes());
        s(&fs, c"source", &source)?;
        for (flag, key) in
            [(ms::RDONLY, c"ro"), (ms::SYNCHRONOUS, c"sync"), (ms::DIRSYNC, c"dirsync")]
        {
            if req.flags & flag != 0 {
                sys::fsconfig_flag(&fs, key).map_err(bad)?;
            }
        }
        for k in &req.kernel {
            match k.iter().position(|&b| b == b'=') {
                Some(eq) => {
                    let key = sys::cstring(&k[..eq]).map_err(bad)?;
                    s(&fs, &key, &k[eq + 1..])?;
                }
                None => sys::fsconfig_flag(&fs, &sys::cstring(k).map_err(bad)?).map_err(bad)?,
            }
        }
        s(&fs, c"fd", p.dev.as_raw_fd().to_string().as_bytes())?;
        s(&fs, c"rootmode", format!("{:o}", p.pin.rootmode).as_bytes())?;
        s(&fs, c"user_id", self.caller.uid.to_string().as_bytes())?;
        s(&fs, c"group_id", self.caller.gid.to_string().as_bytes())?;
        sys::fsconfig_create(&fs).map_err(bad)?;
        let mut attrs = 0;
        for (flag, attr) in [
            (ms::RDONLY, sys::MOUNT_ATTR_RDONLY),
            (ms::NOSUID, sys::MOUNT_ATTR_NOSUID),
            (ms::NODEV, sys::MOUNT_ATTR_NODEV),
            (ms::NOEXEC, sys::MOUNT_ATTR_NOEXEC),
            (ms::NOATIME, sys::MOUNT_ATTR_NOATIME),
            (ms::NODIRATIME, sys::MOUNT_ATTR_NODIRATIME),
            (ms::NOSYMFOLLOW, sys::MOUNT_ATTR_NOSYMFOLLOW),
        ] {
            if req.flags & flag != 0 {
                attrs |= attr;
            }
        }
        let m = sys::fsmount(&fs, attrs).map_err(bad)?;
        sys::move_mount_onto(&m, p.pin.fd.as_fd()).map_err(bad)?;
        Ok(m)
    }

    /// The mount table's entry for the mount `mfd` is on.
    fn entry_of(&self, mfd: &OwnedFd) -> Result<MountEntry, String> {
        let id = mountpoint::mount_id_of(mfd)?;
        mountpoint::mounts()?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| "new mount not found in /proc/self/mountinfo".to_string())
    }

    fn mount_classic(
        &self,
        mnt: &Path,
        opts: &[u8],
        comm: &proto::CommFd,
    ) -> Result<(MountEntry, bool), String> {
        let p = self.prepare(mnt, opts)?;
        let m = self.mount(&p).map_err(|MountFailed(_, m)| m)?;
        let target = self.entry_of(&m);
        if let Err(e) = comm.send_fd(&p.dev) {
            detach(&m);
            return Err(e);
        }
        Ok((target?, p.req.auto_unmount))
    }

    fn mount_sync_init(
        &self,
        mnt: &Path,
        opts: &[u8],
        comm: &proto::CommFd,
    ) -> Result<(MountEntry, bool), String> {
        let p = self.prepare(mnt, opts)?;
        comm.send_fd(&p.dev)?;
        comm.wait_proceed(proto::PROCEED_TIMEOUT)?;
        let res = self.mount(&p);
        let status = match &res {
            Ok(_) => 0,
            Err(MountFailed(e, _)) => -(*e as i32),
        };
        if let Err(m) = comm.send_status(status) {
            self.say(&m);
        }
        let m = res.map_err(|MountFailed(_, m)| m)?;
        Ok((self.entry_of(&m)?, p.req.auto_unmount))
    }

    /// `--auto-unmount` alone: the caller's FUSE mount at `mnt`, as it is now.
    fn existing_mount(&self, mnt: &Path) -> Result<MountEntry, String> {
        let not_found = || format!("entry for {} not found in /etc/mtab", mnt.display());
        let fd = mountpoint::open_path(&self.caller, mnt).map_err(|_| not_found())?;
        let id = mountpoint::mount_id_of(&fd)?;
        mountpoint::mounts()?
            .into_iter()
            .find(|e| {
                e.id == id
                    && e.mount_point == mnt
                    && e.is_fuse()
                    && (self.caller.is_root() || e.owned_by(self.caller.uid.as_raw()))
            })
            .ok_or_else(not_found)
    }

    /// Become a quiet daemon on the comm socket; when it closes, detach `target` if it is
    /// still mounted where it was and still the same mount.
    fn wait_and_unmount(&self, comm: &proto::CommFd, target: &MountEntry) -> i32 {
        sys::close_fds_except(Some(comm.raw()));
        stdio_to_null();
        let _ = nix::unistd::setsid();
        let _ = nix::unistd::chdir("/");
        let _ = nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_BLOCK,
            Some(&nix::sys::signal::SigSet::all()),
            None,
        );
        comm.wait_eof();
        let Ok(now) = mountpoint::mounts() else { return 1 };
        // Gone (a clean unmount) or replaced (the id reused by another mount): nothing to do.
        let Some(e) = now.iter().find(|e| e.id == target.id) else { return 0 };
        if e.dev != target.dev || e.mount_point != target.mount_point || !e.is_fuse() {
            return 0;
        }
        // The path still leads to this very mount (not to one stacked on top of it)?
        let Ok(fd) = mountpoint::open_path(&self.caller, &target.mount_point) else { return 0 };
        if mountpoint::mount_id_of(&fd).ok() != Some(target.id) {
            return 0;
        }
        if detach(&fd) { 0 } else { 1 }
    }

    /// `-u`: unmount the caller's own FUSE mount at `mnt` (root: any mount).
    fn unmount(&self, mnt: &Path, lazy: bool, quiet: bool) -> i32 {
        let not_found = || {
            if quiet {
                1
            } else {
                self.fail(&format!("entry for {} not found in /etc/mtab", mnt.display()))
            }
        };
        let fd = match mountpoint::open_path(&self.caller, mnt) {
            Ok(fd) => fd,
            Err(_) if !self.caller.is_root() => return not_found(),
            Err(e) => return self.unmount_failed(mnt, e, quiet),
        };
        let entry = match (mountpoint::mount_id_of(&fd), mountpoint::mounts()) {
            (Ok(id), Ok(all)) => all.into_iter().find(|e| e.id == id && e.mount_point == mnt),
            (Err(m), _) | (_, Err(m)) => return self.fail(&m),
        };
        let ours =
            entry.as_ref().is_some_and(|e| e.is_fuse() && e.owned_by(self.caller.uid.as_raw()));
        if !self.caller.is_root() && !ours {
            return not_found();
        }
        if entry.is_none() {
            // Root naming something that is not a mountpoint: umount2's own answer.
            return self.unmount_failed(mnt, Errno::EINVAL, quiet);
        }
        if lazy {
            // The descriptor names exactly the mount that was checked.
            return if detach(&fd) { 0 } else { self.unmount_failed(mnt, Errno::last(), quiet) };
        }
        // A plain unmount fails while any descriptor (ours too) holds the mount: close it and
        // unmount by name from the pinned parent, not following a final symlink.
        drop(fd);
        let (Some(parent), Some(last)) = (mnt.parent(), mnt.file_name()) else {
            return self.unmount_failed(mnt, Errno::EINVAL, quiet);
        };
        let res = {
            let _user = AsUser::enter(&self.caller);
            nix::unistd::chdir(parent)
                .and_then(|()| umount2(Path::new(last), MntFlags::UMOUNT_NOFOLLOW))
        };
        let _ = nix::unistd::chdir("/");
        match res {
            Ok(()) => 0,
            Err(e) => self.unmount_failed(mnt, e, quiet),
        }
    }

    fn unmount_failed(&self, mnt: &Path, e: Errno, quiet: bool) -> i32 {
        if !quiet {
            self.say(&format!(
                "failed to unmount {}: {}",
                mnt.display(),
                crate::sys::strerror(e as i32)
            ));
        }
        1
    }
}

/// Lazily detach the mount `fd` is on (its root), through `/proc/self/fd`: no path lookup
/// that anyone could redirect.
fn detach(fd: &impl AsRawFd) -> bool {
    let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    umount2(&path, MntFlags::MNT_DETACH).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        parse_args(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn command_lines() {
        let Parsed::Run(c) = p(&["-o", "ro,fsname=x", "--", "/mnt"]) else { panic!() };
        assert_eq!(c.opts.as_deref(), Some(OsStr::new("ro,fsname=x")));
        assert_eq!(c.mountpoint, "/mnt");
        let Parsed::Run(c) = p(&["/mnt", "-uzq"]) else { panic!() };
        assert!(c.unmount && c.lazy && c.quiet);
        let Parsed::Run(c) = p(&["--sync-init", "--comm-fd=5", "-oro", "/m"]) else { panic!() };
        assert!(c.sync_init);
        assert_eq!(c.comm_fd.as_deref(), Some("5"));
        assert_eq!(c.opts.as_deref(), Some(OsStr::new("ro")));
        let Parsed::Run(c) = p(&["--auto-unm", "--", "-odd"]) else { panic!() };
        assert!(c.auto_unmount_only && c.unmount);
        assert_eq!(c.mountpoint, "-odd");
        assert_eq!(p(&["-V", "/m"]), Parsed::Version);
        assert_eq!(p(&["-h"]), Parsed::Help);
        assert_eq!(p(&["-z", "/m"]), Parsed::Fail("-z can only be used with -u".into()));
        assert_eq!(p(&[]), Parsed::Fail("missing mountpoint argument".into()));
        assert_eq!(p(&["a", "b"]), Parsed::Fail("extra arguments after the mountpoint".into()));
        assert_eq!(p(&["-x", "/m"]), Parsed::Fail("invalid option -- 'x'".into()));
        assert_eq!(p(&["--bogus", "/m"]), Parsed::Fail("unrecognized option '--bogus'".into()));
        assert_eq!(p(&["/m", "-o"]), Parsed::Fail("option requires an argument -- 'o'".into()));
    }
}
