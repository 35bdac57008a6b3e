//! The same ferrofuse code, linked a second time so that it carries the SONAME `libfuse3.so.3`.
//! Every export, with its symbol version, comes from the `ferrofuse` rlib.
pub use fuse3::*;
