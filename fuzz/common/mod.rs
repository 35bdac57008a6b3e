//! Shared by the fuzz targets: silence the library's log (it would dominate the run time).

#![allow(dead_code)]

use fuse3::capi::fuse_log::{VaListTag, fuse_set_log_func};
use fuse3::log::fuse_log_level;

unsafe extern "C" fn drop_log(
    _level: fuse_log_level,
    _fmt: *const libc::c_char,
    _ap: *mut VaListTag,
) {
}

/// Route the library's log lines to nowhere (once per process).
pub fn quiet() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a sink that ignores its arguments is callable from any thread.
        unsafe { fuse_set_log_func(Some(drop_log)) };
    });
}

/// Split `data` at NUL bytes into at most `max` pieces.
pub fn split_nul(data: &[u8], max: usize) -> Vec<Vec<u8>> {
    data.split(|&b| b == 0).take(max).map(<[u8]>::to_vec).collect()
}
