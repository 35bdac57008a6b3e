//! The test-only account of an INIT negotiation that libfuse 3.19 gives when the environment
//! has `FUSE_INIT_STATUS` set: one `FUSE_INIT: ...` line per granted capability (by its
//! `FUSE_CAP_*` name), one naming the transport the session settled on, then the negotiated
//! numbers. libfuse's test runner (`test/run-tests.py --io-uring`) requires every daemon's
//! stderr to say `FUSE_INIT: io_uring=on` (or `off:custom_io`).

use crate::capi::abi::ConnInfo;
use crate::capi::fuse_common::*;

/// `(FUSE_CAP_x, "FUSE_CAP_x")` for every capability bit of `<fuse_common.h>`.
macro_rules! cap_names {
    ($($cap:ident),* $(,)?) => { &[$(($cap, stringify!($cap))),*] };
}

/// Every `FUSE_CAP_*` of our headers with its name, lowest bit first (what printcap-style
/// listings and the INIT status report print).
pub const CAP_NAMES: &[(u64, &str)] = cap_names![
    FUSE_CAP_ASYNC_READ,
    FUSE_CAP_POSIX_LOCKS,
    FUSE_CAP_ATOMIC_O_TRUNC,
    FUSE_CAP_EXPORT_SUPPORT,
    FUSE_CAP_DONT_MASK,
    FUSE_CAP_SPLICE_WRITE,
    FUSE_CAP_SPLICE_MOVE,
    FUSE_CAP_SPLICE_READ,
    FUSE_CAP_FLOCK_LOCKS,
    FUSE_CAP_IOCTL_DIR,
    FUSE_CAP_AUTO_INVAL_DATA,
    FUSE_CAP_READDIRPLUS,
    FUSE_CAP_READDIRPLUS_AUTO,
    FUSE_CAP_ASYNC_DIO,
    FUSE_CAP_WRITEBACK_CACHE,
    FUSE_CAP_NO_OPEN_SUPPORT,
    FUSE_CAP_PARALLEL_DIROPS,
    FUSE_CAP_POSIX_ACL,
    FUSE_CAP_HANDLE_KILLPRIV,
    FUSE_CAP_HANDLE_KILLPRIV_V2,
    FUSE_CAP_CACHE_SYMLINKS,
    FUSE_CAP_NO_OPENDIR_SUPPORT,
    FUSE_CAP_EXPLICIT_INVAL_DATA,
    FUSE_CAP_EXPIRE_ONLY,
    FUSE_CAP_SETXATTR_EXT,
    FUSE_CAP_DIRECT_IO_ALLOW_MMAP,
    FUSE_CAP_PASSTHROUGH,
    FUSE_CAP_NO_EXPORT_SUPPORT,
    FUSE_CAP_OVER_IO_URING,
    FUSE_CAP_ALLOW_IDMAP,
    FUSE_CAP_SECURITY_CTX,
];

/// Which transport a session ended up with after INIT, and why not the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UringState {
    /// The rings carry the requests.
    On,
    /// Asked for, but setting up the rings failed with this errno.
    StartFailed(i32),
    /// The program brought its own transport (no `/dev/fuse` fd to issue against).
    CustomIo,
    /// Nobody asked for io_uring.
    Disabled,
    /// Asked for, but the kernel did not offer `FUSE_OVER_IO_URING`.
    NotOffered,
}

impl UringState {
    /// Decide the state from what INIT saw, in libfuse's order of precedence: a running ring,
    /// a failed start, custom I/O, not asked, not offered.
    pub fn of(ring_running: bool, start_error: Option<i32>, custom_io: bool, asked: bool) -> Self {
        if ring_running {
            UringState::On
        } else if let Some(e) = start_error {
            UringState::StartFailed(e)
        } else if custom_io {
            UringState::CustomIo
        } else if !asked {
            UringState::Disabled
        } else {
            UringState::NotOffered
        }
    }

    /// The value after `io_uring=`.
    pub fn word(self) -> String {
        match self {
            UringState::On => "on".into(),
            UringState::StartFailed(e) => format!("off:start_failed:{}", crate::sys::strerror(e)),
            UringState::CustomIo => "off:custom_io".into(),
            UringState::Disabled => "off:disabled".into(),
            UringState::NotOffered => "off:not_offered".into(),
        }
    }
}

/// The report's lines (without the `FUSE_INIT: ` prefix and newline) for a negotiated
/// connection: the granted capabilities, the transport, then the numbers; `max_stack_depth`
/// (counting the FUSE layer, as the INIT reply does) only with passthrough.
pub fn lines(conn: &ConnInfo, uring: UringState) -> Vec<String> {
    let mut out: Vec<String> = CAP_NAMES
        .iter()
        .filter(|(flag, _)| conn.want_ext & flag != 0)
        .map(|(_, name)| (*name).to_string())
        .collect();
    out.push(format!("io_uring={}", uring.word()));
    out.push(format!("proto_major={}", conn.proto_major));
    out.push(format!("proto_minor={}", conn.proto_minor));
    out.push(format!("max_readahead={}", conn.max_readahead));
    out.push(format!("max_write={}", conn.max_write));
    out.push(format!("max_background={}", conn.max_background));
    out.push(format!("congestion_threshold={}", conn.congestion_threshold));
    out.push(format!("time_gran={}", conn.time_gran));
    out.push(format!("request_timeout={}", conn.request_timeout));
    if conn.want_ext & FUSE_CAP_PASSTHROUGH != 0 {
        out.push(format!("max_stack_depth={}", conn.max_backing_stack_depth + 1));
    }
    out
}

