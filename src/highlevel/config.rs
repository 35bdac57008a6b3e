//! `struct fuse_config` as Rust, and the library's options (`fuse_new`'s own `-o` table).
//!
//! libfuse takes its options out of the argument vector before the session sees it: what this
//! table does not know is left for `fuse_session_new`, which refuses anything unknown.

use crate::opt::{self, ArgSrc, ArgVec, Handler, KEY_KEEP, OptError, OptSpec};

/// The high-level library's configuration (what `init` may change through `fuse_config`).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub set_gid: bool,
    pub gid: u32,
    pub set_uid: bool,
    pub uid: u32,
    pub set_mode: bool,
    pub umask: u32,
    pub entry_timeout: f64,
    pub negative_timeout: f64,
    pub attr_timeout: f64,
    pub intr: bool,
    pub intr_signal: i32,
    /// Seconds to remember forgotten nodes; -1 (`noforget`) is forever.
    pub remember: i32,
    pub hard_remove: bool,
    pub use_ino: bool,
    pub readdir_ino: bool,
    pub direct_io: bool,
    pub kernel_cache: bool,
    pub auto_cache: bool,
    pub no_rofd_flush: bool,
    pub ac_attr_timeout_set: bool,
    pub ac_attr_timeout: f64,
    pub nullpath_ok: bool,
    pub show_help: bool,
    pub modules: Option<Vec<u8>>,
    pub debug: bool,
    pub fmask: u32,
    pub dmask: u32,
    pub parallel_direct_writes: bool,
    pub flags: u32,
}

/// libfuse's default interrupt signal (SIGUSR1).
pub const DEFAULT_INTR_SIGNAL: i32 = libc::SIGUSR1;

impl Default for Config {
    fn default() -> Self {
        Config {
            set_gid: false,
            gid: 0,
            set_uid: false,
            uid: 0,
            set_mode: false,
            umask: 0,
            entry_timeout: 1.0,
            negative_timeout: 0.0,
            attr_timeout: 1.0,
            intr: false,
            intr_signal: DEFAULT_INTR_SIGNAL,
            remember: 0,
            hard_remove: false,
            use_ino: false,
            readdir_ino: false,
            direct_io: false,
            kernel_cache: false,
            auto_cache: false,
            no_rofd_flush: false,
            ac_attr_timeout_set: false,
            ac_attr_timeout: 0.0,
            nullpath_ok: false,
            show_help: false,
            modules: None,
            debug: false,
            fmask: 0,
            dmask: 0,
            parallel_direct_writes: false,
            flags: 0,
        }
    }
}

impl Config {
    /// Apply `uid=`, `gid=` and the permission masks to attributes the filesystem returned.
    pub fn apply_to_stat(&self, st: &mut libc::stat) {
        st.st_mode = self.masked_mode(st.st_mode);
        if self.set_uid {
            st.st_uid = self.uid;
        }
        if self.set_gid {
            st.st_gid = self.gid;
        }
    }

    /// A mode after `umask=`/`fmask=`/`dmask=` (unchanged without them).
    pub fn masked_mode(&self, mode: u32) -> u32 {
        if !self.set_mode {
            return mode;
        }
        let kind = mode & libc::S_IFMT;
        let mask = if kind == libc::S_IFDIR && self.dmask != 0 {
            self.dmask
        } else if kind != libc::S_IFDIR && self.fmask != 0 {
            self.fmask
        } else {
            self.umask
        };
        kind | (0o777 & !mask)
    }

