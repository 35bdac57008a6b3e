//! The same ferrofuse code, linked a second time so that it carries the SONAME `libfuse3.so.3`.
//! Every export, with its symbol version, comes from the `ferrofuse` rlib.
//!
//! Only programs built against libfuse 3.16 or older load this image, so its constructor tells
//! the shared code to use their (shorter) struct layouts.
pub use fuse3::*;

extern "C" fn mark_pre_317() {
    fuse3::capi::mark_image_pre_317();
}

/// Runs when the dynamic loader maps this library, before any program code can call it.
#[used]
#[unsafe(link_section = ".init_array")]
static MARK_PRE_317: extern "C" fn() = mark_pre_317;