/// Log the report at INFO (stderr unless the program installed a log function) when
/// `FUSE_INIT_STATUS` is in the environment; nothing otherwise.
pub fn report(conn: &ConnInfo, uring: UringState) {
    if std::env::var_os("FUSE_INIT_STATUS").is_none() {
        return;
    }
    for line in lines(conn, uring) {
        crate::log::log(crate::log::FUSE_LOG_INFO, &format!("FUSE_INIT: {line}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> ConnInfo {
        ConnInfo {
            proto_major: 7,
            proto_minor: 45,
            max_write: 1 << 20,
            max_read: 0,
            max_readahead: 131072,
            capable: 0,
            want: 0,
            max_background: 12,
            congestion_threshold: 9,
            time_gran: 1,
            max_backing_stack_depth: 1,
            bits: 0,
            capable_ext: 0,
            want_ext: FUSE_CAP_ASYNC_READ | FUSE_CAP_IOCTL_DIR | FUSE_CAP_OVER_IO_URING,
            request_timeout: 0,
            reserved: [0; 31],
        }
    }

    #[test]
    fn the_whole_line_set_in_order() {
        let got = lines(&conn(), UringState::On);
        let want = [
            "FUSE_CAP_ASYNC_READ",
            "FUSE_CAP_IOCTL_DIR",
            "FUSE_CAP_OVER_IO_URING",
            "io_uring=on",
            "proto_major=7",
            "proto_minor=45",
            "max_readahead=131072",
            "max_write=1048576",
            "max_background=12",
            "congestion_threshold=9",
            "time_gran=1",
            "request_timeout=0",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn stack_depth_only_with_passthrough_and_counts_the_fuse_layer() {
        let mut c = conn();
        assert!(!lines(&c, UringState::On).iter().any(|l| l.starts_with("max_stack_depth")));
        c.want_ext |= FUSE_CAP_PASSTHROUGH;
        let got = lines(&c, UringState::Disabled);
        assert_eq!(got.last().map(String::as_str), Some("max_stack_depth=2"));
        assert!(got.contains(&"FUSE_CAP_PASSTHROUGH".to_string()));
    }

    #[test]
    fn transport_words() {
        assert_eq!(UringState::On.word(), "on");
        assert_eq!(UringState::CustomIo.word(), "off:custom_io");
        assert_eq!(UringState::Disabled.word(), "off:disabled");
        assert_eq!(UringState::NotOffered.word(), "off:not_offered");
        assert_eq!(
            UringState::StartFailed(libc::ENOMEM).word(),
            "off:start_failed:Cannot allocate memory"
        );
    }

    #[test]
    fn transport_precedence() {
        // (running, start error, custom I/O, asked)
        assert_eq!(UringState::of(true, None, false, true), UringState::On);
        assert_eq!(
            UringState::of(false, Some(libc::EPERM), false, true),
            UringState::StartFailed(libc::EPERM)
        );
        assert_eq!(UringState::of(false, None, true, true), UringState::CustomIo);
        // Custom I/O is named even when nobody asked, as libfuse does.
        assert_eq!(UringState::of(false, None, true, false), UringState::CustomIo);
        assert_eq!(UringState::of(false, None, false, false), UringState::Disabled);
        assert_eq!(UringState::of(false, None, false, true), UringState::NotOffered);
    }

    #[test]
    fn names_cover_every_capability_of_our_header() {
        // Every `#define FUSE_CAP_X (1UL << N)` of the installed header is in the table with
        // the same bit, and the table has nothing the header lacks.
        let header = include_str!("../../include/fuse3/fuse_common.h");
        let mut from_header = Vec::new();
        for line in header.lines() {
            let Some(rest) = line.strip_prefix("#define FUSE_CAP_") else { continue };
            let mut parts = rest.split_whitespace();
            let name = format!("FUSE_CAP_{}", parts.next().unwrap());
            let value: String = parts.collect();
            let shift: u32 = value
                .rsplit("<<")
                .next()
                .and_then(|s| s.trim_end_matches(')').trim().parse().ok())
                .unwrap_or_else(|| panic!("cannot read {name}'s value {value:?}"));
            from_header.push((1u64 << shift, name));
        }
        assert!(from_header.len() > 30, "the header's FUSE_CAP_ defines were not found");
        let mut table: Vec<(u64, String)> =
            CAP_NAMES.iter().map(|(v, n)| (*v, n.to_string())).collect();
        from_header.sort();
        table.sort();
        assert_eq!(table, from_header);
        // Lowest bit first, no bit twice.
        assert!(CAP_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
