//! Mirrors `fuse_parse_cmdline()` of <fuse_lowlevel.h>: the options every simple filesystem
//! takes (`-h`, `-V`, `-d`, `-f`, `-s`, `-o clone_fd`, thread limits) and its mountpoint.
//!
//! Recognised options are consumed, except `-d`/`-o debug` and `-o fsname=`/`-o subtype=`,
//! which the session and the mount code need to see again; everything unknown is kept. The
//! first non-option is the mountpoint (made absolute with `realpath`, except for the
//! `/dev/fd/N` form, which is kept as written); a second one is an error.

use super::scan::scan_u32;
use super::{ArgSrc, ArgVec, Handler, KEY_KEEP, KEY_NONOPT, OptError, OptSpec};

/// The parsed options, in Rust form; the C layer copies them into `struct fuse_cmdline_opts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdlineOpts {
    pub singlethread: i32,
    pub foreground: i32,
    pub debug: i32,
    pub nodefault_subtype: i32,
    pub mountpoint: Option<Vec<u8>>,
    pub show_version: i32,
    pub show_help: i32,
    pub clone_fd: i32,
    pub max_idle_threads: u32,
    pub max_threads: u32,
}

impl Default for CmdlineOpts {
    /// The 3.12 defaults: no idle-thread limit (`UINT_MAX`), at most 10 worker threads.
    fn default() -> Self {
        CmdlineOpts {
            singlethread: 0,
            foreground: 0,
            debug: 0,
            nodefault_subtype: 0,
            mountpoint: None,
            show_version: 0,
            show_help: 0,
            clone_fd: 0,
            max_idle_threads: u32::MAX,
            max_threads: 10,
        }
    }
}

/// A field of [`CmdlineOpts`] a template stores to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Singlethread,
    Foreground,
    Debug,
    NodefaultSubtype,
    ShowVersion,
    ShowHelp,
    CloneFd,
    MaxIdleThreads,
    MaxThreads,
}

const fn set(templ: &'static [u8], f: Field) -> OptSpec<'static, Field> {
    OptSpec::set(templ, f)
}

const fn key(templ: &'static [u8], k: i32) -> OptSpec<'static, Field> {
    OptSpec::key(templ, k)
}

/// The option table, in libfuse's order (every matching entry acts, in this order).
pub const CMDLINE_SPECS: &[OptSpec<'static, Field>] = &[
    set(b"-h", Field::ShowHelp),
    set(b"--help", Field::ShowHelp),
    set(b"-V", Field::ShowVersion),
    set(b"--version", Field::ShowVersion),
    set(b"-d", Field::Debug),
    set(b"debug", Field::Debug),
    set(b"-d", Field::Foreground),
    set(b"debug", Field::Foreground),
    key(b"-d", KEY_KEEP),
    key(b"debug", KEY_KEEP),
    set(b"-f", Field::Foreground),
    set(b"-s", Field::Singlethread),
    set(b"fsname=", Field::NodefaultSubtype),
    key(b"fsname=", KEY_KEEP),
    set(b"subtype=", Field::NodefaultSubtype),
    key(b"subtype=", KEY_KEEP),
    set(b"clone_fd", Field::CloneFd),
    set(b"max_idle_threads=%u", Field::MaxIdleThreads),
    set(b"max_threads=%u", Field::MaxThreads),
];

/// Resolves a mountpoint to an absolute path, or answers the `strerror` text of the failure.
pub type Realpath<'r> = &'r mut dyn FnMut(&[u8]) -> Result<Vec<u8>, String>;

struct CmdlineHandler<'r> {
    opts: CmdlineOpts,
    realpath: Realpath<'r>,
    /// The log line of a failure inside the key callback.
    error: Option<Vec<u8>>,
}

impl CmdlineHandler<'_> {
    fn fail(&mut self, parts: &[&[u8]]) -> i32 {
        self.error = Some(parts.concat());
        -1
    }
}

impl<A: ArgVec> Handler<A, Field> for CmdlineHandler<'_> {
    fn call(&mut self, arg: &[u8], _src: ArgSrc, key: i32, _out: &mut A) -> i32 {
        if key != KEY_NONOPT {
            return 1;
        }
        if self.opts.mountpoint.is_some() {
            return self.fail(&[b"fuse: invalid argument `", arg, b"'\n"]);
        }
        if super::scan::dev_fd(arg).is_some() {
            self.opts.mountpoint = Some(arg.to_vec());
            return 0;
        }
        match (self.realpath)(arg) {
            Ok(p) => {
                self.opts.mountpoint = Some(p);
                0
            }
            Err(why) => {
                self.fail(&[b"fuse: bad mount point `", arg, b"': ", why.as_bytes(), b"\n"])
            }
        }
    }

    fn set_int(&mut self, target: &Field, value: i32, _arg: &[u8]) -> Result<(), OptError> {
        let o = &mut self.opts;
        match target {
            Field::Singlethread => o.singlethread = value,
            Field::Foreground => o.foreground = value,
            Field::Debug => o.debug = value,
            Field::NodefaultSubtype => o.nodefault_subtype = value,
            Field::ShowVersion => o.show_version = value,
            Field::ShowHelp => o.show_help = value,
            Field::CloneFd => o.clone_fd = value,
            Field::MaxIdleThreads => o.max_idle_threads = value as u32,
            Field::MaxThreads => o.max_threads = value as u32,
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
        let slot = match target {
            Field::MaxIdleThreads => &mut self.opts.max_idle_threads,
            Field::MaxThreads => &mut self.opts.max_threads,
            _ => return Err(OptError::InvalidParam(arg.to_vec())),
        };
        match (format, scan_u32(param)) {
            (b"%u", Some((v, _))) => {
                *slot = v;
                Ok(())
            }
            _ => Err(OptError::InvalidParam(arg.to_vec())),
        }
    }
}

