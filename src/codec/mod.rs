//! Request decoding and reply encoding: pure, length-checked code with no I/O.
//!
//! [`cursor`] reads bytes safely, [`request`] turns one message from `/dev/fuse` into an
//! [`request::Operation`], [`reply`] builds what goes back.

pub mod cursor;
pub mod reply;
pub mod request;

#[cfg(test)]
mod tests;

pub use cursor::{Cursor, DecodeError, as_bytes};
pub use request::{DecodeCtx, Operation, Request, decode, decode_header};
