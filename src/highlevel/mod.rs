//! The layer under libfuse's high-level API (`<fuse.h>`): filesystems addressed by path.
//!
//! The kernel speaks in inode numbers; a high-level filesystem speaks in paths. This layer keeps
//! what turns one into the other, with no C and no unsafe code:
//! - [`config`]: `struct fuse_config` as Rust, and the library options (`-o kernel_cache`, ...)
//!   parsed from the command line;
//! - [`nodes`]: the node table (inode <-> parent and name, lookup counts, generations, open
//!   counts, hidden names for files unlinked while open), path building and path locks.
//!
//! The C surface (`src/capi/fuse.rs`, `hl_dispatch.rs`, `hl_fs.rs`) calls the program's
//! operations with the paths built here. The table's lock is held only while the table is read
//! or changed, never while a program's callback runs.

pub mod config;
pub mod nodes;

/// The inode number `readdir` reports when it has none (libfuse's `FUSE_UNKNOWN_INO`).
pub const UNKNOWN_INO: u64 = 0xffff_ffff;