/// Parse `input` with the built-in table into `out` (which should start empty). Returns the
/// options found so far together with the outcome; on error, the message is in the error
/// (a failing mountpoint comes as [`OptError::Other`]).
///
/// The default `-osubtype=` is not added here: see [`default_subtype_arg`].
pub fn parse_cmdline<A: ArgVec>(
    input: &[Vec<u8>],
    out: &mut A,
    realpath: Realpath<'_>,
) -> (CmdlineOpts, Result<(), OptError>) {
    let mut h = CmdlineHandler { opts: CmdlineOpts::default(), realpath, error: None };
    let res = super::parse(input, CMDLINE_SPECS, &mut h, out);
    let res = match (res, h.error.take()) {
        (Err(OptError::Callback), Some(m)) => Err(OptError::Other(m)),
        (r, _) => r,
    };
    (h.opts, res)
}

/// The `-osubtype=NAME` argument added when neither `fsname=` nor `subtype=` was given. NAME is
/// what follows the program name's last `/`; a name ending in `/` gives `/` itself.
pub fn default_subtype_arg(progname: &[u8]) -> Vec<u8> {
    let base = match progname.iter().rposition(|&c| c == b'/') {
        None => progname,
        Some(i) if i + 1 < progname.len() => &progname[i + 1..],
        Some(i) => &progname[i..],
    };
    [b"-osubtype=".as_slice(), base].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    fn run(args: &[&str]) -> (CmdlineOpts, Result<(), OptError>, Vec<Vec<u8>>) {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut rp = |p: &[u8]| -> Result<Vec<u8>, String> {
            if p.starts_with(b"/nonexistent") {
                Err("No such file or directory".into())
            } else {
                Ok([b"/abs/".as_slice(), p].concat())
            }
        };
        let (o, r) = parse_cmdline(&v(args), &mut out, &mut rp);
        (o, r, out)
    }

    #[test]
    fn defaults() {
        let (o, r, out) = run(&["prog"]);
        assert_eq!(r, Ok(()));
        assert_eq!(o, CmdlineOpts::default());
        assert_eq!(out, v(&["prog"]));
    }

    #[test]
    fn flags_and_kept_options() {
        let (o, r, out) =
            run(&["prog", "-d", "-s", "-o", "clone_fd,fsname=x,max_threads=7,foo", "mnt", "-x"]);
        assert_eq!(r, Ok(()));
        assert_eq!((o.debug, o.foreground, o.singlethread, o.clone_fd), (1, 1, 1, 1));
        assert_eq!((o.nodefault_subtype, o.max_threads), (1, 7));
        assert_eq!(o.mountpoint.as_deref(), Some(&b"/abs/mnt"[..]));
        assert_eq!(out, v(&["prog", "-o", "fsname=x,foo", "-d", "-x"]));
    }

    #[test]
    fn help_version_and_debug_option() {
        let (o, r, out) = run(&["prog", "-h", "--version", "-odebug"]);
        assert_eq!(r, Ok(()));
        assert_eq!((o.show_help, o.show_version, o.debug, o.foreground), (1, 1, 1, 1));
        assert_eq!(out, v(&["prog", "-o", "debug"]));
    }

    #[test]
    fn errors() {
        let (o, r, _) = run(&["prog", "a", "b"]);
        assert_eq!(o.mountpoint.as_deref(), Some(&b"/abs/a"[..]));
        assert_eq!(r, Err(OptError::Other(b"fuse: invalid argument `b'\n".to_vec())));
        let (_, r, _) = run(&["prog", "/nonexistent/x"]);
        let m = b"fuse: bad mount point `/nonexistent/x': No such file or directory\n";
        assert_eq!(r, Err(OptError::Other(m.to_vec())));
        let (_, r, _) = run(&["prog", "-omax_idle_threads=x"]);
        assert_eq!(r, Err(OptError::InvalidParam(b"max_idle_threads=x".to_vec())));
    }

    #[test]
    fn dev_fd_mountpoint_kept() {
        let (o, r, _) = run(&["prog", "/dev/fd/5"]);
        assert_eq!(r, Ok(()));
        assert_eq!(o.mountpoint.as_deref(), Some(&b"/dev/fd/5"[..]));
    }

    #[test]
    fn subtype_names() {
        assert_eq!(default_subtype_arg(b"/usr/bin/sshfs"), b"-osubtype=sshfs");
        assert_eq!(default_subtype_arg(b"hello"), b"-osubtype=hello");
        assert_eq!(default_subtype_arg(b"dir/"), b"-osubtype=/");
        assert_eq!(default_subtype_arg(b""), b"-osubtype=");
    }
}