    /// The attribute timeout `auto_cache` uses.
    pub fn auto_cache_timeout(&self) -> f64 {
        if self.ac_attr_timeout_set { self.ac_attr_timeout } else { self.attr_timeout }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Debug,
    KernelCache,
    AutoCache,
    NoRofdFlush,
    SetMode,
    Umask,
    Fmask,
    Dmask,
    SetUid,
    Uid,
    SetGid,
    Gid,
    EntryTimeout,
    AttrTimeout,
    AcAttrTimeout,
    AcAttrTimeoutSet,
    NegativeTimeout,
    Remember,
    Modules,
    ParallelDirectWrites,
    ShowHelp,
}

const fn set(templ: &'static [u8], f: Field, value: i32) -> OptSpec<'static, Field> {
    OptSpec { templ, target: Some(f), value }
}
const fn keep(templ: &'static [u8]) -> OptSpec<'static, Field> {
    OptSpec { templ, target: None, value: KEY_KEEP }
}

/// libfuse 3's table. The other `fuse_config` switches (`hard_remove`, `use_ino`,
/// `readdir_ino`, `direct_io`, `nullpath_ok`, `intr`, `intr_signal`) are the filesystem's to set
/// in `init`: as with libfuse 3, they are unknown options on the command line.
const LIB_SPECS: &[OptSpec<'static, Field>] = &[
    keep(b"debug"),
    keep(b"-d"),
    set(b"debug", Field::Debug, 1),
    set(b"-d", Field::Debug, 1),
    set(b"kernel_cache", Field::KernelCache, 1),
    set(b"auto_cache", Field::AutoCache, 1),
    set(b"noauto_cache", Field::AutoCache, 0),
    set(b"no_rofd_flush", Field::NoRofdFlush, 1),
    set(b"umask=", Field::SetMode, 1),
    set(b"umask=%o", Field::Umask, 0),
    set(b"fmask=", Field::SetMode, 1),
    set(b"fmask=%o", Field::Fmask, 0),
    set(b"dmask=", Field::SetMode, 1),
    set(b"dmask=%o", Field::Dmask, 0),
    set(b"uid=", Field::SetUid, 1),
    set(b"uid=%d", Field::Uid, 0),
    set(b"gid=", Field::SetGid, 1),
    set(b"gid=%d", Field::Gid, 0),
    set(b"entry_timeout=%lf", Field::EntryTimeout, 0),
    set(b"attr_timeout=%lf", Field::AttrTimeout, 0),
    set(b"ac_attr_timeout=%lf", Field::AcAttrTimeout, 0),
    set(b"ac_attr_timeout=", Field::AcAttrTimeoutSet, 1),
    set(b"negative_timeout=%lf", Field::NegativeTimeout, 0),
    set(b"noforget", Field::Remember, -1),
    set(b"remember=%u", Field::Remember, 0),
    set(b"modules=%s", Field::Modules, 0),
    set(b"parallel_direct_write=%d", Field::ParallelDirectWrites, 0),
];

/// `-h`/`--help` only: what the 3.0 entry point of `fuse_new` looks for.
const HELP_SPECS: &[OptSpec<'static, Field>] =
    &[set(b"-h", Field::ShowHelp, 1), set(b"--help", Field::ShowHelp, 1)];

struct LibHandler<'a>(&'a mut Config);

fn num<T: std::str::FromStr>(param: &[u8], arg: &[u8]) -> Result<T, OptError> {
    std::str::from_utf8(param)
        .ok()
        .and_then(|s| s.trim().parse::<T>().ok())
        .ok_or_else(|| OptError::InvalidParam(arg.to_vec()))
}

fn octal(param: &[u8], arg: &[u8]) -> Result<u32, OptError> {
    std::str::from_utf8(param)
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim(), 8).ok())
        .ok_or_else(|| OptError::InvalidParam(arg.to_vec()))
}

impl<A: ArgVec> Handler<A, Field> for LibHandler<'_> {
    fn call(&mut self, _arg: &[u8], _src: ArgSrc, _key: i32, _out: &mut A) -> i32 {
        1 // everything else is the session's
    }
    fn set_int(&mut self, target: &Field, value: i32, _arg: &[u8]) -> Result<(), OptError> {
        let c = &mut *self.0;
        let on = value != 0;
        match target {
            Field::Debug => c.debug = on,
            Field::KernelCache => c.kernel_cache = on,
            Field::AutoCache => c.auto_cache = on,
            Field::NoRofdFlush => c.no_rofd_flush = on,
            Field::SetMode => c.set_mode = on,
            Field::SetUid => c.set_uid = on,
            Field::SetGid => c.set_gid = on,
            Field::AcAttrTimeoutSet => c.ac_attr_timeout_set = on,
            Field::Remember => c.remember = value,
            Field::ShowHelp => c.show_help = on,
            _ => {}
        }
        Ok(())
    }
    fn set_param(
        &mut self,
        target: &Field,
        _format: &[u8],
        param: &[u8],
        arg: &[u8],
    ) -> Result<(), OptError> {
        let c = &mut *self.0;
        match target {
            Field::Umask => c.umask = octal(param, arg)?,
            Field::Fmask => c.fmask = octal(param, arg)?,
            Field::Dmask => c.dmask = octal(param, arg)?,
            Field::Uid => c.uid = num::<i64>(param, arg)? as u32,
            Field::Gid => c.gid = num::<i64>(param, arg)? as u32,
            Field::EntryTimeout => c.entry_timeout = num(param, arg)?,
            Field::AttrTimeout => c.attr_timeout = num(param, arg)?,
            Field::AcAttrTimeout => c.ac_attr_timeout = num(param, arg)?,
            Field::NegativeTimeout => c.negative_timeout = num(param, arg)?,
            Field::Remember => c.remember = num::<u32>(param, arg)? as i32,
            Field::Modules => c.modules = Some(param.to_vec()),
            Field::ParallelDirectWrites => c.parallel_direct_writes = num::<i32>(param, arg)? != 0,
            _ => return Err(OptError::InvalidParam(arg.to_vec())),
        }
        Ok(())
    }
}

