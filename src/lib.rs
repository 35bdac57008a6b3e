//! ferrofuse: libfuse3 rewritten in Rust, exported through libfuse's C ABI.
//!
//! Layers, each using only those listed before it:
//! - [`kernel`]: the kernel protocol's constants and wire structs.
//! - [`sys`]: thin libc wrappers.
//! - [`log`]: libfuse's logging (`fuse_log`), the sink C programs can replace.
//! - [`opt`]: the `fuse_opt` engine and command-line parsing, on Rust byte strings.
//! - [`codec`]: request decoding and reply encoding, length-checked, no I/O.
//! - [`mount`]: mount options, fsmount/mount(2), the fusermount3 client protocol, unmounting.
//! - [`session`]: the session: INIT, dispatch, replies, the loops, synchronous INIT.
//! - [`highlevel`]: the node table, paths and configuration under `<fuse.h>`.
//! - [`daemonize`]: libfuse 3.19's early-daemonize API.
//! - [`watchdog`]: libfuse 3.19's teardown watchdog (a dead connection ends the session).
//! - [`fusermount3`]: our setuid mount helper (built as the `fusermount3` binary).
//! - [`capi`]: the only place with `#[unsafe(no_mangle)]`: one module per libfuse header.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod capi;
pub mod codec;
pub mod daemonize;
pub mod fusermount3;
pub mod highlevel;
pub mod kernel;
pub mod log;
pub mod mount;
pub mod opt;
pub mod session;
pub mod sys;
pub mod watchdog;
