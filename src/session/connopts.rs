//! The connection options a program may take from its command line and apply in `init`
//! (libfuse's `fuse_parse_conn_info_opts`/`fuse_apply_conn_info_opts`): `max_write=`,
//! `max_readahead=`, `[no_]splice_*`, `readdirplus=yes|no|auto`, `[no_]writeback_cache`, ...

use crate::capi::fuse_common::*;
use crate::opt::{self, ArgSrc, ArgVec, Handler, OptError, OptSpec};

/// What was asked for. `repr(C)` and plain ints: C frees it with `free()`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ConnOpts {
    pub atomic_o_trunc: i32,
    pub no_remote_posix_lock: i32,
    pub no_remote_flock: i32,
    pub splice_write: i32,
    pub splice_move: i32,
    pub splice_read: i32,
    pub no_splice_write: i32,
    pub no_splice_move: i32,
    pub no_splice_read: i32,
    pub auto_inval_data: i32,
    pub no_auto_inval_data: i32,
    pub no_readdirplus: i32,
    pub no_readdirplus_auto: i32,
    pub async_dio: i32,
    pub no_async_dio: i32,
    pub writeback_cache: i32,
    pub no_writeback_cache: i32,
    pub async_read: i32,
    pub sync_read: i32,
    pub max_write: u32,
    pub max_readahead: u32,
    pub max_background: u32,
    pub congestion_threshold: u32,
    pub time_gran: u32,
    pub set_max_write: i32,
    pub set_max_readahead: i32,
    pub set_max_background: i32,
    pub set_congestion_threshold: i32,
    pub set_time_gran: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    MaxWrite,
    SetMaxWrite,
    MaxReadahead,
    SetMaxReadahead,
    MaxBackground,
    SetMaxBackground,
    Congestion,
    SetCongestion,
    SyncRead,
    AsyncRead,
    AtomicOTrunc,
    NoRemotePosix,
    NoRemoteFlock,
    SpliceWrite,
    NoSpliceWrite,
    SpliceMove,
    NoSpliceMove,
    SpliceRead,
    NoSpliceRead,
    AutoInval,
    NoAutoInval,
    NoReaddirplus,
    NoReaddirplusAuto,
    AsyncDio,
    NoAsyncDio,
    Writeback,
    NoWriteback,
    TimeGran,
    SetTimeGran,
}

const fn o(templ: &'static [u8], f: F, value: i32) -> OptSpec<'static, F> {
    OptSpec { templ, target: Some(f), value }
}

const SPECS: &[OptSpec<'static, F>] = &[
    o(b"max_write=%u", F::MaxWrite, 0),
    o(b"max_write=", F::SetMaxWrite, 1),
    o(b"max_readahead=%u", F::MaxReadahead, 0),
    o(b"max_readahead=", F::SetMaxReadahead, 1),
    o(b"max_background=%u", F::MaxBackground, 0),
    o(b"max_background=", F::SetMaxBackground, 1),
    o(b"congestion_threshold=%u", F::Congestion, 0),
    o(b"congestion_threshold=", F::SetCongestion, 1),
    o(b"sync_read", F::SyncRead, 1),
    o(b"async_read", F::AsyncRead, 1),
    o(b"atomic_o_trunc", F::AtomicOTrunc, 1),
    o(b"no_remote_lock", F::NoRemotePosix, 1),
    o(b"no_remote_lock", F::NoRemoteFlock, 1),
    o(b"no_remote_flock", F::NoRemoteFlock, 1),
    o(b"no_remote_posix_lock", F::NoRemotePosix, 1),
    o(b"splice_write", F::SpliceWrite, 1),
    o(b"no_splice_write", F::NoSpliceWrite, 1),
    o(b"splice_move", F::SpliceMove, 1),
    o(b"no_splice_move", F::NoSpliceMove, 1),
    o(b"splice_read", F::SpliceRead, 1),
    o(b"no_splice_read", F::NoSpliceRead, 1),
    o(b"auto_inval_data", F::AutoInval, 1),
    o(b"no_auto_inval_data", F::NoAutoInval, 1),
    o(b"readdirplus=no", F::NoReaddirplus, 1),
    o(b"readdirplus=yes", F::NoReaddirplus, 0),
    o(b"readdirplus=yes", F::NoReaddirplusAuto, 1),
    o(b"readdirplus=auto", F::NoReaddirplus, 0),
    o(b"readdirplus=auto", F::NoReaddirplusAuto, 0),
    o(b"async_dio", F::AsyncDio, 1),
    o(b"no_async_dio", F::NoAsyncDio, 1),
    o(b"writeback_cache", F::Writeback, 1),
    o(b"no_writeback_cache", F::NoWriteback, 1),
    o(b"time_gran=%u", F::TimeGran, 0),
    o(b"time_gran=", F::SetTimeGran, 1),
];

struct H<'a>(&'a mut ConnOpts);