/// Why the library's options were refused (the message has been logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadOptions;

/// Take the library's options out of `input` into `conf`; returns the arguments left for the
/// session. The error has been logged.
pub fn parse_lib_args(input: &[Vec<u8>], conf: &mut Config) -> Result<Vec<Vec<u8>>, BadOptions> {
    parse_with(input, LIB_SPECS, conf)
}

/// Look for `-h`/`--help` only (the 3.0 `fuse_new`); returns the arguments unchanged otherwise.
pub fn parse_help(input: &[Vec<u8>], conf: &mut Config) -> Result<Vec<Vec<u8>>, BadOptions> {
    parse_with(input, HELP_SPECS, conf)
}

fn parse_with(
    input: &[Vec<u8>],
    specs: &[OptSpec<'static, Field>],
    conf: &mut Config,
) -> Result<Vec<Vec<u8>>, BadOptions> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    match opt::parse(input, specs, &mut LibHandler(conf), &mut out) {
        Ok(()) => Ok(out),
        Err(e) => {
            if let Some(m) = e.message() {
                crate::log::err(&String::from_utf8_lossy(&m));
            }
            Err(BadOptions)
        }
    }
}

/// The user-facing part of the library options, as `fuse_lib_help` prints it.
pub const LIB_HELP: &str = concat!(
    "    -o kernel_cache        cache files in kernel\n",
    "    -o [no]auto_cache      enable caching based on modification times (off)\n",
    "    -o no_rofd_flush       disable flushing of read-only fd on close (off)\n",
    "    -o umask=M             set file permissions (octal)\n",
    "    -o fmask=M             set file permissions (octal)\n",
    "    -o dmask=M             set dir  permissions (octal)\n",
    "    -o uid=N               set file owner\n",
    "    -o gid=N               set file group\n",
    "    -o entry_timeout=T     cache timeout for names (1.0s)\n",
    "    -o negative_timeout=T  cache timeout for deleted names (0.0s)\n",
    "    -o attr_timeout=T      cache timeout for attributes (1.0s)\n",
    "    -o ac_attr_timeout=T   auto cache timeout for attributes (attr_timeout)\n",
    "    -o noforget            never forget cached inodes\n",
    "    -o remember=T          remember cached inodes for T seconds (0s)\n",
    "    -o modules=M1[:M2...]  names of modules to push onto filesystem stack\n",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn library_options_are_taken_and_the_rest_is_kept() {
        let mut c = Config::default();
        let rest = parse_lib_args(
            &v(&["prog", "-o", "kernel_cache,umask=022,uid=5,fsname=x", "-d", "mnt"]),
            &mut c,
        )
        .unwrap();
        assert!(c.kernel_cache && c.set_mode && c.set_uid && c.debug);
        assert_eq!((c.umask, c.uid), (0o22, 5));
        assert_eq!(rest, v(&["prog", "-o", "fsname=x", "-d", "mnt"]));
    }

    #[test]
    fn timeouts_and_remember_parse() {
        let mut c = Config::default();
        parse_lib_args(&v(&["p", "-oentry_timeout=2.5,noforget,ac_attr_timeout=3"]), &mut c)
            .unwrap();
        assert_eq!(c.entry_timeout, 2.5);
        assert_eq!(c.remember, -1);
        assert!(c.ac_attr_timeout_set);
        assert_eq!(c.auto_cache_timeout(), 3.0);
        let mut c = Config::default();
        assert!(parse_lib_args(&v(&["p", "-oumask=zz"]), &mut c).is_err());
    }

    #[test]
    fn help_lines_are_indented() {
        for line in LIB_HELP.lines() {
            assert!(line.starts_with("    -o "), "{line:?}");
        }
    }

    #[test]
    fn masks_apply_to_attributes() {
        let c = Config { set_mode: true, umask: 0o027, ..Config::default() };
        assert_eq!(c.masked_mode(libc::S_IFREG | 0o666), libc::S_IFREG | 0o750);
        let c = Config { set_mode: true, umask: 0o022, dmask: 0o077, ..Config::default() };
        assert_eq!(c.masked_mode(libc::S_IFDIR | 0o777), libc::S_IFDIR | 0o700);
        assert_eq!(c.masked_mode(libc::S_IFREG), libc::S_IFREG | 0o755);
        assert_eq!(Config::default().masked_mode(libc::S_IFREG | 0o4644), libc::S_IFREG | 0o4644);
    }
}
