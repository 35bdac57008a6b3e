//! Mount option parsing: the library's `fuse_session_new` argument parsing (low-level options,
//! then libfuse's mount option table), what it derives for mount(2) and the helper, and our
//! fusermount3's check of a user's `-o` string.
//!
//! Input: NUL-separated arguments (the first is argv[0]); the first byte picks the helper
//! check's caller (root or not, `user_allow_other` or not).
#![no_main]

use fuse3::fusermount3::opts as helper_opts;
use fuse3::mount::helper;
use fuse3::session::opts::parse_session_args;
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::quiet();
    let Some((&mode, rest)) = data.split_first() else { return };
    let args: Vec<Vec<u8>> = common::split_nul(rest, 64);

    if let Ok((_so, mo, left)) = parse_session_args(&args) {
        assert!(!left.is_empty(), "argv[0] must survive parsing");
        let ty = mo.fs_type(true);
        assert!(ty.starts_with(b"fuse"), "type {ty:?}");
        let _ = mo.source(b"/dev/fuse");
        let mtab = mo.base_mtab_opts();
        assert!(!mtab.is_empty(), "mtab options always say rw or ro");
        let h = helper::helper_opts(&mo, mode & 4 != 0);
        // What the library hands the helper must pass the helper's own check as root.
        if !h.is_empty() {
            let _ = helper_opts::parse(&h, true, true);
        }
    }

    // The helper's check of a raw `-o` string (everything after the first NUL, commas kept).
    let raw: Vec<u8> = rest.iter().map(|&b| if b == 0 { b',' } else { b }).collect();
    if let Ok(r) = helper_opts::parse(&raw, mode & 1 != 0, mode & 2 != 0) {
        let _ = r.data_len(3, 0o40000, 0, 0);
        let _ = helper_opts::fs_type(r.blkdev, r.subtype.as_deref());
        let _ = helper_opts::source(r.fsname.as_deref(), r.subtype.as_deref(), b"/dev/fuse");
        if mode & 1 == 0 {
            // A user can never get suid/dev mounts.
            assert!(
                r.flags & (libc::MS_NOSUID | libc::MS_NODEV) == (libc::MS_NOSUID | libc::MS_NODEV)
            );
        }
    }
});