impl<A: ArgVec> Handler<A, F> for H<'_> {
    fn call(&mut self, _arg: &[u8], _src: ArgSrc, _key: i32, _out: &mut A) -> i32 {
        1
    }
    fn set_int(&mut self, t: &F, v: i32, _arg: &[u8]) -> Result<(), OptError> {
        let c = &mut *self.0;
        let slot = match t {
            F::SetMaxWrite => &mut c.set_max_write,
            F::SetMaxReadahead => &mut c.set_max_readahead,
            F::SetMaxBackground => &mut c.set_max_background,
            F::SetCongestion => &mut c.set_congestion_threshold,
            F::SetTimeGran => &mut c.set_time_gran,
            F::SyncRead => &mut c.sync_read,
            F::AsyncRead => &mut c.async_read,
            F::AtomicOTrunc => &mut c.atomic_o_trunc,
            F::NoRemotePosix => &mut c.no_remote_posix_lock,
            F::NoRemoteFlock => &mut c.no_remote_flock,
            F::SpliceWrite => &mut c.splice_write,
            F::NoSpliceWrite => &mut c.no_splice_write,
            F::SpliceMove => &mut c.splice_move,
            F::NoSpliceMove => &mut c.no_splice_move,
            F::SpliceRead => &mut c.splice_read,
            F::NoSpliceRead => &mut c.no_splice_read,
            F::AutoInval => &mut c.auto_inval_data,
            F::NoAutoInval => &mut c.no_auto_inval_data,
            F::NoReaddirplus => &mut c.no_readdirplus,
            F::NoReaddirplusAuto => &mut c.no_readdirplus_auto,
            F::AsyncDio => &mut c.async_dio,
            F::NoAsyncDio => &mut c.no_async_dio,
            F::Writeback => &mut c.writeback_cache,
            F::NoWriteback => &mut c.no_writeback_cache,
            _ => return Ok(()),
        };
        *slot = v;
        Ok(())
    }
    fn set_param(&mut self, t: &F, _f: &[u8], param: &[u8], arg: &[u8]) -> Result<(), OptError> {
        let v = std::str::from_utf8(param)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .ok_or_else(|| OptError::InvalidParam(arg.to_vec()))?;
        let c = &mut *self.0;
        match t {
            F::MaxWrite => c.max_write = v,
            F::MaxReadahead => c.max_readahead = v,
            F::MaxBackground => c.max_background = v,
            F::Congestion => c.congestion_threshold = v,
            F::TimeGran => c.time_gran = v,
            _ => return Err(OptError::InvalidParam(arg.to_vec())),
        }
        Ok(())
    }
}

/// Take the connection options out of `input`; returns them and the arguments left.
pub fn parse(input: &[Vec<u8>]) -> Result<(ConnOpts, Vec<Vec<u8>>), OptError> {
    let mut c = ConnOpts::default();
    let mut out: Vec<Vec<u8>> = Vec::new();
    opt::parse(input, SPECS, &mut H(&mut c), &mut out)?;
    Ok((c, out))
}

impl ConnOpts {
    /// Capability bits to switch on, then to switch off, in libfuse's order.
    pub fn flag_changes(&self) -> Vec<(u64, bool)> {
        let pairs = [
            (self.splice_read, FUSE_CAP_SPLICE_READ, true),
            (self.no_splice_read, FUSE_CAP_SPLICE_READ, false),
            (self.splice_write, FUSE_CAP_SPLICE_WRITE, true),
            (self.no_splice_write, FUSE_CAP_SPLICE_WRITE, false),
            (self.splice_move, FUSE_CAP_SPLICE_MOVE, true),
            (self.no_splice_move, FUSE_CAP_SPLICE_MOVE, false),
            (self.auto_inval_data, FUSE_CAP_AUTO_INVAL_DATA, true),
            (self.no_auto_inval_data, FUSE_CAP_AUTO_INVAL_DATA, false),
            (self.no_readdirplus, FUSE_CAP_READDIRPLUS, false),
            (self.no_readdirplus_auto, FUSE_CAP_READDIRPLUS_AUTO, false),
            (self.async_dio, FUSE_CAP_ASYNC_DIO, true),
            (self.no_async_dio, FUSE_CAP_ASYNC_DIO, false),
            (self.writeback_cache, FUSE_CAP_WRITEBACK_CACHE, true),
            (self.no_writeback_cache, FUSE_CAP_WRITEBACK_CACHE, false),
            (self.async_read, FUSE_CAP_ASYNC_READ, true),
            (self.sync_read, FUSE_CAP_ASYNC_READ, false),
            (self.no_remote_posix_lock, FUSE_CAP_POSIX_LOCKS, false),
            (self.no_remote_flock, FUSE_CAP_FLOCK_LOCKS, false),
        ];
        pairs.iter().filter(|(on, _, _)| *on != 0).map(|(_, f, e)| (*f, *e)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn options_are_taken_and_the_rest_kept() {
        let (c, rest) =
            parse(&v(&["p", "-o", "max_write=4096,writeback_cache,fsname=x", "-f"])).unwrap();
        assert_eq!((c.max_write, c.set_max_write, c.writeback_cache), (4096, 1, 1));
        assert_eq!(rest, v(&["p", "-o", "fsname=x", "-f"]));
        assert_eq!(c.flag_changes(), vec![(FUSE_CAP_WRITEBACK_CACHE, true)]);
    }

    #[test]
    fn readdirplus_and_remote_locks() {
        let (c, _) = parse(&v(&["p", "-oreaddirplus=no,no_remote_lock,sync_read"])).unwrap();
        assert_eq!(
            c.flag_changes(),
            vec![
                (FUSE_CAP_READDIRPLUS, false),
                (FUSE_CAP_ASYNC_READ, false),
                (FUSE_CAP_POSIX_LOCKS, false),
                (FUSE_CAP_FLOCK_LOCKS, false)
            ]
        );
        let (c, _) = parse(&v(&["p", "-oreaddirplus=yes"])).unwrap();
        assert_eq!(c.flag_changes(), vec![(FUSE_CAP_READDIRPLUS_AUTO, false)]);
        assert!(parse(&v(&["p", "-omax_write=abc"])).is_err());
    }
}
