//! The C ABI: every `#[unsafe(no_mangle)]` export lives here, one module per libfuse header.
//!
//! Each export body runs inside [`ffi_guard!`], so a panic never unwinds into C: it is logged and
//! turned into the export's error value. C pointers are checked before use.

#[macro_use]
pub mod symver;
pub mod cmdline;
pub mod fuse_opt;

/// Run an export's body; a panic inside becomes `$on_panic` (after one log line).
///
/// `ffi_guard!(-libc::EIO, { ... })`. The body is a closure body: `return` leaves the body.
#[macro_export]
#[doc(hidden)]
macro_rules! ffi_guard {
    ($on_panic:expr, $body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(payload) => {
                $crate::log::report_panic(module_path!(), payload.as_ref());
                $on_panic
            }
        }
    };
}

pub mod abi;
pub mod buf;
pub mod cuse_lowlevel;
pub mod dispatch;
pub mod fuse;
pub mod fuse_common;
pub mod fuse_daemonize;
pub mod fuse_log;
pub mod fuse_lowlevel;
pub mod fuse_service;
pub mod hl_dispatch;
pub mod hl_fs;
pub mod libfuse_config;
pub mod ll_notify;
pub mod ll_reply;
pub mod ll_session;

static IMAGE_PRE_317: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this copy of the library is the `libfuse3.so.3` image, which only programs built
/// against libfuse 3.16 or older load (their `fuse_file_info` and `fuse_buf` are shorter).
pub fn image_pre_317() -> bool {
    IMAGE_PRE_317.load(std::sync::atomic::Ordering::Relaxed)
}

/// Called once by the `libfuse3.so.3` image's constructor (the abi3 crate).
pub fn mark_image_pre_317() {
    IMAGE_PRE_317.store(true, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use libc::c_int;

    extern "C" fn panics_int() -> c_int {
        crate::ffi_guard!(-libc::EIO, {
            let v: Vec<c_int> = Vec::new();
            v[3] // index out of bounds: a panic
        })
    }

    extern "C" fn panics_ptr() -> *mut u8 {
        crate::ffi_guard!(std::ptr::null_mut(), { panic!("bug") })
    }

    /// A panic inside an export's body comes back as the export's error value. Without the
    /// guard it would reach the `extern "C"` boundary, where Rust aborts the process.
    #[test]
    fn a_panic_inside_an_export_becomes_its_error_value() {
        assert_eq!(panics_int(), -libc::EIO);
        assert!(panics_ptr().is_null());
        assert_eq!(panics_int(), -libc::EIO, "and again: nothing was left poisoned");
    }
}
