//! Mirrors <libfuse_config.h>: the version of the API these headers and this library provide.

use libc::c_int;

/// Major part of the implemented API level (`FUSE_MAKE_VERSION(major, minor)`).
pub const FUSE_MAJOR_VERSION: c_int = 3;
/// Minor part of the implemented API level.
pub const FUSE_MINOR_VERSION: c_int = 19;
/// Hotfix part of the implemented API level.
pub const FUSE_HOTFIX_VERSION: c_int = 0;
