//! The options `fuse_session_new` takes for itself (libfuse's low-level table), then the
//! mount options, and the check that nothing unknown is left.

use crate::opt::{self, ArgSrc, ArgVec, Handler, OptError, OptSpec};

use super::SessionOpts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Debug,
    DenyOthers,
    Uring,
    NoUring,
    UringQDepth,
    SyncInit,
    NoSyncInit,
}

const fn set(templ: &'static [u8], f: Field) -> OptSpec<'static, Field> {
    OptSpec::set(templ, f)
}

const LL_SPECS: &[OptSpec<'static, Field>] = &[
    set(b"debug", Field::Debug),
    set(b"-d", Field::Debug),
    set(b"--debug", Field::Debug),
    set(b"allow_root", Field::DenyOthers),
    set(b"io_uring", Field::Uring),
    set(b"no_io_uring", Field::NoUring),
    OptSpec { templ: b"io_uring_q_depth=%u", target: Some(Field::UringQDepth), value: -1 },
    set(b"sync_init", Field::SyncInit),
    set(b"no_sync_init", Field::NoSyncInit),
];

struct LlHandler<'a>(&'a mut SessionOpts);

impl<A: ArgVec> Handler<A, Field> for LlHandler<'_> {
    fn call(&mut self, _arg: &[u8], _src: ArgSrc, _key: i32, _out: &mut A) -> i32 {
        1
    }
    fn set_int(&mut self, target: &Field, value: i32, _arg: &[u8]) -> Result<(), OptError> {
        match target {
            Field::Debug => self.0.debug = value != 0,
            Field::DenyOthers => self.0.deny_others = value != 0,
            Field::Uring => self.0.uring = Some(true),
            Field::NoUring => self.0.uring = Some(false),
            Field::UringQDepth => {}
            Field::SyncInit => self.0.sync_init = Some(true),
            Field::NoSyncInit => self.0.sync_init = Some(false),
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
        match target {
            Field::UringQDepth => {
                let v = std::str::from_utf8(param)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .ok_or_else(|| OptError::InvalidParam(arg.to_vec()))?;
                self.0.uring_q_depth = Some(v);
                Ok(())
            }
            _ => Err(OptError::InvalidParam(arg.to_vec())),
        }
    }
}

/// Why `fuse_session_new` refused its arguments (the message has been logged).
#[derive(Debug)]
pub struct ArgsError;

/// Parse a session's arguments the way libfuse's `fuse_session_new` does: the low-level
/// options, then (after adding `-oallow_other` for `allow_root`) the mount options; anything
/// left besides `argv[0]` is an error ("fuse: unknown option(s): ..."). Returns the options and
/// the argument vector as it stands afterwards.
pub fn parse_session_args(
    input: &[Vec<u8>],
) -> Result<(SessionOpts, crate::mount::MountOpts, Vec<Vec<u8>>), ArgsError> {
    if input.is_empty() {
        crate::log::err("fuse: empty argv passed to fuse_session_new().\n");
        return Err(ArgsError);
    }
    let mut so = SessionOpts::default();
    let mut args: Vec<Vec<u8>> = Vec::new();
    if let Err(e) = opt::parse(input, LL_SPECS, &mut LlHandler(&mut so), &mut args) {
        if let Some(m) = e.message() {
            crate::log::err(&String::from_utf8_lossy(&m));
        }
        return Err(ArgsError);
    }
    if so.deny_others {
        args.push(b"-oallow_other".to_vec());
    }
    let mo = crate::mount::parse_mount_opts(&mut args).map_err(|_| ArgsError)?;
    if args.len() == 1 && args[0].first() == Some(&b'-') {
        crate::log::err("fuse: warning: argv[0] looks like an option, but will be ignored\n");
    } else if args.len() > 1 {
        let rest: Vec<String> =
            args[1..].iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        crate::log::err(&format!("fuse: unknown option(s): `{}'\n", rest.join(" ")));
        return Err(ArgsError);
    }
    Ok((so, mo, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn low_level_options_are_taken() {
        let (so, mo, rest) = parse_session_args(&v(&["prog", "-d", "-o", "allow_root"])).unwrap();
        assert!(so.debug && so.deny_others);
        assert!(mo.allow_other, "allow_root mounts with allow_other");
        assert_eq!(rest, v(&["prog"]));
        let (so, _, _) = parse_session_args(&v(&["prog", "-odebug,io_uring_q_depth=8"])).unwrap();
        assert!(so.debug);
        assert_eq!(so.uring_q_depth, Some(8));
        assert_eq!(so.uring, None);
        // io_uring / no_io_uring: the last one given counts.
        let (so, _, _) = parse_session_args(&v(&["prog", "-o", "io_uring"])).unwrap();
        assert_eq!(so.uring, Some(true));
        let (so, _, _) = parse_session_args(&v(&["prog", "-o", "no_io_uring"])).unwrap();
        assert_eq!(so.uring, Some(false));
        let (so, _, _) =
            parse_session_args(&v(&["prog", "-o", "io_uring,no_io_uring", "-o", "debug"])).unwrap();
        assert_eq!(so.uring, Some(false));
        let (so, _, _) = parse_session_args(&v(&["prog", "-ono_io_uring", "-oio_uring"])).unwrap();
        assert_eq!(so.uring, Some(true));
    }

    #[test]
    fn unknown_options_are_refused() {
        assert!(parse_session_args(&v(&["prog", "-o", "bogus"])).is_err());
        assert!(parse_session_args(&v(&["prog", "--nope"])).is_err());
        assert!(parse_session_args(&v(&[])).is_err());
        assert!(parse_session_args(&v(&["prog", "-o", "ro,fsname=x"])).is_ok());
    }
}
